// The per-cluster run lock: exclusive creation, flock liveness, stale detection and explicit breaking
// (see run_lock.h for the rules and why they are what they are).
#include "exec/run_lock.h"

#include "core/utf8.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/shell.h"
#include "exec/run_dir.h"

namespace dr {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string errnoText(int err) {
  return std::strerror(err);
}

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string thisHostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

// Closes a descriptor on every path out of a function.
struct FdGuard {
  int fd = -1;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

Status fsyncDirectory(const fs::path& dir) {
  FdGuard guard{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (guard.fd < 0) return fail("{}: cannot open directory to sync it: {}", dir.string(), errnoText(errno));
  if (::fsync(guard.fd) != 0) return fail("{}: fsync of directory failed: {}", dir.string(), errnoText(errno));
  return {};
}

Result<std::string> readAll(int fd, const fs::path& path) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("{}: cannot read lock file: {}", path.string(), errnoText(errno));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > 65536) return fail("{}: lock file is implausibly large", path.string());
  }
  return out;
}

// nullopt when the process is alive; otherwise why it is not.
std::optional<std::string> processGone(int pid) {
  if (pid <= 0) return fmt::format("pid {} is not a process", pid);
  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  if (!stat_file) return fmt::format("process {} is gone", pid);
  std::string line;
  std::getline(stat_file, line);
  // "PID (COMM) STATE ...": COMM may contain spaces and parentheses, so the state follows the last ')'.
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return std::nullopt;
  char state = line[close_paren + 2];
  if (state == 'Z' || state == 'X') return fmt::format("process {} has exited (zombie)", pid);
  return std::nullopt;
}

// Parses the lock file open on `fd` and judges the holder. On this host, a shared flock that can be taken means
// the holder's exclusive one is gone.
Result<LockHolder> judgeHolder(int fd, const fs::path& path) {
  auto text = readAll(fd, path);
  if (!text) return text.error();
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail("{}: lock file is not valid JSON; check that no run is active, then remove it by hand", path.string());
  }
  LockHolder holder;
  try {
    holder.pid = j.at("pid").get<int>();
    holder.hostname = j.at("hostname").get<std::string>();
    holder.run_id = j.at("run_id").get<std::string>();
    holder.since_ms = j.at("since").get<std::int64_t>();
  } catch (const Json::exception& e) {
    return fail("{}: lock file lacks a field ({}); check that no run is active, then remove it by hand", path.string(),
                e.what());
  }
  holder.same_host = holder.hostname == thisHostname();
  if (!holder.same_host) return holder;  // a pid on another host means nothing here
  bool flock_free = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
  if (flock_free) ::flock(fd, LOCK_UN);
  if (auto gone = processGone(holder.pid)) {
    holder.stale = true;
    holder.stale_reason = *gone;
  } else if (flock_free) {
    holder.stale = true;
    holder.stale_reason =
        fmt::format("nobody holds the lock file's flock (pid {} now belongs to another process)", holder.pid);
  }
  return holder;
}

std::string formatAge(std::int64_t ms) {
  if (ms < 0) ms = 0;
  std::int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string randomSuffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

}  // namespace

std::string describeLockHolder(const LockHolder& holder, std::int64_t now_ms) {
  std::string text = fmt::format("run {} (pid {} on host {}, for {})", holder.run_id, holder.pid, holder.hostname,
                                 formatAge(now_ms - holder.since_ms));
  if (holder.stale) text += fmt::format("; stale: {}", holder.stale_reason);
  if (!holder.same_host) text += "; held from another host, whose liveness cannot be checked from here";
  return text;
}

std::string breakStaleCommand(const std::string& cluster) {
  return fmt::format("drctl unlock --cluster {} --break-stale", shellQuote(cluster));
}

fs::path RunLock::lockPath(const fs::path& runs_root, const std::string& cluster) {
  return runs_root / "locks" / (stepFileName(cluster) + ".lock");
}

RunLock::RunLock(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}

RunLock::RunLock(RunLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    (void)release();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  (void)release();
}

