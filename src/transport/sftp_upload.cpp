// SFTP upload with resume, fsync and on-host SHA-256 verification (see sftp_upload.h).
#include "transport/sftp_upload.h"

#include <fcntl.h>
#include <linux/tcp.h>  // tcpi_min_rtt, which glibc's netinet/tcp.h lacks
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/sha256.h"
#include "core/shell.h"
#include "transport/upload_verifier.h"

namespace dr::ssh {
namespace {

// No acknowledged progress for this long means the upload is stuck.
constexpr std::chrono::seconds kStallTimeout{60};
constexpr std::chrono::seconds kCommandTimeout{600};  // hashing a large file on a slow disk
// How much acknowledged data the host is asked to hash at a time: large enough that starting a reader per range
// costs nothing, small enough that little is left to hash after the last byte arrives.
constexpr std::uint64_t kVerifyRangeBytes = 32 * 1024 * 1024;

class LocalFile {
 public:
  explicit LocalFile(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~LocalFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LocalFile(const LocalFile&) = delete;
  LocalFile& operator=(const LocalFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string sftpError(LIBSSH2_SFTP* sftp, LIBSSH2_SESSION* session, int rc) {
  if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL) return lastError(session);
  switch (libssh2_sftp_last_error(sftp)) {
    case LIBSSH2_FX_NO_SUCH_FILE: return "no such file or directory";
    case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM: return "no space left on the file system";
    case LIBSSH2_FX_QUOTA_EXCEEDED: return "quota exceeded";
    case LIBSSH2_FX_OP_UNSUPPORTED: return "operation not supported by the server";
    default: return fmt::format("SFTP error {}", libssh2_sftp_last_error(sftp));
  }
}

bool isSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

enum class RemoteKind { Missing, Directory, RegularFile, Other };
struct RemoteEntry {
  RemoteKind kind = RemoteKind::Missing;
  std::uint64_t size = 0;
};

// What is at `path` on the host (symbolic links followed), over SFTP.
Result<RemoteEntry> statRemote(SshConnection& conn, LIBSSH2_SFTP* sftp, const std::string& path,
                               Clock::time_point deadline) {
  LIBSSH2_SFTP_ATTRIBUTES attributes{};
  int rc = conn.call(deadline, [&] {
    return libssh2_sftp_stat_ex(sftp, path.c_str(), static_cast<unsigned>(path.size()), LIBSSH2_SFTP_STAT,
                                &attributes);
  });
  if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
    if (libssh2_sftp_last_error(sftp) == LIBSSH2_FX_NO_SUCH_FILE) return RemoteEntry{};
    return fail("cannot look at {}: {}", path, sftpError(sftp, conn.session(), rc));
  }
  if (rc != 0) return conn.broken("looking at " + path, rc);
  RemoteEntry entry;
  entry.size = attributes.filesize;
  const bool has_type = (attributes.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0;
  entry.kind = !has_type                                    ? RemoteKind::Other
               : LIBSSH2_SFTP_S_ISDIR(attributes.permissions) ? RemoteKind::Directory
               : LIBSSH2_SFTP_S_ISREG(attributes.permissions) ? RemoteKind::RegularFile
                                                              : RemoteKind::Other;
  return entry;
}

// `mkdir -p` over SFTP: the missing directories from the deepest existing one down, mode 0755 (less the server's
// umask), as the SSH user.
Status makeRemoteDirectories(SshConnection& conn, LIBSSH2_SFTP* sftp, const std::string& dir,
                             Clock::time_point deadline) {
  if (dir.empty() || dir == "/" || dir == ".") return {};
  auto entry = statRemote(conn, sftp, dir, deadline);
  if (!entry) return entry.error();
  if (entry->kind == RemoteKind::Directory) return {};
  if (entry->kind != RemoteKind::Missing) return fail("{} exists and is not a directory", dir);
  if (auto parent = makeRemoteDirectories(conn, sftp, remoteParent(dir), deadline); !parent) return parent;
  int rc = conn.call(deadline, [&] {
    return libssh2_sftp_mkdir_ex(sftp, dir.c_str(), static_cast<unsigned>(dir.size()), 0755);
  });
  if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
    // Made meanwhile by someone else is as good as made here.
    auto again = statRemote(conn, sftp, dir, deadline);
    if (again && again->kind == RemoteKind::Directory) return {};
    return fail("cannot create {}: {}", dir, sftpError(sftp, conn.session(), rc));
  }
  if (rc != 0) return conn.broken("creating " + dir, rc);
  return {};
}

// The shortest round-trip time the kernel has seen on the connection's TCP socket (the path's own delay; the smoothed
// RTT also counts the time a busy host takes to answer); zero when it cannot say.
std::chrono::microseconds minimumRtt(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
      length < offsetof(tcp_info, tcpi_min_rtt) + sizeof info.tcpi_min_rtt) {
    return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(info.tcpi_min_rtt);
}

}  // namespace

std::size_t uploadWindowBytes(std::chrono::microseconds rtt) {
  constexpr std::uint64_t kBytesPerMicrosecond = 1000;  // 1 GB/s
  const auto microseconds = static_cast<std::uint64_t>(std::max<std::int64_t>(rtt.count(), 0));
  const std::uint64_t product = microseconds * kBytesPerMicrosecond;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(product, kMinUploadWindowBytes, kMaxUploadWindowBytes));
}

std::string uploadStagingPath(const HostTarget& target, const std::string& remote_path) {
  if (target.ssh.become != Become::Sudo) return remote_path + ".part";
  // The SSH user may not write the destination: stage in a world-writable sticky dir under a name that is
  // stable across attempts (so it can be resumed) and distinct per user and destination.
  return fmt::format("/var/tmp/dr-upload-{}-{}.part", target.ssh.user, sha256Hex(remote_path).substr(0, 16));
}

Result<UploadVerifier> prepareUpload(SshConnection& conn, const UploadRequest& request) {
  const HostTarget& target = conn.target();
  struct stat info {};
  if (::stat(request.local_path.c_str(), &info) != 0) {
    return fail("cannot read {}: {}", request.local_path.string(), std::strerror(errno));
  }
  auto sftp = conn.sftp(Clock::now() + kStallTimeout);
  if (!sftp) return sftp.error();
  VerifierPlan plan{uploadStagingPath(target, request.remote_path), request.remote_path, request.expected_sha256,
                    static_cast<std::uint64_t>(info.st_size), target.ssh.become == Become::Sudo};
  return UploadVerifier::start(conn, plan, target.ssh.become, Clock::now() + target.connect_timeout);
}

Status uploadOverSftp(SshConnection& conn, SshSession& session, const UploadRequest& request,
                      std::optional<UploadVerifier> prepared) {
  const HostTarget& target = conn.target();
  const std::string& remote = request.remote_path;
  if (!isSha256Hex(request.expected_sha256)) {
    return fail("upload of {}: expected SHA-256 must be 64 lowercase hex digits", request.local_path.string());
  }
  if (remote.empty() || remote.back() == '/') return fail("{}: invalid upload destination '{}'", target.name, remote);
  LocalFile local(request.local_path);
  struct stat info {};
  if (local.fd() < 0 || ::fstat(local.fd(), &info) != 0) {
    return fail("cannot read {}: {}", request.local_path.string(), std::strerror(errno));
  }
  const auto total = static_cast<std::uint64_t>(info.st_size);
  const bool sudo = target.ssh.become == Become::Sudo;
  const std::string staging = uploadStagingPath(target, remote);
  const std::string q_staging = shellQuote(staging);

  // 1. Over SFTP, so that no command runs on the host (each costs its sshd a fork and a shell): make the destination
  //    directory as the SSH user (under sudo, the verifier makes it) and look for a staging file an earlier attempt
  //    left. Only such a file costs a command: the host hashes it, to see whether it is a prefix of ours to resume.
  auto sftp_deadline = Clock::now() + kStallTimeout;
  auto sftp = conn.sftp(sftp_deadline);
  if (!sftp) return sftp.error();
  if (!sudo) {
    if (auto made = makeRemoteDirectories(conn, *sftp, remoteParent(remote), sftp_deadline); !made) {
      if (conn.isBroken()) return made;
      return fail("{}: cannot prepare the upload of {}: {}", target.name, remote, made.error().message);
    }
  }
  auto existing = statRemote(conn, *sftp, staging, sftp_deadline);
  if (!existing) return conn.isBroken() ? existing.error() : fail("{}: {}", target.name, existing.error().message);
  std::uint64_t offset = 0;
  if (existing->kind == RemoteKind::RegularFile && existing->size > 0 && existing->size <= total) {
    CommandRequest hash_staging;
    hash_staging.timeout = kCommandTimeout;
    hash_staging.command = fmt::format("{} <{}", kHostSha256Command, q_staging);
    auto hashed = session.execute(hash_staging, Become::None, 64 * 1024);
    if (!hashed) return hashed.error();
    const std::string host_prefix = hashed->output.substr(0, 64);
    if (hashed->exit_code == 0 && isSha256Hex(host_prefix)) {
      auto local_prefix = sha256FileHex(request.local_path, existing->size);
      if (local_prefix && *local_prefix == host_prefix) offset = existing->size;
    }
  }

  // 2. Write from `offset` with a sliding window: libssh2 pipelines every SFTP write request in the window and
  //    returns as acknowledgements arrive; we pass the unacknowledged rest again, topped up from the file.
  unsigned long flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | (offset == 0 ? LIBSSH2_FXF_TRUNC : 0);
  LIBSSH2_SFTP_HANDLE* raw = nullptr;
  int rc = conn.call(sftp_deadline, [&] {
    raw = libssh2_sftp_open_ex(*sftp, staging.c_str(), static_cast<unsigned>(staging.size()), flags, 0600,
                               LIBSSH2_SFTP_OPENFILE);
    return raw != nullptr ? 0 : libssh2_session_last_errno(conn.session());
  });
  if (raw == nullptr) {
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
      return fail("{}: cannot create {}: {}", target.name, staging, sftpError(*sftp, conn.session(), rc));
    }
    return conn.broken("opening " + staging, rc);
  }
  SftpHandlePtr handle(raw, conn.sftpHandleFree());
  libssh2_sftp_seek64(raw, offset);

