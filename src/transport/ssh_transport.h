// The SSH transport: one libssh2 connection per host, kept open, every command a new channel on it; uploads over
// SFTP (sftp_upload.h). See transport.h for the contract and remote_command.h for how timeouts end remote commands.
//
// become: sudo runs commands as `sudo -n /bin/sh -c QUOTED` (never prompts: a sudo that wants a password fails).
// Uploads with become: sudo are written as the SSH user into /var/tmp and moved into place with `sudo -n`.
// The remote login shell must be a POSIX shell (it runs the small wrapper around each command).
#pragma once

#include <memory>

#include "transport/transport.h"

namespace dr {

class SshTransport final : public Transport {
 public:
  // Each call opens a new authenticated connection; a Session whose connection broke stays broken (every call
  // returns an Error naming the host) and the caller connects again.
  Result<std::unique_ptr<Session>> connect(const HostTarget& target) override;
};

}  // namespace dr
