// A snapshot is proven restorable before any host is touched: the trailer, the bbolt database inside it (read
// natively: structure, revision, key count, etcd version), the sidecars; and a file etcd would refuse at the restore
// step (truncated, a text file, one byte appended, garbage behind the encryption magic) is refused here.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/sha256.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"
#include "fixtures/temp_dir.h"
#include "fixtures/tiny_snapshot.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
fs::path writeFile(const fs::path& dir, const std::string& name, const std::string& bytes) {
  const fs::path path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}
}  // namespace

TEST_CASE("a snapshot with etcd's trailer is recognised, hashed and read natively", "[etcd][snapshot]") {
  test::TempDir dir("dr-snapfile");
  const std::string bytes = test::tinySnapshotBytes(test::tinyWith(7));
  const auto path = writeFile(dir.path, "good.db", bytes);
  auto info = inspectSnapshot(path);
  INFO((info ? "" : info.error().message));
  REQUIRE(info.ok());
  CHECK(info->has_trailer);
  CHECK(info->size == bytes.size());
  CHECK(info->sha256 == sha256Hex(bytes));
  CHECK(info->revision == 7);
  CHECK(info->key_count == 9);  // 7 key revisions, clusterVersion, consistent_index
  CHECK(info->etcd_version == "3.4.0");
  CHECK(info->metadata_source == "file");
  CHECK(info->warning.empty());
}

TEST_CASE("files etcd would refuse at the restore are refused before anything runs", "[etcd][snapshot]") {
  test::TempDir dir("dr-snapfile");
  const std::string good = test::tinySnapshotBytes();
  SECTION("a single flipped byte breaks the trailer") {
    std::string bytes = good;
    bytes[5000] ^= 0x01;
    auto info = inspectSnapshot(writeFile(dir.path, "flipped.db", bytes));
    REQUIRE_FALSE(info.ok());
    CHECK_THAT(info.error().message, Catch::Contains("integrity trailer does not match"));
  }
  SECTION("truncated") {
    auto info = inspectSnapshot(writeFile(dir.path, "cut.db", good.substr(0, good.size() - 700)));
    REQUIRE_FALSE(info.ok());
    CHECK_THAT(info.error().message, Catch::Contains("no etcd integrity trailer"));
  }
  SECTION("a text file") {
    auto info = inspectSnapshot(writeFile(dir.path, "notes.txt", "restore me please\n"));
    REQUIRE_FALSE(info.ok());
    CHECK_THAT(info.error().message, Catch::Contains("no etcd integrity trailer"));
  }
  SECTION("one byte appended") {
    auto info = inspectSnapshot(writeFile(dir.path, "plus1.db", good + "x"));
    REQUIRE_FALSE(info.ok());
    CHECK_THAT(info.error().message, Catch::Contains("no etcd integrity trailer"));
  }
  SECTION("garbage that starts with the encryption magic") {
    auto info = inspectSnapshot(writeFile(dir.path, "fake.enc", std::string(kEncryptedSnapshotMagic) + std::string(5000, 'z')));
    REQUIRE_FALSE(info.ok());
    CHECK_THAT(info.error().message, Catch::Contains("fake.enc"));
  }
  SECTION("a real encrypted snapshot cut after its header and first record") {
    const auto plain = writeFile(dir.path, "plain.db", good);
    const auto sealed = dir.path / "sealed.enc";
    REQUIRE(encryptSnapshotFile(plain, sealed, std::string(32, 'k')).ok());
    REQUIRE(inspectSnapshot(sealed).ok());
    REQUIRE(inspectSnapshot(sealed)->encrypted);
    std::string bytes;
    {
      std::ifstream in(sealed, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto cut = inspectSnapshot(writeFile(dir.path, "cut.enc", bytes.substr(0, bytes.size() - 3)));
    REQUIRE_FALSE(cut.ok());
    CHECK_THAT(cut.error().message, Catch::Contains("truncated"));
    // With the key every record is authenticated: one flipped bit in the ciphertext is found.
    bytes[40] ^= 0x01;
    const auto flipped = writeFile(dir.path, "flipped.enc", bytes);
    REQUIRE(inspectSnapshot(flipped).ok());  // the container is intact
    auto authentic = checkEncryptedSnapshot(flipped, std::string(32, 'k'));
    REQUIRE_FALSE(authentic.ok());
    CHECK_THAT(authentic.error().message, Catch::Contains("authentication failed at record 0"));
  }
  SECTION("a FIFO or a directory is refused without blocking") {
    const auto fifo = dir.path / "fifo.db";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto info = inspectSnapshot(fifo);
    REQUIRE_FALSE(info.ok());
    CHECK_THAT(info.error().message, Catch::Contains("is a FIFO"));
    auto directory = inspectSnapshot(dir.path);
    REQUIRE_FALSE(directory.ok());
    CHECK_THAT(directory.error().message, Catch::Contains("is a directory"));
  }
}

TEST_CASE("a db without a trailer is accepted only on the operator's word, and still checked", "[etcd][snapshot]") {
  test::TempDir dir("dr-snapfile");
  const auto bare = writeFile(dir.path, "member-db", test::tinySnapshotBytes(test::tinyWith(4, false)));
  auto refused = inspectSnapshot(bare);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("--skip-hash-check"));
  InspectOptions allow;
  allow.allow_no_trailer = true;
  auto accepted = inspectSnapshot(bare, allow);
  REQUIRE(accepted.ok());
  CHECK_FALSE(accepted->has_trailer);
  CHECK(accepted->revision == 4);
  CHECK_THAT(accepted->warning, Catch::Contains("--skip-hash-check"));
  // The operator's word does not make garbage a database.
  auto garbage = inspectSnapshot(writeFile(dir.path, "garbage", std::string(8192, 'g')), allow);
  REQUIRE_FALSE(garbage.ok());
  CHECK_THAT(garbage.error().message, Catch::Contains("not a restorable etcd snapshot"));
  CHECK_THAT(garbage.error().message, Catch::Contains("not a bbolt database"));
}

TEST_CASE("a sidecar that disagrees with the file refuses it", "[etcd][snapshot]") {
  test::TempDir dir("dr-snapfile");
  const auto path = writeFile(dir.path, "snap.db", test::tinySnapshotBytes(test::tinyWith(5)));
  writeFile(dir.path, "snap.db.json", R"({"revision": 6, "etcd_version": "3.5.9"})");
  auto other_revision = inspectSnapshot(path);
  REQUIRE_FALSE(other_revision.ok());
  CHECK_THAT(other_revision.error().message, Catch::Contains("the file's revision is 5 but its sidecar"));
  writeFile(dir.path, "snap.db.json", R"({"revision": 5, "etcd_version": "3.5.9"})");
  auto agreed = inspectSnapshot(path);
  REQUIRE(agreed.ok());
  CHECK(agreed->etcd_version == "3.5.9");  // the sidecar's server version is more precise than the db's
  writeFile(dir.path, "snap.db.sha256", std::string(64, '0') + "  snap.db\n");
  auto other_hash = inspectSnapshot(path);
  REQUIRE_FALSE(other_hash.ok());
  CHECK_THAT(other_hash.error().message, Catch::Contains("does not match"));
}

TEST_CASE("a missing or empty snapshot is refused with its path", "[etcd][snapshot]") {
  test::TempDir dir("dr-snapfile");
  auto missing = inspectSnapshot("/nonexistent/snap.db");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/snap.db"));
  CHECK_FALSE(inspectSnapshot(writeFile(dir.path, "empty.db", "")).ok());
}
