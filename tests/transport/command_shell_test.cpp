// The host command shell's protocol pieces without a host: the request framing, the greeting and the reply parser
// (markers taken out wherever they land in the output, split across reads at any byte).
#include "transport/command_shell.h"

#include <catch2/catch.hpp>
#include <string>

namespace dr::ssh {
namespace {

const std::string kMarker = "@@dr-0123456789abcdef0123456789abcdef";

// Feeds `stream` to a fresh reply in pieces cut at `cuts` (byte offsets) and returns the output it let through.
std::string feedInPieces(ShellReply& reply, const std::string& stream, std::initializer_list<std::size_t> cuts) {
  std::string output;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    output += reply.feed(std::string_view(stream).substr(at, cut - at));
    at = cut;
  }
  output += reply.feed(std::string_view(stream).substr(at));
  return output;
}

}  // namespace

TEST_CASE("command shell: a request carries the command byte for byte and counts its lines", "[command_shell]") {
  auto one = commandShellRequest(kMarker, "echo a", Become::None);
  REQUIRE(one);
  CHECK(*one == "run " + kMarker + " 1 plain\necho a\n");
  // A trailing newline is the command's own: it is kept as an extra (empty) line.
  auto trailing = commandShellRequest(kMarker, "echo a\n", Become::Sudo);
  REQUIRE(trailing);
  CHECK(*trailing == "run " + kMarker + " 2 sudo\necho a\n\n");
  auto empty_lines = commandShellRequest(kMarker, "\n\nx \\", Become::None);
  REQUIRE(empty_lines);
  CHECK(*empty_lines == "run " + kMarker + " 3 plain\n\n\nx \\\n");

  auto nul = commandShellRequest(kMarker, std::string("echo a\0b", 8), Become::None);
  REQUIRE_FALSE(nul);
  CHECK(nul.error().message.find("NUL") != std::string::npos);
}

TEST_CASE("command shell: markers are new for every command", "[command_shell]") {
  const std::string a = newCommandMarker(), b = newCommandMarker();
  CHECK(a.size() == 5 + 32);
  CHECK(a.starts_with("@@dr-"));
  CHECK(a != b);
}

TEST_CASE("command shell: the reply's markers are taken out wherever they land", "[command_shell]") {
  // Before the start line: a process an earlier command left behind, still writing (dropped). The pgid line lands
  // in the middle of an output line (the shell writes it from its own process), the command's last line has no
  // newline, and the end line follows it directly.
  const std::string stream = "late output of a leftover\n" + kMarker + " start\nfirst line\npart" + kMarker +
                             " pgid 4242\n of a line\nno newline" + kMarker + " end 7\n";
  const std::string expected = "first line\npart of a line\nno newline";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    for (std::size_t second : {cut, cut + 1, cut + 7, stream.size()}) {
      if (second < cut || second > stream.size()) continue;
      ShellReply reply(kMarker);
      std::string output = feedInPieces(reply, stream, {cut, second});
      INFO("cuts at " << cut << " and " << second);
      REQUIRE(reply.finished());
      CHECK(output == expected);
      CHECK(reply.groupId() == 4242);
      CHECK(reply.exitStatus() == 7);
      CHECK(reply.flush().empty());
    }
  }
}

TEST_CASE("command shell: output that only resembles a marker is the command's own", "[command_shell]") {
  ShellReply reply(kMarker);
  CHECK(reply.feed(kMarker + " start\n").empty());
  // Another command's marker, our marker's prefix, and a prefix left hanging at the end of a read.
  const std::string foreign = "@@dr-ffffffffffffffffffffffffffffffff end 0\n@@dr-0123 pgid 1\n";
  std::string output = reply.feed(foreign);
  output += reply.feed("tail @@dr-0123456789");
  CHECK_FALSE(reply.finished());
  CHECK(output == foreign + "tail ");  // the hanging prefix is held back until the next read tells
  output += reply.feed("xyz\n");
  CHECK(output == foreign + "tail @@dr-0123456789xyz\n");
  // The stream ends without an end line: what was held back is handed out, and there is no status.
  output += reply.feed("@@dr-01");
  output += reply.flush();
  CHECK(output == foreign + "tail @@dr-0123456789xyz\n@@dr-01");
  CHECK_FALSE(reply.exitStatus());
  CHECK_FALSE(reply.groupId());
}

TEST_CASE("command shell: nothing after the end line belongs to the command", "[command_shell]") {
  ShellReply reply(kMarker);
  CHECK(reply.feed(kMarker + " start\nout\n" + kMarker + " end 0\nlate output of a daemon\n") == "out\n");
  CHECK(reply.exitStatus() == 0);
  CHECK(reply.feed("more\n").empty());
  CHECK(reply.flush().empty());
  // A status the shell could not have printed is not taken for success.
  ShellReply garbled(kMarker);
  garbled.feed(kMarker + " end x\n");
  CHECK(garbled.exitStatus() == -1);
}

TEST_CASE("command shell: nothing before the start line belongs to the command", "[command_shell]") {
  ShellReply reply(kMarker);
  CHECK(reply.feed("written by a leftover @@dr-01").empty());
  CHECK(reply.feed("23 is not ours either\n" + kMarker.substr(0, 9)).empty());
  CHECK(reply.feed(kMarker.substr(9) + " start\nours @@") == "ours ");
  CHECK(reply.flush() == "@@");
  // A stream that ends before the start line has no output at all.
  ShellReply never(kMarker);
  CHECK(never.feed("stray\n@@dr").empty());
  CHECK(never.flush().empty());
}

TEST_CASE("command shell: the greeting is found after a login shell's chatter", "[command_shell]") {
  std::string rest;
  ShellGreeting greeting;
  CHECK(greeting.feed("Welcome to host-1\nlast login: never\n@@dr-sh", rest) == ShellGreeting::State::Waiting);
  CHECK(greeting.feed("ell ok\nrun output", rest) == ShellGreeting::State::Ready);
  CHECK(rest == "run output");
  // Once ready, everything passes.
  CHECK(greeting.feed("more", rest) == ShellGreeting::State::Ready);
  CHECK(rest == "run outputmore");

  // Only a whole line counts: text that merely ends with the greeting is chatter.
  ShellGreeting embedded;
  rest.clear();
  CHECK(embedded.feed("say @@dr-shell ok\n", rest) == ShellGreeting::State::Waiting);
  CHECK(rest.empty());

  ShellGreeting unavailable;
  CHECK(unavailable.feed("@@dr-shell unavailable\n", rest) == ShellGreeting::State::Unavailable);

  // A shell that prints endlessly before it greets is not one we can use.
  ShellGreeting noisy;
  ShellGreeting::State state = ShellGreeting::State::Waiting;
  for (int i = 0; i < 100 && state == ShellGreeting::State::Waiting; ++i)
    state = noisy.feed(std::string(1024, 'x'), rest);
  CHECK(state == ShellGreeting::State::Unavailable);
}

}  // namespace dr::ssh
