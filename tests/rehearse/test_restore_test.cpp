// testRestore against REAL snapshots: one taken once from a real etcd (fixture) with saveSnapshot, so its sidecar
// exists; then copies of it damaged in the ways a backup goes bad. Every case also checks the teardown: no process
// left that mentions the throwaway dir, and the dir itself gone.
#include "rehearse/test_restore.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>

#include "etcd/etcd_client.h"
#include "etcd/snapshot_file.h"
#include "etcd/snapshot_save.h"
#include "fixtures/etcd_fixture.h"
#include "fixtures/temp_dir.h"

namespace dr {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kLiveKeys = 24;  // 25 keys put, one deleted

// The backup every case starts from, taken once (a real etcd costs seconds): 25 keys, 5 of them overwritten and 1
// deleted, so the file holds more key revisions than live keys.
struct Backup {
  test::TempDir dir{"dr-test-restore-backup"};
  SavedSnapshot saved;
};

const Backup& backup() {
  static const std::unique_ptr<Backup> instance = [] {
    auto b = std::make_unique<Backup>();
    // Three members, as production: the snapshot comes from a follower and its membership lists three peers,
    // which the one-member restore must replace.
    test::EtcdCluster cluster(test::EtcdClusterOptions{.members = 3});
    auto client = EtcdClient::open(cluster.clientUrl(0), {});
    REQUIRE(client.ok());
    for (int i = 0; i < 25; ++i) REQUIRE(client->put("/registry/k" + std::to_string(i), "value").ok());
    for (int i = 0; i < 5; ++i) REQUIRE(client->put("/registry/k" + std::to_string(i), "changed").ok());
    auto deleted = test::runProgram({"/usr/bin/etcdctl", "--endpoints", cluster.clientUrl(0), "del", "/registry/k24"},
                                    {"ETCDCTL_API=3"});
    REQUIRE(deleted.exit_code == 0);
    auto saved = saveSnapshot(cluster.inventory(), b->dir.path / "etcd-1.db", SnapshotSaveOptions{});
    REQUIRE(saved.ok());
    REQUIRE(saved->key_count.has_value());
    b->saved = *saved;
    return b;
  }();
  return *instance;
}

// Copies the backup (and, when asked, its sidecar) into `dir` under `name`.
fs::path copyBackup(const fs::path& dir, const std::string& name, bool with_sidecar) {
  const fs::path target = dir / name;
  fs::copy_file(backup().saved.path, target);
  if (with_sidecar) fs::copy_file(backup().saved.sidecar_path, snapshotSidecarPath(target));
  return target;
}

void editSidecar(const fs::path& snapshot, const std::string& key, std::int64_t value) {
  const fs::path sidecar = snapshotSidecarPath(snapshot);
  std::ifstream in(sidecar);
  nlohmann::json json = nlohmann::json::parse(in);
  in.close();
  json[key] = value;
  std::ofstream(sidecar) << json.dump(2);
}

// Processes (not zombies) whose command line mentions `needle`.
int processesMentioning(const std::string& needle) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    // A process may exit between the listing and the read (the read then fails with ESRCH): the stream form
    // below turns that into an empty text instead of the exception istreambuf_iterator would let through.
    std::ifstream cmdline(entry.path() / "cmdline", std::ios::binary);
    std::stringstream buffer;
    buffer << cmdline.rdbuf();
    const std::string text = buffer.str();
    if (text.find(needle) == std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') continue;
    ++count;
  }
  return count;
}

// Runs a test restore in its own work parent and checks the teardown whatever the outcome.
TestRestoreResult restore(const fs::path& snapshot, TestRestoreOptions options = {}) {
  test::TempDir work("dr-test-restore-work");
  options.work_parent = work.path;
  options.timeout = std::min<std::chrono::seconds>(options.timeout, 30s);  // a hang fails the case, not the hour
  auto result = testRestore(snapshot, options);
  REQUIRE(result.ok());
  INFO(result->message);
  if (!result->work_dir.empty()) {  // empty when it failed before making one
    CHECK(result->work_dir.parent_path() == work.path);
    CHECK_FALSE(fs::exists(result->work_dir));
  }
  CHECK(fs::is_empty(work.path));
  CHECK(processesMentioning(work.path.string()) == 0);
  return *result;
}

