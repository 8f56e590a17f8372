// drd's backup schedule on real parts: a real etcd, a real S3-compatible store (s3rver), the scheduler driven by a
// manual clock through five hourly cycles across midnight. Each cycle saves an encrypted backup, test-restores it,
// copies it to the bucket and prunes both places by retention; drd is "restarted" (scheduler and history reopened)
// in the middle and keeps its history; at the end every kept backup restores, and the bucket holds exactly the same
// backups, byte for byte. A wrong access key is refused with the store's reason and without the secret in sight.
#include <sys/stat.h>

#include <chrono>
#include <set>

#include "core/sha256.h"
#include "drd/run_manager.h"
#include "drd/schedule_history.h"
#include "drd/scheduler.h"
#include "drd_test_support.h"
#include "etcd/etcd_client.h"
#include "etcd/snapshot_crypto.h"
#include "fixtures/etcd_fixture.h"
#include "fixtures/s3_fixture.h"
#include "rehearse/backup_catalog.h"
#include "rehearse/backup_job.h"
#include "rehearse/drd_config.h"
#include "rehearse/test_restore.h"

namespace fs = std::filesystem;
using namespace dr::test;
using namespace std::chrono;

namespace {

const std::string kKeyHex(64, '7');
// s3rver checks the access key id only (tests/fixtures/s3_fixture.h), so the secret can be one no message may show.
const std::string kSecret = "sEcReT-never-shown-0815";

// The files the backups' schedule needs: its key, the store's credentials (both owner-only), the backup dir.
struct BackupSandbox {
  TempDir dir{"dr-backup-schedule"};
  BackupSandbox() {
    fs::create_directories(backups());
    fs::create_directories(state());
    writeText(key(), kKeyHex + "\n");
    fs::permissions(key(), fs::perms::owner_read | fs::perms::owner_write);
  }
  fs::path backups() const { return dir.path / "backups"; }
  fs::path state() const { return dir.path / "state"; }
  fs::path key() const { return dir.path / "backup.key"; }
  fs::path credentials(const std::string& access_key_id) const {
    const fs::path file = dir.path / ("credentials-" + access_key_id);
    writeText(file, "[default]\naws_access_key_id = " + access_key_id + "\naws_secret_access_key = " + kSecret +
                        "\n");
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    return file;
  }
};

dr::DrdConfig backupConfig(const BackupSandbox& box, const EtcdCluster& cluster, const S3Server& s3,
                           const std::string& access_key_id) {
  const std::string yaml = "object_store:\n  endpoint: " + s3.endpoint() + "\n  credentials_file: " +
                           box.credentials(access_key_id).string() +
                           "\nschedules:\n"
                           "  - name: hourly\n"
                           "    cron: \"0 * * * *\"\n"
                           "    mode: backup\n"
                           "    inventory: " + cluster.writeInventoryFile().string() + "\n"
                           "    backup_dir: " + box.backups().string() + "\n"
                           "    encryption_key_file: " + box.key().string() + "\n"
                           "    bucket: s3://" + s3.bucket() + "/prod/\n"
                           "    retention: {keep_last: 2, keep_daily: 2}\n";
  auto parsed = dr::parseDrdConfig(yaml, box.dir.path / "drd.yaml");
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

std::set<std::string> names(const std::vector<dr::BackupEntry>& backups) {
  std::set<std::string> out;
  for (const auto& b : backups) {
    const std::string path = b.path.string();
    out.insert(path.substr(path.rfind('/') + 1));
  }
  return out;
}

void waitForFinished(const dr::drd::Scheduler& scheduler, int count) {
  const auto deadline = steady_clock::now() + seconds(90);
  while (scheduler.finishedCount() < count && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(50));
  REQUIRE(scheduler.finishedCount() == count);
}

}  // namespace

TEST_CASE("a backup schedule over five hours of a manual clock: saved encrypted, test-restored, copied, pruned; "
          "its history survives drd's restart and every kept backup restores",
          "[drd][schedule][backup][s3][real]") {
  EtcdCluster cluster(EtcdClusterOptions{.members = 1});
  auto client = dr::EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client.ok());
  S3Server s3;
  BackupSandbox box;
  const dr::DrdConfig config = backupConfig(box, cluster, s3, S3Server::kAccessKeyId);
  dr::drd::RunManager runs(box.state(), {});
  ManualClock clock(sys_days{year{2026} / 12 / 7} + hours(21) + minutes(30));
  const fs::path history_file = box.state() / "schedules" / "history.jsonl";

