// What drctl apply checks before it touches any host, against a real etcd: a cluster whose quorum is healthy is
// not fully restored (unless --force), and an encrypted snapshot needs its key and is decrypted first.
#include <catch2/catch.hpp>

#include <fstream>

#include "drctl_program.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
using test::drctl;
using test::kDrctl;
}  // namespace

TEST_CASE("apply refuses a full restore while a quorum is healthy, and decrypts an encrypted snapshot first",
          "[etcd][cli][apply][real]") {
  test::EtcdCluster cluster({.members = 1});
  const fs::path dir = cluster.dir() / "apply-gates";
  fs::create_directories(dir);
  const std::string inventory = cluster.writeInventoryFile().string();
  const std::string snapshot = (dir / "snap.db").string();
  const std::string runs = (dir / "runs").string();
  REQUIRE(drctl({"snapshot", "save", "-i", inventory, "-o", snapshot}).exit_code == 0);

  SECTION("a healthy quorum refuses the restore; nothing is run and no run directory is made") {
    auto refused = drctl({"apply", "-i", inventory, "-s", snapshot, "--runs", runs, "--yes"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.output, Catch::Contains("refused: a quorum of the current cluster is healthy"));
    CHECK_FALSE(fs::exists(runs));
    // A rehearsal against a healthy cluster is reported, not refused: scheduled dry-runs do exactly that.
    auto dry = drctl({"apply", "--dry-run", "-i", inventory, "-s", snapshot, "--runs", runs});
    CHECK_THAT(dry.output, Catch::Contains("a real apply would be refused now"));
    CHECK_THAT(dry.output, !Catch::Contains("refused: a quorum"));
    auto forced = drctl({"apply", "--force", "-i", inventory, "-s", snapshot, "--runs", runs, "--dry-run"});
    CHECK_THAT(forced.output, Catch::Contains("restoring anyway because of --force"));
    CHECK_FALSE(fs::exists(runs));
  }

  SECTION("an encrypted snapshot needs its key; a wrong key is refused; the right one decrypts it") {
    const std::string key = (dir / "key").string();
    const std::string wrong = (dir / "wrong").string();
    std::ofstream(key) << std::string(64, 'a') << "\n";
    std::ofstream(wrong) << std::string(64, 'b') << "\n";
    const std::string sealed = (dir / "snap.db.enc").string();
    REQUIRE(drctl({"snapshot", "encrypt", "--key-file", key, "-i", snapshot, "-o", sealed}).exit_code == 0);

    auto no_key = drctl({"apply", "--dry-run", "-i", inventory, "-s", sealed, "--runs", runs});
    CHECK(no_key.exit_code == 2);
    CHECK_THAT(no_key.output, Catch::Contains("is an encrypted snapshot: give its key"));
    auto bad_key = drctl({"apply", "--dry-run", "-i", inventory, "-s", sealed, "--runs", runs, "--key-file", wrong});
    CHECK(bad_key.exit_code == 2);
    auto good_key = drctl({"apply", "-i", inventory, "-s", sealed, "--runs", runs, "--key-file", key, "--yes"});
    CHECK_THAT(good_key.output, Catch::Contains("decrypted " + sealed));
    // It then reaches the quorum check (healthy here), which proves the decrypted snapshot was planned.
    CHECK(good_key.exit_code == 1);
    CHECK_THAT(good_key.output, Catch::Contains("refused: a quorum"));
    // The refused run never started: its decrypted copy is gone (a snapshot holds every secret of the cluster).
    CHECK_FALSE(fs::exists(fs::path(runs) / "locks"));
    CHECK((!fs::exists(fs::path(runs) / "decrypted") || fs::is_empty(fs::path(runs) / "decrypted")));
    // A dry-run decrypts into a temp file that does not outlive it.
    auto rehearsal = drctl({"apply", "--dry-run", "-i", inventory, "-s", sealed, "--runs", runs, "--key-file", key});
    CHECK_THAT(rehearsal.output, Catch::Contains("decrypted " + sealed));
    CHECK_THAT(rehearsal.output, Catch::Contains("drctl-dry-run-"));
  }
}

TEST_CASE("apply --from-member: the survivor's own data is the snapshot; it never outlives a run that does not start",
          "[etcd][cli][apply][real]") {
  test::EtcdCluster cluster;
  const fs::path dir = cluster.dir() / "from-member";
  fs::create_directories(dir);
  const std::string inventory = cluster.writeInventoryFile().string();
  const std::string runs = (dir / "runs").string();
  const fs::path survivors = dir / "runs" / ".survivor";
  auto leftovers = [&] { return fs::exists(survivors) && !fs::is_empty(survivors); };

  // -s and --from-member both say where the snapshot comes from.
  auto both = drctl({"apply", "--dry-run", "-i", inventory, "-s", "/nonexistent.db", "--from-member", "etcd-0"});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.output, Catch::Contains("-s and --from-member both say where the snapshot comes from"));

  // A healthy quorum: the snapshot is taken, then the restore gate refuses; the copy (every Secret) is removed.
  auto healthy = drctl({"apply", "-i", inventory, "--from-member", "etcd-0", "--runs", runs, "--yes"});
  CHECK(healthy.exit_code == 1);
  CHECK_THAT(healthy.output, Catch::Contains("snapshot taken from member etcd-0's own data") &&
                                 Catch::Contains("refused: a quorum of the current cluster is healthy"));
  CHECK_FALSE(leftovers());

  REQUIRE(cluster.etcdctl({"put", "/newest", "kept"}).exit_code == 0);
  cluster.stopMember(1);
  cluster.stopMember(2);
  // A member that does not answer cannot be the source.
  auto dead = drctl({"apply", "--dry-run", "-i", inventory, "--from-member", "etcd-1", "--runs", runs});
  CHECK(dead.exit_code == 1);
  CHECK_THAT(dead.output, Catch::Contains("the snapshot could not be taken from member etcd-1"));
  // The survivor: a dry-run plans the full restore from its data, in a temp dir of its own, gone at the end.
  auto dry = drctl({"apply", "--dry-run", "-i", inventory, "--from-member", "etcd-0", "--runs", runs});
  INFO(dry.output);
  CHECK_THAT(dry.output, Catch::Contains("snapshot taken from member etcd-0's own data: revision"));
  CHECK_THAT(dry.output, Catch::Contains("upload-snapshot@etcd-0"));
  CHECK_FALSE(leftovers());
  for (const auto& entry : fs::directory_iterator(runs)) CHECK(entry.path().filename() == ".survivor");  // no run
}

