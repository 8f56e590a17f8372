// The host side of an upload's verification, run WHILE the file arrives instead of after it. A second exec channel on
// the upload's connection runs a small script on the host that reads the staging file back, range by range, as the
// client reports ranges acknowledged by the SFTP server (so only bytes the host has stored are read), and feeds them
// to the host's SHA-256 (openssl when present: several times faster than coreutils' sha256sum, which Debian builds
// without SHA extensions). On `commit` the host compares the hash and the size with the expected ones and, only
// when both match, renames the staging file into place (as the become user); a mismatch removes the staging file.
// When the client goes away before `commit` (an error, a lost connection) the script ends and leaves the staging
// file for a resume. The comparison and the rename happen on the host: the client only reads the verdict.
//
// Control protocol on the script's stdin, one line each: first `begin` (the client has created or truncated the
// staging file: only now does the script open it, so a verifier started ahead of its upload never reads an older
// attempt's bytes), then a decimal byte count for each next range of the file to hash, then `commit` (the client
// fsync'd the file) or `commit-sync` (the host must sync it: the server had no fsync).
//
// Why the script may start before its upload: on an ordinary host sshd starts every channel's command through the
// user's login shell, which reads the shell's start-up files first (Debian's bash reads ~/.bashrc even for
// `bash -c`). Where those cost a second, starting the verifier (and SFTP) while the run's preflight is still going
// on takes that second off the recovery's critical path (bench/rto.sh, environment `login`).
#pragma once

#include <cstdint>
#include <string>

#include "transport/ssh_connection.h"

namespace dr::ssh {

// What the verifier script needs to know; every path is quoted by verifierScript().
struct VerifierPlan {
  std::string staging;          // the file being written
  std::string remote;           // its final name
  std::string expected_sha256;  // lowercase hex
  std::uint64_t total = 0;      // the expected size
  bool sudo = false;            // staging is per-user in /var/tmp and the script runs under sudo: move it, then rename

  bool operator==(const VerifierPlan&) const = default;
};

// Exit codes of the script (beside 0, placed).
inline constexpr int kVerifierCannotRead = 3;   // staging unreadable, hashing failed, or a protocol error
inline constexpr int kVerifierMismatch = 4;     // hash or size differs: staging removed, output "sha256 H size S"
inline constexpr int kVerifierCannotPlace = 5;  // the rename (or the sudo move) failed
inline constexpr int kVerifierAbandoned = 6;    // stdin ended before commit: staging kept for a resume

// The directory part of a remote path ("." when there is none).
std::string remoteParent(const std::string& path);

// The /bin/sh script (exposed for tests).
std::string verifierScript(const VerifierPlan& plan);

class UploadVerifier {
 public:
  // Starts the script on a new channel of `connection` (which must outlive the verifier). It waits for begin().
  static Result<UploadVerifier> start(SshConnection& connection, const VerifierPlan& plan, Become become,
                                      Clock::time_point deadline);

  const VerifierPlan& plan() const { return plan_; }
  // Whether the script has already ended (it was started ahead and its shell went away meanwhile): such a verifier
  // is of no use, and writing to it would fail the connection.
  bool ended();
  // Tells the script the staging file is ready to be read.
  Status begin(Clock::time_point deadline);

  // Asks the host to hash the next `bytes` of the file. Call only when no other libssh2 call on this connection
  // is half-done (a non-blocking send left half-way must be finished by the same call before another packet).
  // Returns false once the script has ended early (its verdict is then read by finish()).
  Result<bool> hashNext(std::uint64_t bytes, Clock::time_point deadline);

  struct Verdict {
    int exit_code = -1;
    std::string output;  // the script's stdout and stderr, trailing newlines removed
  };
  // Sends `commit` (or `commit-sync` when the client could not fsync) and waits for the script's verdict.
  Result<Verdict> finish(bool client_synced, Clock::time_point deadline);

 private:
  UploadVerifier(SshConnection& connection, ChannelPtr channel, VerifierPlan plan)
      : connection_(&connection), channel_(std::move(channel)), plan_(std::move(plan)) {}
  Status send(const std::string& line, Clock::time_point deadline);

  SshConnection* connection_;
  ChannelPtr channel_;
  VerifierPlan plan_;
  bool ended_ = false;  // the script closed its side before we committed
};

}  // namespace dr::ssh