  // Cycles at 22:00, 23:00, 00:00 and 01:00 (the next day), a write before each, so each backup differs.
  const auto at = [](int day, int hour) { return sys_days{year{2026} / 12 / day} + hours(hour); };
  const std::vector<sys_seconds> first_cycles = {at(7, 22), at(7, 23), at(8, 0), at(8, 1)};
  {
    auto history = dr::drd::ScheduleHistory::open(history_file);
    REQUIRE(history.ok());
    dr::drd::Scheduler scheduler(config, clock, runs, {}, box.state() / "test-restores", history->get());
    scheduler.start();
    for (std::size_t i = 0; i < first_cycles.size(); ++i) {
      REQUIRE(client->put("/registry/cycle/" + std::to_string(i), std::string(2000, 'c')).ok());
      clock.set(first_cycles[i]);
      scheduler.wake();
      waitForFinished(scheduler, static_cast<int>(i + 1));
    }
    const auto results = (*history)->results();
    REQUIRE(results.size() == 4);
    for (const auto& r : results) {
      INFO(r.message() << "\n" << r.detail());
      CHECK(r.ok());
      CHECK(r.encrypted());
      CHECK(r.verified());
      CHECK(r.rto_ms() > 0);
      CHECK(r.uploaded_to().starts_with("s3://" + s3.bucket() + "/prod/hourly-"));
    }
    // 00:00: keep_last 2 keeps 00:00 and 23:00, keep_daily 2 the newest of each day (00:00, 23:00): 22:00 goes,
    // from the directory and from the bucket. 01:00: 01:00 and 00:00 are the newest, 23:00 the newest of its day:
    // nothing goes.
    CHECK(results[0].pruned_size() == 0);
    CHECK(results[1].pruned_size() == 0);
    INFO(results[2].detail());
    REQUIRE(results[2].pruned_size() == 2);
    CHECK(results[2].pruned(0) == (box.backups() / "hourly-20261207T220000Z.db").string());
    CHECK(results[2].pruned(1) == "s3://" + s3.bucket() + "/prod/hourly-20261207T220000Z.db");
    CHECK(results[3].pruned_size() == 0);
    scheduler.stop();
  }
  const std::set<std::string> after_four = {"hourly-20261207T230000Z.db", "hourly-20261208T000000Z.db",
                                            "hourly-20261208T010000Z.db"};
  auto local = dr::listBackups(box.backups());
  REQUIRE(local.ok());
  CHECK(names(*local) == after_four);
  for (const auto& b : *local) {
    CHECK(b.encrypted);
    CHECK(dr::isEncryptedSnapshot(b.path));  // the file on disk is ciphertext
    CHECK(b.verified == true);
  }

  // drd restarts: a new scheduler over the history on disk knows the last result and the recent ones.
  {
    auto history = dr::drd::ScheduleHistory::open(history_file);
    REQUIRE(history.ok());
    CHECK((*history)->warnings().empty());
    clock.set(at(8, 1) + minutes(30));
    dr::drd::Scheduler scheduler(config, clock, runs, {}, box.state() / "test-restores", history->get());
    dr::drd::v1::ListSchedulesResponse listed;
    scheduler.listSchedules(&listed, 10);
    REQUIRE(listed.schedules_size() == 1);
    const auto& schedule = listed.schedules(0);
    CHECK(schedule.mode() == "backup");
    REQUIRE(schedule.has_last());
    CHECK(schedule.last().snapshot() == (box.backups() / "hourly-20261208T010000Z.db").string());
    CHECK(schedule.last().ok());
    REQUIRE(schedule.recent_size() == 4);
    CHECK(schedule.recent(0).snapshot() == schedule.last().snapshot());  // newest first
    CHECK(schedule.recent(3).snapshot() == (box.backups() / "hourly-20261207T220000Z.db").string());

    // The fifth cycle, after the restart: 00:00 leaves (keep_last: 02:00, 01:00; keep_daily: 02:00, 23:00).
    scheduler.start();
    REQUIRE(client->put("/registry/cycle/4", std::string(2000, 'c')).ok());
    clock.set(at(8, 2));
    scheduler.wake();
    waitForFinished(scheduler, 1);
    const auto results = (*history)->results();
    REQUIRE(results.size() == 5);
    INFO(results.back().message() << "\n" << results.back().detail());
    CHECK(results.back().ok());
    REQUIRE(results.back().pruned_size() == 2);
    CHECK(results.back().pruned(0) == (box.backups() / "hourly-20261208T000000Z.db").string());
    scheduler.stop();
  }
  const std::set<std::string> kept = {"hourly-20261207T230000Z.db", "hourly-20261208T010000Z.db",
                                      "hourly-20261208T020000Z.db"};
  local = dr::listBackups(box.backups());
  REQUIRE(local.ok());
  CHECK(names(*local) == kept);

  // The bucket holds the same backups, each byte-identical to the one on disk, its verdict copied too.
  auto store = dr::S3Client::open(s3.config());
  REQUIRE(store.ok());
  auto remote = dr::listBucketBackups(*store, s3.location("prod/"));
  REQUIRE(remote.ok());
  CHECK(names(*remote) == kept);
  for (const auto& b : *remote) CHECK(b.verified == true);
  for (const auto& name : kept) {
    const fs::path downloaded = box.dir.path / ("downloaded-" + name);
    auto sha = store->getFile(s3.location("prod/" + name), downloaded);
    REQUIRE(sha.ok());
    CHECK(*sha == dr::sha256FileHex(box.backups() / name).value());
  }