TEST_CASE("apply -p replace-member: the failed members read from the cluster; a subset that would stall is refused",
          "[etcd][cli][apply][real]") {
  test::EtcdCluster cluster;
  const fs::path dir = cluster.dir() / "replace";
  fs::create_directories(dir);
  const std::string inventory = cluster.writeInventoryFile().string();
  const std::string runs = (dir / "runs").string();
  // A follower dies (killing the leader would start an election).
  const int dead = cluster.followerIndex();
  const std::string dead_name = "etcd-" + std::to_string(dead);
  const std::string alive_name = dead == 0 ? "etcd-1" : "etcd-0";
  cluster.stopMember(dead);

  // Named: a healthy member while another is down. Its removal would keep a quorum, but etcd would then add nothing
  // back while the other voter is down: refused before anything runs.
  auto stall = drctl({"apply", "-i", inventory, "-p", "replace-member", "--member", alive_name, "--runs", runs, "--yes"});
  INFO(stall.output);
  CHECK(stall.exit_code == 1);
  CHECK_THAT(stall.output, Catch::Contains("member " + dead_name + " is down and not being replaced"));
  CHECK_FALSE(fs::exists(runs));
  // Not named: the failed one is read from the cluster; a dry-run plans its replacement.
  auto dry = drctl({"apply", "--dry-run", "-i", inventory, "-p", "replace-member", "--runs", runs});
  INFO(dry.output);
  CHECK_THAT(dry.output, Catch::Contains("failed members read from the cluster: " + dead_name));
  CHECK_THAT(dry.output, Catch::Contains("remove-member@" + dead_name));
  CHECK_FALSE(fs::exists(runs));
}
