// SFTP uploads and reads over the SSH transport against a real sshd: verified placement, resuming a partial upload,
// refusing a wrong SHA-256 (nothing left in place), a file that changed during the upload caught by the host's hash,
// an interrupted upload kept for a resume, creating the parent directory, become: sudo, readFile limits; and the
// host-side verifier script on its own (both hashers, protocol errors, a size mismatch); the in-flight window's size.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>
#include <thread>

#include "core/sha256.h"
#include "fixtures/sshd_fixture.h"
#include "transport/sftp_upload.h"
#include "transport/ssh_transport.h"
#include "transport/upload_verifier.h"
#include "transport_test_util.h"

namespace dr {
namespace {

struct UploadSetup {
  test::SshdFixture sshd;
  test::TempDir local{"dr-upload-src"};
  test::TempDir remote{"dr-upload-dst"};  // the "remote" host is this machine, reached over SSH
  SshTransport transport;

  std::unique_ptr<Session> connect(Become become = Become::None) {
    HostTarget target = sshd.target();
    target.ssh.become = become;
    auto session = transport.connect(target);
    if (!session) FAIL(session.error().message);
    return std::move(*session);
  }
  std::filesystem::path source(std::size_t size, unsigned seed = 7) {
    auto path = local.path() / ("source-" + std::to_string(size));
    test::writeRandomFile(path, size, seed);
    return path;
  }
};

std::string hashOf(const std::filesystem::path& path) { return sha256FileHex(path).value(); }

// Overwrites `length` bytes at `offset` of an existing file (its size stays the same).
void overwrite(const std::filesystem::path& path, std::size_t offset, std::size_t length, char byte) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(offset));
  file << std::string(length, byte);
}

// Pids of the verifier scripts waiting or working for the staging file `staging` (their command line is the script).
std::vector<pid_t> verifiersOf(const std::string& staging) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string args = test::readWholeFile(entry.path() / "cmdline");
    if (args.rfind("/bin/sh", 0) == 0 && args.find("IFS= read -r go") != std::string::npos &&
        args.find(staging) != std::string::npos) {
      found.push_back(static_cast<pid_t>(std::stoi(name)));
    }
  }
  return found;
}

