// Strict host-key checking against an OpenSSH known_hosts file, on libssh2's knownhost API: plain and hashed
// (`|1|salt|hash`) entries, `[host]:port` entries for ports other than 22. An unknown key is refused with its type
// and SHA-256 fingerprint in OpenSSH's format unless the target accepts new keys (then one line is appended);
// a changed key is always refused. Nothing here ever puts key material other than the public fingerprint in a message.
#pragma once

#include <libssh2.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"
#include "transport/ssh_handles.h"
#include "transport/transport.h"

namespace dr::ssh {

// "SHA256:" followed by the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l` prints it.
std::string openSshFingerprint(std::string_view key_blob);

// OpenSSH's name of a libssh2 host key type (LIBSSH2_HOSTKEY_TYPE_*): "ssh-ed25519", "ecdsa-sha2-nistp256", ...
std::string hostKeyTypeName(int libssh2_type);

// The known_hosts file a target uses: ssh.known_hosts, or ~/.ssh/known_hosts when empty.
std::filesystem::path knownHostsPath(const HostTarget& target);

class KnownHosts {
 public:
  // Reads the file (a missing file is an empty one). Lines libssh2 cannot parse (key types it does not know,
  // @cert-authority markers) are skipped rather than failing the whole file, like OpenSSH does.
  static Result<KnownHosts> load(LIBSSH2_SESSION* session, const HostTarget& target);

  // Host key algorithms for the handshake, those already known for this host first, so that a host with several
  // keys is checked against the one we have (otherwise its ed25519 key would look unknown next to a known RSA key).
  std::string preferredMethods() const;

  // After the handshake: accepts a known key, refuses a changed key, and refuses or records an unknown one.
  Status verify(LIBSSH2_SESSION* session) const;

 private:
  KnownHosts(KnownHostsPtr hosts, HostTarget target, std::filesystem::path path)
      : hosts_(std::move(hosts)), target_(std::move(target)), path_(std::move(path)) {}
  int check(std::string_view key, int typemask) const;
  Status append(std::string_view key, int libssh2_type) const;

  KnownHostsPtr hosts_;
  HostTarget target_;
  std::filesystem::path path_;
};

}  // namespace dr::ssh
