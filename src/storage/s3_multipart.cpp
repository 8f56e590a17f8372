// A multipart upload: CreateMultipartUpload (with the metadata), the parts, CompleteMultipartUpload; on any failure
// AbortMultipartUpload, so no parts are left stored (and billed) by a failed upload.
//
// Parts go up `parallel_parts` at a time, one thread each with its own libcurl handle (kept across its parts, so its
// connection stays alive) and its own part_size buffer, filled with pread: memory is part_size x parallel_parts
// whatever the file's size. Each part carries its Content-MD5, which S3 checks, and its ETag is compared with that
// MD5 here. The calling thread only waits and reports progress, so `progress` is called on the caller's thread.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/sha256.h"
#include "storage/s3_context.h"
#include "storage/s3_text.h"
#include "storage/s3_xml.h"

namespace dr::s3 {

namespace {

constexpr int kMaxParts = 10000;  // S3's limit

// What the part threads share with the caller.
struct Parts {
  Parts(S3Context& context_, int fd_, const std::filesystem::path& file_, const S3Location& to_)
      : context(context_), fd(fd_), file(file_), to(to_) {}
  S3Context& context;
  int fd;
  const std::filesystem::path& file;
  const S3Location& to;
  std::string upload_id;
  std::uint64_t size = 0;
  std::uint64_t part_size = 0;
  int count = 0;

  std::atomic<int> next{0};
  std::atomic<bool> failed{false};  // also the cancel flag of every part in flight
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<Error> first_error;  // guarded by mutex
  std::uint64_t sent = 0;            // guarded by mutex
  int threads_running = 0;           // guarded by mutex
  std::vector<std::string> etags;    // one slot per part, each written by one thread only

