// Small helpers shared by the transport tests (header-only: tests/FOLDER compiles only *_test.cpp): quoting for
// test commands, the process table, file contents.
#pragma once

#include <filesystem>
#include <chrono>
#include <thread>
#include <string>
#include <vector>

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>

#include "transport/transport.h"

namespace dr::test {

inline CommandRequest command(std::string text, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  CommandRequest request;
  request.command = std::move(text);
  request.timeout = timeout;
  return request;
}

// A session to `target`; fails the test (with the transport's message) when there is none.
inline std::unique_ptr<Session> connectOrFail(Transport& transport, const HostTarget& target) {
  auto session = transport.connect(target);
  if (!session) FAIL(session.error().message);
  return std::move(*session);
}

// POSIX single quotes around any text (unlike shellQuote, always quotes), for building test commands.
std::string singleQuoted(const std::string& text);

// Pids of live (non-zombie) processes whose command line, arguments joined by spaces, equals `command_line`.
std::vector<pid_t> processesWithCommandLine(const std::string& command_line);

// Writes `size` bytes of deterministic pseudo-random data (seeded) to `path`.
void writeRandomFile(const std::filesystem::path& path, std::size_t size, unsigned seed = 1);
std::string readWholeFile(const std::filesystem::path& path);

inline std::string singleQuoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  return quoted + "'";
}

inline std::vector<pid_t> processesWithCommandLine(const std::string& command_line) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = readWholeFile(entry.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z') continue;
    std::string args = readWholeFile(entry.path() / "cmdline");
    for (char& c : args) {
      if (c == '\0') c = ' ';
    }
    while (!args.empty() && args.back() == ' ') args.pop_back();
    if (args == command_line) found.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return found;
}

// True once no live process has that command line, polled for up to `limit`: a process killed with SIGKILL may
// still be in the table (not yet a zombie) for a moment on a loaded machine.
inline bool processesGone(const std::string& command_line,
                          std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!processesWithCommandLine(command_line).empty()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

inline void writeRandomFile(const std::filesystem::path& path, std::size_t size, unsigned seed) {
  std::mt19937_64 random(seed);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string block(1 << 16, '\0');
  while (size > 0) {
    for (std::size_t i = 0; i < block.size(); i += 8) {
      std::uint64_t value = random();
      block.replace(i, 8, reinterpret_cast<const char*>(&value), 8);
    }
    std::size_t n = std::min(size, block.size());
    out.write(block.data(), static_cast<std::streamsize>(n));
    size -= n;
  }
}

inline std::string readWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace dr::test