// The pid's parent, from /proc/PID/stat (0 when the process is gone).
pid_t parentOf(pid_t pid) {
  const std::string stat = test::readWholeFile("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 1));
  std::string state;
  long parent = 0;
  fields >> state >> parent;
  return static_cast<pid_t>(parent);
}

// The scripts among `pids` whose parent is not one of them: a script's own subshell (its `$(python3 ...)` forks
// one, which carries the script's command line until it execs) is part of that script, not another verifier.
std::vector<pid_t> scriptsOnly(const std::vector<pid_t>& pids) {
  std::vector<pid_t> scripts;
  for (pid_t pid : pids) {
    if (std::find(pids.begin(), pids.end(), parentOf(pid)) == pids.end()) scripts.push_back(pid);
  }
  return scripts;
}

std::vector<pid_t> awaitVerifiers(const std::string& staging, std::size_t count) {
  std::vector<pid_t> found;
  for (int i = 0; i < 200; ++i) {
    found = verifiersOf(staging);
    if (found.size() == count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return found;
}

}  // namespace

TEST_CASE("ssh upload: a verifier prepared ahead serves its upload and changes nothing before it", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(3 * 1024 * 1024 + 5);
  const auto destination = setup.remote.path() / "ahead/snapshot.db";
  UploadRequest request{source, destination.string(), hashOf(source), {}};
  const std::string staging = ssh::uploadStagingPath(setup.sshd.target(), request.remote_path);

  REQUIRE(session->prepare(request));
  const std::vector<pid_t> ahead = awaitVerifiers(staging, 1);
  REQUIRE(ahead.size() == 1);
  CHECK_FALSE(std::filesystem::exists(destination.parent_path()));  // nothing made on the host yet

  std::vector<pid_t> during;
  request.on_progress = [&](std::uint64_t, std::uint64_t) {
    if (during.empty()) during = scriptsOnly(verifiersOf(staging));
  };
  REQUIRE(session->upload(request));
  CHECK(during == ahead);  // the very script started ahead, and no other
  CHECK(test::readWholeFile(destination) == test::readWholeFile(source));
  CHECK(awaitVerifiers(staging, 0).empty());

  // One prepared for another upload is not used: it ends without a trace, and the upload that came gets its own.
  const auto elsewhere = setup.remote.path() / "elsewhere/snapshot.db";
  const std::string elsewhere_staging = ssh::uploadStagingPath(setup.sshd.target(), elsewhere.string());
  REQUIRE(session->prepare({source, elsewhere.string(), hashOf(source), {}}));
  REQUIRE(awaitVerifiers(elsewhere_staging, 1).size() == 1);
  auto second = setup.source(4096, 3);
  REQUIRE(session->upload({second, destination.string(), hashOf(second), {}}));
  CHECK(test::readWholeFile(destination) == test::readWholeFile(second));
  CHECK(awaitVerifiers(elsewhere_staging, 0).empty());
  CHECK_FALSE(std::filesystem::exists(elsewhere.parent_path()));

  // And one left waiting when the session goes (the run stopped before the upload) ends too, touching nothing.
  REQUIRE(session->prepare({source, elsewhere.string(), hashOf(source), {}}));
  REQUIRE(awaitVerifiers(elsewhere_staging, 1).size() == 1);
  session.reset();
  CHECK(awaitVerifiers(elsewhere_staging, 0).empty());
  CHECK_FALSE(std::filesystem::exists(elsewhere.parent_path()));
}

TEST_CASE("ssh upload: the file arrives verified under its final name, through a new parent directory", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(10 * 1024 * 1024 + 123);
  const std::string destination = (setup.remote.path() / "new/dir/snapshot.db").string();
  std::uint64_t last_sent = 0, total_seen = 0;
  UploadRequest request{source, destination, hashOf(source),
                        [&](std::uint64_t sent, std::uint64_t total) {
                          CHECK(sent >= last_sent);
                          last_sent = sent;
                          total_seen = total;
                        }};
  auto uploaded = session->upload(request);
  REQUIRE(uploaded);
  CHECK(test::readWholeFile(destination) == test::readWholeFile(source));
  CHECK_FALSE(std::filesystem::exists(destination + ".part"));
  CHECK(last_sent == std::filesystem::file_size(source));
  CHECK(total_seen == last_sent);

  // Uploading again over an existing file replaces it.
  auto other = setup.source(4096, 99);
  REQUIRE(session->upload({other, destination, hashOf(other), {}}));
  CHECK(test::readWholeFile(destination) == test::readWholeFile(other));

  // An empty file is a file too.
  auto empty = setup.source(0);
  REQUIRE(session->upload({empty, destination + ".empty", hashOf(empty), {}}));
  CHECK(std::filesystem::file_size(destination + ".empty") == 0);
}

TEST_CASE("ssh upload: a partial .part whose content matches is resumed, a foreign one is replaced", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(3 * 1024 * 1024);
  const std::string destination = (setup.remote.path() / "resumed.db").string();
  const std::string content = test::readWholeFile(source);

  // An earlier attempt stopped after 1 MiB + 5 bytes.
  const std::size_t prefix = 1024 * 1024 + 5;
  std::ofstream(destination + ".part", std::ios::binary) << content.substr(0, prefix);
  std::uint64_t first_reported = UINT64_MAX;
  auto resumed = session->upload({source, destination, hashOf(source), [&](std::uint64_t sent, std::uint64_t) {
                                    if (first_reported == UINT64_MAX) first_reported = sent;
                                  }});
  REQUIRE(resumed);
  CHECK(first_reported == prefix);  // started where the earlier attempt stopped
  CHECK(test::readWholeFile(destination) == content);

  // A .part with other content (same size) is not trusted: the upload starts over and still succeeds.
  std::string garbage(prefix, 'x');
  std::ofstream(destination + ".part", std::ios::binary) << garbage;
  first_reported = UINT64_MAX;
  auto restarted = session->upload({source, destination, hashOf(source), [&](std::uint64_t sent, std::uint64_t) {
                                      if (first_reported == UINT64_MAX) first_reported = sent;
                                    }});
  REQUIRE(restarted);
  CHECK(first_reported == 0);
  CHECK(test::readWholeFile(destination) == content);

  // A .part longer than the source cannot be its prefix.
  std::ofstream(destination + ".part", std::ios::binary) << content << "trailing";
  REQUIRE(session->upload({source, destination, hashOf(source), {}}));
  CHECK(test::readWholeFile(destination) == content);
}

TEST_CASE("ssh upload: a wrong expected SHA-256 is refused and nothing is left in place", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(200000);
  const std::string destination = (setup.remote.path() / "wrong.db").string();
  const std::string wrong(64, 'a');
  auto refused = session->upload({source, destination, wrong, {}});
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains(hashOf(source)) && Catch::Contains(wrong) &&
                                          Catch::Contains("refused"));
  CHECK_FALSE(std::filesystem::exists(destination));
  CHECK_FALSE(std::filesystem::exists(destination + ".part"));

  // An existing good file under the final name survives a refused upload.
  auto good = setup.source(1000, 3);
  REQUIRE(session->upload({good, destination, hashOf(good), {}}));
  REQUIRE_FALSE(session->upload({source, destination, wrong, {}}));
  CHECK(test::readWholeFile(destination) == test::readWholeFile(good));

  // Malformed input is rejected before anything is sent.
  auto malformed = session->upload({source, destination, "ABC", {}});
  REQUIRE_FALSE(malformed);
  CHECK_THAT(malformed.error().message, Catch::Contains("64 lowercase hex"));
  auto missing = session->upload({setup.local.path() / "nope", destination, wrong, {}});
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("nope"));
}

