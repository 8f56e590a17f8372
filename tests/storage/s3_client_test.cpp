// The client against a real S3-compatible server (s3rver, tests/fixtures/s3_fixture.h): uploads single and
// multipart, downloads checked end to end, listings that page, deletes, and every refusal a user can meet, each
// with a message that says what, where and why.
#include "storage/s3_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "core/sha256.h"
#include "fixtures/etcd_fixture.h"
#include "fixtures/file_text.h"
#include "fixtures/s3_fixture.h"
#include "fixtures/temp_dir.h"
#include "storage/s3_context.h"

using namespace dr;
using dr::test::S3Server;
namespace fs = std::filesystem;

namespace {

std::string randomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t value = generator();
    std::memcpy(bytes.data() + i, &value, 8);
  }
  return bytes;
}

void writeAll(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

S3Client openClient(const S3Config& config) {
  auto client = S3Client::open(config);
  REQUIRE(client.ok());
  return std::move(*client);
}

// Nothing at `out`, and no temp file of a download beside it.
void checkNothingWritten(const fs::path& out) {
  CHECK_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(out.parent_path())) {
    CHECK_FALSE(entry.path().filename().string().starts_with(out.filename().string()));
  }
}

}  // namespace

TEST_CASE("a small file: one PUT with its SHA-256 as metadata; head, download byte-identical", "[s3]") {
  S3Server server;
  auto client = openClient(server.config());
  test::TempDir dir("dr-s3");
  const std::string bytes = randomBytes(300000, 1);
  writeAll(dir.path / "snap.db", bytes);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  S3PutOptions options;
  options.metadata["revision"] = "1234";
  options.progress = [&](std::uint64_t sent, std::uint64_t total) { progress.emplace_back(sent, total); };
  const auto location = server.location("etcd/prod/snap.db");
  auto put = client.putFile(dir.path / "snap.db", location, options);
  REQUIRE(put.ok());
  CHECK(put->parts == 0);
  CHECK(put->size == bytes.size());
  CHECK(put->sha256 == sha256Hex(bytes));
  CHECK(put->etag == toHex(s3::md5Raw(bytes)));
  CHECK(progress == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{bytes.size(), bytes.size()}});

  auto head = client.head(location);
  REQUIRE(head.ok());
  REQUIRE(head->has_value());
  CHECK((*head)->size == bytes.size());
  CHECK((*head)->metadata.at("sha256") == sha256Hex(bytes));
  CHECK((*head)->metadata.at("revision") == "1234");
  CHECK((*head)->etag == put->etag);
  CHECK((*head)->last_modified_ms > 0);

  auto got = client.getFile(location, dir.path / "back.db");
  REQUIRE(got.ok());
  CHECK(*got == sha256Hex(bytes));
  CHECK(dr::test::fileText(dir.path / "back.db") == bytes);
  const auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
  CHECK((fs::status(dir.path / "back.db").permissions() & fs::perms::all) == owner_only);

  auto absent = client.head(server.location("etcd/prod/none.db"));
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());

  // Small objects from and into memory (sidecars), checked against their metadata too.
  REQUIRE(client.putBytes("{\"ok\":true}", server.location("etcd/prod/snap.db.json")).ok());
  CHECK(*client.getBytes(server.location("etcd/prod/snap.db.json")) == "{\"ok\":true}");
  auto too_large = client.getBytes(location, 1000);
  REQUIRE_FALSE(too_large.ok());
  CHECK_THAT(too_large.error().message, Catch::Contains("larger than 1000 bytes"));
}

