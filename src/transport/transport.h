// Transport is the executor's only way to reach a host: run a command, upload a file, read a small file.
// It is an interface so that the same executor runs over SSH (libssh2), on the local machine (Boost.Process),
// against the simulator's model (sim transport), or in tests against a fake.
//
// A Transport opens one Session per host and keeps it: steps reuse it (over SSH, one authenticated connection whose
// commands run one after another in a long-lived shell on the host, transport/command_shell.h; not a new
// connection, nor a new login shell, per command). Errors of the transport itself (unreachable, authentication,
// unknown host key, broken connection) are returned as Error; a command that ran and failed is a CommandResult
// with its exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "inventory/inventory.h"

namespace dr {

// Everything needed to reach one host.
struct HostTarget {
  std::string name;     // label for messages and logs: the host address or kControllerHost
  std::string address;  // where to connect
  SshSettings ssh;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::seconds keepalive_interval{15};
  bool accept_new_host_keys = false;  // like OpenSSH's StrictHostKeyChecking=accept-new
  // Run the session's commands in one long-lived shell on the host (SSH transport; see command_shell.h) instead
  // of a channel each. Off only to compare the two (tests, bench_ssh_steps).
  bool command_shell = true;
};

// Why the executor runs a command: the step itself (or, in a rollback, its undo) or the step's read-only check.
enum class CommandPurpose { Step, Check };

struct CommandRequest {
  std::string command;  // run by the host's /bin/sh; wrapped in `sudo -n` by the session when become is sudo
  std::chrono::milliseconds timeout{300000};  // on expiry the remote process is ended too
  // Called with output chunks (stdout and stderr, in arrival order) while the command runs; may be empty.
  // Called on the thread that called run().
  std::function<void(std::string_view chunk)> on_output;
  // Polled while the command runs (may be empty); once it returns true the command is ended as on timeout (the
  // remote process too) and run() returns with timed_out set. The executor's cancel path: a second SIGINT.
  std::function<bool()> cancelled;
  // Which step the command belongs to, and why it runs. Real transports ignore both; the simulator's transport
  // applies the step's action to its model through them.
  std::string step_id;
  CommandPurpose purpose = CommandPurpose::Step;
};

struct CommandResult {
  int exit_code = -1;  // the command's exit status; 128+N when ended by signal N
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved; capped at max_output_bytes, the tail kept
  std::chrono::milliseconds duration{0};
};

struct UploadRequest {
  std::filesystem::path local_path;
  std::string remote_path;       // final path; written as REMOTE.part then fsync'd and renamed
  std::string expected_sha256;   // lowercase hex; verified on the host (from the bytes it stored) before the rename
  std::function<void(std::uint64_t sent, std::uint64_t total)> on_progress;  // may be empty
  std::string step_id{};  // the step it belongs to (see CommandRequest::step_id); `{}`: may be left out
};

// One open connection to one host. A Session is used by one thread at a time; the executor keeps one per host.
class Session {
 public:
  virtual ~Session() = default;
  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  virtual Result<CommandResult> run(const CommandRequest& request) = 0;
  // Resumes a partial REMOTE.part left by an earlier attempt when its prefix matches the local file.
  virtual Status upload(const UploadRequest& request) = 0;
  // Readies, ahead of time, what a coming upload(request) will need, changing nothing on the host (SSH: starts the
  // SFTP subsystem and the host's verifier, whose login shells then start while other steps run). An error is not
  // the upload's: the caller drops the session (it may be broken) and the upload connects again and reports its own.
  virtual Status prepare(const UploadRequest& /*request*/) { return {}; }
  // Reads a small file (at most max_bytes) from the host.
  virtual Result<std::string> readFile(const std::string& remote_path, std::size_t max_bytes = 1 << 20) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  virtual Result<std::unique_ptr<Session>> connect(const HostTarget& target) = 0;
};

inline constexpr std::size_t kMaxOutputBytes = 256 * 1024;

}  // namespace dr
