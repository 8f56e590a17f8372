// Verified, resumable uploads over SFTP. The file is written to a staging name (REMOTE.part, or a per-user file in
// /var/tmp when become is sudo) with large pipelined SFTP writes and a fixed-size buffer (memory stays flat whatever
// the file size), fsync'd, and only when the host's SHA-256 of what it stored equals the expected one renamed over
// REMOTE (a mismatching staging file is removed). The host hashes while the file arrives (upload_verifier.h), so the
// verification costs little more than the transfer. A staging file left by an interrupted upload is resumed when its
// content equals the local file's prefix.
#pragma once

#include "transport/ssh_connection.h"
#include "transport/ssh_session.h"
#include "transport/transport.h"

namespace dr::ssh {

// Size of the window of file data handed to libssh2 at once (its SFTP writes pipeline across the whole window).
inline constexpr std::size_t kUploadWindowBytes = 4 * 1024 * 1024;

Status uploadOverSftp(SshConnection& connection, SshSession& session, const UploadRequest& request);

// The staging path an upload of `remote_path` writes to (exposed for tests of resumption).
std::string uploadStagingPath(const HostTarget& target, const std::string& remote_path);

}  // namespace dr::ssh
