// The on-host verification that runs while an upload arrives (see upload_verifier.h).
#include "transport/upload_verifier.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/sha256.h"
#include "core/shell.h"

namespace dr::ssh {
namespace {

// The python3 hasher: argv[1] is the staging file; stdin the control protocol. Exit 3 (kVerifierCannotRead): the file
// is shorter than a reported range (it cannot be: the range was acknowledged) or a protocol error; 6
// (kVerifierAbandoned): stdin ended before commit.
constexpr const char* kRangeHasher = R"(import hashlib, os, sys
f = os.open(sys.argv[1], os.O_RDONLY)
h = hashlib.sha256()
at = 0
for line in sys.stdin:
    n = line.strip()
    if n in ("commit", "commit-sync"):
        print(n, h.hexdigest())
        sys.exit(0)
    if not n.isdigit():
        print("protocol error:", n, file=sys.stderr)
        sys.exit(3)
    start, n = at, int(n)
    while n > 0:
        b = os.read(f, min(n, 1 << 20))
        if not b:
            print("the file is shorter than the acknowledged data", file=sys.stderr)
            sys.exit(3)
        h.update(b)
        n -= len(b)
        at += len(b)
    if at > start:
        os.posix_fadvise(f, start, at - start, os.POSIX_FADV_DONTNEED)
sys.exit(6)
)";

}  // namespace

