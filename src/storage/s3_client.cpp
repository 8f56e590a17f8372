// The S3 client's operations (see s3_client.h); the multipart upload is in s3_multipart.cpp, signing in
// s3_signing.cpp, the transport in s3_http.cpp.
#include "storage/s3_client.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <chrono>

#include "core/file_io.h"
#include "core/sha256.h"
#include "storage/s3_context.h"
#include "storage/s3_signing.h"
#include "storage/s3_text.h"
#include "storage/s3_xml.h"

namespace dr {

namespace {

constexpr std::uint64_t kMinPartSize = 5u << 20;      // S3's smallest part (but the last)
constexpr std::uint64_t kMaxPartSize = 5ull << 30;    // and largest, also the largest single PUT
constexpr std::size_t kMaxListedObjects = 1'000'000;  // ~200 MB of listing in memory: far above any use here
constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};  // SigV4 query signing's limit

bool isSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status checkConfig(const S3Config& config) {
  const auto& credentials = config.credentials;
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return fail("S3: no credentials (an access key id and a secret access key are needed)");
  }
  if (s3::hasControlCharacter(credentials.access_key_id) || s3::hasControlCharacter(credentials.secret_access_key) ||
      s3::hasControlCharacter(credentials.session_token)) {
    return fail("S3: the credentials hold a control character");  // which one is not said: it may be the secret
  }
  if (config.region.empty() || config.region.size() > 32) return fail("S3: the region must be 1 to 32 characters");
  for (char c : config.region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return fail("S3: region {}: only lower-case letters, digits and '-'", s3::printableText(config.region, 40));
    }
  }
  if (config.part_size < kMinPartSize || config.part_size > kMaxPartSize) {
    return fail("S3: part_size {} is outside S3's limits of 5 MiB to 5 GiB", config.part_size);
  }
  if (config.parallel_parts < 1 || config.parallel_parts > 32) return fail("S3: parallel_parts must be 1 to 32");
  if (config.max_keys < 1 || config.max_keys > 1000) return fail("S3: max_keys must be 1 to 1000");
  if (config.timeout.count() < 1) return fail("S3: the timeout must be at least a second");
  return {};
}

Status needsKey(std::string_view operation, const S3Location& location) {
  if (location.key.empty() || location.key.ends_with('/')) {
    return fail("{}: {} needs an object's key, not a bucket or a prefix", location.url(), operation);
  }
  return {};
}

// The object's x-amz-meta-sha256, checked against what the caller expects; the SHA-256 the bytes must have.
Result<std::string> wantedSha256(const S3Location& from, const s3::HttpResponse& response,
                                 const std::optional<std::string>& expected) {
  const std::string stored = s3::lowerCase(response.header("x-amz-meta-sha256"));
  if (!stored.empty() && !isSha256Hex(stored)) {
    return fail("{}: download refused: the object's x-amz-meta-sha256 is no SHA-256 ({})", from.url(),
                s3::printableText(stored, 80));
  }
  if (stored.empty() && !expected) {
    return fail(
        "{}: download refused: the object has no x-amz-meta-sha256 metadata (it was not uploaded by this program), "
        "so its bytes cannot be checked; give its expected SHA-256 to download it",
        from.url());
  }
  if (!stored.empty() && expected && stored != *expected) {
    return fail("{}: download refused: the object's x-amz-meta-sha256 is {} but {} was expected", from.url(), stored,
                *expected);
  }
  return stored.empty() ? *expected : stored;
}

