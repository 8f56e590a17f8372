// Verified, resumable uploads over SFTP. The file is written to a staging name (REMOTE.part, or a per-user file in
// /var/tmp when become is sudo) with large pipelined SFTP writes and a fixed-size buffer (memory stays flat whatever
// the file size), fsync'd, and only when the host's SHA-256 of what it stored equals the expected one renamed over
// REMOTE (a mismatching staging file is removed). The host hashes while the file arrives (upload_verifier.h), so the
// verification costs little more than the transfer. A staging file left by an interrupted upload is resumed when its
// content equals the local file's prefix.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "transport/ssh_connection.h"
#include "transport/ssh_session.h"
#include "transport/transport.h"
#include "transport/upload_verifier.h"

namespace dr::ssh {

// Bounds of the window of file data handed to libssh2 at once (its SFTP writes pipeline across the whole window, so
// this is how much is in flight). See uploadWindowBytes.
inline constexpr std::size_t kMinUploadWindowBytes = 1024 * 1024;
inline constexpr std::size_t kMaxUploadWindowBytes = 4 * 1024 * 1024;

// The window for a connection whose shortest round-trip time is `rtt`: the bandwidth-delay product at 1 GB/s, within
// the bounds above. Not simply the maximum: OpenSSH's sshd (9.2, Debian 12) grows a channel's buffer by reallocating
// and copying all of it for each packet that arrives faster than sftp-server drains it, so 4 MiB pushed at a fresh
// session made its first upload of 25 MiB run at 15 MB/s instead of ~105 (bench/sftp_upload, loopback). Not less than
// 1 MiB either: with 512 KiB a 1 GiB upload ran at 0.71x scp's throughput, with 1 MiB at 1.02x.
std::size_t uploadWindowBytes(std::chrono::microseconds rtt);

// `prepared`, when given, is a verifier started ahead by prepareUpload(): used when it is for this very upload (same
// staging and final path, hash, size and become) and still running; otherwise a new one is started.
Status uploadOverSftp(SshConnection& connection, SshSession& session, const UploadRequest& request,
                      std::optional<UploadVerifier> prepared = std::nullopt);

// What an upload of `request` will need, started ahead of it: the SFTP subsystem and the on-host verifier, each of
// which costs the host a login shell's start-up (see upload_verifier.h). Changes nothing on the host: the verifier
// waits for its `begin`, and ends by itself when its channel is closed without one.
Result<UploadVerifier> prepareUpload(SshConnection& connection, const UploadRequest& request);

// The staging path an upload of `remote_path` writes to (exposed for tests of resumption).
std::string uploadStagingPath(const HostTarget& target, const std::string& remote_path);

}  // namespace dr::ssh
