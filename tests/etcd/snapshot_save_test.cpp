// Backups against a real etcd: our save is byte-compatible with etcdctl's, integrity is checked, damage refused.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "etcd/cluster_check.h"
#include "etcd/snapshot_file.h"
#include "etcd/snapshot_save.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
void flipByte(const fs::path& path, std::uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x01));
}
}  // namespace

TEST_CASE("save takes a snapshot from a follower, byte-compatible with etcdctl, with sidecars", "[etcd][snapshot][real]") {
  test::EtcdCluster cluster;
  auto client = EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client.ok());
  for (int i = 0; i < 50; ++i) REQUIRE(client->put("/registry/k" + std::to_string(i), std::string(1000, 'x')).ok());

  const fs::path ours = cluster.dir() / "ours.db";
  auto saved = saveSnapshot(cluster.inventory(), ours, SnapshotSaveOptions{});
  REQUIRE(saved.ok());
  CHECK(saved->has_trailer);
  CHECK(saved->size % 512 == 32);
  CHECK_FALSE(fs::exists(cluster.dir() / "ours.db.part"));
  auto report = probeCluster(cluster.inventory(), {});
  for (const auto& e : report.endpoints) {
    if (e.member == saved->member) CHECK_FALSE(e.status->isLeader());  // a follower was chosen
  }
  CHECK(saved->revision_source == "file");
  CHECK(saved->revision >= 51);
  CHECK(saved->key_count.has_value());

  const fs::path theirs = cluster.dir() / "etcdctl.db";
  const auto etcdctl = cluster.etcdctl({"snapshot", "save", theirs.string()}, cluster.clientUrl(saved->member == "etcd-1" ? 1 : 2));
  REQUIRE(etcdctl.exit_code == 0);
  // Different members' bbolt files may differ by a page, so compare the format, not the size: both end with etcd's
  // trailer, both pass etcdctl and our inspection, both hold the same revision.
  const std::uint64_t their_size = fs::file_size(theirs);
  CHECK(their_size % 512 == 32);
  for (const auto& file : {ours, theirs}) {
    auto info = inspectSnapshot(file);
    REQUIRE(info.ok());
    CHECK(info->has_trailer);
    CHECK(info->revision == saved->revision);
    CHECK(info->etcd_version.has_value());
    // The native reading says what etcdctl says, to the hash.
    const auto status = test::runProgram({"/usr/bin/etcdctl", "snapshot", "status", file.string(), "-w", "json"},
                                         {"ETCDCTL_API=3"});
    REQUIRE(status.exit_code == 0);
    const auto theirs_json = nlohmann::json::parse(status.output);
    auto db = readSnapshotDb(file, true);
    REQUIRE(db.ok());
    CHECK(db->revision == theirs_json["revision"].get<std::int64_t>());
    CHECK(db->total_keys == theirs_json["totalKey"].get<std::int64_t>());
    CHECK(db->hash == theirs_json["hash"].get<std::uint32_t>());
    CHECK(info->key_count == db->total_keys);
  }
  // The sidecars: sha256sum's format, and the JSON the planner reads.
  const auto check = test::runProgram({"/bin/sh", "-c", "cd " + cluster.dir().string() + " && sha256sum -c ours.db.sha256"});
  CHECK(check.exit_code == 0);
  std::ifstream sidecar(cluster.dir() / "ours.db.json");
  const auto json = nlohmann::json::parse(sidecar);
  CHECK(json["sha256"] == saved->sha256);
  CHECK(json["revision"] == saved->revision);
  CHECK(json["member"] == saved->member);
  CHECK(json["cluster_id"].get<std::string>().size() > 0);
  auto info = inspectSnapshot(ours);
  REQUIRE(info.ok());
  CHECK(info->metadata_source == "file");
  CHECK(info->etcd_version == saved->etcd_version);
  CHECK(info->sha256 == saved->sha256);

  SECTION("one flipped byte anywhere is refused") {
    for (std::uint64_t offset : {std::uint64_t{0}, their_size / 2, their_size - 1}) {
      const fs::path copy = cluster.dir() / "flipped.db";
      fs::copy_file(theirs, copy, fs::copy_options::overwrite_existing);
      flipByte(copy, offset);
      auto damaged = inspectSnapshot(copy);
      REQUIRE_FALSE(damaged.ok());
      CHECK_THAT(damaged.error().message, Catch::Contains("trailer does not match"));
    }
  }
  SECTION("a truncated snapshot is refused: by the trailer, or by the sidecar checksum") {
    const fs::path cut = cluster.dir() / "cut.db";
    fs::copy_file(theirs, cut);
    fs::resize_file(cut, their_size - 512);  // still size % 512 == 32: the trailer check catches it
    CHECK_FALSE(inspectSnapshot(cut).ok());
    fs::resize_file(ours, saved->size - 100);  // no trailer shape any more: refused for that
    auto refused = inspectSnapshot(ours);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("no etcd integrity trailer"));
  }
  SECTION("a db without the trailer is refused, and accepted with a warning on the operator's word") {
    const fs::path bare = cluster.dir() / "bare.db";
    fs::copy_file(theirs, bare);
    fs::resize_file(bare, their_size - 32);
    CHECK_FALSE(inspectSnapshot(bare).ok());
    InspectOptions allow;
    allow.allow_no_trailer = true;
    auto accepted = inspectSnapshot(bare, allow);
    REQUIRE(accepted.ok());
    CHECK(accepted->revision == saved->revision);
    CHECK_FALSE(accepted->has_trailer);
    CHECK_THAT(accepted->warning, Catch::Contains("no etcd integrity trailer"));
  }
}

