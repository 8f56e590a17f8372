// SIGINT/SIGTERM in drctl. While a plan runs, the first signal stops scheduling (steps in flight finish, the run
// ends interrupted and resumable) and the second cancels the steps in flight. Before the run is armed (planning,
// the confirmation prompt, a dry-run) a signal ends drctl at once, after removing the files registered with
// removeOnEarlyExit: a decrypted snapshot must not outlive a drctl that was told to stop.
#pragma once

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exec/executor.h"

namespace dr::cli {

class SignalGuard {
 public:
  SignalGuard();  // installs the handlers for the object's lifetime
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

  // From here on a signal is a stop request for the run (remembered until an executor is attached).
  void arm();
  void attach(Executor* executor);
  int signalsSeen() const { return seen_.load(); }
  // Removed (unlinked, and its directory when `with_directory`) if a signal ends drctl before the run is armed.
  void removeOnEarlyExit(const std::filesystem::path& file, bool with_directory);

 private:
  void watch();
  void exitEarly(int signal_number);
  std::atomic<int> seen_{0};
  std::atomic<bool> armed_{false};
  std::atomic<Executor*> executor_{nullptr};
  std::thread watcher_;
  std::string first_signal_;
  std::mutex mutex_;
  std::vector<std::pair<std::filesystem::path, bool>> early_exit_files_;
};

}  // namespace dr::cli
