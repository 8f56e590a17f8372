// RAII owners for the TCP socket and the libssh2 handles of one SSH connection, and the wait loop every libssh2 call
// goes through. Sessions run in libssh2's non-blocking mode: a call that would block returns EAGAIN and we poll()
// the socket in the directions libssh2 is waiting on, so every deadline (connect, command, upload) is ours to enforce
// and a dead peer never hangs a thread.
#pragma once

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"

namespace dr::ssh {

using Clock = std::chrono::steady_clock;

// libssh2_init() is not thread-safe and must run once per process before any session exists.
void ensureLibraryInitialized();

// A connected TCP socket, closed on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Resolves address (name or literal) and connects with a non-blocking connect + poll, trying each resolved address
// until the deadline. The message says which address and port failed and why (refused, timed out, unresolvable).
Result<Socket> connectTcp(const std::string& address, int port, Clock::time_point deadline);

// Polls `fd` for the directions libssh2 reports it is blocked on. Returns false when the deadline passed first.
bool waitSocket(LIBSSH2_SESSION* session, int fd, Clock::time_point deadline);

// Calls `fn` until it stops returning LIBSSH2_ERROR_EAGAIN or the deadline passes; returns fn's last result
// (LIBSSH2_ERROR_TIMEOUT on deadline).
template <typename Fn>
int callUntilDone(LIBSSH2_SESSION* session, int fd, Clock::time_point deadline, Fn&& fn) {
  for (;;) {
    int rc = fn();
    if (rc != LIBSSH2_ERROR_EAGAIN) return rc;
    if (!waitSocket(session, fd, deadline)) return LIBSSH2_ERROR_TIMEOUT;
  }
}

// libssh2's last error text for a session ("" when none).
std::string lastError(LIBSSH2_SESSION* session);

// Deleters. The ones for handles that live on a session need it (and the socket) to finish a non-blocking free;
// they give up after a short grace period rather than hang on a dead peer.
struct SessionFree {
  int fd = -1;
  void operator()(LIBSSH2_SESSION* session) const;
};
struct ChannelFree {
  LIBSSH2_SESSION* session = nullptr;
  int fd = -1;
  void operator()(LIBSSH2_CHANNEL* channel) const;
};
struct SftpFree {
  LIBSSH2_SESSION* session = nullptr;
  int fd = -1;
  void operator()(LIBSSH2_SFTP* sftp) const;
};
struct SftpHandleFree {
  LIBSSH2_SESSION* session = nullptr;
  int fd = -1;
  void operator()(LIBSSH2_SFTP_HANDLE* handle) const;
};
struct KnownHostsFree {
  void operator()(LIBSSH2_KNOWNHOSTS* hosts) const { libssh2_knownhost_free(hosts); }
};
struct AgentFree {
  void operator()(LIBSSH2_AGENT* agent) const {
    libssh2_agent_disconnect(agent);
    libssh2_agent_free(agent);
  }
};

using SessionPtr = std::unique_ptr<LIBSSH2_SESSION, SessionFree>;
using ChannelPtr = std::unique_ptr<LIBSSH2_CHANNEL, ChannelFree>;
using SftpPtr = std::unique_ptr<LIBSSH2_SFTP, SftpFree>;
using SftpHandlePtr = std::unique_ptr<LIBSSH2_SFTP_HANDLE, SftpHandleFree>;
using KnownHostsPtr = std::unique_ptr<LIBSSH2_KNOWNHOSTS, KnownHostsFree>;
using AgentPtr = std::unique_ptr<LIBSSH2_AGENT, AgentFree>;

}  // namespace dr::ssh
