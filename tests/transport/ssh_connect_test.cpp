// Connecting with the SSH transport against a real sshd: strict host-key checking (unknown key refused with its
// fingerprint, accept-new records it, a changed key is always refused, hashed entries), authentication failures,
// unreachable or silent ports, and a connection that breaks mid-session.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/shell.h"
#include "fixtures/sshd_fixture.h"
#include "transport/ssh_transport.h"
#include "transport_test_util.h"

using namespace std::chrono_literals;

namespace dr {
namespace {

// A TCP listener on 127.0.0.1 that never accepts: the kernel completes connections, nobody speaks SSH.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

std::string privateKeyBody(const std::filesystem::path& path) {
  // The base64 body of an OpenSSH private key: none of it may ever appear in a message.
  std::string text = test::readWholeFile(path);
  auto begin = text.find('\n') + 1;
  return text.substr(begin, 40);
}

}  // namespace

TEST_CASE("ssh connect: an unknown host key is refused with its type and SHA256 fingerprint", "[ssh][hostkey]") {
  test::SshdFixture sshd;
  HostTarget target = sshd.target();
  std::ofstream(target.ssh.known_hosts, std::ios::trunc) << "# no entries\n";
  SshTransport transport;
  auto refused = transport.connect(target);
  REQUIRE_FALSE(refused);
  const std::string& message = refused.error().message;
  CHECK_THAT(message, Catch::Contains("unknown host key") && Catch::Contains("ssh-ed25519") &&
                          Catch::Contains(sshd.hostKeyFingerprint()) && Catch::Contains("--accept-new-host-keys") &&
                          Catch::Contains("[127.0.0.1]:" + std::to_string(sshd.port())));
  CHECK_THAT(message, !Catch::Contains(privateKeyBody(sshd.identityFile())));
  CHECK(sshd.connectionCount() == 0);  // nothing left open

  // A known_hosts file that does not exist at all is the same situation.
  target.ssh.known_hosts = (sshd.dir() / "missing_known_hosts").string();
  auto missing = transport.connect(target);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("unknown host key"));
}

TEST_CASE("ssh connect: accept-new records an unknown key, which is then trusted", "[ssh][hostkey]") {
  test::SshdFixture sshd;
  HostTarget target = sshd.target();
  target.ssh.known_hosts = (sshd.dir() / "sub/known_hosts_new").string();
  {
    std::filesystem::create_directories(sshd.dir() / "sub");
    std::ofstream(target.ssh.known_hosts) << "# kept\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBogusBogusBogusBogusBogusBogusBogusBogusBogu";
  }
  target.accept_new_host_keys = true;
  SshTransport transport;
  auto accepted = transport.connect(target);
  REQUIRE(accepted);
  const std::string recorded = test::readWholeFile(target.ssh.known_hosts);
  CHECK(recorded.starts_with("# kept\nother.example"));
  std::string host_key = test::readWholeFile(sshd.hostPublicKey());
  host_key = host_key.substr(0, host_key.rfind(' '));  // "ssh-ed25519 BASE64" without the comment
  CHECK_THAT(recorded, Catch::Contains("\n[127.0.0.1]:" + std::to_string(sshd.port()) + " " + host_key));
  // ssh-keygen agrees that the line names this host with this key.
  CHECK_THAT(test::runOrThrow("ssh-keygen -F '[127.0.0.1]:" + std::to_string(sshd.port()) + "' -f " +
                              shellQuote(target.ssh.known_hosts)),
             Catch::Contains(host_key));

  target.accept_new_host_keys = false;
  auto again = transport.connect(target);
  REQUIRE(again);
  auto result = (*again)->run(test::command("echo ok"));
  REQUIRE(result);
  CHECK(result->output == "ok\n");
}

TEST_CASE("ssh connect: a changed host key is refused, even with accept-new", "[ssh][hostkey]") {
  test::SshdFixture sshd;
  const std::string before = test::readWholeFile(sshd.knownHosts());
  sshd.regenerateHostKey();
  HostTarget target = sshd.target();
  target.accept_new_host_keys = true;
  SshTransport transport;
  auto refused = transport.connect(target);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("HOST KEY HAS CHANGED") &&
                                          Catch::Contains(sshd.hostKeyFingerprint()) && Catch::Contains("ssh-keygen -R"));
  CHECK(test::readWholeFile(sshd.knownHosts()) == before);  // never rewritten
}

TEST_CASE("ssh connect: hashed known_hosts entries are honoured", "[ssh][hostkey]") {
  test::SshdFixture sshd;
  test::runOrThrow("ssh-keygen -H -f " + shellQuote(sshd.knownHosts().string()));
  const std::string hashed = test::readWholeFile(sshd.knownHosts());
  REQUIRE(hashed.starts_with("|1|"));
  SshTransport transport;
  auto session = transport.connect(sshd.target());
  REQUIRE(session);
  // And a hashed entry with another key still counts as a change.
  sshd.regenerateHostKey();
  auto refused = transport.connect(sshd.target());
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("HOST KEY HAS CHANGED"));
}