TEST_CASE("ssh upload: a file that changes during the upload is caught by the host's own hash", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(12 * 1024 * 1024);
  const std::string expected = hashOf(source);
  const std::string destination = (setup.remote.path() / "changed.db").string();
  // After the first acknowledgement, bytes far beyond what was read so far change: what travels (and what the host
  // stores and hashes) is no longer what the caller's hash describes.
  bool changed = false;
  auto refused = session->upload({source, destination, expected, [&](std::uint64_t sent, std::uint64_t) {
                                    if (changed || sent == 0) return;
                                    overwrite(source, 11 * 1024 * 1024, 4096, 'X');
                                    changed = true;
                                  }});
  REQUIRE(changed);
  REQUIRE_FALSE(refused);
  // The hash reported is the host's, of the bytes it stored: the changed file's, not the expected one.
  CHECK_THAT(refused.error().message, Catch::Contains(hashOf(source)) && Catch::Contains(expected) &&
                                          Catch::Contains("refused"));
  CHECK_FALSE(std::filesystem::exists(destination));
  CHECK_FALSE(std::filesystem::exists(destination + ".part"));
}

TEST_CASE("ssh upload: an upload that stops half-way keeps its .part, and the next attempt resumes it", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(12 * 1024 * 1024);
  const std::string content = test::readWholeFile(source);
  const std::string destination = (setup.remote.path() / "interrupted.db").string();
  // The local file shrinks under the upload: the client gives up (the host's verifier sees its input end without a
  // commit) and what arrived stays as the staging file.
  bool truncated = false;
  auto stopped = session->upload({source, destination, hashOf(source), [&](std::uint64_t sent, std::uint64_t) {
                                    if (truncated || sent == 0) return;
                                    std::filesystem::resize_file(source, 6 * 1024 * 1024);
                                    truncated = true;
                                  }});
  REQUIRE_FALSE(stopped);
  CHECK_THAT(stopped.error().message, Catch::Contains("changed while it was uploaded"));
  CHECK_FALSE(std::filesystem::exists(destination));
  REQUIRE(std::filesystem::exists(destination + ".part"));
  const auto kept = std::filesystem::file_size(destination + ".part");
  CHECK(kept > 0);
  CHECK(test::readWholeFile(destination + ".part") == content.substr(0, kept));

  // The file is whole again: the next upload on the same session starts where the first one stopped.
  std::ofstream(source, std::ios::binary | std::ios::trunc) << content;
  std::uint64_t first_reported = UINT64_MAX;
  auto resumed = session->upload({source, destination, hashOf(source), [&](std::uint64_t sent, std::uint64_t) {
                                    if (first_reported == UINT64_MAX) first_reported = sent;
                                  }});
  REQUIRE(resumed);
  CHECK(first_reported == kept);
  CHECK(test::readWholeFile(destination) == content);
  CHECK_FALSE(std::filesystem::exists(destination + ".part"));
}

TEST_CASE("ssh upload: a destination the user cannot create is reported", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect();
  auto source = setup.source(100);
  // A regular file in the way of the parent directory.
  std::ofstream(setup.remote.path() / "blocker") << "x";
  const std::string destination = (setup.remote.path() / "blocker/sub/file").string();
  auto failed = session->upload({source, destination, hashOf(source), {}});
  REQUIRE_FALSE(failed);
  CHECK_THAT(failed.error().message, Catch::Contains("127.0.0.1") && Catch::Contains("blocker"));
}

TEST_CASE("ssh upload: with become sudo the file is staged as the user and moved into place with sudo", "[ssh][upload]") {
  UploadSetup setup;
  auto session = setup.connect(Become::Sudo);
  auto source = setup.source(1024 * 1024 + 1);
  const std::string destination = (setup.remote.path() / "sudo/placed.db").string();
  REQUIRE(session->upload({source, destination, hashOf(source), {}}));
  CHECK(test::readWholeFile(destination) == test::readWholeFile(source));
  HostTarget target = setup.sshd.target();
  target.ssh.become = Become::Sudo;
  const std::string staging = ssh::uploadStagingPath(target, destination);
  CHECK(staging.starts_with("/var/tmp/"));
  CHECK_FALSE(std::filesystem::exists(staging));
  CHECK_FALSE(std::filesystem::exists(destination + ".part"));
}