TEST_CASE("a 21 MiB file in 5 MiB parts, 2 at a time, comes back byte-identical", "[s3]") {
  S3Server server;
  S3Config config = server.config();
  config.part_size = 5u << 20;
  config.parallel_parts = 2;
  auto client = openClient(config);
  test::TempDir dir("dr-s3");
  const std::string bytes = randomBytes((21u << 20) + 12345, 2);
  writeAll(dir.path / "big.db", bytes);
  std::vector<std::uint64_t> progress;
  S3PutOptions options;
  options.progress = [&](std::uint64_t sent, std::uint64_t total) {
    CHECK(total == bytes.size());
    progress.push_back(sent);
  };
  auto put = client.putFile(dir.path / "big.db", server.location("big.db"), options);
  REQUIRE(put.ok());
  CHECK(put->parts == 5);
  CHECK(put->sha256 == sha256Hex(bytes));
  REQUIRE_FALSE(progress.empty());
  CHECK(std::is_sorted(progress.begin(), progress.end()));
  CHECK(progress.back() == bytes.size());
  auto head = client.head(server.location("big.db"));
  REQUIRE(head.ok());
  CHECK((*head)->metadata.at("sha256") == sha256Hex(bytes));
  auto got = client.getFile(server.location("big.db"), dir.path / "back.db");
  REQUIRE(got.ok());
  CHECK(dr::test::fileText(dir.path / "back.db") == bytes);

  // The SHA-256 given by a caller that hashed the file as it wrote it (a backup's save) is stored without a pass of
  // its own; a wrong one is not silent: the download refuses the bytes and leaves nothing behind.
  S3PutOptions known;
  known.sha256 = sha256Hex(bytes);
  auto put_known = client.putFile(dir.path / "big.db", server.location("known.db"), known);
  REQUIRE(put_known.ok());
  CHECK(put_known->sha256 == sha256Hex(bytes));
  REQUIRE(client.getFile(server.location("known.db"), dir.path / "known-back.db").ok());
  CHECK(dr::test::fileText(dir.path / "known-back.db") == bytes);
  S3PutOptions wrong;
  wrong.sha256 = std::string(64, 'e');
  REQUIRE(client.putFile(dir.path / "big.db", server.location("wrong.db"), wrong).ok());
  auto refused = client.getFile(server.location("wrong.db"), dir.path / "wrong-back.db");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find(std::string(64, 'e')) != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "wrong-back.db"));
  wrong.sha256 = "not-a-hash";
  CHECK_FALSE(client.putFile(dir.path / "big.db", server.location("bad.db"), wrong).ok());
}

TEST_CASE("list follows continuation tokens under a prefix; remove, and removing an absent key is fine", "[s3]") {
  S3Server server;
  S3Config config = server.config();
  config.max_keys = 2;
  auto client = openClient(config);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(client.putBytes("object " + std::to_string(i), server.location("etcd/snap-" + std::to_string(i))).ok());
  }
  REQUIRE(client.putBytes("elsewhere", server.location("other/snap-9")).ok());
  auto listed = client.list(server.location("etcd/"));
  INFO((listed.ok() ? "" : listed.error().message));
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK((*listed)[static_cast<std::size_t>(i)].key == "etcd/snap-" + std::to_string(i));
    CHECK((*listed)[static_cast<std::size_t>(i)].size == 8);
    CHECK((*listed)[static_cast<std::size_t>(i)].last_modified_ms > 0);
    CHECK((*listed)[static_cast<std::size_t>(i)].etag == toHex(s3::md5Raw("object " + std::to_string(i))));
  }
  CHECK(client.list(server.location(""))->size() == 6);
  CHECK(client.list(server.location("none/"))->empty());

  REQUIRE(client.remove(server.location("etcd/snap-2")).ok());
  CHECK_FALSE(client.head(server.location("etcd/snap-2"))->has_value());
  CHECK(client.list(server.location("etcd/"))->size() == 4);
  CHECK(client.remove(server.location("etcd/snap-2")).ok());
  CHECK(client.remove(server.location("never/there")).ok());
}

