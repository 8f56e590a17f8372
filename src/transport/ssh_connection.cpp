// Opening, authenticating and keeping alive one SSH connection (see ssh_connection.h).
#include "transport/ssh_connection.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string_view>

#include "transport/known_hosts.h"

namespace dr::ssh {
namespace {

// Ciphers and MACs libssh2 1.10 does well with hardware AES and SHA extensions; others stay as fallbacks.
constexpr const char* kCiphers = "aes128-ctr,aes256-ctr,aes192-ctr,aes256-cbc,aes128-cbc";
constexpr const char* kMacs = "hmac-sha2-256,hmac-sha2-512,hmac-sha1";

// Sets a method preference list, keeping only the names this libssh2 build supports, in our order. libssh2 1.10
// strips unsupported names itself with an overlapping memcpy (undefined behaviour, reported by AddressSanitizer);
// handing it a list with nothing to strip keeps it off that path.
void preferMethods(LIBSSH2_SESSION* session, int method_type, std::string_view preferred) {
  const char** supported = nullptr;
  int count = libssh2_session_supported_algs(session, method_type, &supported);
  if (count <= 0 || supported == nullptr) return;  // keep libssh2's own default order
  std::set<std::string_view> available(supported, supported + count);
  std::string kept;
  for (std::string_view rest = preferred; !rest.empty();) {
    const auto comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (available.count(name) == 0) continue;
    if (!kept.empty()) kept += ',';
    kept += name;
  }
  libssh2_free(session, static_cast<void*>(supported));
  if (!kept.empty()) libssh2_session_method_pref(session, method_type, kept.c_str());
}

std::string describeRc(LIBSSH2_SESSION* session, int rc) {
  if (rc == LIBSSH2_ERROR_TIMEOUT) return "timed out";
  std::string message = lastError(session);
  return message.empty() ? fmt::format("libssh2 error {}", rc) : message;
}

Status authenticateWithFile(SshConnection& connection, const HostTarget& target, Clock::time_point deadline) {
  const std::string& key = target.ssh.identity_file;
  if (::access(key.c_str(), R_OK) != 0) {
    return fail("{}: cannot read identity file {}", target.name, key);
  }
  const std::string& user = target.ssh.user;
  int rc = connection.call(deadline, [&] {
    return libssh2_userauth_publickey_fromfile_ex(connection.session(), user.c_str(),
                                                  static_cast<unsigned>(user.size()), nullptr, key.c_str(), "");
  });
  if (rc == 0) return {};
  if (rc == LIBSSH2_ERROR_TIMEOUT) return fail("{}: authentication timed out", target.name);
  if (rc == LIBSSH2_ERROR_FILE) {
    return fail("{}: cannot use identity file {} (unreadable, unsupported, or protected by a passphrase: load "
                "such keys into ssh-agent and leave identity_file empty)",
                target.name, key);
  }
  return fail("{}: the server refused public-key authentication as {} with identity file {}", target.name, user, key);
}

Status authenticateWithAgent(SshConnection& connection, const HostTarget& target, Clock::time_point deadline) {
  const std::string& user = target.ssh.user;
  AgentPtr agent(libssh2_agent_init(connection.session()));
  if (!agent) return fail("{}: cannot initialise ssh-agent support", target.name);
  // The agent is a local Unix socket; these calls do not depend on the session's non-blocking mode.
  if (libssh2_agent_connect(agent.get()) != 0) {
    return fail("{}: no identity_file given and cannot reach ssh-agent (is SSH_AUTH_SOCK set?)", target.name);
  }
  if (libssh2_agent_list_identities(agent.get()) != 0) {
    return fail("{}: cannot list ssh-agent identities", target.name);
  }
  libssh2_agent_publickey* identity = nullptr;
  int tried = 0;
  while (libssh2_agent_get_identity(agent.get(), &identity, identity) == 0) {
    ++tried;
    int rc = connection.call(deadline, [&] { return libssh2_agent_userauth(agent.get(), user.c_str(), identity); });
    if (rc == 0) return {};
    if (rc == LIBSSH2_ERROR_TIMEOUT) return fail("{}: authentication timed out", target.name);
  }
  return fail("{}: the server refused all {} ssh-agent keys for user {}", target.name, tried, user);
}

}  // namespace

Result<std::unique_ptr<SshConnection>> SshConnection::open(const HostTarget& target) {
  ensureLibraryInitialized();
  auto deadline = Clock::now() + target.connect_timeout;
  auto socket = connectTcp(target.address, target.ssh.port, deadline);
  if (!socket) return fail("{}: {}", target.name, socket.error().message);
  int fd = socket->fd();
  SessionPtr session(libssh2_session_init(), SessionFree{fd});
  if (!session) return fail("{}: cannot create an SSH session", target.name);
  libssh2_session_set_blocking(session.get(), 0);
  std::unique_ptr<SshConnection> connection(new SshConnection(target, std::move(*socket), std::move(session)));
  LIBSSH2_SESSION* raw = connection->session();

  auto known = KnownHosts::load(raw, target);
  if (!known) return known.error();
  preferMethods(raw, LIBSSH2_METHOD_HOSTKEY, known->preferredMethods());
  preferMethods(raw, LIBSSH2_METHOD_CRYPT_CS, kCiphers);
  preferMethods(raw, LIBSSH2_METHOD_CRYPT_SC, kCiphers);
  preferMethods(raw, LIBSSH2_METHOD_MAC_CS, kMacs);
  preferMethods(raw, LIBSSH2_METHOD_MAC_SC, kMacs);

  int rc = connection->call(deadline, [&] { return libssh2_session_handshake(raw, fd); });
  if (rc != 0) {
    return fail("{}: SSH handshake with {} port {} failed: {}", target.name, target.address, target.ssh.port,
                describeRc(raw, rc));
  }
  if (auto verified = known->verify(raw); !verified) return verified.error();

  auto authenticated = target.ssh.identity_file.empty() ? authenticateWithAgent(*connection, target, deadline)
                                                        : authenticateWithFile(*connection, target, deadline);
  if (!authenticated) return authenticated.error();
  if (target.keepalive_interval.count() > 0) {
    libssh2_keepalive_config(raw, 1, static_cast<unsigned>(target.keepalive_interval.count()));
  }
  return connection;
}

Result<ChannelPtr> SshConnection::exec(const std::string& command, Clock::time_point deadline) {
  if (broken_) return fail("{}: the connection was lost earlier; reconnect", target_.name);
  LIBSSH2_CHANNEL* raw = nullptr;
  int rc = call(deadline, [&] {
    raw = libssh2_channel_open_session(session());
    return raw != nullptr ? 0 : libssh2_session_last_errno(session());
  });
  if (raw == nullptr) return broken("opening a channel", rc);
  ChannelPtr channel(raw, channelFree());
  // Merged at the source by the command wrapper; merging here too keeps any stray stderr in arrival order.
  libssh2_channel_handle_extended_data2(raw, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
  rc = call(deadline, [&] {
    return libssh2_channel_process_startup(raw, "exec", 4, command.data(), static_cast<unsigned>(command.size()));
  });
  if (rc != 0) return broken("starting a command", rc);
  return channel;
}

Status SshConnection::write(LIBSSH2_CHANNEL* channel, std::string_view data, Clock::time_point deadline,
                            std::string_view what) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = 0;
    int rc = call(deadline, [&] {
      n = libssh2_channel_write(channel, data.data() + sent, data.size() - sent);
      return n >= 0 ? 0 : static_cast<int>(n);
    });
    if (rc != 0) return broken(fmt::format("sending to {} on the host", what), rc);
    sent += static_cast<std::size_t>(n);
    if (n == 0 && !wait(deadline)) return broken(fmt::format("sending to {} on the host", what), LIBSSH2_ERROR_TIMEOUT);
  }
  return {};
}

