// Host-key checking against OpenSSH known_hosts files (see known_hosts.h).
#include "transport/known_hosts.h"

#include <sstream>

#include "core/file_io.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/sha256.h"

namespace dr::ssh {
namespace {

// A known_hosts file of a large fleet is big, but not this big.
constexpr std::uint64_t kMaxKnownHostsBytes = 64u << 20;

struct KeyKind {
  int libssh2_type;
  const char* name;     // as in known_hosts and `ssh-keygen -l`
  int knownhost_bit;    // LIBSSH2_KNOWNHOST_KEY_*
  const char* methods;  // handshake host key algorithms that yield this key
};

constexpr std::array<KeyKind, 6> kKinds{{
    {LIBSSH2_HOSTKEY_TYPE_ED25519, "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_256, "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_384, "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_521, "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521"},
    {LIBSSH2_HOSTKEY_TYPE_RSA, "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA, "rsa-sha2-512,rsa-sha2-256,ssh-rsa"},
    {LIBSSH2_HOSTKEY_TYPE_DSS, "ssh-dss", LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss"},
}};

const KeyKind* kindOf(int libssh2_type) {
  for (const auto& kind : kKinds) {
    if (kind.libssh2_type == libssh2_type) return &kind;
  }
  return nullptr;
}

// The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise.
std::string knownHostsName(const HostTarget& target) {
  if (target.ssh.port == 22) return target.address;
  return "[" + target.address + "]:" + std::to_string(target.ssh.port);
}

}  // namespace

std::string openSshFingerprint(std::string_view key_blob) {
  std::string digest = [&] {
    Sha256 hasher;
    hasher.update(key_blob);
    return hasher.finishRaw();
  }();
  std::string encoded(4 * ((digest.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                               reinterpret_cast<const unsigned char*>(digest.data()), static_cast<int>(digest.size()));
  encoded.resize(static_cast<std::size_t>(length));
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return "SHA256:" + encoded;
}

std::string hostKeyTypeName(int libssh2_type) {
  const KeyKind* kind = kindOf(libssh2_type);
  return kind != nullptr ? kind->name : "unknown-key-type";
}

std::filesystem::path knownHostsPath(const HostTarget& target) {
  if (!target.ssh.known_hosts.empty()) return target.ssh.known_hosts;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && *home != '\0' ? home : "/root") / ".ssh" / "known_hosts";
}

Result<KnownHosts> KnownHosts::load(LIBSSH2_SESSION* session, const HostTarget& target) {
  KnownHostsPtr hosts(libssh2_knownhost_init(session));
  if (!hosts) return fail("{}: cannot initialise host-key checking", target.name);
  std::filesystem::path path = knownHostsPath(target);
  if (std::error_code ec; std::filesystem::exists(path, ec) || std::filesystem::is_symlink(path, ec)) {
    auto text = readRegularFile(path, kMaxKnownHostsBytes, "known_hosts file");
    if (!text) return fail("{}: {}", target.name, text.error().message);
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      // Unparseable lines are skipped on purpose: one exotic entry must not disable checking for every host.
      (void)libssh2_knownhost_readline(hosts.get(), line.c_str(), line.size(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    }
  }
  return KnownHosts(std::move(hosts), target, std::move(path));
}

int KnownHosts::check(std::string_view key, int typemask) const {
  libssh2_knownhost* found = nullptr;
  // Port 22 entries are written without brackets; -1 asks libssh2 for the plain host name only.
  int port = target_.ssh.port == 22 ? -1 : target_.ssh.port;
  return libssh2_knownhost_checkp(hosts_.get(), target_.address.c_str(), port, key.data(), key.size(),
                                  LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typemask, &found);
}

std::string KnownHosts::preferredMethods() const {
  // A key that cannot match tells us, by MISMATCH rather than NOTFOUND, that an entry of that type exists.
  std::string known, rest;
  for (const auto& kind : kKinds) {
    bool has_entry = check(std::string_view("\x01", 1), kind.knownhost_bit) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
    std::string& list = has_entry ? known : rest;
    list += (list.empty() ? "" : ",");
    list += kind.methods;
  }
  return known.empty() ? rest : known + "," + rest;
}

Status KnownHosts::verify(LIBSSH2_SESSION* session) const {
  std::size_t length = 0;
  int type = LIBSSH2_HOSTKEY_TYPE_UNKNOWN;
  const char* key = libssh2_session_hostkey(session, &length, &type);
  if (key == nullptr) return fail("{}: the server sent no host key", target_.name);
  std::string_view blob(key, length);
  const KeyKind* kind = kindOf(type);
  if (kind == nullptr) return fail("{}: the server's host key is of a type we cannot check", target_.name);
  std::string described = fmt::format("{} key {}", kind->name, openSshFingerprint(blob));

  switch (check(blob, kind->knownhost_bit)) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
      return {};
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return fail(
          "{}: REMOTE HOST KEY HAS CHANGED for {}: it now offers the {}, which differs from the key recorded in {}. "
          "Someone may be intercepting the connection, or the host was reinstalled. Refused (never accepted "
          "automatically); if the change is expected, remove the old entry with `ssh-keygen -R '{}' -f {}` after "
          "verifying the new fingerprint out of band",
          target_.name, knownHostsName(target_), described, path_.string(), knownHostsName(target_), path_.string());
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
      if (target_.accept_new_host_keys) return append(blob, type);
      return fail(
          "{}: unknown host key for {}: the server offers the {}, which is not in {}. Verify the fingerprint out of "
          "band, then add the key to that file or rerun with --accept-new-host-keys",
          target_.name, knownHostsName(target_), described, path_.string());
    default:
      return fail("{}: host-key check failed for {}: {}", target_.name, knownHostsName(target_), lastError(session));
  }
}

Status KnownHosts::append(std::string_view key, int libssh2_type) const {
  const KeyKind* kind = kindOf(libssh2_type);
  libssh2_knownhost* added = nullptr;
  std::string name = knownHostsName(target_);
  int typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kind->knownhost_bit;
  if (libssh2_knownhost_addc(hosts_.get(), name.c_str(), nullptr, key.data(), key.size(), nullptr, 0, typemask,
                             &added) != 0) {
    return fail("{}: cannot record the new host key", target_.name);
  }
  std::vector<char> line(16384);
  std::size_t length = 0;
  if (libssh2_knownhost_writeline(hosts_.get(), added, line.data(), line.size(), &length,
                                  LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
    return fail("{}: cannot format the new host key", target_.name);
  }
  // Appending one line (never rewriting the file) keeps comments and entries libssh2 does not understand.
  std::error_code ec;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("{}: cannot append to {}: {}", target_.name, path_.string(), std::strerror(errno));
  std::string text(line.data(), length);
  struct stat info {};
  if (::fstat(fd, &info) == 0 && info.st_size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, info.st_size - 1) == 1 && last != '\n') text.insert(0, "\n");
  }
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!written) return fail("{}: cannot append to {}: {}", target_.name, path_.string(), std::strerror(saved));
  return {};
}

}  // namespace dr::ssh
