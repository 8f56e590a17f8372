// Commands, uploads and reads on the local machine (see local_transport.h).
#include "transport/local_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/posix.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "core/sha256.h"

namespace dr {
namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kTermGrace{500};    // between TERM and KILL of a timed-out group
constexpr std::chrono::milliseconds kDrainGrace{2000};  // reading what a killed group still writes
constexpr std::chrono::milliseconds kCancelPoll{100};  // how often CommandRequest::cancelled is polled
constexpr std::size_t kCopyBuffer = 1 << 20;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

int remainingMs(Clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Reaps `pid` if it has exited by `until`; the raw wait status, or nullopt.
std::optional<int> reap(pid_t pid, Clock::time_point until, const std::function<bool()>& stop = {}) {
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= until || (stop && stop())) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void fsyncDirectory(const std::filesystem::path& file) {
  Fd dir(::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

class LocalSession final : public Session {
 public:
  LocalSession(std::string name, Become become) : name_(std::move(name)), become_(become) {}
  Result<CommandResult> run(const CommandRequest& request) override;
  Status upload(const UploadRequest& request) override;
  Result<std::string> readFile(const std::string& path, std::size_t max_bytes) override;

 private:
  std::string name_;
  Become become_;
};

Result<CommandResult> LocalSession::run(const CommandRequest& request) {
  const auto start = Clock::now();
  const auto deadline = start + request.timeout;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail("{}: cannot create a pipe: {}", name_, std::strerror(errno));
  Fd read_end(fds[0]), write_end(fds[1]);

  std::vector<std::string> argv;
  if (become_ == Become::Sudo) argv = {"-n", "/bin/sh", "-c", request.command};
  else argv = {"-c", request.command};
  std::error_code ec;
  // The child gets its own process group (setpgid in the child and again below in the parent, so no timeout
  // can miss it) and the pipe as stdout and stderr, which keeps their relative order.
  bp::child child(bp::exe = become_ == Become::Sudo ? "/usr/bin/sudo" : "/bin/sh", bp::args = argv,
                  bp::std_in < bp::null, bp::posix::fd.bind(1, write_end.get()), bp::posix::fd.bind(2, write_end.get()),
                  bp::extend::on_exec_setup([](auto&) { ::setpgid(0, 0); }), ec);
  write_end.reset();
  if (ec) return fail("{}: cannot start /bin/sh: {}", name_, ec.message());
  const pid_t pid = child.id();
  ::setpgid(pid, pid);
  child.detach();       // reaped below with waitpid; Boost must not wait or kill on its own

  CommandResult result;
  std::string captured;
  char buffer[65536];
  bool watch_cancel = static_cast<bool>(request.cancelled);
  // True at end of output; false when `until` passed or the request was cancelled.
  auto read_until_eof = [&](Clock::time_point until) {
    for (;;) {
      if (watch_cancel && request.cancelled()) return false;
      pollfd pfd{read_end.get(), POLLIN, 0};
      int wait_ms = remainingMs(until);
      if (watch_cancel) wait_ms = std::min(wait_ms, static_cast<int>(kCancelPoll.count()));
      int ready = ::poll(&pfd, 1, wait_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0 && watch_cancel && Clock::now() < until) continue;
      if (ready <= 0) return false;
      ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
      std::string_view chunk(buffer, static_cast<std::size_t>(n));
      captured.append(chunk);
      if (captured.size() > 2 * kMaxOutputBytes + 65536) captured.erase(0, captured.size() - kMaxOutputBytes);
      if (request.on_output) request.on_output(chunk);
    }
  };

  std::optional<int> status;
  if (read_until_eof(deadline)) status = reap(pid, deadline, request.cancelled);
  watch_cancel = false;  // from here on only the grace periods count
  if (!status) {
    // Timed out (still writing, or closed its output but did not exit): end the whole group.
    result.timed_out = true;
    ::kill(-pid, SIGTERM);
    status = reap(pid, Clock::now() + kTermGrace);
    ::kill(-pid, SIGKILL);
    if (!status) status = reap(pid, Clock::now() + kDrainGrace);
    read_until_eof(Clock::now() + std::chrono::milliseconds(100));
  }
  if (status) {
    result.exit_code = WIFSIGNALED(*status) ? 128 + WTERMSIG(*status) : WEXITSTATUS(*status);
  }
  if (captured.size() > kMaxOutputBytes) captured.erase(0, captured.size() - kMaxOutputBytes);
  result.output = std::move(captured);
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

Status LocalSession::upload(const UploadRequest& request) {
  const std::filesystem::path destination = request.remote_path;
  const std::filesystem::path part = request.remote_path + ".part";
  if (request.expected_sha256.size() != 64 ||
      request.expected_sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return fail("upload of {}: expected SHA-256 must be 64 lowercase hex digits", request.local_path.string());
  }
  Fd source(::open(request.local_path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info {};
  if (source.get() < 0 || ::fstat(source.get(), &info) != 0) {
    return fail("cannot read {}: {}", request.local_path.string(), std::strerror(errno));
  }
  const auto total = static_cast<std::uint64_t>(info.st_size);
  std::error_code ec;
  if (destination.has_parent_path()) std::filesystem::create_directories(destination.parent_path(), ec);
  if (ec) return fail("{}: cannot create {}: {}", name_, destination.parent_path().string(), ec.message());

  // Resume a staging file whose content is a prefix of the source.
  std::uint64_t offset = 0;
  if (struct stat existing {}; ::stat(part.c_str(), &existing) == 0 && existing.st_size > 0 &&
                               static_cast<std::uint64_t>(existing.st_size) <= total) {
    auto size = static_cast<std::uint64_t>(existing.st_size);
    auto theirs = sha256FileHex(part, size);
    auto ours = sha256FileHex(request.local_path, size);
    if (theirs && ours && *theirs == *ours) offset = size;
  }
  Fd target(::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (offset == 0 ? O_TRUNC : 0), 0600));
  if (target.get() < 0) return fail("{}: cannot create {}: {}", name_, part.string(), std::strerror(errno));
  std::vector<char> buffer(kCopyBuffer);
  std::uint64_t done = offset;
  if (request.on_progress) request.on_progress(done, total);
  while (done < total) {
    ssize_t n = ::pread(source.get(), buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read {}: {}", request.local_path.string(), std::strerror(errno));
    if (n == 0) return fail("{} changed while it was copied", request.local_path.string());
    if (::lseek(target.get(), static_cast<off_t>(done), SEEK_SET) < 0 ||
        !writeAll(target.get(), buffer.data(), static_cast<std::size_t>(n))) {
      return fail("{}: cannot write {}: {}", name_, part.string(), std::strerror(errno));
    }
    done += static_cast<std::uint64_t>(n);
    if (request.on_progress) request.on_progress(done, total);
  }
  if (::fsync(target.get()) != 0) return fail("{}: cannot fsync {}: {}", name_, part.string(), std::strerror(errno));
  target.reset();
  auto written = sha256FileHex(part);
  if (!written) return fail("{}: {}", name_, written.error().message);
  if (*written != request.expected_sha256) {
    std::filesystem::remove(part, ec);
    return fail("{}: uploaded {} has SHA-256 {} but {} was expected: refused, the file was removed", name_,
                request.remote_path, *written, request.expected_sha256);
  }
  std::filesystem::rename(part, destination, ec);
  if (ec) return fail("{}: cannot rename {} to {}: {}", name_, part.string(), destination.string(), ec.message());
  fsyncDirectory(destination);
  return {};
}

Result<std::string> LocalSession::readFile(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail("{}: cannot read {}: {}", name_, path, std::strerror(errno));
  std::string content;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("{}: cannot read {}: {}", name_, path, std::strerror(errno));
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) return fail("{}: {} is larger than the {} bytes allowed", name_, path, max_bytes);
  }
  return content;
}

}  // namespace

Result<std::unique_ptr<Session>> LocalTransport::connect(const HostTarget& target) {
  std::string name = target.name.empty() ? std::string("localhost") : target.name;
  return std::unique_ptr<Session>(std::make_unique<LocalSession>(std::move(name), target.ssh.become));
}

}  // namespace dr
