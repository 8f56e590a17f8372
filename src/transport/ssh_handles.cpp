// Socket connect with a deadline, the libssh2 wait loop, and the handle deleters (see ssh_handles.h).
#include "transport/ssh_handles.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace dr::ssh {
namespace {

// How long a deleter keeps trying to close a handle politely before it abandons the attempt.
constexpr std::chrono::milliseconds kCloseGrace{2000};

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// One non-blocking connect to one resolved address; errno-style message on failure.
Result<Socket> connectOne(const addrinfo& ai, Clock::time_point deadline) {
  Socket socket(::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai.ai_protocol));
  if (socket.fd() < 0) return fail("cannot create a socket: {}", std::strerror(errno));
  if (::connect(socket.fd(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return fail("{}", std::strerror(errno));
    pollfd pfd{socket.fd(), POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&pfd, 1, remainingMs(deadline));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) return fail("timed out");
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return fail("{}", std::strerror(error));
  }
  int one = 1;
  ::setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return socket;
}

}  // namespace

void ensureLibraryInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Result<Socket> connectTcp(const std::string& address, int port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fail("cannot resolve {}: {}", address, ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  std::string why = "no address";
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    auto socket = connectOne(*ai, deadline);
    if (socket) return socket;
    why = socket.error().message;
    if (Clock::now() >= deadline) break;
  }
  return fail("cannot connect to {} port {}: {}", address, port, why);
}

bool waitSocket(LIBSSH2_SESSION* session, int fd, Clock::time_point deadline) {
  int directions = libssh2_session_block_directions(session);
  pollfd pfd{fd, 0, 0};
  if (directions & LIBSSH2_SESSION_BLOCK_INBOUND) pfd.events |= POLLIN;
  if (directions & LIBSSH2_SESSION_BLOCK_OUTBOUND) pfd.events |= POLLOUT;
  if (pfd.events == 0) pfd.events = POLLIN;  // libssh2 wants another try; wait for anything briefly
  int timeout = remainingMs(deadline);
  if (timeout == 0) return false;
  int ready;
  do {
    ready = ::poll(&pfd, 1, timeout);
  } while (ready < 0 && errno == EINTR);
  // A poll error or hang-up is not ours to interpret: the next libssh2 call reports the broken socket.
  return ready != 0 || Clock::now() < deadline;
}

std::string lastError(LIBSSH2_SESSION* session) {
  char* message = nullptr;
  int length = 0;
  libssh2_session_last_error(session, &message, &length, 0);
  return message != nullptr ? std::string(message, static_cast<std::size_t>(length)) : std::string();
}

void SessionFree::operator()(LIBSSH2_SESSION* session) const {
  auto deadline = Clock::now() + kCloseGrace;
  callUntilDone(session, fd, deadline,
                [&] { return libssh2_session_disconnect(session, "closed by the disaster-recovery orchestrator"); });
  callUntilDone(session, fd, deadline, [&] { return libssh2_session_free(session); });
}

void ChannelFree::operator()(LIBSSH2_CHANNEL* channel) const {
  callUntilDone(session, fd, Clock::now() + kCloseGrace, [&] { return libssh2_channel_free(channel); });
}

void SftpFree::operator()(LIBSSH2_SFTP* sftp) const {
  callUntilDone(session, fd, Clock::now() + kCloseGrace, [&] { return libssh2_sftp_shutdown(sftp); });
}

void SftpHandleFree::operator()(LIBSSH2_SFTP_HANDLE* handle) const {
  callUntilDone(session, fd, Clock::now() + kCloseGrace, [&] { return libssh2_sftp_close_handle(handle); });
}

}  // namespace dr::ssh