TEST_CASE("upload window: the bandwidth-delay product at 1 GB/s, between 1 MiB and 4 MiB", "[upload]") {
  using std::chrono::microseconds;
  CHECK(ssh::uploadWindowBytes(microseconds(0)) == ssh::kMinUploadWindowBytes);   // unknown RTT
  CHECK(ssh::uploadWindowBytes(microseconds(15)) == ssh::kMinUploadWindowBytes);  // loopback, a LAN
  CHECK(ssh::uploadWindowBytes(microseconds(1000)) == ssh::kMinUploadWindowBytes);  // 1 ms: 1 MB < 1 MiB
  CHECK(ssh::uploadWindowBytes(microseconds(2500)) == 2'500'000);
  CHECK(ssh::uploadWindowBytes(microseconds(4000)) == 4'000'000);
  CHECK(ssh::uploadWindowBytes(microseconds(80'000)) == ssh::kMaxUploadWindowBytes);  // across the world
  CHECK(ssh::uploadWindowBytes(microseconds(-5)) == ssh::kMinUploadWindowBytes);
}

TEST_CASE("ssh readFile: returns the content, enforces max_bytes, reports a missing file", "[ssh][read]") {
  UploadSetup setup;
  auto session = setup.connect();
  const auto file = setup.remote.path() / "small.txt";
  using namespace std::string_literals;
  std::string content = "line one\nline two\0binary\n"s;
  content += std::string(1000, 'z');
  std::ofstream(file, std::ios::binary) << content;

  auto read = session->readFile(file.string(), 4096);
  REQUIRE(read);
  CHECK(*read == content);
  auto exact = session->readFile(file.string(), content.size());
  REQUIRE(exact);
  CHECK(*exact == content);
  auto too_big = session->readFile(file.string(), content.size() - 1);
  REQUIRE_FALSE(too_big);
  CHECK_THAT(too_big.error().message, Catch::Contains("larger than"));
  auto missing = session->readFile((setup.remote.path() / "absent").string(), 100);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("absent") && Catch::Contains("No such file"));
}

}  // namespace dr

namespace dr {
namespace {

// Runs the host-side verifier script locally with /bin/sh, `control` on its stdin through a pipe (as from an SSH
// channel: nothing to seek back on); `path` replaces PATH when given.
struct ScriptRun {
  int exit_code = -1;
  std::string output;
};

ScriptRun runVerifier(const test::TempDir& dir, const ssh::VerifierPlan& plan, const std::string& control,
                      const std::string& path = "") {
  const auto script = dir.path() / "verify.sh", input = dir.path() / "control", output = dir.path() / "output";
  std::ofstream(script) << ssh::verifierScript(plan);
  std::ofstream(input) << control;
  std::string command = "/bin/cat " + input.string() + " | " + (path.empty() ? "" : "PATH=" + path + " ") +
                        "/bin/sh " + script.string() + " >" + output.string() + " 2>&1";
  int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::readWholeFile(output)};
}

// A directory of links to everything the script's fallback needs, without python3.
std::string pathWithoutPython(const test::TempDir& dir) {
  const auto bin = dir.path() / "bin";
  std::filesystem::create_directories(bin);
  for (const char* tool : {"openssl", "sha256sum", "stat", "rm", "mv", "sync", "mkdir", "head"}) {
    for (const char* prefix : {"/usr/bin/", "/bin/"}) {
      std::filesystem::path target = std::string(prefix) + tool;
      if (std::filesystem::exists(target)) {
        std::filesystem::create_symlink(target, bin / tool);
        break;
      }
    }
  }
  return bin.string();
}

}  // namespace

TEST_CASE("upload verifier: both hashers place a file whose ranges hash right, and refuse others", "[upload]") {
  test::TempDir dir("dr-verifier");
  const std::string data = std::string(3000, 'a') + std::string(5000, 'b');
  const auto staging = dir.path() / "file.part", remote = dir.path() / "file";
  const std::string expected = sha256Hex(data);
  const bool python = GENERATE(true, false);
  INFO((python ? "python3 hasher" : "fallback hasher (no python3 on PATH)"));
  const std::string path = python ? "" : pathWithoutPython(dir);
  ssh::VerifierPlan plan{staging.string(), remote.string(), expected, data.size(), false};

  // Ranges that add up to the file, then commit: placed, the hash echoed.
  std::ofstream(staging, std::ios::binary) << data;
  auto placed = runVerifier(dir, plan, "begin\n3000\n5000\ncommit\n", path);
  CHECK(placed.exit_code == 0);
  CHECK_THAT(placed.output, Catch::Contains("sha256 " + expected));
  CHECK(test::readWholeFile(remote) == data);
  CHECK_FALSE(std::filesystem::exists(staging));

  // commit-sync: the host syncs before the rename; same outcome.
  std::ofstream(staging, std::ios::binary) << data;
  CHECK(runVerifier(dir, plan, "begin\n8000\ncommit-sync\n", path).exit_code == 0);
  CHECK(test::readWholeFile(remote) == data);

  // Other content: refused with the host's hash, the staging file removed, the placed file untouched.
  std::string other = data;
  other[4000] = 'x';
  std::ofstream(staging, std::ios::binary) << other;
  auto refused = runVerifier(dir, plan, "begin\n8000\ncommit\n", path);
  CHECK(refused.exit_code == ssh::kVerifierMismatch);
  CHECK_THAT(refused.output, Catch::Contains("sha256 " + sha256Hex(other)));
  CHECK_FALSE(std::filesystem::exists(staging));
  CHECK(test::readWholeFile(remote) == data);

  // Input that ends before commit (the client went away): nothing placed, the staging file kept for a resume.
  std::filesystem::remove(remote);
  std::ofstream(staging, std::ios::binary) << data;
  auto abandoned = runVerifier(dir, plan, "begin\n3000\n", path);
  CHECK(abandoned.exit_code == ssh::kVerifierAbandoned);
  CHECK(std::filesystem::exists(staging));
  CHECK_FALSE(std::filesystem::exists(remote));

  // A line that is not a byte count is a protocol error; nothing is placed or removed.
  auto garbled = runVerifier(dir, plan, "begin\n3000\nrm -rf /\ncommit\n", path);
  CHECK(garbled.exit_code == ssh::kVerifierCannotRead);
  CHECK_THAT(garbled.output, Catch::Contains("protocol error"));
  CHECK(std::filesystem::exists(staging));
  CHECK_FALSE(std::filesystem::exists(remote));

  // Started ahead of its upload, the script touches nothing before `begin`: input that ends first (the upload never
  // came) leaves the staging file as it was, and any other first line is a protocol error.
  auto never_begun = runVerifier(dir, plan, "", path);
  CHECK(never_begun.exit_code == ssh::kVerifierAbandoned);
  auto not_begun = runVerifier(dir, plan, "3000\ncommit\n", path);
  CHECK(not_begun.exit_code == ssh::kVerifierCannotRead);
  CHECK_THAT(not_begun.output, Catch::Contains("protocol error"));
  CHECK(test::readWholeFile(staging) == data);
  CHECK_FALSE(std::filesystem::exists(remote));

  // No staging file at all: reported, nothing placed.
  std::filesystem::remove(staging);
  auto missing = runVerifier(dir, plan, "begin\n8000\ncommit\n", path);
  CHECK(missing.exit_code != 0);
  CHECK_FALSE(std::filesystem::exists(remote));
}

TEST_CASE("upload verifier: the python3 hasher reads only the reported ranges, the size is checked too", "[upload]") {
  test::TempDir dir("dr-verifier");
  const std::string data(10000, 'z');
  const auto staging = dir.path() / "file.part", remote = dir.path() / "file";
  ssh::VerifierPlan plan{staging.string(), remote.string(), sha256Hex(data), data.size(), false};

  // Bytes beyond the reported ranges are not hashed: the hash matches, but the file is longer than expected.
  std::ofstream(staging, std::ios::binary) << data << "trailing";
  auto longer = runVerifier(dir, plan, "begin\n10000\ncommit\n");
  CHECK(longer.exit_code == ssh::kVerifierMismatch);
  CHECK_THAT(longer.output, Catch::Contains("size 10008"));
  CHECK_FALSE(std::filesystem::exists(staging));
  CHECK_FALSE(std::filesystem::exists(remote));

  // A reported range beyond the end of the file cannot have been acknowledged: an error, not a verdict.
  std::ofstream(staging, std::ios::binary) << data.substr(0, 4000);
  auto shorter = runVerifier(dir, plan, "begin\n10000\ncommit\n");
  CHECK(shorter.exit_code == ssh::kVerifierCannotRead);
  CHECK_THAT(shorter.output, Catch::Contains("shorter than the acknowledged data"));
  CHECK_FALSE(std::filesystem::exists(remote));
}

}  // namespace dr
