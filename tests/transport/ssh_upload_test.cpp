// SFTP uploads and reads over the SSH transport against a real sshd: verified placement, resuming a partial upload,
// refusing a wrong SHA-256 (nothing left in place), creating the parent directory, become: sudo, readFile limits.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/sha256.h"
#include "fixtures/sshd_fixture.h"
#include "transport/sftp_upload.h"
#include "transport/ssh_transport.h"
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

}  // namespace

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
