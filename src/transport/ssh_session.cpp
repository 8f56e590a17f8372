// Running commands and reading files over one SSH connection (see ssh_session.h and remote_command.h).
#include "transport/ssh_session.h"

#include <functional>
#include <utility>

#include "core/shell.h"
#include "transport/remote_command.h"
#include "transport/sftp_upload.h"
#include "transport/ssh_transport.h"

namespace dr {
namespace ssh {
namespace {

// After a timeout: how long to wait for the killed command's channel to close, and for the kill command itself.
constexpr std::chrono::seconds kKillGrace{3};
// How often a running command polls CommandRequest::cancelled.
constexpr std::chrono::milliseconds kCancelPoll{100};

// Keeps the last `cap` bytes of everything appended, without copying on every chunk.
class OutputTail {
 public:
  explicit OutputTail(std::size_t cap) : cap_(cap) {}
  void append(std::string_view chunk) {
    text_.append(chunk);
    if (text_.size() > 2 * cap_ + 65536) text_.erase(0, text_.size() - cap_);
  }
  std::string take() {
    if (text_.size() > cap_) text_.erase(0, text_.size() - cap_);
    return std::move(text_);
  }

 private:
  std::size_t cap_;
  std::string text_;
};

// What both ways of running a command share: the output (the kept tail and the caller's stream), the request's
// cancel hook, and the read loop with its deadline, keepalives and wake-ups.
class CommandOutput {
 public:
  CommandOutput(SshConnection& conn, const CommandRequest& request, std::size_t max_output)
      : conn_(conn), request_(request), tail_(max_output) {}

  void deliver(std::string_view text) {
    if (text.empty()) return;
    tail_.append(text);
    if (request_.on_output) request_.on_output(text);
  }

  // Reads `channel`, each chunk to `consume`, until `done()` holds after a chunk or the channel's output ends (true),
  // or `until` passed or the request was cancelled (false).
  Result<bool> read(LIBSSH2_CHANNEL* channel, Clock::time_point until,
                    const std::function<void(std::string_view)>& consume, const std::function<bool()>& done) {
    char buffer[65536];
    for (;;) {
      ssize_t n = libssh2_channel_read(channel, buffer, sizeof buffer);
      if (n > 0) {
        consume(std::string_view(buffer, static_cast<std::size_t>(n)));
        if (done()) return true;
      } else if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) {
        if (libssh2_channel_eof(channel)) return true;
        if (Clock::now() >= until || cancelled()) return false;
        if (auto alive = conn_.keepalive(); !alive) return alive.error();
        // With a cancel hook, wake up regularly to poll it.
        auto wake = Clock::now() + (request_.cancelled ? kCancelPoll : conn_.target().keepalive_interval);
        conn_.wait(std::min(until, wake));
      } else {
        return conn_.broken("reading command output", static_cast<int>(n));
      }
    }
  }

  // Once the command is being ended after a timeout or a cancel: the drain that follows must not stop at once
  // because of the cancel.
  void stopPollingCancel() {
    cancel_off_ = true;
    cancel_seen_ = false;
  }

  std::string take() { return tail_.take(); }

 private:
  bool cancelled() {
    if (!cancel_seen_ && !cancel_off_ && request_.cancelled && request_.cancelled()) cancel_seen_ = true;
    return cancel_seen_;
  }

