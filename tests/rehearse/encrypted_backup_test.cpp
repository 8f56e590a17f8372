// Encryption at save on a real etcd: the saved file is ciphertext from its first byte (the plaintext never reached
// the disk), its sidecar records the plaintext's SHA-256, and a test-restore with the key proves it restorable,
// checking the decrypted bytes against that SHA-256; without the key, with a wrong key, or with a sidecar that
// names other bytes, it fails and says why.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/sha256.h"
#include "etcd/etcd_client.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"
#include "etcd/snapshot_save.h"
#include "fixtures/file_text.h"
#include "fixtures/etcd_fixture.h"
#include "rehearse/test_restore.h"

using namespace dr;
namespace fs = std::filesystem;

TEST_CASE("a snapshot encrypted at save is ciphertext on disk and test-restores only with its key",
          "[etcd][snapshot][crypto][real]") {
  test::EtcdCluster cluster(test::EtcdClusterOptions{.members = 1});
  auto client = EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client.ok());
  for (int i = 0; i < 30; ++i) REQUIRE(client->put("/registry/secrets/s" + std::to_string(i), "hunter2-" + std::to_string(i)).ok());

  const std::string key(32, '\x5a');
  const fs::path out = cluster.dir() / "enc.db";
  SnapshotSaveOptions options;
  options.encryption_key = key;
  options.time_ms = 1'796'000'000'000;
  auto saved = saveSnapshot(cluster.inventory(), out, options);
  REQUIRE(saved.ok());
  CHECK(saved->encrypted);
  CHECK(saved->revision_source == "stream");
  CHECK(saved->revision >= 31);
  CHECK(isEncryptedSnapshot(out));
  CHECK(dr::test::fileText(out).find("hunter2") == std::string::npos);
  CHECK_FALSE(fs::exists(cluster.dir() / "enc.db.part"));
  CHECK(saved->sha256 == sha256FileHex(out).value());  // of the file as stored
  CHECK(saved->time == "2026-11-30T00:53:20Z");        // the caller's clock
  const auto sidecar = nlohmann::json::parse(dr::test::fileText(saved->sidecar_path));
  CHECK(sidecar["encrypted"] == true);
  CHECK(sidecar["plaintext_sha256"] == saved->plaintext_sha256);
  CHECK(sidecar["revision_source"] == "stream");

  // Decrypted, it is etcd's snapshot: trailer and database sound, the plaintext SHA-256 the one recorded.
  const fs::path plain = cluster.dir() / "plain.db";
  REQUIRE(decryptSnapshotFile(out, plain, key).ok());
  CHECK(sha256FileHex(plain).value() == saved->plaintext_sha256);
  auto info = inspectSnapshot(plain);
  REQUIRE(info.ok());
  CHECK(info->has_trailer);
  CHECK(*info->revision >= saved->revision);
  fs::remove(plain);

  TestRestoreOptions restore;
  restore.work_parent = cluster.dir();
  SECTION("with the key it restores, the decrypted copy gone with the throwaway dir") {
    restore.key = key;
    auto result = testRestore(out, restore);
    REQUIRE(result.ok());
    INFO(result->message);
    CHECK(result->ok);
    CHECK(result->restored_revision == info->revision);
    CHECK_FALSE(fs::exists(result->work_dir));
  }
  SECTION("without the key it fails, saying so") {
    auto result = testRestore(out, restore);
    REQUIRE(result.ok());
    CHECK_FALSE(result->ok);
    CHECK(result->message.find("its key is needed") != std::string::npos);
  }
  SECTION("with a wrong key it fails authentication") {
    const std::string wrong(32, '\x01');
    restore.key = wrong;
    auto result = testRestore(out, restore);
    REQUIRE(result.ok());
    CHECK_FALSE(result->ok);
    CHECK(result->message.find("does not decrypt") != std::string::npos);
  }
  SECTION("a sidecar naming other plaintext is refused") {
    auto edited = sidecar;
    edited["plaintext_sha256"] = std::string(64, '0');
    std::ofstream(saved->sidecar_path) << edited.dump(2);
    restore.key = key;
    auto result = testRestore(out, restore);
    REQUIRE(result.ok());
    CHECK_FALSE(result->ok);
    CHECK(result->message.find("is not the one recorded when it was saved") != std::string::npos);
  }
}
