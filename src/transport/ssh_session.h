// SshSession: the Session of the SSH transport, over one SshConnection. Internal to the transport; the executor
// sees only transport.h.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "transport/command_shell.h"
#include "transport/ssh_connection.h"
#include "transport/transport.h"
#include "transport/upload_verifier.h"

namespace dr::ssh {

class SshSession final : public Session {
 public:
  explicit SshSession(std::unique_ptr<SshConnection> connection) : connection_(std::move(connection)) {}

  Result<CommandResult> run(const CommandRequest& request) override;
  Status upload(const UploadRequest& request) override;
  Status prepare(const UploadRequest& request) override;
  Result<std::string> readFile(const std::string& remote_path, std::size_t max_bytes) override;

  // run() with an explicit become and output cap (the tail beyond `max_output` is kept). Runs in the host's
  // command shell (command_shell.h); on a host where that shell cannot run, on a channel of its own.
  Result<CommandResult> execute(const CommandRequest& request, Become become, std::size_t max_output);

 private:
  // std::nullopt: the shell turned out to be unavailable on this host and the command was not run.
  Result<std::optional<CommandResult>> executeInShell(const CommandRequest& request, Become become,
                                                      std::size_t max_output);
  Result<CommandResult> executeOnChannel(const CommandRequest& request, Become become, std::size_t max_output);
  // Reads what the idle shell printed since its last command (a daemon left writing to it) and drops it; closes
  // the shell when it has ended (the next command starts a new one). Fails only when the connection broke.
  Status drainIdleShell();
  void endProcessGroup(long pgid, Become become);

  std::unique_ptr<SshConnection> connection_;
  ChannelPtr shell_;  // the command shell's channel, started by the first command; freed before connection_
  ShellGreeting greeting_;
  bool shell_unavailable_ = false;  // then every command gets a channel of its own
  std::optional<UploadVerifier> prepared_;  // started by prepare() for the next upload; freed before connection_
};

}  // namespace dr::ssh
