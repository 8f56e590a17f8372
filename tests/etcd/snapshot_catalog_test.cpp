// drctl snapshot list|prune|test-restore on real backups of a real etcd: a backup that fails its test-restore is
// shown FAILED and never offered as the newest, prune keeps the newest verified backup and the one a run refers to,
// a dry-run deletes nothing, and the real prune deletes a backup with all its sidecars. The same commands on a
// bucket (s3rver), with backups encrypted at save.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "drctl_program.h"
#include "etcd/etcd_client.h"
#include "exec/run_dir.h"
#include "fixtures/etcd_fixture.h"
#include "fixtures/s3_fixture.h"
#include "rehearse/backup_catalog.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
using test::drctl;
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("snapshot list, test-restore and prune on real backups", "[etcd][cli][backups][real]") {
  test::EtcdCluster cluster({.members = 1});
  const std::string inventory = cluster.writeInventoryFile().string();
  const fs::path dir = cluster.dir() / "backups";
  fs::create_directories(dir);
  // Four backups in the same second, a key written before each: the larger name is the newer (list's tie-break),
  // a.db the oldest.
  auto client = EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client);
  for (const char* name : {"a.db", "b.db", "c.db", "d.db"}) {
    REQUIRE(client->put(std::string("/registry/") + name, "value"));
    auto saved = drctl({"snapshot", "save", "-i", inventory, "-o", (dir / name).string()});
    INFO(saved.output);
    REQUIRE(saved.exit_code == 0);
  }
  {  // d.db, the newest, goes bad on disk: 16 bytes in its middle flipped
    std::fstream f(dir / "d.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(dir / "d.db") / 2));
    f.write("XXXXXXXXXXXXXXXX", 16);
  }
  auto oldest = drctl({"snapshot", "test-restore", (dir / "a.db").string()});
  INFO(oldest.output);
  CHECK(oldest.exit_code == 0);
  auto passed = drctl({"snapshot", "test-restore", (dir / "b.db").string()});
  INFO(passed.output);
  CHECK(passed.exit_code == 0);
  CHECK(contains(passed.output, "verdict recorded in " + (dir / "b.db.verdict.json").string()));
  auto failed = drctl({"snapshot", "test-restore", (dir / "d.db").string()});
  INFO(failed.output);
  CHECK(failed.exit_code == 1);
  CHECK(recordedVerdict(dir / "d.db") == false);

  auto list = drctl({"snapshot", "list", dir.string()});
  INFO(list.output);
  CHECK(list.exit_code == 0);
  CHECK(contains(list.output, "d.db"));
  CHECK(contains(list.output, "FAILED"));
  CHECK(contains(list.output, "passed"));
  CHECK(contains(list.output, "newest usable: c.db (not test-restored yet"));  // never the failed d.db
  CHECK(newestSnapshot(dir).value() == dir / "c.db");
  auto json = nlohmann::json::parse(drctl({"snapshot", "list", dir.string(), "--json"}).output);
  REQUIRE(json.size() == 4);
  CHECK(json[0]["path"] == (dir / "d.db").string());
  CHECK(json[0]["test_restore"] == "failed");
  CHECK(json[2]["test_restore"] == "passed");
  CHECK(json[3]["test_restore"] == "passed");
  CHECK(json[3]["revision"].is_number_integer());

  // A run refers to a.db (its resume would need it).
  const fs::path runs = cluster.dir() / "runs";
  auto run = RunDirectory::create(runs, "r1");
  REQUIRE(run);
  RunInfo info;
  info.run_id = "r1";
  info.snapshot_path = (dir / "a.db").string();
  REQUIRE(run->writeRunInfo(info));

  const std::vector<std::string> prune = {"snapshot", "prune", dir.string(), "--keep-last", "1", "--runs", runs.string()};
  auto dry = prune;
  dry.push_back("--dry-run");
  auto dry_run = drctl(dry);
  INFO(dry_run.output);
  CHECK(dry_run.exit_code == 0);
  CHECK(contains(dry_run.output, "keep   d.db  (one of the 1 newest)"));
  CHECK(contains(dry_run.output, "keep   b.db  (the newest backup that passed its test-restore)"));
  CHECK(contains(dry_run.output, "keep   a.db  (a run refers to it"));  // not the newest verified: b.db is
  CHECK(contains(dry_run.output, "prune  c.db"));
  CHECK(fs::exists(dir / "c.db"));

  auto real = drctl(prune);
  INFO(real.output);
  CHECK(real.exit_code == 0);
  CHECK(contains(real.output, "pruned c.db"));
  for (const char* gone : {"c.db", "c.db.sha256", "c.db.json"}) CHECK_FALSE(fs::exists(dir / gone));
  for (const char* kept : {"a.db", "b.db", "b.db.verdict.json", "d.db"}) CHECK(fs::exists(dir / kept));

  CHECK(drctl({"snapshot", "prune", dir.string()}).exit_code == 2);  // no keep rule: nothing pruned
  CHECK(drctl({"snapshot", "list", (dir / "nowhere").string()}).exit_code == 2);
}

