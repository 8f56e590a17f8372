// RunLock: one run per cluster at a time. Two operators restoring the same cluster at once would interleave
// stops, restores and swaps, which is how a recovery turns into a second outage.
//
// The lock is the file runs_root/locks/CLUSTER.lock holding JSON {pid, hostname, run_id, since}. It is created
// exclusively (the contents are written and synced under a temp name, then link()ed into place, which fails if
// the lock exists: O_EXCL semantics without a window where the file exists but is empty). While held, the holder
// also keeps a flock() on it, so liveness can be told even when the pid has been reused.
//
// A holder on this host is stale when its flock is free or its process is gone (/proc/PID/stat missing or in
// state Z: zombies linger on these machines). A holder on another host is never judged stale from here. Stale
// locks are reported, with the command to break them, and only broken on request.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace dr {

struct LockHolder {
  int pid = 0;
  std::string hostname;
  std::string run_id;
  std::int64_t since_ms = 0;  // wall clock, milliseconds since the epoch
  bool stale = false;
  std::string stale_reason;  // when stale: why ("process 123 is gone", "nobody holds the flock")
  bool same_host = false;    // the holder's hostname is this host's
};

// "run R (pid P on host H, for 3m12s)" plus the staleness verdict; used by acquire's refusal and `drctl status`.
std::string describeLockHolder(const LockHolder& holder, std::int64_t now_ms);

// The command that breaks a stale lock, as shown to the operator.
std::string breakStaleCommand(const std::string& cluster);

class RunLock {
 public:
  // Takes the lock for `cluster` on behalf of `run_id`. When it is held, fails with a message naming the holder's
  // pid, host, run id and age, and (when stale) the exact command to break it.
  static Result<RunLock> acquire(const std::filesystem::path& runs_root, const std::string& cluster,
                                 const std::string& run_id);
  // Who holds the lock, if anyone, with the staleness verdict. An unreadable lock file is an error.
  static Result<std::optional<LockHolder>> inspect(const std::filesystem::path& runs_root, const std::string& cluster);
  // Removes a stale lock. Refuses a live holder, a holder on another host, and a cluster that is not locked.
  static Status breakStale(const std::filesystem::path& runs_root, const std::string& cluster);
  // runs_root/locks/CLUSTER.lock (the cluster name made a safe file name).
  static std::filesystem::path lockPath(const std::filesystem::path& runs_root, const std::string& cluster);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();  // releases

  // Removes the lock file (only if it is still ours) and drops the flock. Idempotent.
  Status release();
  bool held() const { return fd_ >= 0; }
  const std::filesystem::path& path() const { return path_; }

 private:
  RunLock(int fd, std::filesystem::path path);
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace dr
