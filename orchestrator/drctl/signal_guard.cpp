// Signal handling for drctl's runs (see signal_guard.h). The handler only writes the signal number to a pipe; a
// watcher thread does the rest, where anything may be called.
#include "signal_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace dr::cli {

namespace {

std::atomic<int> g_signal_pipe{-1};

extern "C" void onStopSignal(int signal_number) {
  const int fd = g_signal_pipe.load();
  if (fd < 0) return;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const auto written = ::write(fd, &byte, 1);
}

int g_pipe_read = -1;
struct sigaction g_old_int {};
struct sigaction g_old_term {};

}  // namespace

SignalGuard::SignalGuard() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  g_pipe_read = fds[0];
  g_signal_pipe = fds[1];
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
  watcher_ = std::thread([this] { watch(); });
}

SignalGuard::~SignalGuard() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  const int fd = g_signal_pipe.exchange(-1);
  if (fd >= 0) {
    const unsigned char quit = 0;
    [[maybe_unused]] const auto written = ::write(fd, &quit, 1);
  }
  if (watcher_.joinable()) watcher_.join();
  if (fd >= 0) ::close(fd);
  if (g_pipe_read >= 0) ::close(g_pipe_read);
  g_pipe_read = -1;
}

void SignalGuard::arm() { armed_ = true; }

void SignalGuard::removeOnEarlyExit(const std::filesystem::path& file, bool with_directory) {
  std::lock_guard lock(mutex_);
  early_exit_files_.emplace_back(file, with_directory);
}

void SignalGuard::attach(Executor* executor) {
  executor_ = executor;
  // A signal that arrived after arm() but before the executor existed still counts.
  if (executor != nullptr && seen_ > 0) executor->requestStop("interrupted by " + first_signal_);
  if (executor != nullptr && seen_ > 1) executor->cancelInFlight();
}

void SignalGuard::exitEarly(int signal_number) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& [file, with_directory] : early_exit_files_) {
      ::unlink(file.c_str());
      if (with_directory) ::rmdir(file.parent_path().c_str());
    }
  }
  std::fprintf(stderr, "\ndrctl: stopped by %s before anything ran\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stderr);
  ::_exit(128 + signal_number);
}

void SignalGuard::watch() {
  while (true) {
    unsigned char byte = 0;
    const auto got = ::read(g_pipe_read, &byte, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0 || byte == 0) return;
    if (!armed_) exitEarly(byte);
    const int count = ++seen_;
    const std::string name = byte == SIGINT ? "SIGINT" : byte == SIGTERM ? "SIGTERM" : fmt::format("signal {}", byte);
    if (count == 1) first_signal_ = name;
    Executor* executor = executor_.load();
    if (count == 1) {
      std::fprintf(stderr, "\ndrctl: %s: no new steps will start; steps in flight finish (again to end them)\n",
                   name.c_str());
      if (executor != nullptr) executor->requestStop("interrupted by " + name);
    } else {
      std::fprintf(stderr, "\ndrctl: %s again: ending the steps in flight\n", name.c_str());
      if (executor != nullptr) executor->cancelInFlight();
    }
  }
}

}  // namespace dr::cli
