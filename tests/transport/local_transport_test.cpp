// The local transport: the same semantics as the SSH transport on this machine (exit codes, 128+N on a signal,
// merged and streamed output, timeouts that end the whole process group, verified resumable copies, readFile).
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "core/sha256.h"
#include "fixtures/sshd_fixture.h"
#include "transport/local_transport.h"
#include "transport_test_util.h"

using namespace std::chrono_literals;

namespace dr {
namespace {

std::unique_ptr<Session> localSession(Become become = Become::None) {
  LocalTransport transport;
  HostTarget target;
  target.name = "controller";
  target.ssh.become = become;
  return std::move(transport.connect(target).value());
}

}  // namespace

TEST_CASE("local: exit codes, merged output, signals and hostile characters", "[local]") {
  auto session = localSession();
  auto ok = session->run(test::command("echo out; echo err >&2; echo out2"));
  REQUIRE(ok);
  CHECK(ok->exit_code == 0);
  CHECK(ok->output == "out\nerr\nout2\n");

  auto failed = session->run(test::command("exit 42"));
  REQUIRE(failed);
  CHECK(failed->exit_code == 42);

  auto signalled = session->run(test::command("kill -KILL $$"));
  REQUIRE(signalled);
  CHECK(signalled->exit_code == 128 + 9);

  const std::string hostile = "a'b\"c $HOME `id` $(id) ; | & < > \\ * ? ! # ~";
  auto quoted = session->run(test::command("printf '%s' " + test::singleQuoted(hostile)));
  REQUIRE(quoted);
  CHECK(quoted->output == hostile);

  // stdin is closed: a command reading it does not hang.
  auto reads = session->run(test::command("cat; echo done", 5s));
  REQUIRE(reads);
  CHECK_FALSE(reads->timed_out);
  CHECK(reads->output == "done\n");
}

TEST_CASE("local: output is streamed while the command runs and capped to its tail", "[local]") {
  auto session = localSession();
  std::vector<std::string> chunks;
  const auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration first{};
  CommandRequest request = test::command("echo first; sleep 0.3; echo second");
  request.on_output = [&](std::string_view chunk) {
    if (chunks.empty()) first = std::chrono::steady_clock::now() - start;
    chunks.emplace_back(chunk);
  };
  auto result = session->run(request);
  REQUIRE(result);
  REQUIRE(chunks.size() >= 2);
  CHECK(chunks.front() == "first\n");
  CHECK(first < 250ms);
  CHECK(result->output == "first\nsecond\n");

  auto big = session->run(test::command("head -c 700000 /dev/zero | tr '\\0' b; echo TAIL"));
  REQUIRE(big);
  CHECK(big->output.size() == kMaxOutputBytes);
  CHECK(big->output.ends_with("bbTAIL\n"));
}

TEST_CASE("local: a timeout ends the whole process group promptly", "[local]") {
  auto session = localSession();
  const std::string sleeper = "sleep 33.1";
  const auto start = std::chrono::steady_clock::now();
  // The sleep is a grandchild (in a subshell, then backgrounded and waited for): only a group kill reaches it.
  auto result = session->run(test::command("(" + sleeper + " & wait); echo never", 500ms));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(result);
  CHECK(result->timed_out);
  CHECK(result->output.empty());
  CHECK(took < 2s);
  CHECK(test::processesGone(sleeper));

  // A command that closes its output but keeps running is timed out as well.
  auto silent = session->run(test::command("exec >/dev/null 2>&1; sleep 33.2", 300ms));
  REQUIRE(silent);
  CHECK(silent->timed_out);
  CHECK(test::processesGone("sleep 33.2"));
}

TEST_CASE("local: become sudo runs through sudo -n", "[local]") {
  auto session = localSession(Become::Sudo);
  auto result = session->run(test::command("echo \"${SUDO_USER:-none}\""));
  REQUIRE(result);
  CHECK(result->exit_code == 0);
  CHECK(result->output == "root\n");
}

TEST_CASE("local: uploads are verified, resumed, and refused on a wrong SHA-256", "[local][upload]") {
  test::TempDir dir("dr-local");
  auto session = localSession();
  const auto source = dir.path() / "source";
  test::writeRandomFile(source, 3 * 1024 * 1024 + 17, 5);
  const std::string content = test::readWholeFile(source);
  const std::string hash = sha256FileHex(source).value();
  const std::string destination = (dir.path() / "deep/er/target").string();

  REQUIRE(session->upload({source, destination, hash, {}}));
  CHECK(test::readWholeFile(destination) == content);
  CHECK_FALSE(std::filesystem::exists(destination + ".part"));

  // Resume from a matching prefix.
  const std::string resumed = (dir.path() / "resumed").string();
  std::ofstream(resumed + ".part", std::ios::binary) << content.substr(0, 2 * 1024 * 1024);
  std::uint64_t first = UINT64_MAX;
  REQUIRE(session->upload({source, resumed, hash, [&](std::uint64_t sent, std::uint64_t total) {
                             if (first == UINT64_MAX) first = sent;
                             CHECK(total == content.size());
                           }}));
  CHECK(first == 2 * 1024 * 1024);
  CHECK(test::readWholeFile(resumed) == content);

  // A foreign .part is replaced.
  std::ofstream(resumed + ".part", std::ios::binary) << std::string(1000, 'q');
  first = UINT64_MAX;
  REQUIRE(session->upload({source, resumed, hash, [&](std::uint64_t sent, std::uint64_t) {
                             if (first == UINT64_MAX) first = sent;
                           }}));
  CHECK(first == 0);

  // Wrong hash: refused, nothing under the final name, no .part left.
  const std::string wrong = (dir.path() / "wrong").string();
  auto refused = session->upload({source, wrong, std::string(64, '0'), {}});
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains(hash) && Catch::Contains("refused"));
  CHECK_FALSE(std::filesystem::exists(wrong));
  CHECK_FALSE(std::filesystem::exists(wrong + ".part"));

  auto bad_input = session->upload({dir.path() / "missing", wrong, hash, {}});
  REQUIRE_FALSE(bad_input);
  CHECK_THAT(bad_input.error().message, Catch::Contains("missing"));
}

TEST_CASE("local: readFile enforces max_bytes and reports missing files", "[local][read]") {
  test::TempDir dir("dr-local-read");
  auto session = localSession();
  const auto file = dir.path() / "f";
  std::ofstream(file) << "0123456789";
  auto read = session->readFile(file.string(), 10);
  REQUIRE(read);
  CHECK(*read == "0123456789");
  auto too_big = session->readFile(file.string(), 9);
  REQUIRE_FALSE(too_big);
  CHECK_THAT(too_big.error().message, Catch::Contains("larger than"));
  auto missing = session->readFile((dir.path() / "nope").string(), 9);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("controller") && Catch::Contains("nope"));
}

}  // namespace dr

namespace dr {

TEST_CASE("local: a cancelled command is ended like a timed-out one", "[local][cancel]") {
  auto session = localSession();
  CommandRequest request = test::command("sleep 34.5", std::chrono::seconds(30));
  const auto start = std::chrono::steady_clock::now();
  request.cancelled = [&] { return std::chrono::steady_clock::now() - start > 300ms; };
  auto result = session->run(request);
  REQUIRE(result);
  CHECK(result->timed_out);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(test::processesGone("sleep 34.5"));
}

}  // namespace dr