  // The host verifies while the data arrives: it starts with the prefix kept from an earlier attempt (in parallel
  // with sending the rest) and follows the acknowledged ranges, so at the end only the last range is left to hash.
  // Begun after the staging file was created or truncated above, so it never reads bytes of an older attempt.
  VerifierPlan plan{staging, remote, request.expected_sha256, total, sudo};
  std::optional<UploadVerifier> verifier;
  if (prepared && prepared->plan() == plan && !prepared->ended()) verifier = std::move(prepared);
  prepared.reset();  // one for another upload (or one that ended) is closed: it ends without touching anything
  if (!verifier) {
    auto started = UploadVerifier::start(conn, plan, target.ssh.become, Clock::now() + target.connect_timeout);
    if (!started) return started.error();
    verifier = std::move(*started);
  }
  if (auto begun = verifier->begin(Clock::now() + kStallTimeout); !begun) return begun.error();
  std::uint64_t reported = offset;  // bytes the host was asked to hash so far
  if (auto told = verifier->hashNext(offset, Clock::now() + kStallTimeout); !told) return told.error();

  std::vector<char> window(uploadWindowBytes(minimumRtt(conn.fd())));
  std::size_t begin = 0, end = 0;  // window[begin, end) is read from the file and not yet acknowledged
  std::uint64_t read_at = offset, acknowledged = offset;
  bool at_eof = false;
  if (request.on_progress) request.on_progress(acknowledged, total);
  auto last_progress = Clock::now();
  while (true) {
    if (begin >= window.size() / 2) {  // keep the window full without copying on every acknowledgement
      std::memmove(window.data(), window.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    while (!at_eof && end < window.size()) {
      ssize_t n = ::pread(local.fd(), window.data() + end, window.size() - end, static_cast<off_t>(read_at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail("cannot read {}: {}", request.local_path.string(), std::strerror(errno));
      if (n == 0) at_eof = true;
      end += static_cast<std::size_t>(n);
      read_at += static_cast<std::uint64_t>(n);
    }
    if (begin == end) break;
    ssize_t written = libssh2_sftp_write(raw, window.data() + begin, end - begin);
    if (written > 0) {
      begin += static_cast<std::size_t>(written);
      acknowledged += static_cast<std::uint64_t>(written);
      last_progress = Clock::now();
      if (request.on_progress) request.on_progress(acknowledged, total);
      // Only here, right after a write returned acknowledged bytes, is no SFTP packet half-sent.
      if (acknowledged - reported >= kVerifyRangeBytes) {
        if (auto told = verifier->hashNext(acknowledged - reported, last_progress + kStallTimeout); !told) {
          return told.error();
        }
        reported = acknowledged;
      }
    } else if (written == LIBSSH2_ERROR_EAGAIN) {
      if (!conn.wait(last_progress + kStallTimeout)) return conn.broken("uploading " + staging, LIBSSH2_ERROR_TIMEOUT);
    } else if (written == LIBSSH2_ERROR_SFTP_PROTOCOL) {
      return fail("{}: writing {} failed: {}", target.name, staging, sftpError(*sftp, conn.session(), static_cast<int>(written)));
    } else {
      return conn.broken("uploading " + staging, static_cast<int>(written));
    }
  }
  if (acknowledged != total) {
    return fail("{}: {} changed while it was uploaded", target.name, request.local_path.string());
  }

  // The last range goes first, so the host hashes it while the fsync below runs.
  if (auto told = verifier->hashNext(acknowledged - reported, Clock::now() + kStallTimeout); !told) {
    return told.error();
  }

  // 3. Make the data durable before it can be renamed into place (the host renames only after `commit`, which is
  //    sent after this). Servers without fsync@openssh.com get `sync` on the host.
  rc = conn.call(Clock::now() + kCommandTimeout, [&] { return libssh2_sftp_fsync(raw); });
  bool synced = rc == 0;
  if (rc != 0 && rc != LIBSSH2_ERROR_SFTP_PROTOCOL) return conn.broken("syncing " + staging, rc);
  handle.reset();

  // 4. The host finishes hashing, compares, and renames (or removes the staging file on a mismatch).
  auto verdict = verifier->finish(synced, Clock::now() + kCommandTimeout);
  if (!verdict) return verdict.error();
  const std::string& output = verdict->output;
  if (verdict->exit_code == kVerifierMismatch) {
    // "sha256 HASH size SIZE"
    std::string host_hash = output.size() >= 71 && output.starts_with("sha256 ") ? output.substr(7, 64) : output;
    return fail("{}: uploaded {} has SHA-256 {} on the host but {} was expected ({}): refused, the file was removed",
                target.name, remote, host_hash, request.expected_sha256, output);
  }
  if (verdict->exit_code != 0 || output.find("sha256 " + request.expected_sha256) == std::string::npos) {
    return fail("{}: cannot verify and place {} (exit {}): {}", target.name, remote, verdict->exit_code, output);
  }
  return {};
}

}  // namespace dr::ssh