  void fail(Error error) {
    std::lock_guard lock(mutex);
    if (!first_error) first_error = std::move(error);
    failed = true;
    changed.notify_all();
  }
};

Status readPart(Parts& parts, std::uint64_t offset, std::span<char> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t got =
        ::pread(parts.fd, buffer.data() + done, buffer.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return dr::fail("{}: read error: {}", parts.file.string(), std::strerror(errno));
    if (got == 0) return dr::fail("{} shrank while it was uploaded", parts.file.string());
    done += static_cast<std::size_t>(got);
  }
  return {};
}

Status uploadPart(Parts& parts, CurlEasy& easy, int index, std::vector<char>& buffer) {
  const std::uint64_t offset = static_cast<std::uint64_t>(index) * parts.part_size;
  const auto length = static_cast<std::size_t>(std::min(parts.part_size, parts.size - offset));
  const std::span<char> part(buffer.data(), length);
  const std::string operation = fmt::format("upload of part {} of {}", index + 1, parts.count);
  if (auto read = readPart(parts, offset, part); !read) return failed(operation, parts.to, read.error());
  const std::string_view body(part.data(), part.size());
  const std::string md5 = md5Raw(body);
  HttpRequest request;
  request.method = "PUT";
  request.url = parts.context.url(parts.to, {{"partNumber", std::to_string(index + 1)}, {"uploadId", parts.upload_id}});
  request.headers = {"Content-MD5: " + base64(md5)};
  request.body = body;
  // Not hashed again for the signature: the Content-MD5 the store checks covers the part's bytes already, and a
  // SHA-256 of every part as well would be a second pass of CPU over the whole file.
  request.payload_hash = "UNSIGNED-PAYLOAD";
  request.cancel = &parts.failed;
  request.attempts = 3;
  auto response = perform(easy, parts.context.config, parts.context.endpoint, request);
  if (!response) return failed(operation, parts.to, response.error());
  if (!response->succeeded()) return refused(operation, parts.to, *response);
  const std::string etag = normalizedEtag(response->header("etag"));
  if (etagIsContentMd5(*response) && etag != toHex(md5)) {
    return dr::fail("{}: {} failed: the store's ETag {} is not the MD5 of the part sent ({})", parts.to.url(),
                    operation, printableText(etag, 80), toHex(md5));
  }
  parts.etags[static_cast<std::size_t>(index)] = etag;
  return {};
}

void partThread(Parts& parts) {
  try {
    auto easy = CurlEasy::create();
    if (!easy) {
      parts.fail(failed("upload", parts.to, easy.error()));
    } else {
      std::vector<char> buffer(static_cast<std::size_t>(parts.part_size));
      for (int index = parts.next++; index < parts.count && !parts.failed; index = parts.next++) {
        if (auto status = uploadPart(parts, *easy, index, buffer); !status) {
          parts.fail(status.error());
          break;
        }
        const std::uint64_t offset = static_cast<std::uint64_t>(index) * parts.part_size;
        std::lock_guard lock(parts.mutex);
        parts.sent += std::min(parts.part_size, parts.size - offset);
        parts.changed.notify_all();
      }
    }
  } catch (const std::exception& e) {  // std::bad_alloc of the buffer, an OpenSSL failure
    parts.fail(dr::fail("{}: upload failed: {}", parts.to.url(), e.what()));
  }
  std::lock_guard lock(parts.mutex);
  --parts.threads_running;
  parts.changed.notify_all();
}

// Runs the part threads; reports progress on this thread as parts complete.
void uploadParts(Parts& parts, const S3PutOptions& options) {
  const int thread_count = std::min(parts.context.config.parallel_parts, parts.count);
  parts.threads_running = thread_count;
  std::vector<std::jthread> threads;
  for (int i = 0; i < thread_count; ++i) threads.emplace_back([&parts] { partThread(parts); });
  std::uint64_t reported = 0;
  std::unique_lock lock(parts.mutex);
  for (;;) {
    parts.changed.wait(lock, [&] { return parts.threads_running == 0 || parts.sent != reported || parts.failed; });
    if (parts.sent != reported && options.progress && !parts.failed) {
      reported = parts.sent;
      lock.unlock();
      options.progress(reported, parts.size);
      lock.lock();
    }
    reported = parts.sent;
    if (parts.threads_running == 0) break;
    if (parts.failed) {
      parts.changed.wait(lock, [&] { return parts.threads_running == 0; });
      break;
    }
  }
}

Status complete(Parts& parts, std::string& etag) {
  const std::string body = completeRequestBody(parts.etags);
  HttpRequest request;
  request.method = "POST";
  request.url = parts.context.url(parts.to, {{"uploadId", parts.upload_id}});
  request.headers = {"Content-Type: application/xml"};
  request.body = body;
  request.max_body = 64u << 10;
  auto response = perform(parts.context.easy, parts.context.config, parts.context.endpoint, request);
  if (!response) return failed("multipart completion", parts.to, response.error());
  if (!response->succeeded()) return refused("multipart completion", parts.to, *response);
  auto result = parseCompleteResult(response->body);
  if (!result) return failed("multipart completion", parts.to, result.error());
  etag = std::move(*result);
  return {};
}

// What became of the abort, said after the error that caused it.
std::string abortUpload(Parts& parts) {
  HttpRequest request;
  request.method = "DELETE";
  request.url = parts.context.url(parts.to, {{"uploadId", parts.upload_id}});
  request.attempts = 3;
  auto response = perform(parts.context.easy, parts.context.config, parts.context.endpoint, request);
  if (response && response->succeeded()) return "; the multipart upload was aborted, no part is left stored";
  const std::string why = response ? refusal(*response) : ": " + response.error().message;
  return fmt::format(
      "; aborting the multipart upload {} failed too {}: its parts stay stored (and billed) until a lifecycle rule "
      "for incomplete multipart uploads removes them",
      parts.upload_id, why);
}

}  // namespace

Result<S3PutResult> putMultipart(S3Context& context, int fd, const std::filesystem::path& file, const FileStamp& stamp,
                                 const S3Location& to, const S3PutOptions& options, const std::string& sha256) {
  const auto start = std::chrono::steady_clock::now();
  auto headers = objectHeaders(options, sha256);
  if (!headers) return failed("upload", to, headers.error());
  Parts parts(context, fd, file, to);
  parts.size = static_cast<std::uint64_t>(stamp.size);
  parts.part_size = context.config.part_size;
  // Beyond 10000 parts, larger parts (rounded up to a MiB), and as much more memory.
  if (parts.size > parts.part_size * kMaxParts) parts.part_size = ((parts.size / kMaxParts >> 20) + 1) << 20;
  parts.count = static_cast<int>((parts.size + parts.part_size - 1) / parts.part_size);
  parts.etags.resize(static_cast<std::size_t>(parts.count));

  HttpRequest create;
  create.method = "POST";
  create.url = context.url(to, {{"uploads", ""}});
  create.headers = std::move(*headers);
  create.max_body = 64u << 10;
  create.attempts = 3;
  auto created = perform(context.easy, context.config, context.endpoint, create);
  if (!created) return failed("multipart upload", to, created.error());
  if (!created->succeeded()) return refused("multipart upload", to, *created);
  auto upload_id = parseUploadId(created->body);
  if (!upload_id) return failed("multipart upload", to, upload_id.error());
  parts.upload_id = std::move(*upload_id);

  uploadParts(parts, options);
  if (parts.first_error) return Error{parts.first_error->message + abortUpload(parts)};
  auto after = stampOf(fd, file);
  if (!after || !(*after == stamp)) {
    return dr::fail("{}: upload failed: {} changed while it was uploaded (its SHA-256 was taken before){}", to.url(),
                    file.string(), abortUpload(parts));
  }
  std::string etag;
  if (auto completed = complete(parts, etag); !completed) return Error{completed.error().message + abortUpload(parts)};
  S3PutResult result;
  result.etag = std::move(etag);
  result.sha256 = sha256;
  result.size = parts.size;
  result.parts = parts.count;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace dr::s3
