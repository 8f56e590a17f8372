// The host's command shell: one long-lived /bin/sh per SSH session that runs the session's commands one after
// another, fed over the stdin of a single exec channel.
//
// Why: a new exec channel per command makes the host's sshd fork a session child and start the user's login shell
// before the command's own /bin/sh even runs. On a VM that virtualizes page tables that is ~25 ms of CPU per step
// on every host, most of what a short step costs. The shell below forks only itself and `setsid` per command.
//
// Protocol (everything is text on the channel; stderr is merged into stdout at the source):
//   - the shell first prints `@@dr-shell ok` (or `@@dr-shell unavailable` when the host has no setsid(1); the session
//     then falls back to a channel per command, and the command it was sent was never run);
//   - a request is a header line `run MARKER LINES plain|sudo` followed by LINES lines: the command text with one
//   newline
//     appended, so the shell can restore the text byte for byte;
//   - the shell prints `MARKER start`, then starts the command in a process group of its own (`setsid`, which does not
//   fork: a background job
//     of a shell without job control is no group leader), with stdin from /dev/null, and prints `MARKER pgid N`;
//     when the command has ended it prints `MARKER end STATUS` (128+N when killed by signal N).
// MARKER is `@@dr-` and 32 random hex digits, new for every command, so no command output can fake it. The
// marker lines can arrive in the middle of the command's own output lines (the shell writes them from another
// process); ShellReply takes them out wherever they are, leaving the output exactly as the command wrote it.
// Whatever precedes the start line was written before the command existed (by a process an earlier command left
// behind holding the output) and is dropped; so is whatever follows the end line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "inventory/inventory.h"

namespace dr::ssh {

inline constexpr std::string_view kShellReady = "@@dr-shell ok\n";
inline constexpr std::string_view kShellUnavailable = "@@dr-shell unavailable\n";

// The exec command that starts the shell (`exec /bin/sh -c SCRIPT 2>&1`). It runs as the SSH user.
std::string commandShellLaunch();

// A new random marker (`@@dr-` and 32 hex digits).
std::string newCommandMarker();

// The request that runs `command` (which must not contain a NUL byte: no shell can receive one). With become sudo
// the command runs through `sudo -n /bin/sh -c`, as it does on a channel of its own, so every command is still a
// sudo command of its own in the host's logs.
Result<std::string> commandShellRequest(std::string_view marker, std::string_view command, Become become);

// What the shell printed before it was ready to run commands.
class ShellGreeting {
 public:
  enum class State { Waiting, Ready, Unavailable };
  // Feeds output; once the state is no longer Waiting, `rest` receives what followed the greeting line.
  State feed(std::string_view chunk, std::string& rest);
  State state() const { return state_; }

 private:
  State state_ = State::Waiting;
  std::string seen_;  // bounded: a login shell's chatter before the greeting is dropped
};

// The shell's reply to one request: the command's output with the marker lines taken out, its process group and
// its exit status.
class ShellReply {
 public:
  explicit ShellReply(std::string marker) : marker_(std::move(marker)) {}

  // Returns the part of `chunk` that is the command's own output: what arrives between the start and the end line,
  // marker lines taken out. Bytes that may be the start of a marker are held back until the next chunk tells.
  std::string feed(std::string_view chunk);
  // Bytes held back (when the stream ends before the end line).
  std::string flush();

  std::optional<long> groupId() const { return group_id_; }
  std::optional<int> exitStatus() const { return exit_status_; }
  bool finished() const { return exit_status_.has_value(); }

 private:
  void parseLine(std::string_view line);

  std::string marker_;
  std::string pending_;
  bool started_ = false;
  std::optional<long> group_id_;
  std::optional<int> exit_status_;
};

}  // namespace dr::ssh
