// SshSession: the Session of the SSH transport, over one SshConnection. Internal to the transport; the executor
// sees only transport.h.
#pragma once

#include <memory>
#include <string>

#include "transport/ssh_connection.h"
#include "transport/transport.h"

namespace dr::ssh {

class SshSession final : public Session {
 public:
  explicit SshSession(std::unique_ptr<SshConnection> connection) : connection_(std::move(connection)) {}

  Result<CommandResult> run(const CommandRequest& request) override;
  Status upload(const UploadRequest& request) override;
  Result<std::string> readFile(const std::string& remote_path, std::size_t max_bytes) override;

  // run() with an explicit become and output cap (the tail beyond `max_output` is kept).
  Result<CommandResult> execute(const CommandRequest& request, Become become, std::size_t max_output);

 private:
  void endProcessGroup(long pgid, Become become);

  std::unique_ptr<SshConnection> connection_;
};

}  // namespace dr::ssh
