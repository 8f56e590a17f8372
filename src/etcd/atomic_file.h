// Files that appear whole or not at all: AtomicFile writes to PATH.part and renames it over PATH only on commit()
// (after fsync of the file and then of its directory), so a crash, an error or a refused input never leaves a
// half-written snapshot under the final name. Without commit the .part file is removed by the destructor.
#pragma once

#include <cstdint>
#include <filesystem>
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

// Opens a file for reading.
Result<UniqueFd> openForReading(const std::filesystem::path& path);
// Reads up to buffer.size() bytes, retrying short reads until EOF; returns how many were read.
Result<std::size_t> readFull(int fd, char* buffer, std::size_t size, const std::filesystem::path& path);

class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& path);
  AtomicFile(AtomicFile&& other) noexcept
      : path_(std::move(other.path_)), part_(std::exchange(other.part_, {})), fd_(std::move(other.fd_)),
        written_(other.written_), committed_(other.committed_) {}
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  Status write(std::string_view data);
  // fsync, rename PATH.part -> PATH, fsync the directory.
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

// Writes a small file atomically (sidecars, checksum files).
Status writeFileAtomically(const std::filesystem::path& path, std::string_view content);

}  // namespace dr
