// The SSH transport against a real OpenSSH sshd on loopback: commands, exit codes, output, timeouts that end the
// remote process, one connection for many commands, sudo, and sessions used from several threads.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "fixtures/sshd_fixture.h"
#include "transport/ssh_transport.h"
#include "transport_test_util.h"

using namespace std::chrono_literals;

namespace dr {

TEST_CASE("ssh: runs a command and reports exit code and output, stderr included", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());

  auto ok = session->run(test::command("echo hello; echo oops >&2"));
  REQUIRE(ok);
  CHECK(ok->exit_code == 0);
  CHECK_FALSE(ok->timed_out);
  CHECK(ok->output == "hello\noops\n");

  auto failed = session->run(test::command("echo partial; exit 7"));
  REQUIRE(failed);
  CHECK(failed->exit_code == 7);
  CHECK(failed->output == "partial\n");

  auto killed = session->run(test::command("kill -TERM $$"));
  REQUIRE(killed);
  CHECK(killed->exit_code == 128 + 15);
}

TEST_CASE("ssh: a command with hostile characters reaches the remote shell unchanged", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  const std::string hostile = "a'b\"c $HOME `id` $(id) ; | & < > \\ * ? ! # ~ {} [] \t end";
  auto result = session->run(test::command("printf '%s\\n' " + test::singleQuoted(hostile) + "; printf 'x\\ny\\n'"));
  REQUIRE(result);
  CHECK(result->exit_code == 0);
  CHECK(result->output == hostile + "\nx\ny\n");
  // A command that itself looks like our group marker is passed through, not swallowed.
  auto marker = session->run(test::command("echo '@@dr-pgid 12'"));
  REQUIRE(marker);
  CHECK(marker->output == "@@dr-pgid 12\n");
}

TEST_CASE("ssh: output is streamed in order while the command runs", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  std::string streamed;
  std::chrono::steady_clock::time_point first_chunk{};
  const auto start = std::chrono::steady_clock::now();
  CommandRequest request = test::command("echo one; sleep 0.4; echo two >&2; sleep 0.4; echo three");
  request.on_output = [&](std::string_view chunk) {
    if (streamed.empty()) first_chunk = std::chrono::steady_clock::now();
    streamed.append(chunk);
  };
  auto result = session->run(request);
  REQUIRE(result);
  CHECK(streamed == "one\ntwo\nthree\n");
  CHECK(result->output == streamed);
  // The first line arrived long before the command ended.
  CHECK(first_chunk - start < 500ms);
  CHECK(result->duration >= 800ms);
}

TEST_CASE("ssh: output beyond the cap keeps the tail", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  auto result = session->run(test::command("head -c 600000 /dev/zero | tr '\\0' a; echo END"));
  REQUIRE(result);
  CHECK(result->output.size() == kMaxOutputBytes);
  CHECK(result->output.ends_with("aaaEND\n"));
}

TEST_CASE("ssh: a timeout returns promptly and ends the remote process group", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  // A child of a compound command: killing only the shell would leave it behind.
  const std::string sleeper = "sleep 31.4159";
  REQUIRE(test::processesWithCommandLine(sleeper).empty());
  const auto start = std::chrono::steady_clock::now();
  auto result = session->run(test::command(sleeper + "; echo not reached", 1s));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(result);
  CHECK(result->timed_out);
  CHECK(took < 2500ms);
  CHECK(test::processesGone(sleeper));
  // The session is still usable afterwards.
  auto after = session->run(test::command("echo still here"));
  REQUIRE(after);
  CHECK(after->output == "still here\n");
}

TEST_CASE("ssh: many commands share one connection", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  for (int i = 0; i < 30; ++i) {
    auto result = session->run(test::command("echo " + std::to_string(i)));
    REQUIRE(result);
    REQUIRE(result->output == std::to_string(i) + "\n");
  }
  CHECK(sshd.connectionCount() == 1);
  auto second = test::connectOrFail(transport, sshd.target());
  CHECK(sshd.connectionCount() == 2);
}

TEST_CASE("ssh: sessions on different threads run at the same time", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto a = test::connectOrFail(transport, sshd.target());
  auto b = test::connectOrFail(transport, sshd.target());
  const auto start = std::chrono::steady_clock::now();
  auto work = [](Session& session, std::string tag, int* good) {
    for (int i = 0; i < 10; ++i) {
      auto result = session.run(test::command("sleep 0.05; echo " + tag + std::to_string(i)));
      if (result && result->output == tag + std::to_string(i) + "\n") ++*good;
    }
  };
  int good_a = 0, good_b = 0;
  std::thread ta(work, std::ref(*a), "a", &good_a);
  std::thread tb(work, std::ref(*b), "b", &good_b);
  ta.join();
  tb.join();
  CHECK(good_a == 10);
  CHECK(good_b == 10);
  CHECK(std::chrono::steady_clock::now() - start < 4s);
}

TEST_CASE("ssh: become sudo runs the command through sudo -n", "[ssh]") {
  test::SshdFixture sshd;
  SshTransport transport;
  HostTarget plain = sshd.target();
  auto direct = test::connectOrFail(transport, plain);
  auto without = direct->run(test::command("echo \"user=${SUDO_USER:-none}\""));
  REQUIRE(without);
  CHECK(without->output == "user=none\n");

  HostTarget become = sshd.target();
  become.ssh.become = Become::Sudo;
  auto session = test::connectOrFail(transport, become);
  auto with = session->run(test::command("echo \"user=${SUDO_USER:-none} uid=$(id -u)\"; echo 'it'\\''s'"));
  REQUIRE(with);
  CHECK(with->exit_code == 0);
  CHECK(with->output == "user=root uid=0\nit's\n");
  // A timed-out command under sudo is ended too (the kill runs through sudo as well).
  const std::string sleeper = "sleep 32.718";
  auto timed = session->run(test::command(sleeper + "; true", 1s));
  REQUIRE(timed);
  CHECK(timed->timed_out);
  CHECK(test::processesGone(sleeper));
}

}  // namespace dr

namespace dr {

TEST_CASE("ssh: a cancelled command is ended like a timed-out one, remote process included", "[ssh][cancel]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = transport.connect(sshd.target());
  REQUIRE(session);
  CommandRequest request = test::command("sleep 35.5; true", std::chrono::seconds(30));
  const auto start = std::chrono::steady_clock::now();
  request.cancelled = [&] { return std::chrono::steady_clock::now() - start > 300ms; };
  auto result = (*session)->run(request);
  REQUIRE(result);
  CHECK(result->timed_out);
  CHECK(std::chrono::steady_clock::now() - start < 2500ms);
  CHECK(test::processesGone("sleep 35.5"));
}

}  // namespace dr
