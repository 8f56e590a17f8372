// Benchmark helper: runs a program (often this benchmark itself in a child mode) and measures its wall time and
// peak RSS (wait4's ru_maxrss), so two tools are compared the same way in the same run.
#pragma once

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace dr::bench {

struct ChildRun {
  int exit_code = -1;
  double seconds = 0;
  long max_rss_kib = 0;
};

inline ChildRun runChild(std::vector<std::string> argv, std::vector<std::string> extra_env = {}) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings(extra_env);
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", 1, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", 1, 0);
  ChildRun run;
  pid_t pid = -1;
  const auto start = std::chrono::steady_clock::now();
  if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data()) != 0) return run;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.max_rss_kib = usage.ru_maxrss;
  return run;
}

}  // namespace dr::bench