  // Every kept backup restores (decrypted in the throwaway dir only), the newest with every write made.
  const std::string key(32, '\x77');
  for (const auto& name : kept) {
    dr::TestRestoreOptions options;
    options.key = key;
    options.work_parent = box.dir.path;
    auto restored = dr::testRestore(box.backups() / name, options);
    REQUIRE(restored.ok());
    INFO(name << ": " << restored->message);
    CHECK(restored->ok);
  }
  // The decrypted copies went with the throwaway dirs: nothing in plaintext was left anywhere in the sandbox.
  for (const auto& entry : fs::recursive_directory_iterator(box.dir.path)) {
    if (entry.is_regular_file() && entry.path().extension() == ".db") {
      INFO(entry.path());
      CHECK(dr::isEncryptedSnapshot(entry.path()));
    }
  }
}

TEST_CASE("a backup schedule whose store refuses its credentials fails at the copy, says why, and never shows the "
          "secret",
          "[drd][schedule][backup][s3][real]") {
  EtcdCluster cluster(EtcdClusterOptions{.members = 1});
  auto client = dr::EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client.ok());
  REQUIRE(client->put("/registry/k", "v").ok());
  S3Server s3;
  BackupSandbox box;
  const dr::DrdConfig config = backupConfig(box, cluster, s3, "NOT-A-KEY-ID");
  dr::drd::RunManager runs(box.state(), {});
  ManualClock clock(sys_days{year{2026} / 12 / 7} + hours(9) + minutes(59));
  auto history = dr::drd::ScheduleHistory::open(box.state() / "history.jsonl");
  REQUIRE(history.ok());
  dr::drd::Scheduler scheduler(config, clock, runs, {}, box.state() / "test-restores", history->get());
  dr::drd::v1::ScheduleResult result;
  REQUIRE(scheduler.rehearse("hourly", &result).ok());
  INFO(result.message() << "\n" << result.detail());
  CHECK_FALSE(result.ok());
  CHECK(result.message().find("backup FAILED at copy to s3://" + s3.bucket() + "/prod/") != std::string::npos);
  CHECK(result.message().find("InvalidAccessKeyId") != std::string::npos);
  CHECK(result.detail().find(kSecret) == std::string::npos);
  CHECK(result.message().find(kSecret) == std::string::npos);
  CHECK(readText(box.state() / "history.jsonl").find(kSecret) == std::string::npos);
  // Saved and proven restorable before the copy failed: it stays on disk, good, for the next copy.
  CHECK(result.verified());
  auto local = dr::listBackups(box.backups());
  REQUIRE(local.ok());
  REQUIRE(local->size() == 1);
  CHECK(local->front().verified == true);
  // The failure is on disk too.
  REQUIRE((*history)->results().size() == 1);
  CHECK_FALSE((*history)->results()[0].ok());
}

TEST_CASE("a backup that fails its test-restore is kept for inspection, marked FAILED, and not copied",
          "[drd][schedule][backup][s3][real]") {
  EtcdCluster cluster(EtcdClusterOptions{.members = 1});
  auto client = dr::EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client.ok());
  REQUIRE(client->put("/registry/k", "v").ok());
  S3Server s3;
  BackupSandbox box;
  dr::DrdConfig config = backupConfig(box, cluster, s3, S3Server::kAccessKeyId);
  config.etcd = "/bin/false";  // the throwaway etcd exits at once: the backup is not proven restorable
  dr::drd::RunManager runs(box.state(), {});
  ManualClock clock(sys_days{year{2026} / 12 / 7} + hours(9) + minutes(59));
  dr::drd::Scheduler scheduler(config, clock, runs, {}, box.state() / "test-restores");
  dr::drd::v1::ScheduleResult result;
  REQUIRE(scheduler.rehearse("hourly", &result).ok());
  INFO(result.message() << "\n" << result.detail());
  CHECK_FALSE(result.ok());
  CHECK_FALSE(result.verified());
  CHECK(result.message().find("backup FAILED at test-restore") != std::string::npos);
  CHECK(result.uploaded_to().empty());
  auto local = dr::listBackups(box.backups());
  REQUIRE(local.ok());
  REQUIRE(local->size() == 1);
  CHECK(local->front().verified == false);                  // kept, marked FAILED
  CHECK_FALSE(dr::newestSnapshot(box.backups()).ok());      // never offered as the newest
  auto store = dr::S3Client::open(s3.config());
  REQUIRE(store.ok());
  auto remote = store->list(s3.location("prod/"));
  REQUIRE(remote.ok());
  CHECK(remote->empty());  // nothing copied
}