  SshConnection& conn_;
  const CommandRequest& request_;
  OutputTail tail_;
  bool cancel_seen_ = false, cancel_off_ = false;
};

}  // namespace

Result<CommandResult> SshSession::run(const CommandRequest& request) {
  return execute(request, connection_->target().ssh.become, kMaxOutputBytes);
}

Result<CommandResult> SshSession::execute(const CommandRequest& request, Become become, std::size_t max_output) {
  if (connection_->target().command_shell && !shell_unavailable_) {
    auto result = executeInShell(request, become, max_output);
    if (!result) return result.error();
    if (*result) return std::move(**result);
  }
  return executeOnChannel(request, become, max_output);
}

Status SshSession::drainIdleShell() {
  if (!shell_) return {};
  char buffer[16384];
  for (;;) {
    ssize_t n = libssh2_channel_read(shell_.get(), buffer, sizeof buffer);
    if (n > 0) continue;
    if (n != 0 && n != LIBSSH2_ERROR_EAGAIN) {
      return connection_->broken("reading from the command shell", static_cast<int>(n));
    }
    break;
  }
  if (libssh2_channel_eof(shell_.get())) shell_.reset();  // it ended (killed on the host?): the next one starts anew
  return {};
}

Result<std::optional<CommandResult>> SshSession::executeInShell(const CommandRequest& request, Become become,
                                                                std::size_t max_output) {
  SshConnection& conn = *connection_;
  const auto start = Clock::now();
  const auto deadline = start + request.timeout;
  const auto start_bound = std::max(deadline, start + conn.target().connect_timeout);
  const std::string marker = newCommandMarker();
  auto message = commandShellRequest(marker, request.command, become);
  if (!message) return fail("{}: cannot run the command: {}", conn.target().name, message.error().message);
  if (auto alive = conn.keepalive(); !alive) return alive.error();
  if (auto drained = drainIdleShell(); !drained) return drained.error();
  if (!shell_) {
    auto channel = conn.exec(commandShellLaunch(), start_bound);
    if (!channel) return channel.error();
    shell_ = std::move(*channel);
    greeting_ = ShellGreeting();
  }
  if (auto sent = conn.write(shell_.get(), *message, start_bound, "the command shell"); !sent) return sent.error();
  LIBSSH2_CHANNEL* ch = shell_.get();

  CommandResult result;
  ShellReply reply(marker);
  CommandOutput output(conn, request, max_output);
  auto consume = [&](std::string_view bytes) {
    if (greeting_.state() == ShellGreeting::State::Ready) return output.deliver(reply.feed(bytes));
    std::string rest;
    if (greeting_.feed(bytes, rest) == ShellGreeting::State::Ready) output.deliver(reply.feed(rest));
  };
  auto done = [&] { return reply.finished() || greeting_.state() == ShellGreeting::State::Unavailable; };

  auto finished = output.read(ch, deadline, consume, done);
  if (!finished) return finished.error();
  if (greeting_.state() != ShellGreeting::State::Ready && *finished) {
    // The shell said it cannot run here, or ended before it said anything: it never read the command.
    shell_.reset();
    shell_unavailable_ = true;
    return std::optional<CommandResult>();
  }
  if (!*finished) {
    result.timed_out = true;
    if (auto pgid = reply.groupId()) endProcessGroup(*pgid, become);
    output.stopPollingCancel();
    auto drained = output.read(ch, Clock::now() + kKillGrace, consume, done);
    if (!drained) return drained.error();
  }
  output.deliver(reply.flush());
  if (!reply.finished()) {
    // The shell is stuck (the command could not be ended) or gone: a new one serves the next command.
    shell_.reset();
    if (!result.timed_out) {
      return fail("{}: the command shell on the host ended before the command did; whether it completed is unknown",
                  conn.target().name);
    }
  }
  result.exit_code = reply.exitStatus().value_or(-1);
  result.output = output.take();
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return std::optional<CommandResult>(std::move(result));
}

Result<CommandResult> SshSession::executeOnChannel(const CommandRequest& request, Become become,
                                                   std::size_t max_output) {
  SshConnection& conn = *connection_;
  const auto start = Clock::now();
  const auto deadline = start + request.timeout;
  if (auto alive = conn.keepalive(); !alive) return alive.error();
  // Opening the channel gets its own bound: a command's timeout must not be spent waiting on a dead connection.
  auto channel = conn.exec(wrapCommand(request.command, become),
                           std::max(deadline, start + conn.target().connect_timeout));
  if (!channel) return channel.error();
  LIBSSH2_CHANNEL* ch = channel->get();

  CommandResult result;
  GroupMarkerFilter marker;
  CommandOutput output(conn, request, max_output);
  auto consume = [&](std::string_view bytes) { output.deliver(marker.feed(bytes)); };
  auto until_eof = [] { return false; };

  auto finished = output.read(ch, deadline, consume, until_eof);
  if (!finished) return finished.error();
  if (!*finished) {
    result.timed_out = true;
    if (auto pgid = marker.groupId()) endProcessGroup(*pgid, become);
    output.stopPollingCancel();
    auto drained = output.read(ch, Clock::now() + kKillGrace, consume, until_eof);
    if (!drained) return drained.error();
  }
  output.deliver(marker.flush());

  // The exit status arrives before the server closes the channel; wait for the close (bounded) to have it.
  int rc = conn.call(Clock::now() + kKillGrace, [&] { return libssh2_channel_wait_closed(ch); });
  if (rc != 0 && rc != LIBSSH2_ERROR_TIMEOUT && rc != LIBSSH2_ERROR_INVAL) {
    return conn.broken("waiting for a command to finish", rc);
  }
  char* signal_name = nullptr;
  std::size_t signal_length = 0;
  libssh2_channel_get_exit_signal(ch, &signal_name, &signal_length, nullptr, nullptr, nullptr, nullptr);
  if (signal_name != nullptr) {
    int number = signalNumber(std::string_view(signal_name, signal_length));
    result.exit_code = number > 0 ? 128 + number : -1;
    libssh2_free(conn.session(), signal_name);
  } else {
    result.exit_code = libssh2_channel_get_exit_status(ch);
  }
  channel->reset();
  result.output = output.take();
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

void SshSession::endProcessGroup(long pgid, Become become) {
  // Best effort by design: if the kill cannot be delivered the caller still reports the timeout.
  auto deadline = Clock::now() + kKillGrace;
  auto channel = connection_->exec(killGroupCommand(pgid, become), deadline);
  if (!channel) return;
  char buffer[4096];
  for (;;) {
    ssize_t n = libssh2_channel_read(channel->get(), buffer, sizeof buffer);
    if (n > 0) continue;
    if (libssh2_channel_eof(channel->get())) break;
    if (n != LIBSSH2_ERROR_EAGAIN && n != 0) break;
    if (n == LIBSSH2_ERROR_EAGAIN && !connection_->wait(deadline)) break;
  }
}

Status SshSession::upload(const UploadRequest& request) {
  return uploadOverSftp(*connection_, *this, request, std::exchange(prepared_, std::nullopt));
}

Status SshSession::prepare(const UploadRequest& request) {
  auto verifier = prepareUpload(*connection_, request);
  if (!verifier) return verifier.error();
  prepared_ = std::move(*verifier);
  return {};
}

Result<std::string> SshSession::readFile(const std::string& remote_path, std::size_t max_bytes) {
  // `head -c MAX+1` lets us tell "exactly max" from "too big" without transferring a huge file.
  CommandRequest request;
  request.command = fmt::format("head -c {} -- {}", max_bytes + 1, shellQuote(remote_path));
  request.timeout = std::chrono::seconds(60);
  auto result = execute(request, connection_->target().ssh.become, max_bytes + 1);
  if (!result) return result.error();
  const std::string& name = connection_->target().name;
  if (result->timed_out) return fail("{}: reading {} timed out", name, remote_path);
  if (result->exit_code != 0) {
    std::string why = result->output.substr(0, 300);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return fail("{}: cannot read {}: {}", name, remote_path, why);
  }
  if (result->output.size() > max_bytes) {
    return fail("{}: {} is larger than the {} bytes allowed", name, remote_path, max_bytes);
  }
  return std::move(result->output);
}

}  // namespace ssh

Result<std::unique_ptr<Session>> SshTransport::connect(const HostTarget& target) {
  auto connection = ssh::SshConnection::open(target);
  if (!connection) return connection.error();
  return std::unique_ptr<Session>(std::make_unique<ssh::SshSession>(std::move(*connection)));
}

}  // namespace dr