Result<RunLock> RunLock::acquire(const fs::path& runs_root, const std::string& cluster, const std::string& run_id) {
  if (cluster.empty()) return fail("cannot lock a cluster with an empty name");
  fs::path path = lockPath(runs_root, cluster);
  fs::path dir = path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("{}: cannot create the locks directory: {}", dir.string(), ec.message());

  Json j = {
      {"pid", ::getpid()}, {"hostname", thisHostname()}, {"run_id", run_id}, {"since", nowMs()}, {"cluster", cluster}};
  std::string contents = jsonText(j) + "\n";  // the hostname is not ours to trust as UTF-8

  // The holder may vanish between our failed link() and our look at it; then simply try again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    fs::path temp = dir / fmt::format(".{}.{}.{}", path.filename().string(), ::getpid(), randomSuffix());
    int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("{}: cannot create: {}", temp.string(), errnoText(errno));
    FdGuard guard{fd};
    // Lock and fill the file before it becomes visible, so no one ever sees an empty or unlocked lock file.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 ||
        ::write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size()) || ::fsync(fd) != 0) {
      int saved = errno;
      ::unlink(temp.c_str());
      return fail("{}: cannot prepare the lock file: {}", temp.string(), errnoText(saved));
    }
    int linked = ::link(temp.c_str(), path.c_str());
    int saved = errno;
    ::unlink(temp.c_str());
    if (linked == 0) {
      if (auto synced = fsyncDirectory(dir); !synced) {
        ::unlink(path.c_str());
        return synced.error();
      }
      guard.fd = -1;
      return RunLock(fd, path);
    }
    if (saved != EEXIST) return fail("{}: cannot create the lock: {}", path.string(), errnoText(saved));
    auto holder = inspect(runs_root, cluster);
    if (!holder) return holder.error();
    if (!*holder) continue;
    std::string message = fmt::format("cluster {} is locked by {}", cluster, describeLockHolder(**holder, nowMs()));
    if ((*holder)->stale) {
      message +=
          fmt::format(". The holder is gone; after checking, break the lock with: {}", breakStaleCommand(cluster));
    } else if (!(*holder)->same_host) {
      message += fmt::format(". If that run is certainly over, remove {} by hand", path.string());
    }
    return Error{message};
  }
  return fail("{}: the lock kept changing hands; try again", path.string());
}

Result<std::optional<LockHolder>> RunLock::inspect(const fs::path& runs_root, const std::string& cluster) {
  fs::path path = lockPath(runs_root, cluster);
  FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) {
    if (errno == ENOENT) return std::optional<LockHolder>{};
    return fail("{}: cannot open lock file: {}", path.string(), errnoText(errno));
  }
  auto holder = judgeHolder(guard.fd, path);
  if (!holder) return holder.error();
  return std::optional<LockHolder>{std::move(*holder)};
}

Status RunLock::breakStale(const fs::path& runs_root, const std::string& cluster) {
  fs::path path = lockPath(runs_root, cluster);
  FdGuard guard{::open(path.c_str(), O_RDWR | O_CLOEXEC)};
  if (guard.fd < 0) {
    if (errno == ENOENT) return fail("cluster {} is not locked ({} does not exist)", cluster, path.string());
    return fail("{}: cannot open lock file: {}", path.string(), errnoText(errno));
  }
  auto holder = judgeHolder(guard.fd, path);
  if (!holder) return holder.error();
  if (!holder->same_host) {
    return fail("refusing to break the lock of cluster {}: {}. If that run is certainly over, remove {} by hand",
                cluster, describeLockHolder(*holder, nowMs()), path.string());
  }
  if (!holder->stale) {
    return fail("refusing to break the lock of cluster {}: it is held by a live {}", cluster,
                describeLockHolder(*holder, nowMs()));
  }
  // Hold the flock while removing, so a holder that is in fact alive (it would hold the flock) cannot lose it, and
  // check the path still names the file we judged: a new holder may have replaced it meanwhile.
  if (::flock(guard.fd, LOCK_EX | LOCK_NB) != 0) {
    return fail("refusing to break the lock of cluster {}: some process still holds its flock", cluster);
  }
  struct stat ours {};
  struct stat current {};
  if (::fstat(guard.fd, &ours) != 0 || ::stat(path.c_str(), &current) != 0 || ours.st_ino != current.st_ino ||
      ours.st_dev != current.st_dev) {
    return fail("{}: the lock changed while it was being broken; look again with `drctl status`", path.string());
  }
  if (::unlink(path.c_str()) != 0) return fail("{}: cannot remove: {}", path.string(), errnoText(errno));
  return fsyncDirectory(path.parent_path());
}

Status RunLock::release() {
  if (fd_ < 0) return {};
  Status result;
  // Unlink before dropping the flock: there is never a moment when the file exists unlocked and looks stale.
  struct stat ours {};
  struct stat current {};
  if (::fstat(fd_, &ours) == 0 && ::stat(path_.c_str(), &current) == 0 && ours.st_ino == current.st_ino &&
      ours.st_dev == current.st_dev) {
    if (::unlink(path_.c_str()) != 0) {
      result = fail("{}: cannot remove the lock: {}", path_.string(), errnoText(errno));
    } else if (auto synced = fsyncDirectory(path_.parent_path()); !synced) {
      result = synced;
    }
  }
  ::close(fd_);
  fd_ = -1;
  return result;
}

}  // namespace dr