TEST_CASE("save with no healthy member fails and leaves no file behind", "[etcd][snapshot][real]") {
  test::EtcdCluster cluster({.members = 1});
  cluster.stopMember(0);
  SnapshotSaveOptions options;
  options.client.timeout = std::chrono::milliseconds(1000);
  const fs::path out = cluster.dir() / "none.db";
  auto saved = saveSnapshot(cluster.inventory(), out, options);
  REQUIRE_FALSE(saved.ok());
  CHECK_THAT(saved.error().message, Catch::Contains("no healthy etcd member") && Catch::Contains("etcd-0"));
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(cluster.dir() / "none.db.part"));
}

TEST_CASE("without a quorum, a surviving member's own data is saved with --survivor, newer writes included",
          "[etcd][snapshot][real]") {
  test::EtcdCluster cluster;
  const Inventory& inventory = cluster.inventory();
  REQUIRE(cluster.etcdctl({"put", "/before", "1"}).exit_code == 0);
  REQUIRE(cluster.etcdctl({"put", "/newest", "2"}).exit_code == 0);
  // Two of three die: no quorum, no leader; etcd-0 survives with every write.
  cluster.stopMember(1);
  cluster.stopMember(2);
  SnapshotSaveOptions options;
  options.client.timeout = std::chrono::milliseconds(1500);
  options.member = inventory.members[0].name;
  const fs::path refused_out = cluster.dir() / "refused.db";
  auto refused = saveSnapshot(inventory, refused_out, options);  // a healthy member is required without --survivor
  REQUIRE_FALSE(refused.ok());
  CHECK_FALSE(fs::exists(refused_out));

  options.survivor = true;
  const fs::path out = cluster.dir() / "survivor.db";
  auto saved = saveSnapshot(inventory, out, options);
  INFO((saved.ok() ? std::string() : saved.error().message));
  REQUIRE(saved.ok());
  CHECK(saved->member == inventory.members[0].name);
  CHECK(saved->has_trailer);  // etcd's own trailer: a full restore checks it as for any backup
  auto inspected = inspectSnapshot(out);
  REQUIRE(inspected.ok());
  CHECK(inspected->revision.value_or(0) >= 3);  // both puts
  // A dead member cannot be read; --survivor needs a name.
  options.member = inventory.members[1].name;
  auto dead = saveSnapshot(inventory, cluster.dir() / "dead.db", options);
  REQUIRE_FALSE(dead.ok());
  CHECK_THAT(dead.error().message, Catch::Contains("does not answer"));
  options.member.clear();
  CHECK_FALSE(saveSnapshot(inventory, cluster.dir() / "anon.db", options).ok());
}
