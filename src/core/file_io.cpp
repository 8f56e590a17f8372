// Reading regular files only, and writing files atomically (see file_io.h).
#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace dr {

namespace {

const char* kindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string randomSuffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<UniqueFd> openRegularFile(const std::filesystem::path& path, std::string_view what) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (raw < 0) return fail("{}: cannot open the {}: {}", path.string(), what, std::strerror(errno));
  UniqueFd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail("{}: cannot stat the {}: {}", path.string(), what, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    return fail("{}: the {} must be a regular file; this is {}", path.string(), what, kindOf(st.st_mode));
  }
  // Regular files never block; reads go back to ordinary blocking semantics.
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  // Most files here are read once front to back: tell the kernel to read ahead.
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

std::string messageWithoutPath(const Error& error, const std::filesystem::path& path) {
  const std::string prefix = path.string() + ": ";
  return error.message.starts_with(prefix) ? error.message.substr(prefix.size()) : error.message;
}

Result<std::uint64_t> fileSize(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("{}: cannot stat: {}", path.string(), std::strerror(errno));
  return static_cast<std::uint64_t>(st.st_size);
}

Result<std::string> readRegularFile(const std::filesystem::path& path, std::uint64_t max_bytes, std::string_view what) {
  auto fd = openRegularFile(path, what);
  if (!fd) return fd.error();
  auto size = fileSize(fd->get(), path);
  if (!size) return size.error();
  const auto too_large = [&] {
    return fail("{}: the {} is larger than {} bytes, more than any real one: refused", path.string(), what, max_bytes);
  };
  if (*size > max_bytes) return too_large();
  std::string content(static_cast<std::size_t>(*size), '\0');
  auto got = readFull(fd->get(), content.data(), content.size(), path);
  if (!got) return got.error();
  content.resize(*got);
  // The file may have grown since fstat: one more byte past the cap means it is too large.
  char extra[4096];
  for (;;) {
    auto more = readFull(fd->get(), extra, sizeof extra, path);
    if (!more) return more.error();
    if (*more == 0) break;
    if (content.size() + *more > max_bytes) return too_large();
    content.append(extra, *more);
  }
  return content;
}

Result<std::size_t> readFull(int fd, char* buffer, std::size_t size, const std::filesystem::path& path) {
  std::size_t total = 0;
  while (total < size) {
    const ssize_t got = ::read(fd, buffer + total, size - total);
    if (got < 0) {
      if (errno == EINTR) continue;
      return fail("{}: read error: {}", path.string(), std::strerror(errno));
    }
    if (got == 0) break;
    total += static_cast<std::size_t>(got);
  }
  return total;
}

Status fsyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return fail("{}: cannot open directory to sync it: {}", dir.string(), std::strerror(errno));
  if (::fsync(fd.get()) != 0) return fail("{}: fsync of directory failed: {}", dir.string(), std::strerror(errno));
  return {};
}

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path, mode_t mode) {
  // A fresh name each time, created exclusively and never through a symlink: a file or link someone planted at a
  // predictable name cannot receive what is written here.
  std::filesystem::path part = path;
  part += "." + randomSuffix() + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return fail("{}: cannot create: {}", part.string(), std::strerror(errno));
  ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
  return AtomicFile(path, std::move(part), UniqueFd(fd));
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !part_.empty()) {
    fd_ = UniqueFd();
    ::unlink(part_.c_str());
  }
}

Status AtomicFile::write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t put = ::write(fd_.get(), data.data(), data.size());
    if (put < 0) {
      if (errno == EINTR) continue;
      return fail("{}: write error: {}", part_.string(), std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(put));
    written_ += static_cast<std::uint64_t>(put);
  }
  return {};
}

Status AtomicFile::commit() {
  if (::fsync(fd_.get()) != 0) return fail("{}: fsync: {}", part_.string(), std::strerror(errno));
  if (::close(fd_.release()) != 0) return fail("{}: close: {}", part_.string(), std::strerror(errno));
  if (::rename(part_.c_str(), path_.c_str()) != 0) {
    return fail("{}: cannot rename to {}: {}", part_.string(), path_.string(), std::strerror(errno));
  }
  committed_ = true;
  // The rename is durable only once the directory entry is.
  return fsyncDirectory(path_.has_parent_path() ? path_.parent_path() : std::filesystem::path("."));
}

Status writeFileAtomically(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  auto file = AtomicFile::create(path, mode);
  if (!file) return file.error();
  if (auto written = file->write(content); !written) return written;
  return file->commit();
}

}  // namespace dr
