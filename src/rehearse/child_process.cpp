// Owned child processes for test-restores; see child_process.h.
#include "rehearse/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace dr {

Result<std::string> findProgram(const std::string& name) {
  if (name.empty()) return fail("empty program name");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return fail("{}: not an executable program: {}", name, std::strerror(errno));
    return name;
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    // An empty PATH entry means the current directory.
    const std::string candidate =
        ((dir.empty() ? std::filesystem::path(".") : std::filesystem::path(dir)) / name).string();
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return fail("{}: program not found on PATH", name);
}

Result<ChildProcess> ChildProcess::start(const std::vector<std::string>& argv, const std::filesystem::path& log,
                                         const std::vector<std::string>& drop_prefixes,
                                         const std::vector<std::string>& extra_env) {
  if (argv.empty()) return fail("no program to start");
  // Everything the child needs is prepared before fork: between fork and exec only async-signal-safe calls are
  // allowed (drd is multi-threaded), so no allocation happens there.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool drop = false;
    for (const auto& prefix : drop_prefixes) drop = drop || entry.starts_with(prefix);
    if (!drop) env_strings.emplace_back(entry);
  }
  for (const auto& e : extra_env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return fail("{}: cannot open for writing: {}", log.string(), std::strerror(errno));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return fail("/dev/null: {}", std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::setpgid(0, 0);                          // its own group: kill() reaches anything it starts, ^C does not
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) return fail("fork: {}", std::strerror(fork_errno));
  ::setpgid(pid, pid);  // also from the parent, so a kill() right after start already reaches the group
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), exit_code_(other.exit_code_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = other.pid_;
    exit_code_ = other.exit_code_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  kill();
}

namespace {
int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

std::optional<int> ChildProcess::poll() {
  if (exit_code_ || pid_ < 0) return exit_code_;
  int status = 0;
  const pid_t got = ::waitpid(pid_, &status, WNOHANG);
  if (got == pid_) exit_code_ = exitCodeOf(status);
  return exit_code_;
}

std::optional<int> ChildProcess::waitUntil(std::chrono::steady_clock::time_point deadline) {
  while (!poll()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill();
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

void ChildProcess::kill() {
  if (pid_ < 0) return;
  if (!exit_code_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = exitCodeOf(status);
  }
  pid_ = -1;
}

std::string logTail(const std::filesystem::path& log, std::size_t max_lines) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    lines.push_back(line);
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  std::string text;
  for (const auto& line : lines) {
    if (!text.empty()) text += " | ";
    text += line;
  }
  return text;
}

}  // namespace dr