Result<S3PutResult> putSingle(s3::S3Context& context, std::string_view body, const std::string& sha256,
                              const S3Location& to, const S3PutOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto headers = s3::objectHeaders(options, sha256);
  if (!headers) return s3::failed("upload", to, headers.error());
  const std::string md5 = s3::md5Raw(body);
  headers->push_back("Content-MD5: " + s3::base64(md5));
  s3::HttpRequest request;
  request.method = "PUT";
  request.url = context.url(to);
  request.headers = std::move(*headers);
  request.body = body;
  request.payload_hash = sha256;  // the body is the file: its hash is signed too
  request.attempts = 3;
  auto response = s3::perform(context.easy, context.config, context.endpoint, request);
  if (!response) return s3::failed("upload", to, response.error());
  if (!response->succeeded()) return s3::refused("upload", to, *response);
  const std::string etag = s3::normalizedEtag(response->header("etag"));
  if (s3::etagIsContentMd5(*response) && etag != toHex(md5)) {
    return fail("{}: upload failed: the store's ETag {} is not the MD5 of what was sent ({})", to.url(),
                s3::printableText(etag, 80), toHex(md5));
  }
  if (options.progress) options.progress(body.size(), body.size());
  S3PutResult result;
  result.etag = etag;
  result.sha256 = sha256;
  result.size = body.size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

namespace s3 {

std::string S3Context::url(const S3Location& location, const std::map<std::string, std::string>& query) const {
  const auto address = addressOf(endpoint, config.region, location.bucket, location.key);
  const std::string canonical = canonicalQuery(query);
  return address.base + address.path + (canonical.empty() ? "" : "?" + canonical);
}

Error failed(std::string_view operation, const S3Location& location, const Error& error) {
  return fail("{}: {} failed: {}", location.url(), operation, error.message);
}

Error refused(std::string_view operation, const S3Location& location, const HttpResponse& response) {
  return fail("{}: {} refused {}", location.url(), operation, refusal(response));
}

Result<std::vector<std::string>> objectHeaders(const S3PutOptions& options, const std::string& sha256) {
  std::vector<std::string> headers;
  if (options.content_type.empty() || s3::hasControlCharacter(options.content_type) ||
      options.content_type.size() > 256) {
    return fail("the content type must be 1 to 256 printable characters");
  }
  headers.push_back("Content-Type: " + options.content_type);
  for (const auto& [name, value] : options.metadata) {
    if (name.empty() || name.size() > 128) return fail("metadata names must be 1 to 128 characters");
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        return fail("metadata name {}: only lower-case letters, digits, '-' and '_'", printableText(name, 130));
      }
    }
    if (name == "sha256") return fail("metadata name sha256 is the file's own SHA-256, added by the upload itself");
    // S3 keeps metadata values as US-ASCII; anything else comes back mangled or is refused.
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return fail("metadata {}: the value must be printable ASCII", name);
      }
    }
    headers.push_back("x-amz-meta-" + name + ": " + value);
  }
  headers.push_back("x-amz-meta-sha256: " + sha256);
  return headers;
}