TEST_CASE("ssh connect: authentication failures are clear and leak no key material", "[ssh][auth]") {
  test::SshdFixture sshd;
  SshTransport transport;
  HostTarget target = sshd.target();
  test::runOrThrow("ssh-keygen -q -t ed25519 -N '' -f " + shellQuote((sshd.dir() / "stranger").string()));
  target.ssh.identity_file = (sshd.dir() / "stranger").string();
  auto refused = transport.connect(target);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("refused public-key authentication as root") &&
                                          Catch::Contains("stranger"));
  CHECK_THAT(refused.error().message, !Catch::Contains(privateKeyBody(target.ssh.identity_file)));

  target.ssh.identity_file = (sshd.dir() / "no-such-key").string();
  auto missing = transport.connect(target);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("cannot read identity file") && Catch::Contains("no-such-key"));

  // A passphrase-protected key cannot be used from a file: the message points to ssh-agent.
  test::runOrThrow("ssh-keygen -q -t ed25519 -N 'secret phrase' -f " + shellQuote((sshd.dir() / "locked").string()));
  test::runOrThrow("cat " + shellQuote((sshd.dir() / "locked.pub").string()) + " >> " +
                   shellQuote((sshd.dir() / "authorized_keys").string()));
  target.ssh.identity_file = (sshd.dir() / "locked").string();
  auto locked = transport.connect(target);
  REQUIRE_FALSE(locked);
  CHECK_THAT(locked.error().message, Catch::Contains("ssh-agent") && !Catch::Contains("secret phrase"));

  // No identity file and no agent.
  target.ssh.identity_file.clear();
  std::string saved = std::getenv("SSH_AUTH_SOCK") != nullptr ? std::getenv("SSH_AUTH_SOCK") : "";
  ::unsetenv("SSH_AUTH_SOCK");
  auto no_agent = transport.connect(target);
  if (!saved.empty()) ::setenv("SSH_AUTH_SOCK", saved.c_str(), 1);
  REQUIRE_FALSE(no_agent);
  CHECK_THAT(no_agent.error().message, Catch::Contains("ssh-agent"));
}

TEST_CASE("ssh connect: keys from ssh-agent are used when no identity file is given", "[ssh][auth]") {
  test::SshdFixture sshd;
  const std::string socket = (sshd.dir() / "agent.sock").string();
  test::runOrThrow("ssh-agent -a " + shellQuote(socket) + " > " + shellQuote((sshd.dir() / "agent.env").string()));
  std::string env = test::readWholeFile(sshd.dir() / "agent.env");
  auto at = env.find("SSH_AGENT_PID=");
  REQUIRE(at != std::string::npos);
  const std::string agent_pid = env.substr(at + 14, env.find(';', at) - at - 14);
  struct AgentGuard {
    std::string pid;
    ~AgentGuard() { std::system(("kill " + pid + " 2>/dev/null").c_str()); }
  } guard{agent_pid};
  test::runOrThrow("SSH_AUTH_SOCK=" + shellQuote(socket) + " ssh-add -q " + shellQuote(sshd.identityFile().string()));

  std::string saved = std::getenv("SSH_AUTH_SOCK") != nullptr ? std::getenv("SSH_AUTH_SOCK") : "";
  ::setenv("SSH_AUTH_SOCK", socket.c_str(), 1);
  HostTarget target = sshd.target();
  target.ssh.identity_file.clear();
  SshTransport transport;
  auto session = transport.connect(target);
  if (saved.empty()) ::unsetenv("SSH_AUTH_SOCK");
  else ::setenv("SSH_AUTH_SOCK", saved.c_str(), 1);
  REQUIRE(session);
  auto result = (*session)->run(test::command("echo via agent"));
  REQUIRE(result);
  CHECK(result->output == "via agent\n");
}

TEST_CASE("ssh connect: a closed port and a silent port are reported clearly and in time", "[ssh][connect]") {
  SshTransport transport;
  HostTarget target;
  target.name = "db-1";
  target.address = "127.0.0.1";
  target.ssh.port = test::freeLoopbackPort();  // nobody listens
  target.connect_timeout = 700ms;
  auto refused = transport.connect(target);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("db-1") && Catch::Contains("127.0.0.1 port " +
                                                                                std::to_string(target.ssh.port)) &&
                                          Catch::Contains("refused"));

  SilentListener silent;
  target.ssh.port = silent.port();
  const auto start = std::chrono::steady_clock::now();
  auto timed_out = transport.connect(target);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(timed_out);
  CHECK_THAT(timed_out.error().message, Catch::Contains("db-1") && Catch::Contains("timed out"));
  CHECK(took >= 600ms);
  CHECK(took < 2s);

  target.address = "no-such-host.invalid";
  auto unresolved = transport.connect(target);
  REQUIRE_FALSE(unresolved);
  CHECK_THAT(unresolved.error().message, Catch::Contains("cannot resolve no-such-host.invalid"));
}

TEST_CASE("ssh connect: a connection that breaks mid-session gives an Error naming the host; reconnect works",
          "[ssh][connect]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = transport.connect(sshd.target());
  REQUIRE(session);
  REQUIRE((*session)->run(test::command("true")));
  sshd.stop();
  auto broken = (*session)->run(test::command("echo unreachable"));
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, Catch::Contains("127.0.0.1"));
  // It stays broken: no hang, the same kind of answer.
  auto still = (*session)->run(test::command("true"));
  REQUIRE_FALSE(still);
  auto upload = (*session)->readFile("/etc/hostname");
  REQUIRE_FALSE(upload);

  sshd.start();
  auto fresh = transport.connect(sshd.target());
  REQUIRE(fresh);
  auto result = (*fresh)->run(test::command("echo back"));
  REQUIRE(result);
  CHECK(result->output == "back\n");
}

TEST_CASE("ssh connect: a connection broken while a command runs fails that command", "[ssh][connect]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = transport.connect(sshd.target());
  REQUIRE(session);
  std::thread killer([&] {
    std::this_thread::sleep_for(300ms);
    sshd.stop();
  });
  const auto start = std::chrono::steady_clock::now();
  auto result = (*session)->run(test::command("sleep 20", 30s));
  killer.join();
  REQUIRE_FALSE(result);
  CHECK_THAT(result.error().message, Catch::Contains("127.0.0.1"));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

}  // namespace dr