TEST_CASE("a backup in a bucket: upload, list, test-restore from it (the verdict copied back), verify, prune",
          "[etcd][cli][backups][s3][real]") {
  test::EtcdCluster cluster({.members = 1});
  test::S3Server s3;
  const std::string inventory = cluster.writeInventoryFile().string();
  const fs::path dir = cluster.dir() / "backups";
  fs::create_directories(dir);
  const fs::path key = cluster.dir() / "backup.key";
  std::ofstream(key) << std::string(64, 'c') << "\n";
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  auto client = EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client);
  // The secret is one s3rver does not check (it checks the key id): no output may show it.
  const std::vector<std::string> env = {"DR_S3_ENDPOINT=" + s3.endpoint(), "AWS_ACCESS_KEY_ID=S3RVER",
                                        "AWS_SECRET_ACCESS_KEY=never-printed-4711", "AWS_REGION=us-east-1"};
  const std::string prefix = "s3://" + s3.bucket() + "/prod/";
  for (const char* name : {"a-old.db", "b-new.db"}) {
    REQUIRE(client->put(std::string("/registry/") + name, "value"));
    auto saved = drctl({"snapshot", "save", "-i", inventory, "-o", (dir / name).string(), "--key-file", key.string()});
    INFO(saved.output);
    REQUIRE(saved.exit_code == 0);
    CHECK(contains(saved.output, "encrypted at save"));
    auto uploaded = drctl({"snapshot", "upload", (dir / name).string(), prefix}, env);
    INFO(uploaded.output);
    REQUIRE(uploaded.exit_code == 0);
    CHECK(contains(uploaded.output, "copied " + (dir / name).string() + " to " + prefix + name));
  }

  const fs::path runs = cluster.dir() / "runs";
  auto tested = drctl({"snapshot", "test-restore", prefix + "b-new.db", "--key-file", key.string(), "--runs",
                       runs.string()},
                      env);
  INFO(tested.output);
  CHECK(tested.exit_code == 0);
  CHECK(contains(tested.output, "downloaded " + prefix + "b-new.db to " + (runs / "downloads" / "b-new.db").string()));
  CHECK(contains(tested.output, "verdict copied to " + prefix + "b-new.db.verdict.json"));

  auto list = drctl({"snapshot", "list", prefix, "--json"}, env);
  INFO(list.output);
  REQUIRE(list.exit_code == 0);
  const auto listed = nlohmann::json::parse(list.output);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["path"] == prefix + "b-new.db");
  CHECK(listed[0]["test_restore"] == "passed");
  CHECK(listed[0]["encrypted"] == true);
  CHECK(listed[1]["test_restore"] == "none");

  auto verify =
      drctl({"snapshot", "verify", prefix + "a-old.db", "--key-file", key.string(), "--runs", runs.string()}, env);
  INFO(verify.output);
  CHECK(verify.exit_code == 0);

  // keep-last 1 keeps b-new.db (also the newest verified); a-old.db goes, with its sidecars.
  auto prune = drctl({"snapshot", "prune", prefix, "--keep-last", "1"}, env);
  INFO(prune.output);
  CHECK(prune.exit_code == 0);
  CHECK(contains(prune.output, "pruned a-old.db"));
  auto store = S3Client::open(s3.config());
  REQUIRE(store.ok());
  auto left = store->list(s3.location("prod/"));
  REQUIRE(left.ok());
  std::set<std::string> keys;
  for (const auto& object : *left) keys.insert(object.key);
  CHECK(keys == std::set<std::string>{"prod/b-new.db", "prod/b-new.db.json", "prod/b-new.db.sha256",
                                      "prod/b-new.db.verdict.json"});

  for (const auto& out : {tested.output, list.output, verify.output, prune.output}) {
    CHECK_FALSE(contains(out, "never-printed-4711"));
  }
  // Wrong credentials: the store's refusal, exit 2 for a listing that cannot be made.
  auto refused = drctl({"snapshot", "list", prefix}, {"DR_S3_ENDPOINT=" + s3.endpoint(), "AWS_ACCESS_KEY_ID=WRONG",
                                                      "AWS_SECRET_ACCESS_KEY=never-printed-4711"});
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.output, "InvalidAccessKeyId"));
  CHECK_FALSE(contains(refused.output, "never-printed-4711"));
}