TEST_CASE("test-restore: a real snapshot restores and matches its sidecar", "[restore][real]") {
  const SavedSnapshot& saved = backup().saved;
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = copyBackup(dir.path, "etcd-1.db", true);
  const TestRestoreResult result = restore(snapshot);
  INFO(result.message);
  CHECK(result.ok);
  CHECK(result.message.rfind("restorable: revision " + std::to_string(saved.revision), 0) == 0);
  CHECK(result.snapshot == snapshot);
  CHECK(result.sha256 == saved.sha256);
  CHECK(result.expected_source == "file");
  CHECK(result.expected_revision == saved.revision);
  CHECK(result.restored_revision == saved.revision);
  CHECK(result.expected_keys == saved.key_count);
  CHECK(result.restored_keys == saved.key_count);
  // The file counts every key revision and etcd's own entries; the restored member serves the live keys.
  CHECK(result.served_keys == kLiveKeys);
  CHECK(*result.restored_keys > kLiveKeys);
  CHECK(result.duration > 0ms);
  CHECK(result.duration < 60s);
}

TEST_CASE("test-restore: two at once do not collide (ports, dirs, tokens)", "[restore][real]") {
  // drd may run two test-restore schedules at the same time.
  test::TempDir dir("dr-test-restore");
  const fs::path first = copyBackup(dir.path, "one.db", true);
  const fs::path second = copyBackup(dir.path, "two.db", true);
  test::TempDir work("dr-test-restore-work");
  TestRestoreOptions options;
  options.work_parent = work.path;
  options.timeout = 30s;
  auto other = std::async(std::launch::async, [&] { return testRestore(second, options); });
  auto mine = testRestore(first, options);
  auto theirs = other.get();
  REQUIRE(mine.ok());
  REQUIRE(theirs.ok());
  INFO(mine->message << " / " << theirs->message);
  CHECK(mine->ok);
  CHECK(theirs->ok);
  CHECK(mine->work_dir != theirs->work_dir);
  CHECK(fs::is_empty(work.path));
  CHECK(processesMentioning(work.path.string()) == 0);
}

TEST_CASE("test-restore: a corrupted copy (bytes flipped in the middle, sidecar kept) fails", "[restore][real]") {
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = copyBackup(dir.path, "corrupt.db", true);
  {
    std::fstream file(snapshot, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(snapshot) / 2));
    file.write("\xde\xad\xbe\xef", 4);
  }
  const TestRestoreResult result = restore(snapshot);
  CHECK_FALSE(result.ok);
  CHECK(result.message.rfind("the snapshot is damaged: ", 0) == 0);
  CHECK(result.message.find("integrity trailer does not match") != std::string::npos);
  CHECK(result.sha256 != backup().saved.sha256);  // the hash of the bytes judged
  CHECK(result.sha256.size() == 64);
}

TEST_CASE("test-restore: a sidecar that says another key count fails", "[restore][real]") {
  const SavedSnapshot& saved = backup().saved;
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = copyBackup(dir.path, "etcd-1.db", true);
  editSidecar(snapshot, "key_count", *saved.key_count + 7);
  const TestRestoreResult result = restore(snapshot);
  CHECK_FALSE(result.ok);
  // Refused before anything is restored: the file and its sidecar disagree.
  CHECK(result.message.rfind("the snapshot is damaged: ", 0) == 0);
  CHECK_THAT(result.message, Catch::Contains(fmt::format("the file holds {} keys but its sidecar", *saved.key_count)));
  CHECK_THAT(result.message, Catch::Contains(fmt::format("says {}", *saved.key_count + 7)));
}

TEST_CASE("test-restore: a sidecar that says another revision fails", "[restore][real]") {
  const SavedSnapshot& saved = backup().saved;
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = copyBackup(dir.path, "etcd-1.db", true);
  editSidecar(snapshot, "revision", saved.revision + 100);
  const TestRestoreResult result = restore(snapshot);
  CHECK_FALSE(result.ok);
  CHECK(result.message.rfind("the snapshot is damaged: ", 0) == 0);
  CHECK_THAT(result.message, Catch::Contains(fmt::format("the file's revision is {} but its sidecar", saved.revision)));
  CHECK_THAT(result.message, Catch::Contains(fmt::format("says {}", saved.revision + 100)));
}

TEST_CASE("test-restore: without a sidecar the file's own figures are the expectation", "[restore][real]") {
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = copyBackup(dir.path, "plain.db", false);
  const TestRestoreResult result = restore(snapshot);
  INFO(result.message);
  CHECK(result.ok);
  CHECK(result.expected_source == "file");
  CHECK(result.message.find("as the snapshot file says") != std::string::npos);
  CHECK(result.restored_revision == backup().saved.revision);
  CHECK(result.served_keys == kLiveKeys);
}

TEST_CASE("test-restore: a file that is not an etcd database fails", "[restore]") {
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = dir.path / "garbage.db";
  std::ofstream(snapshot) << std::string(4000, 'g');
  const TestRestoreResult result = restore(snapshot);
  CHECK_FALSE(result.ok);
  CHECK(result.message.rfind("the snapshot is damaged: ", 0) == 0);
  CHECK_THAT(result.message, Catch::Contains("no etcd integrity trailer"));
}

