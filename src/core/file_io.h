// Files as the program meets them: every path it reads may name a FIFO (opening it blocks forever), a device
// (/dev/zero never ends), a directory, or a file far larger than its kind ever is; every path it writes may have a
// symlink or another user's file planted at its temp name. So reading opens only regular files, without blocking,
// up to a size cap, and writing goes through a fresh temp file created exclusively (never following a link) and
// renamed into place: a crash, an error or a refused input never leaves half a file under the final name.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace dr {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release();
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Size caps of the files the program reads whole: far above any real file of the kind, far below trouble.
inline constexpr std::uint64_t kMaxConfigFileBytes = 4u << 20;   // inventories, templates, drd's config, TLS files
inline constexpr std::uint64_t kMaxSidecarFileBytes = 64u << 10;  // a snapshot's .json and .sha256
inline constexpr std::uint64_t kMaxRunFileBytes = 256u << 20;     // run.json, plan.json, a journal

// Opens `path` for reading only if it is a regular file: the open does not block (O_NONBLOCK, so a FIFO cannot
// hang it), then fstat must say regular file; anything else is refused with what it is ("... is a FIFO, not a
// regular file"). `what` names the file's role in messages ("inventory", "snapshot").
Result<UniqueFd> openRegularFile(const std::filesystem::path& path, std::string_view what);
// The whole of a regular file, refused when it is larger than `max_bytes` (checked before and while reading).
Result<std::string> readRegularFile(const std::filesystem::path& path, std::uint64_t max_bytes, std::string_view what);
// An error of the functions above without its leading "PATH: ", for a diagnostic that names the file itself.
std::string messageWithoutPath(const Error& error, const std::filesystem::path& path);
// The size of an open file.
Result<std::uint64_t> fileSize(int fd, const std::filesystem::path& path);
// Reads up to `size` bytes, retrying short reads until EOF; returns how many were read.
Result<std::size_t> readFull(int fd, char* buffer, std::size_t size, const std::filesystem::path& path);

// Writes PATH through a temp file beside it (PATH.RANDOM.part, created O_EXCL|O_NOFOLLOW with `mode`), renamed over
// PATH only on commit() after fsync of the file and then of its directory. Without commit the temp file is removed.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& path, mode_t mode = 0600);
  AtomicFile(AtomicFile&& other) noexcept
      : path_(std::move(other.path_)), part_(std::exchange(other.part_, {})), fd_(std::move(other.fd_)),
        written_(other.written_), committed_(other.committed_) {}
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  Status write(std::string_view data);
  // fsync, rename the temp file over PATH, fsync the directory.
  Status commit();
  const std::filesystem::path& partPath() const { return part_; }
  std::uint64_t written() const { return written_; }

 private:
  AtomicFile(std::filesystem::path path, std::filesystem::path part, UniqueFd fd)
      : path_(std::move(path)), part_(std::move(part)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  std::filesystem::path part_;
  UniqueFd fd_;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

// Writes a small file atomically (sidecars, run.json, plan.json, reports).
Status writeFileAtomically(const std::filesystem::path& path, std::string_view content, mode_t mode = 0600);

// fsync of a directory, so a rename or a new entry in it is durable.
Status fsyncDirectory(const std::filesystem::path& dir);

}  // namespace dr
