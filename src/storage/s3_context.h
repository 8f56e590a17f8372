// What every operation of an S3Client works with: its checked configuration, where requests go, the handle whose
// connection its sequential requests share, and the wording of its errors. Shared by s3_client.cpp and
// s3_multipart.cpp; internal to storage/.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/s3_client.h"
#include "storage/s3_http.h"

namespace dr::s3 {

struct S3Context {
  S3Config config;
  Endpoint endpoint;
  CurlEasy easy;  // the client's own requests; a multipart upload's parts each have their own

  // The request URL of a bucket (empty key) or object, with its canonical query.
  std::string url(const S3Location& location, const std::map<std::string, std::string>& query = {}) const;
};

// "s3://bk/x: upload failed: cannot reach the object store at http://127.0.0.1:9555: Couldn't connect to server"
Error failed(std::string_view operation, const S3Location& location, const Error& error);
// "s3://bk/x: upload refused (403 InvalidAccessKeyId): The AWS Access Key Id you provided does not exist ..."
Error refused(std::string_view operation, const S3Location& location, const HttpResponse& response);

// The headers every new object is stored with: its content type and metadata, the file's SHA-256 among them.
// Names and values are checked, so nothing can smuggle a header line in.
Result<std::vector<std::string>> objectHeaders(const S3PutOptions& options, const std::string& sha256);

// MD5 (OpenSSL EVP_md5), raw; and the base64 that Content-MD5 carries.
std::string md5Raw(std::string_view data);
std::string base64(std::string_view raw);
// An ETag without its quotes, lower case.
std::string normalizedEtag(std::string_view etag);
// With SSE-KMS the ETag is no MD5 of the content (AWS documents it): then only the store's Content-MD5 check holds.
bool etagIsContentMd5(const HttpResponse& response);

// A file's identity and contents as fstat sees them, to notice a file changed while it was read in two passes.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  long mtime_ns = 0;
  long ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
Result<FileStamp> stampOf(int fd, const std::filesystem::path& path);

// A file larger than part_size, uploaded in parts (s3_multipart.cpp): `sha256` is the whole file's, known before
// (it is stored as metadata when the upload is created).
Result<S3PutResult> putMultipart(S3Context& context, int fd, const std::filesystem::path& file, const FileStamp& stamp,
                                 const S3Location& to, const S3PutOptions& options, const std::string& sha256);

}  // namespace dr::s3
