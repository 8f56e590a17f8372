// ChildProcess: a program run by a test-restore (etcdctl, the throwaway etcd), owned like any other handle: the
// destructor kills (SIGKILL, its whole process group) and reaps it, so no path out of testRestore leaves one
// running. The child also dies with the thread that started it (PR_SET_PDEATHSIG), so a crashed drd leaves none.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace dr {

// The program's full path: `name` itself when it holds a '/', else the first executable match on PATH.
Result<std::string> findProgram(const std::string& name);

class ChildProcess {
 public:
  // Starts argv[0] (a full path, see findProgram) with stdout and stderr appended to `log`, stdin from /dev/null.
  // The environment is ours minus every variable whose name starts with one of `drop_prefixes` (an operator's
  // ETCD_DATA_DIR must not redirect a throwaway etcd), plus `extra_env` ("NAME=value").
  static Result<ChildProcess> start(const std::vector<std::string>& argv, const std::filesystem::path& log,
                                    const std::vector<std::string>& drop_prefixes = {},
                                    const std::vector<std::string>& extra_env = {});

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // The exit code (128 + signal when killed) once it has ended; nullopt while it runs. Reaps it.
  std::optional<int> poll();
  // Waits until it ends or the deadline passes (then kills it and returns nullopt).
  std::optional<int> waitUntil(std::chrono::steady_clock::time_point deadline);
  // SIGKILL to its process group, then reaps it. Idempotent.
  void kill();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// The last `max_lines` non-empty lines of a log file, joined with " | ": what a failure message quotes.
std::string logTail(const std::filesystem::path& log, std::size_t max_lines = 3);

}  // namespace dr