TEST_CASE("an object damaged on the store's disk is refused, nothing left at OUT", "[s3]") {
  S3Server server;
  auto client = openClient(server.config());
  test::TempDir dir("dr-s3");
  const std::string bytes = randomBytes(200000, 3);
  writeAll(dir.path / "snap.db", bytes);
  const auto location = server.location("etcd/snap.db");
  REQUIRE(client.putFile(dir.path / "snap.db", location).ok());
  // One byte flipped behind the store's back (s3rver keeps the object as a plain file, its ETag aside).
  const auto stored = server.objectFile("etcd/snap.db");
  REQUIRE(fs::exists(stored));
  std::string damaged = bytes;
  damaged[100000] ^= 0x01;
  writeAll(stored, damaged);
  const auto out = dir.path / "restored.db";
  auto got = client.getFile(location, out);
  REQUIRE_FALSE(got.ok());
  CHECK_THAT(got.error().message, Catch::Contains("s3://dr-test/etcd/snap.db: download refused") &&
                                      Catch::Contains(sha256Hex(damaged)) && Catch::Contains(sha256Hex(bytes)) &&
                                      Catch::Contains("x-amz-meta-sha256"));
  checkNothingWritten(out);
  // Also when the caller's expected hash is the one that does not match.
  auto wrong = client.getFile(location, out, std::string(64, 'a'));
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.error().message, Catch::Contains(std::string(64, 'a')));
  checkNothingWritten(out);
}

TEST_CASE("an object without sha256 metadata is refused unless its SHA-256 is given", "[s3]") {
  S3Server server;
  test::TempDir dir("dr-s3");
  const std::string bytes = randomBytes(50000, 4);
  // Stored by someone else, without our metadata: a plain PUT through the transport.
  S3Config config = server.config();
  auto easy = s3::CurlEasy::create();
  REQUIRE(easy.ok());
  auto endpoint = s3::parseEndpoint(config.endpoint, config.region);
  REQUIRE(endpoint.ok());
  s3::HttpRequest request;
  request.method = "PUT";
  request.url = server.endpoint() + "/dr-test/foreign.db";
  request.body = bytes;
  auto put = s3::perform(*easy, config, *endpoint, request);
  REQUIRE(put.ok());
  REQUIRE(put->succeeded());

  auto client = openClient(config);
  const auto out = dir.path / "foreign.db";
  auto refused = client.getFile(server.location("foreign.db"), out);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message,
             Catch::Contains("no x-amz-meta-sha256") && Catch::Contains("give its expected SHA-256"));
  checkNothingWritten(out);
  auto got = client.getFile(server.location("foreign.db"), out, sha256Hex(bytes));
  REQUIRE(got.ok());
  CHECK(dr::test::fileText(out) == bytes);
}

TEST_CASE("a wrong access key id is refused by name; the secret appears in no message", "[s3]") {
  // s3rver checks only the access key id of a SigV4 request: it never computes the signature, so it cannot refuse
  // a wrong secret. A wrong key id is what this server can refuse.
  S3Server server;
  S3Config config = server.config();
  config.credentials.access_key_id = "AKIAWRONGKEY";
  config.credentials.secret_access_key = "TopSecret/Key+DoNotPrint";
  auto client = openClient(config);
  test::TempDir dir("dr-s3");
  writeAll(dir.path / "f", "data");
  std::vector<std::string> messages;
  auto put = client.putFile(dir.path / "f", server.location("x"));
  REQUIRE_FALSE(put.ok());
  CHECK_THAT(put.error().message,
             Catch::StartsWith("s3://dr-test/x: upload refused (403 InvalidAccessKeyId): The AWS Access Key Id"));
  messages.push_back(put.error().message);
  messages.push_back(client.getFile(server.location("x"), dir.path / "out").error().message);
  messages.push_back(client.list(server.location("")).error().message);
  messages.push_back(client.head(server.location("x")).error().message);  // a HEAD has no body: the status says it
  messages.push_back(client.remove(server.location("x")).error().message);
  CHECK_THAT(messages[3], Catch::Contains("head refused (403"));
  for (const auto& message : messages) {
    CHECK_THAT(message, Catch::Contains("403") && !Catch::Contains("TopSecret") && !Catch::Contains("DoNotPrint"));
  }
}

