// SigV4 by hand (see s3_signing.h), following AWS's "Signature Version 4 signing process" and "Authenticating
// Requests: Using Query Parameters"; the unit tests hold it to AWS's documented example.
#include "storage/s3_signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <ctime>
#include <stdexcept>

#include "core/sha256.h"
#include "storage/s3_client.h"

namespace dr::s3 {

namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// "AWS4"+secret is a copy of the secret: wiped before its memory is given back.
class WipedString {
 public:
  explicit WipedString(std::string text) : text_(std::move(text)) {}
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  ~WipedString() { OPENSSL_cleanse(text_.data(), text_.size()); }
  const std::string& get() const { return text_; }

 private:
  std::string text_;
};

}  // namespace

std::string uriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (isUnreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string canonicalQuery(const std::map<std::string, std::string>& parameters) {
  // Sorted by encoded name: the names used here are plain ASCII, so encoding does not change their order.
  std::map<std::string, std::string> encoded;
  for (const auto& [name, value] : parameters) encoded[uriEncode(name, false)] = uriEncode(value, false);
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string amzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out,
                &length) == nullptr) {
    throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string canonicalRequestText(const CanonicalRequest& request) {
  std::string headers;
  std::string signed_headers;
  for (const auto& [name, value] : request.headers) {
    headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  return request.method + "\n" + request.path + "\n" + request.query + "\n" + headers + "\n" + signed_headers + "\n" +
         request.payload_hash;
}

std::string signatureV4(const CanonicalRequest& request, std::string_view amz_date, std::string_view region,
                        std::string_view service, std::string_view secret_access_key) {
  const std::string day(amz_date.substr(0, 8));
  const std::string scope = day + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" + sha256Hex(canonicalRequestText(request));
  const WipedString secret("AWS4" + std::string(secret_access_key));
  // The derived keys are as good as the secret for this day, region and service: wiped too.
  const WipedString date_key(hmacSha256(secret.get(), day));
  const WipedString region_key(hmacSha256(date_key.get(), region));
  const WipedString service_key(hmacSha256(region_key.get(), service));
  const WipedString signing_key(hmacSha256(service_key.get(), "aws4_request"));
  return toHex(hmacSha256(signing_key.get(), string_to_sign));
}

std::string presignedGetUrl(std::string_view base, std::string_view path, std::string_view region,
                            const S3Credentials& credentials, std::chrono::seconds expires,
                            std::chrono::system_clock::time_point now) {
  const std::string date = amzDate(now);
  const std::string_view host = base.substr(base.find("://") + 3);
  std::map<std::string, std::string> query{
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential",
       credentials.access_key_id + "/" + date.substr(0, 8) + "/" + std::string(region) + "/s3/aws4_request"},
      {"X-Amz-Date", date},
      {"X-Amz-Expires", std::to_string(expires.count())},
      {"X-Amz-SignedHeaders", "host"},
  };
  // The token is part of what is signed (temporary credentials are refused without it).
  if (!credentials.session_token.empty()) query["X-Amz-Security-Token"] = credentials.session_token;
  CanonicalRequest request;
  request.method = "GET";
  request.path = std::string(path);
  request.query = canonicalQuery(query);
  request.headers = {{"host", std::string(host)}};
  request.payload_hash = "UNSIGNED-PAYLOAD";  // a presigned URL cannot know the payload; S3 says so for GET
  const std::string signature = signatureV4(request, date, region, "s3", credentials.secret_access_key);
  return std::string(base) + request.path + "?" + request.query + "&X-Amz-Signature=" + signature;
}

}  // namespace dr::s3
