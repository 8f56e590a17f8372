// Backups off the cluster: an S3-compatible object store (AWS S3, MinIO, Ceph RGW, GCS's XML API, s3rver in the
// tests). Requests are signed by libcurl's AWS SigV4 (CURLOPT_AWS_SIGV4); the listing's XML is read with pugixml.
// What is written by hand, and why: presigned GET URLs (libcurl signs requests it sends, it does not presign a URL
// for another host to fetch), built with OpenSSL's HMAC and checked against AWS's documented example.
//
// Integrity end to end: every PUT (whole object or multipart part) carries Content-MD5, which the store checks, and
// its returned ETag is compared; the whole file's SHA-256 is stored as the object's metadata `x-amz-meta-sha256`
// and checked again on every download, which streams into OUT.part and is renamed into place only when it matches.
//
// Secrets: the secret key lives in this process only, is wiped when the client goes, and never appears in a
// message, a log line or a URL (a presigned URL carries a signature, not the key).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dr {

// "s3://BUCKET/KEY" (KEY may be empty for a prefix, or end in '/').
struct S3Location {
  std::string bucket;
  std::string key;
  std::string url() const;  // back to "s3://BUCKET/KEY"
};
bool isS3Url(std::string_view text);
// Bucket names as S3 allows them (3-63 of a-z 0-9 . -); a key of at most 1024 bytes, valid UTF-8, no NUL.
Result<S3Location> parseS3Url(std::string_view text);

// Credentials: the secret is wiped (OPENSSL_cleanse) when the object goes.
struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
  S3Credentials() = default;
  S3Credentials(const S3Credentials&) = default;
  S3Credentials& operator=(const S3Credentials&) = default;
  ~S3Credentials();
};

struct S3Config {
  // "http(s)://HOST[:PORT]" of an S3-compatible store: path-style requests (ENDPOINT/BUCKET/KEY). Empty: AWS itself,
  // virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY).
  std::string endpoint;
  std::string region = "us-east-1";
  S3Credentials credentials;
  std::string ca_file;  // a CA bundle for an https endpoint with a private CA; empty: the system's
  // Multipart above part_size, in parts of that size (5 MiB to 5 GiB; larger when a file needs more than 10000),
  // parallel_parts of them in flight (1-32), each its own connection and buffer: memory is part_size x
  // parallel_parts. Measured (bench/s3_upload.cpp, 1 GiB to s3rver): 5x6, 8x3, 8x4, 10x4 and 16x2 MiB all within
  // noise of each other, the server being the bottleneck; 8 MiB x 4 for the same memory as 16 x 2 with more
  // connections, which is what a distant store's throughput needs (the AWS CLI's parts are 8 MiB too).
  std::uint64_t part_size = 8u << 20;
  int parallel_parts = 4;
  // Per request (a part, a listing); for a download, the longest time without a byte; connecting: 10 s.
  std::chrono::seconds timeout{300};
  int max_keys = 1000;  // objects per listing page (1-1000; small in the tests, to page)
};

// From the environment: DR_S3_ENDPOINT (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL), AWS_REGION (else
// AWS_DEFAULT_REGION), DR_S3_CA_FILE; credentials from `credentials_file` when given (an AWS shared-credentials INI
// file, section [default] or AWS_PROFILE's; a file others may read is refused), else AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Missing credentials are an error that says where they are looked for.
Result<S3Config> s3ConfigFromEnvironment(const std::filesystem::path& credentials_file = {});

struct S3Object {
  std::string key;
  std::uint64_t size = 0;
  std::int64_t last_modified_ms = 0;            // since the epoch
  std::string etag;                             // without quotes
  std::map<std::string, std::string> metadata;  // x-amz-meta-* (names lower case, without the prefix); head() only
};

struct S3PutOptions {
  std::map<std::string, std::string> metadata;  // stored as x-amz-meta-NAME (the SHA-256 is added by put)
  std::string content_type = "application/octet-stream";
  // Called after each part (or the whole object) is stored: bytes sent so far, total.
  std::function<void(std::uint64_t, std::uint64_t)> progress;
  // The file's SHA-256 (hex) when the caller computed it as it wrote the file (a backup's save does): a multipart
  // upload then skips its own hashing pass (0.8 s per GiB). A wrong one is not silent: it is stored as the object's
  // x-amz-meta-sha256, and every download checks the bytes against it. Empty: hashed here.
  std::string sha256;
};

struct S3PutResult {
  std::string etag;
  std::string sha256;  // of the file, hex (also stored as x-amz-meta-sha256)
  std::uint64_t size = 0;
  int parts = 0;  // 0: a single PUT
  double seconds = 0;
};

// One thread at a time: the client's requests share one connection (a multipart upload's parts have their own).
class S3Client {
 public:
  static Result<S3Client> open(S3Config config);
  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;
  ~S3Client();

  // Uploads a file: one PUT up to part_size, else a multipart upload (aborted on any failure, so no orphaned parts
  // are left to bill). Every part's Content-MD5 is checked by the store and its ETag compared here.
  Result<S3PutResult> putFile(const std::filesystem::path& file, const S3Location& to,
                              const S3PutOptions& options = {});
  // Small objects from memory (sidecars, verdicts).
  Result<S3PutResult> putBytes(std::string_view bytes, const S3Location& to, const S3PutOptions& options = {});
  // Downloads into OUT.part, hashing as it streams; renamed to `out` only when the SHA-256 matches the object's
  // x-amz-meta-sha256 (and `expected_sha256` when given). An object without that metadata is refused unless
  // `expected_sha256` is given. Returns the SHA-256.
  Result<std::string> getFile(const S3Location& from, const std::filesystem::path& out,
                              std::optional<std::string> expected_sha256 = std::nullopt);
  // Small objects into memory, refused above max_bytes.
  Result<std::string> getBytes(const S3Location& from, std::uint64_t max_bytes = 1u << 20);
  // nullopt: no such object.
  Result<std::optional<S3Object>> head(const S3Location& object);
  // Every object under the prefix (ListObjectsV2, following continuation tokens).
  Result<std::vector<S3Object>> list(const S3Location& prefix);
  // Deleting an absent object is not an error (S3 semantics).
  Status remove(const S3Location& object);
  // A GET URL that works without credentials until `expires` has passed (SigV4 query signing; 1 s to 7 days).
  Result<std::string> presignGet(const S3Location& object, std::chrono::seconds expires,
                                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  const S3Config& config() const;

 private:
  struct Impl;
  explicit S3Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dr
