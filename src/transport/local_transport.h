// The local transport: runs steps on this machine with the same semantics as the SSH transport, for `controller`
// steps and for hosts the inventory marks as local. Commands run as `/bin/sh -c COMMAND` (Boost.Process) in a process
// group of their own, so a timeout ends the command and everything it started (TERM, a short grace, then KILL).
// become: sudo wraps the command in `sudo -n`; uploads and reads always happen as the current user.
#pragma once

#include <memory>

#include "transport/transport.h"

namespace dr {

class LocalTransport final : public Transport {
 public:
  LocalTransport() = default;
  // Never fails: there is nothing to connect to. target.name labels messages; target.ssh.become is honoured.
  Result<std::unique_ptr<Session>> connect(const HostTarget& target) override;
};

}  // namespace dr