TEST_CASE("test-restore: no such file is an error, not a failed restore", "[restore]") {
  auto result = testRestore("/nonexistent/etcd.db", {});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message == "/nonexistent/etcd.db: no such snapshot file");
}

TEST_CASE("test-restore: a missing or exiting etcd, a failing restore, timeouts: failed, and torn down",
          "[restore][real]") {
  test::TempDir dir("dr-test-restore");
  const fs::path snapshot = copyBackup(dir.path, "etcd-1.db", true);

  TestRestoreOptions no_etcd;
  no_etcd.etcd = "no-such-etcd-binary";
  auto missing = restore(snapshot, no_etcd);
  CHECK_FALSE(missing.ok);
  CHECK(missing.message == "cannot run etcd: no-such-etcd-binary: program not found on PATH");

  TestRestoreOptions exits;
  exits.etcd = "/bin/false";
  auto exited = restore(snapshot, exits);
  CHECK_FALSE(exited.ok);
  CHECK(exited.message.rfind("the restored etcd exited (code 1) before serving", 0) == 0);
  CHECK(exited.restored_keys == backup().saved.key_count);  // the restore itself had worked

  // Stand-ins: an etcdctl whose restore fails (its status still works), and an etcd that never serves.
  const fs::path failing_etcdctl = dir.path / "etcdctl-restore-fails";
  std::ofstream(failing_etcdctl) << "#!/bin/sh\nif [ \"$2\" = restore ]; then echo 'boom: no space left' >&2; exit 5; "
                                    "fi\nexec /usr/bin/etcdctl \"$@\"\n";
  const fs::path silent_etcd = dir.path / "etcd-never-serves";
  const fs::path silent_pid = dir.path / "silent.pid";
  std::ofstream(silent_etcd) << "#!/bin/sh\necho $$ > " << silent_pid.string() << "\nexec sleep 300\n";
  fs::permissions(failing_etcdctl, fs::perms::owner_all);
  fs::permissions(silent_etcd, fs::perms::owner_all);

  TestRestoreOptions restore_fails;
  restore_fails.etcdctl = failing_etcdctl.string();
  auto failed = restore(snapshot, restore_fails);
  CHECK_FALSE(failed.ok);
  CHECK(failed.message == "etcdctl snapshot restore failed (exit 5): boom: no space left");

  TestRestoreOptions never_serves;
  never_serves.etcd = silent_etcd.string();
  never_serves.timeout = 2s;
  auto silent = restore(snapshot, never_serves);
  CHECK_FALSE(silent.ok);
  CHECK(silent.message.rfind("the restored etcd did not serve a linearizable read within 2 s: ", 0) == 0);
  // Its command line does not name the work dir, so check its pid: killed and reaped, not left sleeping.
  std::string pid;
  std::ifstream(silent_pid) >> pid;
  REQUIRE_FALSE(pid.empty());
  CHECK_FALSE(fs::exists("/proc/" + pid));

  TestRestoreOptions hurried;
  hurried.timeout = 0s;
  auto timed_out = restore(snapshot, hurried);
  CHECK_FALSE(timed_out.ok);
  CHECK(timed_out.message.rfind("etcdctl snapshot restore did not finish within", 0) == 0);
}

TEST_CASE("newest snapshot: by the sidecar's or the file's time, ignoring partial and sidecar files", "[restore]") {
  test::TempDir dir("dr-newest");
  const auto now = fs::file_time_type::clock::now();
  auto make = [&](const std::string& name, std::chrono::minutes age) {
    std::ofstream(dir.path / name) << "x";
    fs::last_write_time(dir.path / name, now - age);
  };
  make("a.db", 50min);
  make("b.db", 40min);
  make("b.db.sha256", 1min);
  make("c.db.part", 0min);  // a save in progress
  make(".d.db.swp", 0min);
  CHECK(newestSnapshot(dir.path).value() == dir.path / "b.db");
  // a.db's sidecar was written after b.db: the sidecar marks when a backup was complete.
  make("a.db.json", 30min);
  CHECK(newestSnapshot(dir.path).value() == dir.path / "a.db");

  test::TempDir empty("dr-newest-empty");
  std::ofstream(empty.path / "only.db.json") << "{}";
  auto none = newestSnapshot(empty.path);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == empty.path.string() +
                                    ": no snapshot in this directory (files ending in .part, .sha256 or .json are "
                                    "not snapshots)");
  auto not_dir = newestSnapshot(dir.path / "a.db");
  REQUIRE_FALSE(not_dir.ok());
  CHECK(not_dir.error().message == (dir.path / "a.db").string() + ": not a directory");
}

}  // namespace
}  // namespace dr