std::string remoteParent(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string verifierScript(const VerifierPlan& plan) {
  const std::string staging = shellQuote(plan.staging), remote = shellQuote(plan.remote);
  const std::string dir = shellQuote(remoteParent(plan.remote));
  // Under sudo the staging file sits in /var/tmp (the SSH user may not write the destination's directory): move it
  // next to the destination as REMOTE.part first (possibly a copy to another file system, hence the sync), so the
  // final rename is atomic.
  const std::string place =
      plan.sudo ? fmt::format("mkdir -p -- {0} && mv -f -- {1} {2}.part && sync -- {2}.part && mv -f -- {2}.part {2}",
                              dir, staging, remote)
                : fmt::format("mv -f -- {} {}", staging, remote);
  // Two hashers, the same protocol. With python3 (most hosts): the ranges are read straight from the file as they
  // are reported and hashed by hashlib (OpenSSL, SHA extensions), and each hashed range is handed to the kernel's
  // writeback at once (POSIX_FADV_DONTNEED starts it and drops the clean pages), so the final fsync has little
  // left to do. Without it: the range lines are only read, and the whole file is hashed after `commit` (a pipe from
  // head into openssl would cost more CPU than hashing afterwards). Either prints "commit[-sync] HEX...".
  // `read` is the shell's builtin: it takes no byte of stdin beyond its line, so the hasher gets every range line.
  return fmt::format(
      "IFS= read -r go || exit {abandoned}\n"
      "[ \"$go\" = begin ] || {{ echo \"protocol error: $go\"; exit {read}; }}\n"
      "py={python}\n"
      "if command -v python3 >/dev/null 2>&1; then\n"
      "  r=$(python3 -c \"$py\" {staging}) || exit $?\n"
      "else\n"
      "  r=\n"
      "  while IFS= read -r n; do\n"
      "    case $n in commit|commit-sync) r=$n; break ;; ''|*[!0-9]*) echo \"protocol error: $n\"; exit {read} ;; "
      "esac\n"
      "  done\n"
      "  [ -n \"$r\" ] || exit {abandoned}\n"
      "  v=$({{ {hash}; }} <{staging}) || exit {read}\n"
      "  r=\"$r $v\"\n"
      "fi\n"
      "c=${{r%% *}}; v=${{r#* }}; v=${{v%% *}}\n"
      "s=$(stat -c %s -- {staging}) || exit {read}\n"
      "if [ \"$v\" != {expected} ] || [ \"$s\" != {total} ]; then rm -f -- {staging}; echo \"sha256 $v size $s\"; "
      "exit {mismatch}; fi\n"
      "if [ \"$c\" = commit-sync ]; then sync -- {staging} || exit {read}; fi\n"
      "{place} || exit {place_failed}\n"
      "sync -- {dir} 2>/dev/null\n"
      "echo \"sha256 $v\"\n",
      fmt::arg("python", shellQuote(kRangeHasher)), fmt::arg("hash", kHostSha256Command), fmt::arg("staging", staging),
      fmt::arg("expected", shellQuote(plan.expected_sha256)), fmt::arg("total", plan.total), fmt::arg("place", place),
      fmt::arg("dir", dir), fmt::arg("read", kVerifierCannotRead), fmt::arg("mismatch", kVerifierMismatch),
      fmt::arg("place_failed", kVerifierCannotPlace), fmt::arg("abandoned", kVerifierAbandoned));
}

Result<UploadVerifier> UploadVerifier::start(SshConnection& connection, const VerifierPlan& plan, Become become,
                                             Clock::time_point deadline) {
  // Not the command wrapper of remote_command.h: that one closes stdin, and this script is driven through it. It
  // needs no kill on timeout either: it ends by itself once its stdin closes (when the channel is freed).
  const std::string runner = become == Become::Sudo ? "sudo -n /bin/sh -c" : "/bin/sh -c";
  auto channel = connection.exec(fmt::format("exec {} {} 2>&1", runner, shellQuote(verifierScript(plan))), deadline);
  if (!channel) return channel.error();
  return UploadVerifier(connection, std::move(*channel), plan);
}

bool UploadVerifier::ended() {
  if (!ended_ && libssh2_channel_eof(channel_.get())) ended_ = true;
  return ended_;
}

Status UploadVerifier::begin(Clock::time_point deadline) { return send("begin\n", deadline); }

Status UploadVerifier::send(const std::string& line, Clock::time_point deadline) {
  return connection_->write(channel_.get(), line, deadline, "the upload's verifier");
}

Result<bool> UploadVerifier::hashNext(std::uint64_t bytes, Clock::time_point deadline) {
  if (ended_ || libssh2_channel_eof(channel_.get())) {
    ended_ = true;  // the script stopped reading; finish() reports why
    return false;
  }
  if (bytes == 0) return true;
  if (auto sent = send(fmt::format("{}\n", bytes), deadline); !sent) return sent.error();
  return true;
}

Result<UploadVerifier::Verdict> UploadVerifier::finish(bool client_synced, Clock::time_point deadline) {
  LIBSSH2_CHANNEL* ch = channel_.get();
  if (!ended_ && !libssh2_channel_eof(ch)) {
    if (auto sent = send(client_synced ? "commit\n" : "commit-sync\n", deadline); !sent) return sent.error();
    int rc = connection_->call(deadline, [&] { return libssh2_channel_send_eof(ch); });
    if (rc != 0) return connection_->broken("closing the verifier's input", rc);
  }
  Verdict verdict;
  char buffer[4096];
  for (;;) {
    ssize_t n = libssh2_channel_read(ch, buffer, sizeof buffer);
    if (n > 0) {
      if (verdict.output.size() < 64 * 1024) verdict.output.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n != 0 && n != LIBSSH2_ERROR_EAGAIN) {
      return connection_->broken("reading the verifier's verdict", static_cast<int>(n));
    }
    if (libssh2_channel_eof(ch)) break;
    if (Clock::now() >= deadline) {
      return connection_->broken("waiting for the host to verify the upload", LIBSSH2_ERROR_TIMEOUT);
    }
    if (auto alive = connection_->keepalive(); !alive) return alive.error();
    connection_->wait(std::min(
        deadline,
        Clock::now() + std::max<Clock::duration>(connection_->target().keepalive_interval, std::chrono::seconds(1))));
  }
  int rc = connection_->call(deadline, [&] { return libssh2_channel_wait_closed(ch); });
  if (rc != 0 && rc != LIBSSH2_ERROR_INVAL) return connection_->broken("waiting for the verifier to end", rc);
  verdict.exit_code = libssh2_channel_get_exit_status(ch);
  channel_.reset();
  while (!verdict.output.empty() && verdict.output.back() == '\n') verdict.output.pop_back();
  return verdict;
}

}  // namespace dr::ssh
