// One authenticated SSH connection to one host: TCP connect with a deadline, handshake, strict host-key check,
// public-key authentication (identity file or ssh-agent), keepalive. Commands and SFTP run on channels of it.
// Owned and used by one thread at a time (libssh2 is thread-safe across sessions, not within one).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "transport/ssh_handles.h"
#include "transport/transport.h"

namespace dr::ssh {

class SshConnection {
 public:
  static Result<std::unique_ptr<SshConnection>> open(const HostTarget& target);

  LIBSSH2_SESSION* session() const { return session_.get(); }
  int fd() const { return socket_.fd(); }
  const HostTarget& target() const { return target_; }

  template <typename Fn>
  int call(Clock::time_point deadline, Fn&& fn) {
    return callUntilDone(session(), fd(), deadline, std::forward<Fn>(fn));
  }
  bool wait(Clock::time_point deadline) { return waitSocket(session(), fd(), deadline); }

  // A new session channel running `command` (stdout and stderr merged into one stream).
  Result<ChannelPtr> exec(const std::string& command, Clock::time_point deadline);
  // Writes all of `data` to the channel's stdin, finishing each packet before it returns: a half-sent packet would
  // make the next call on the connection fail (libssh2 requires the call that left a send half-way to be repeated
  // before any other packet goes out). `what` names the reader in the error ("the upload's verifier").
  Status write(LIBSSH2_CHANNEL* channel, std::string_view data, Clock::time_point deadline, std::string_view what);
  // The SFTP subsystem, opened on first use and kept for the life of the connection.
  Result<LIBSSH2_SFTP*> sftp(Clock::time_point deadline);
  ChannelFree channelFree() const { return {session(), fd()}; }
  SftpHandleFree sftpHandleFree() const { return {session(), fd()}; }

  // Records that the connection failed (every later call fails fast) and builds the Error naming the host.
  Error broken(std::string_view while_doing, int rc);
  bool isBroken() const { return broken_; }
  // Sends a keepalive when one is due; a failure marks the connection broken.
  Status keepalive();

 private:
  SshConnection(HostTarget target, Socket socket, SessionPtr session)
      : target_(std::move(target)), socket_(std::move(socket)), session_(std::move(session)) {}

  HostTarget target_;
  Socket socket_;       // declared before the session: destroyed after it
  SessionPtr session_;  // destroyed after sftp_
  SftpPtr sftp_;
  bool broken_ = false;
};

}  // namespace dr::ssh
