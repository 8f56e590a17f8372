// The host command shell (command_shell.h) against a real OpenSSH sshd on loopback: commands of a session share one
// shell; they run exactly as they do on a channel each; the shell survives timeouts and is replaced when it dies;
// a host without setsid falls back to a channel per command.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fixtures/sshd_fixture.h"
#include "transport/ssh_transport.h"
#include "transport_test_util.h"

using namespace std::chrono_literals;

namespace dr {
namespace {

std::string outputOf(Session& session, const std::string& command) {
  auto result = session.run(test::command(command));
  if (!result) FAIL(result.error().message);
  return result->output;
}

// What started the command's /bin/sh: the command shell (sh), or sshd's session child for a channel per command.
const std::string kParentName = "cat /proc/$PPID/comm";

}  // namespace

TEST_CASE("ssh shell: a session's commands share one shell; without it each gets its own", "[ssh][shell]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto shared = test::connectOrFail(transport, sshd.target());
  const std::string parent = outputOf(*shared, "echo $PPID");
  CHECK(outputOf(*shared, kParentName) == "sh\n");
  CHECK(outputOf(*shared, "echo $PPID") == parent);

  HostTarget per_channel = sshd.target();
  per_channel.command_shell = false;
  auto separate = test::connectOrFail(transport, per_channel);
  CHECK(outputOf(*separate, kParentName) == "sshd\n");
  CHECK(sshd.connectionCount() == 2);
}

TEST_CASE("ssh shell: commands run exactly as on a channel of their own", "[ssh][shell]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto shared = test::connectOrFail(transport, sshd.target());
  HostTarget per_channel = sshd.target();
  per_channel.command_shell = false;
  auto separate = test::connectOrFail(transport, per_channel);

  const std::vector<std::string> commands{
      "printf 'no newline at the end'",
      "cat <<'EOF'\n  two spaces\n\\back\\slash\\\n\ttab\r\n\nEOF",
      "echo a \\\n  b",
      "echo trailing newline\n",
      "echo \"$0\"; echo $$ >/dev/null",
      "read line; echo \"read=$? line=$line\"",
      "echo out; echo err >&2; exit 3",
      "set -e; false; echo not reached",
      "kill -TERM $$",
      "trap 'echo trapped' EXIT; echo body",
      "[ \"$(ps -o pgid= -p $$ | tr -d ' ')\" = $$ ] && echo own process group",
      "printf '%s\\n' 'a'\\''b\"c $HOME `id` $(id) ; | & < > \\ * ? ! # ~ {} [] \t end'",
      "echo '@@dr-shell ok'; echo '@@dr-0123 end 0'",
  };
  for (const auto& command : commands) {
    INFO(command);
    auto ours = shared->run(test::command(command));
    auto theirs = separate->run(test::command(command));
    REQUIRE(ours);
    REQUIRE(theirs);
    CHECK(ours->output == theirs->output);
    CHECK(ours->exit_code == theirs->exit_code);
  }
  CHECK(outputOf(*shared, "[ \"$(ps -o pgid= -p $$ | tr -d ' ')\" = $$ ] && echo own process group") ==
        "own process group\n");
}

TEST_CASE("ssh shell: after a timeout the same shell runs the next command", "[ssh][shell]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  const std::string parent = outputOf(*session, "echo $PPID");
  const std::string sleeper = "sleep 33.1";
  auto timed = session->run(test::command(sleeper + "; echo not reached", 500ms));
  REQUIRE(timed);
  CHECK(timed->timed_out);
  CHECK(timed->output.empty());
  CHECK(test::processesGone(sleeper));
  CHECK(outputOf(*session, "echo $PPID") == parent);
}

TEST_CASE("ssh shell: a shell killed under a command is an error for that command, and the next gets a new shell",
          "[ssh][shell]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  const std::string parent = outputOf(*session, "echo $PPID");
  auto killed = session->run(test::command("kill -KILL $PPID; echo after"));
  REQUIRE_FALSE(killed);
  CHECK(killed.error().message.find("ended before the command did") != std::string::npos);
  const std::string next = outputOf(*session, "echo $PPID");
  CHECK(next != parent);
  CHECK(outputOf(*session, "echo $PPID") == next);
  // Killed between commands: the next command notices before it is sent and starts a new shell.
  std::string killer = "kill -KILL " + next.substr(0, next.size() - 1);
  auto other = test::connectOrFail(transport, sshd.target());
  REQUIRE(other->run(test::command(killer)));
  std::this_thread::sleep_for(200ms);
  auto after = session->run(test::command("echo fine"));
  REQUIRE(after);
  CHECK(after->output == "fine\n");
  CHECK(sshd.connectionCount() == 2);
}

TEST_CASE("ssh shell: output a command's leftover process writes later is not the next command's", "[ssh][shell]") {
  test::SshdFixture sshd;
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  // The leftover writes only once the test says so: that the first command returned at all shows it did not wait
  // for the process it left behind, which holds on to the output.
  const auto go = sshd.dir() / "go", wrote = sshd.dir() / "wrote";
  auto first =
      session->run(test::command("(while [ ! -e " + go.string() + " ]; do sleep 0.02; done; echo late; touch " +
                                 wrote.string() + ") & echo first"));
  REQUIRE(first);
  CHECK(first->output == "first\n");
  std::ofstream(go.string()).put('x');
  for (int i = 0; i < 500 && !std::filesystem::exists(wrote); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(std::filesystem::exists(wrote));
  CHECK(outputOf(*session, "echo second") == "second\n");
}

TEST_CASE("ssh shell: a host without setsid gets a channel per command", "[ssh][shell]") {
  test::SshdFixture sshd("SetEnv PATH=/nonexistent\n");
  SshTransport transport;
  auto session = test::connectOrFail(transport, sshd.target());
  // PATH has no cat either: the parent's name is read with builtins.
  const std::string parent_name = "read name </proc/$PPID/comm; echo $name; command -v setsid || echo no setsid";
  CHECK(outputOf(*session, parent_name) == "sshd\nno setsid\n");
  CHECK(outputOf(*session, parent_name) == "sshd\nno setsid\n");
  auto failed = session->run(test::command("exit 4"));
  REQUIRE(failed);
  CHECK(failed->exit_code == 4);
}

}  // namespace dr
