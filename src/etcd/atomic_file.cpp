// Atomic file writing and a few POSIX file helpers. See atomic_file.h.
#include "etcd/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dr {

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

Result<UniqueFd> openForReading(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("{}: cannot open: {}", path.string(), std::strerror(errno));
  // Snapshots are read once front to back: tell the kernel to read ahead.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return UniqueFd(fd);
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

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path) {
  std::filesystem::path part = path;
  part += ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("{}: cannot create: {}", part.string(), std::strerror(errno));
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
  const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.valid()) ::fsync(dir_fd.get());
  return {};
}

Status writeFileAtomically(const std::filesystem::path& path, std::string_view content) {
  auto file = AtomicFile::create(path);
  if (!file) return file.error();
  if (auto written = file->write(content); !written) return written;
  return file->commit();
}

}  // namespace dr
