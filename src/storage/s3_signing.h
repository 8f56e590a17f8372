// AWS Signature Version 4, the parts written by hand: the canonical request, the signing key and the signature,
// used for presigned GET URLs (libcurl signs the requests it sends; it cannot presign a URL for someone else to
// fetch) and, in the tests, to check libcurl's own header signatures against ours (s3rver checks no signature, so
// nothing else would notice a request real S3 refuses). Internal to storage/.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dr {
struct S3Credentials;
}

namespace dr::s3 {

// RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is encoded, in upper-case hex;
// '/' is kept when `keep_slash` (object keys in a path), encoded otherwise (query values).
std::string uriEncode(std::string_view text, bool keep_slash);
// The canonical query string: names and values encoded, sorted by name, every pair written "name=value" (an empty
// value too: "uploads="). Requests are sent with exactly this query, so the canonical form is also the one sent.
std::string canonicalQuery(const std::map<std::string, std::string>& parameters);

// "20130524T000000Z".
std::string amzDate(std::chrono::system_clock::time_point time);

// HMAC-SHA256 (OpenSSL EVP_Q_mac), raw bytes.
std::string hmacSha256(std::string_view key, std::string_view data);

struct CanonicalRequest {
  std::string method;                                        // "GET"
  std::string path;                                          // encoded, as sent: "/bucket/a%20key"
  std::string query;                                         // canonicalQuery(...)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case, values trimmed; sorted by name
  std::string payload_hash;                                  // hex SHA-256, or "UNSIGNED-PAYLOAD"
};
std::string canonicalRequestText(const CanonicalRequest& request);

// Hex signature of `request` made at `amz_date` ("YYYYMMDDTHHMMSSZ"), scope DATE/REGION/SERVICE/aws4_request.
// The key derivation holds "AWS4"+secret in memory only as long as it needs to, and wipes it.
std::string signatureV4(const CanonicalRequest& request, std::string_view amz_date, std::string_view region,
                        std::string_view service, std::string_view secret_access_key);

// A presigned GET: `base` is "scheme://host[:port]" exactly as a client will reach it (its host is the one signed),
// `path` the encoded path. Expiry is X-Amz-Expires seconds after `now`.
std::string presignedGetUrl(std::string_view base, std::string_view path, std::string_view region,
                            const S3Credentials& credentials, std::chrono::seconds expires,
                            std::chrono::system_clock::time_point now);

}  // namespace dr::s3