Result<LIBSSH2_SFTP*> SshConnection::sftp(Clock::time_point deadline) {
  if (sftp_) return sftp_.get();
  if (broken_) return fail("{}: the connection was lost earlier; reconnect", target_.name);
  LIBSSH2_SFTP* raw = nullptr;
  int rc = call(deadline, [&] {
    raw = libssh2_sftp_init(session());
    return raw != nullptr ? 0 : libssh2_session_last_errno(session());
  });
  if (raw == nullptr) {
    if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE || rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED) {
      return fail("{}: the server offers no SFTP subsystem (sshd_config needs `Subsystem sftp ...`)", target_.name);
    }
    return broken("starting SFTP", rc);
  }
  sftp_ = SftpPtr(raw, SftpFree{session(), fd()});
  return raw;
}

Error SshConnection::broken(std::string_view while_doing, int rc) {
  // Even a timeout counts: libssh2's non-blocking state machines cannot be abandoned half-way and resumed.
  std::string why = describeRc(session(), rc);
  broken_ = true;
  return fail("{}: SSH connection to {} port {} failed while {}: {}", target_.name, target_.address, target_.ssh.port,
              while_doing, why);
}

Status SshConnection::keepalive() {
  if (broken_) return fail("{}: the connection was lost earlier; reconnect", target_.name);
  int next = 0;
  int rc = libssh2_keepalive_send(session(), &next);
  if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN) return broken("sending a keepalive", rc);
  return {};
}

}  // namespace dr::ssh