TEST_CASE("a bucket that does not exist is named as such", "[s3]") {
  S3Server server;
  auto client = openClient(server.config());
  auto put = client.putBytes("x", {"no-such-bucket", "k"});
  REQUIRE_FALSE(put.ok());
  CHECK_THAT(put.error().message, Catch::StartsWith("s3://no-such-bucket/k: upload refused (404 NoSuchBucket)") &&
                                      Catch::Contains("does not exist"));
  auto listed = client.list({"no-such-bucket", "etcd/"});
  REQUIRE_FALSE(listed.ok());
  CHECK_THAT(listed.error().message,
             Catch::StartsWith("s3://no-such-bucket/etcd/: listing refused (404 NoSuchBucket)"));
}

TEST_CASE("an unreachable store: its endpoint and curl's reason", "[s3]") {
  // A port that was just free: nothing listens on it.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  S3Config config;
  config.endpoint = endpoint;
  config.credentials.access_key_id = "AKID";
  config.credentials.secret_access_key = "secret";
  auto client = openClient(config);
  auto put = client.putBytes("x", {"bucket", "k"});
  REQUIRE_FALSE(put.ok());
  CHECK(put.error().message ==
        "s3://bucket/k: upload failed: cannot reach the object store at " + endpoint + ": Couldn't connect to server");
}

TEST_CASE("a presigned URL fetched by curl, without credentials", "[s3]") {
  // s3rver checks a query-signed V4 URL's parameters, access key id and expiry, not its signature (the KAT in
  // s3_signing_test.cpp holds the signature to AWS's own example). It also serves a request with no credentials at
  // all, so the fetch proves the URL's form; the refused expired URL proves its parameters were read.
  S3Server server;
  auto client = openClient(server.config());
  REQUIRE(client.putBytes("presigned content", server.location("dir/shared file.txt")).ok());
  auto url = client.presignGet(server.location("dir/shared file.txt"), std::chrono::seconds(300));
  REQUIRE(url.ok());
  auto fetched = test::runProgram({"/usr/bin/curl", "-sS", "--fail", *url});
  CHECK(fetched.exit_code == 0);
  CHECK(fetched.output == "presigned content");
  // Expired an hour ago: refused.
  auto old = client.presignGet(server.location("dir/shared file.txt"), std::chrono::seconds(60),
                               std::chrono::system_clock::now() - std::chrono::hours(1));
  REQUIRE(old.ok());
  auto expired = test::runProgram({"/usr/bin/curl", "-sS", *old});
  CHECK_THAT(expired.output, Catch::Contains("AccessDenied") && Catch::Contains("expired"));
}

TEST_CASE("s3rver does not check Content-MD5; our ETag comparison does the checking it skips", "[s3]") {
  // If a later s3rver starts checking, this test fails: the test of a refused corrupt part then belongs here.
  S3Server server;
  S3Config config = server.config();
  auto easy = s3::CurlEasy::create();
  REQUIRE(easy.ok());
  auto endpoint = s3::parseEndpoint(config.endpoint, config.region);
  REQUIRE(endpoint.ok());
  s3::HttpRequest request;
  request.method = "PUT";
  request.url = server.endpoint() + "/dr-test/md5";
  request.body = "the bytes sent";
  request.headers = {"Content-MD5: " + s3::base64(s3::md5Raw("other bytes"))};
  auto put = s3::perform(*easy, config, *endpoint, request);
  REQUIRE(put.ok());
  CHECK(put->status == 200);
  CHECK(s3::normalizedEtag(put->header("etag")) == toHex(s3::md5Raw("the bytes sent")));
}

TEST_CASE("the fixture listens on the address a test asks for", "[s3]") {
  S3Server server({.address = "127.0.0.2", .bucket = "other-bucket"});
  CHECK_THAT(server.endpoint(), Catch::StartsWith("http://127.0.0.2:"));
  auto client = openClient(server.config());
  REQUIRE(client.putBytes("here", server.location("k")).ok());
  CHECK(*client.getBytes({"other-bucket", "k"}) == "here");
}