std::string md5Raw(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: MD5 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::string normalizedEtag(std::string_view etag) {
  std::string out;
  for (char c : etag) {
    if (c != '"') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool etagIsContentMd5(const HttpResponse& response) {
  return !response.header("x-amz-server-side-encryption").starts_with("aws:kms");
}

Result<FileStamp> stampOf(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("{}: cannot stat: {}", path.string(), std::strerror(errno));
  return FileStamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec * 1'000'000'000L + st.st_mtim.tv_nsec,
                   st.st_ctim.tv_sec * 1'000'000'000L + st.st_ctim.tv_nsec};
}

}  // namespace s3

struct S3Client::Impl : s3::S3Context {};

Result<S3Client> S3Client::open(S3Config config) {
  if (auto checked = checkConfig(config); !checked) return checked.error();
  auto endpoint = s3::parseEndpoint(config.endpoint, config.region);
  if (!endpoint) return endpoint.error();
  auto easy = s3::CurlEasy::create();
  if (!easy) return easy.error();
  return S3Client(std::make_unique<Impl>(Impl{{std::move(config), std::move(*endpoint), std::move(*easy)}}));
}

S3Client::S3Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;
S3Client::~S3Client() = default;

const S3Config& S3Client::config() const {
  return impl_->config;
}

Result<S3PutResult> S3Client::putFile(const std::filesystem::path& file, const S3Location& to,
                                      const S3PutOptions& options) {
  if (auto ok = needsKey("upload", to); !ok) return ok.error();
  auto fd = openRegularFile(file, "file to upload");
  if (!fd) return s3::failed("upload", to, fd.error());
  auto stamp = s3::stampOf(fd->get(), file);
  if (!stamp) return s3::failed("upload", to, stamp.error());
  const auto size = static_cast<std::uint64_t>(stamp->size);
  if (size <= impl_->config.part_size) {
    // One PUT from memory: at most part_size bytes, the same buffer a part would take.
    std::string body(size, '\0');
    auto got = readFull(fd->get(), body.data(), body.size(), file);
    if (!got) return s3::failed("upload", to, got.error());
    if (*got != size) return fail("{}: upload failed: {} shrank while it was read", to.url(), file.string());
    return putSingle(*impl_, body, sha256Hex(body), to, options);
  }
  // The SHA-256 goes into the metadata given when the multipart upload is created, so it is known first: the
  // caller's (computed as it wrote the file), else a pass of its own over the file (SHA-256 runs at over 1 GB/s
  // here, and the pass leaves the file in the page cache for the parts). The stamp, checked again before
  // completing, tells whether the file changed between the passes.
  if (!options.sha256.empty()) {
    const std::string known = s3::lowerCase(options.sha256);
    if (!isSha256Hex(known)) return fail("{}: upload refused: the SHA-256 given for {} is no SHA-256", to.url(), file.string());
    return s3::putMultipart(*impl_, fd->get(), file, *stamp, to, options, known);
  }
  Sha256 hasher;
  std::vector<char> chunk(4u << 20);
  for (std::uint64_t offset = 0; offset < size;) {
    const ssize_t got = ::pread(fd->get(), chunk.data(), chunk.size(), static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fail("{}: upload failed: {}: read error: {}", to.url(), file.string(), std::strerror(errno));
    if (got == 0) return fail("{}: upload failed: {} shrank while it was read", to.url(), file.string());
    hasher.update(std::string_view(chunk.data(), static_cast<std::size_t>(got)));
    offset += static_cast<std::uint64_t>(got);
  }
  chunk = {};
  return s3::putMultipart(*impl_, fd->get(), file, *stamp, to, options, hasher.finishHex());
}

Result<S3PutResult> S3Client::putBytes(std::string_view bytes, const S3Location& to, const S3PutOptions& options) {
  if (auto ok = needsKey("upload", to); !ok) return ok.error();
  if (bytes.size() > kMaxPartSize) return fail("{}: upload failed: putBytes is for small objects", to.url());
  return putSingle(*impl_, bytes, sha256Hex(bytes), to, options);
}

Result<std::string> S3Client::getFile(const S3Location& from, const std::filesystem::path& out,
                                      std::optional<std::string> expected_sha256) {
  if (auto ok = needsKey("download", from); !ok) return ok.error();
  if (expected_sha256) {
    *expected_sha256 = s3::lowerCase(*expected_sha256);
    if (!isSha256Hex(*expected_sha256)) {
      return fail("{}: download refused: the expected SHA-256 is not 64 hex digits", from.url());
    }
  }
  auto file = AtomicFile::create(out);
  if (!file) return s3::failed("download", from, file.error());
  Sha256 hasher;
  std::optional<std::string> wanted;  // known once the answer's headers are
  s3::HttpRequest request;
  request.url = impl_->url(from);
  request.stall_timeout = true;
  request.sink = [&](const s3::HttpResponse& response, std::string_view chunk) -> Status {
    if (!wanted) {  // refused before a byte is written when the object cannot be checked
      auto sha256 = wantedSha256(from, response, expected_sha256);
      if (!sha256) return sha256.error();
      wanted = std::move(*sha256);
    }
    hasher.update(chunk);
    return file->write(chunk);
  };
  auto response = s3::perform(impl_->easy, impl_->config, impl_->endpoint, request);
  if (!response) {
    const auto& message = response.error().message;
    return message.starts_with(from.url()) ? response.error() : s3::failed("download", from, response.error());
  }
  if (!response->succeeded()) return s3::refused("download", from, *response);
  if (!wanted) {  // an empty object: the sink never ran
    auto sha256 = wantedSha256(from, *response, expected_sha256);
    if (!sha256) return sha256.error();
    wanted = std::move(*sha256);
  }
  const std::string actual = hasher.finishHex();
  if (actual != *wanted) {
    // The AtomicFile goes without commit: its temp file is removed and nothing appears at `out`.
    return fail(
        "{}: download refused: the bytes received hash to {} but {} was expected ({}); nothing was written at {}",
        from.url(), actual, *wanted,
        response->header("x-amz-meta-sha256").empty() ? "the expected SHA-256 given" : "the object's x-amz-meta-sha256",
        out.string());
  }
  if (auto committed = file->commit(); !committed) return s3::failed("download", from, committed.error());
  return actual;
}

Result<std::string> S3Client::getBytes(const S3Location& from, std::uint64_t max_bytes) {
  if (auto ok = needsKey("download", from); !ok) return ok.error();
  s3::HttpRequest request;
  request.url = impl_->url(from);
  request.max_body = max_bytes;
  request.attempts = 3;
  auto response = s3::perform(impl_->easy, impl_->config, impl_->endpoint, request);
  if (!response) return s3::failed("download", from, response.error());
  if (!response->succeeded()) return s3::refused("download", from, *response);
  // Small objects are checked when they carry the metadata (putBytes stores it); sidecars written by others may not.
  const std::string stored = s3::lowerCase(response->header("x-amz-meta-sha256"));
  if (!stored.empty() && sha256Hex(response->body) != stored) {
    return fail("{}: download refused: the bytes received hash to {} but the object's x-amz-meta-sha256 is {}",
                from.url(), sha256Hex(response->body), s3::printableText(stored, 80));
  }
  return std::move(response->body);
}

Result<std::optional<S3Object>> S3Client::head(const S3Location& object) {
  if (auto ok = needsKey("head", object); !ok) return ok.error();
  s3::HttpRequest request;
  request.method = "HEAD";
  request.url = impl_->url(object);
  request.attempts = 3;
  auto response = s3::perform(impl_->easy, impl_->config, impl_->endpoint, request);
  if (!response) return s3::failed("head", object, response.error());
  if (response->status == 404) return std::optional<S3Object>();
  if (!response->succeeded()) return s3::refused("head", object, *response);
  S3Object result;
  result.key = object.key;
  const std::string length = response->header("content-length");
  const auto [end, status] = std::from_chars(length.data(), length.data() + length.size(), result.size);
  if (length.empty() || status != std::errc() || end != length.data() + length.size()) {
    return fail("{}: head failed: the store's answer has no valid Content-Length", object.url());
  }
  const std::string modified = response->header("last-modified");
  if (const time_t seconds = curl_getdate(modified.c_str(), nullptr); seconds > 0) {
    result.last_modified_ms = static_cast<std::int64_t>(seconds) * 1000;
  }
  result.etag = s3::printableText(s3::normalizedEtag(response->header("etag")), 100);
  constexpr std::string_view kMeta = "x-amz-meta-";
  for (const auto& [name, value] : response->headers) {
    if (name.starts_with(kMeta)) result.metadata[name.substr(kMeta.size())] = s3::printableText(value, 2048);
  }
  return std::optional<S3Object>(std::move(result));
}

Result<std::vector<S3Object>> S3Client::list(const S3Location& prefix) {
  std::vector<S3Object> objects;
  std::string token;
  const S3Location bucket{prefix.bucket, ""};
  for (;;) {
    std::map<std::string, std::string> query{{"list-type", "2"},
                                             {"encoding-type", "url"},
                                             {"max-keys", std::to_string(impl_->config.max_keys)},
                                             {"prefix", prefix.key}};
    if (!token.empty()) query["continuation-token"] = token;
    s3::HttpRequest request;
    request.url = impl_->url(bucket, query);
    request.max_body = 16u << 20;  // a page of 1000 keys of 1024 bytes, with their XML
    request.attempts = 3;
    auto response = s3::perform(impl_->easy, impl_->config, impl_->endpoint, request);
    if (!response) return s3::failed("listing", prefix, response.error());
    if (!response->succeeded()) return s3::refused("listing", prefix, *response);
    auto page = s3::parseListPage(response->body);
    if (!page) return s3::failed("listing", prefix, page.error());
    for (auto& object : page->objects) {
      if (!object.key.starts_with(prefix.key)) {
        return fail("{}: listing failed: the store listed {}, which is not under the prefix", prefix.url(),
                    s3::printableText(object.key));
      }
      objects.push_back(std::move(object));
    }
    if (objects.size() > kMaxListedObjects) {
      return fail("{}: listing failed: more than {} objects under the prefix", prefix.url(), kMaxListedObjects);
    }
    if (!page->truncated) return objects;
    // A store handing back the same token would make this loop forever.
    if (page->next_token == token) {
      return fail("{}: listing failed: the store repeats its continuation token", prefix.url());
    }
    token = std::move(page->next_token);
  }
}

Status S3Client::remove(const S3Location& object) {
  if (auto ok = needsKey("delete", object); !ok) return ok.error();
  s3::HttpRequest request;
  request.method = "DELETE";
  request.url = impl_->url(object);
  request.attempts = 3;
  auto response = s3::perform(impl_->easy, impl_->config, impl_->endpoint, request);
  if (!response) return s3::failed("delete", object, response.error());
  if (response->succeeded()) return {};
  // S3 answers 204 for an absent key; some stores say NoSuchKey instead. Either way it is gone.
  const auto error = s3::parseStoreError(response->body);
  if (response->status == 404 && error && error->code == "NoSuchKey") return {};
  return s3::refused("delete", object, *response);
}

Result<std::string> S3Client::presignGet(const S3Location& object, std::chrono::seconds expires,
                                         std::chrono::system_clock::time_point now) const {
  if (auto ok = needsKey("presign", object); !ok) return ok.error();
  if (expires.count() < 1 || expires > kMaxPresignExpiry) {
    return fail("{}: a presigned URL expires after 1 second to 7 days, not {} s", object.url(), expires.count());
  }
  const auto address = s3::addressOf(impl_->endpoint, impl_->config.region, object.bucket, object.key);
  return s3::presignedGetUrl(address.base, address.path, impl_->config.region, impl_->config.credentials, expires, now);
}

}  // namespace dr
