// drd's schedules in-process, with an injected clock: a dry-run schedule fires when the clock reaches its minute
// (and not before), its result shows in ListSchedules over a real gRPC socket with the next run time; Rehearse runs a
// schedule now; a test-restore of a real snapshot (from a real etcd) passes and of a corrupted copy is reported failed.
#include "drd/scheduler.h"
#include "rehearse/backup_catalog.h"

#include <atomic>

#include "drd/drd_server.h"
#include "drd/run_manager.h"
#include "drd_test_support.h"
#include "etcd/snapshot_file.h"
#include "etcd/snapshot_save.h"
#include "fixtures/etcd_fixture.h"
#include "rehearse/drd_config.h"

namespace fs = std::filesystem;
using namespace dr::test;
using namespace std::chrono;

namespace {

std::int64_t toMs(system_clock::time_point t) {
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// What the scheduler hands to its sinks (the metrics in drd).
struct Recorded {
  std::mutex mutex;
  std::vector<std::pair<std::string, bool>> finished;
  std::map<std::string, int> run_states;
  dr::drd::SchedulerSinks sinks() {
    dr::drd::SchedulerSinks s;
    s.schedule_finished = [this](const dr::ScheduleConfig& schedule, bool ok, milliseconds, std::optional<milliseconds>,
                                 std::int64_t) {
      std::lock_guard lock(mutex);
      finished.emplace_back(schedule.name, ok);
    };
    s.run_states = [this](const std::map<std::string, int>& states) {
      std::lock_guard lock(mutex);
      run_states = states;
    };
    return s;
  }
};

dr::DrdConfig config(const fs::path& file, const std::string& yaml) {
  auto parsed = dr::parseDrdConfig(yaml, file);
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

}  // namespace

TEST_CASE("a dry-run schedule fires when the injected clock reaches its minute", "[drd][schedule]") {
  RunSandbox box;
  const auto cfg = config(box.root() / "drd.yaml",
                          "schedules:\n"
                          "  - name: nightly\n"
                          "    cron: \"0 3 * * *\"\n"
                          "    mode: dry-run\n"
                          "    inventory: " +
                              box.inventory().string() +
                              "\n"
                              "    snapshot: " +
                              box.snapshot().string() +
                              "\n"
                              "    plan: " +
                              kLocalStepsPlan + "\n");
  const auto start = sys_days{year{2026} / 11 / 23} + hours(2) + minutes(59) + seconds(30);
  ManualClock clock(start);
  dr::drd::RunManager runs(box.state());
  Recorded recorded;
  dr::drd::Scheduler scheduler(cfg, clock, runs, recorded.sinks(), box.root() / "work");
  dr::drd::DrdService service(runs, &scheduler);
  auto server = dr::drd::DrdServer::start({"unix://" + (box.root() / "drd.sock").string(), "", "", ""}, service);
  REQUIRE(server.ok());
  auto stub = drdStub((*server)->dialAddress());
  scheduler.start();

  auto list = [&] {
    v1::ListSchedulesResponse response;
    grpc::ClientContext context;
    withDeadline(context);
    REQUIRE(stub->ListSchedules(&context, {}, &response).ok());
    REQUIRE(response.schedules_size() == 1);
    return response.schedules(0);
  };
  const auto before = list();
  CHECK(before.name() == "nightly");
  CHECK(before.mode() == "dry-run");
  CHECK(before.next_run_ms() == toMs(sys_days{year{2026} / 11 / 23} + hours(3)));
  CHECK_FALSE(before.has_last());

  // Real time passes, the injected clock does not: nothing fires.
  scheduler.wake();
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(scheduler.finishedCount() == 0);

  clock.set(start + seconds(35));  // 03:00:05
  scheduler.wake();
  REQUIRE(eventually([&] { return scheduler.finishedCount() == 1; }));
  const auto after = list();
  REQUIRE(after.has_last());
  INFO(after.last().detail());
  CHECK(after.last().ok());
  CHECK(after.last().mode() == "dry-run");
  CHECK_THAT(after.last().message(), Catch::Contains("dry run passed"));
  CHECK_THAT(after.last().detail(), Catch::Contains("one@m1"));
  CHECK(after.next_run_ms() == toMs(sys_days{year{2026} / 11 / 24} + hours(3)));
  CHECK_FALSE(fs::exists(box.memberDir("drd-test") / "one"));  // a dry-run changes nothing
  {
    std::lock_guard lock(recorded.mutex);
    REQUIRE(recorded.finished.size() == 1);
    CHECK(recorded.finished[0] == std::make_pair(std::string("nightly"), true));
  }

  // Rehearse runs it now, whatever the clock; an unknown name gets a suggestion.
  v1::RehearseRequest request;
  request.set_schedule("nightly");
  v1::ScheduleResult result;
  grpc::ClientContext context;
  withDeadline(context);
  REQUIRE(stub->Rehearse(&context, request, &result).ok());
  CHECK(result.ok());
  CHECK(scheduler.finishedCount() == 2);
  request.set_schedule("nigthly");
  grpc::ClientContext typo_context;
  withDeadline(typo_context);
  const grpc::Status typo = stub->Rehearse(&typo_context, request, &result);
  CHECK(typo.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(typo.error_message(), Catch::Contains("did you mean 'nightly'"));
  scheduler.stop();
}

TEST_CASE("a dry-run schedule whose preflight fails is reported failed", "[drd][schedule]") {
  RunSandbox box;
  // The preflight `look` tests the data dir's parent: gone, the preflight fails.
  const fs::path inventory = box.inventory("gone");
  fs::remove_all(box.root() / "gone");
  const auto cfg = config(box.root() / "drd.yaml",
                          "schedules:\n"
                          "  - name: broken\n"
                          "    cron: \"*/5 * * * *\"\n"
                          "    mode: dry-run\n"
                          "    inventory: " +
                              inventory.string() +
                              "\n"
                              "    snapshot: " +
                              box.snapshot().string() +
                              "\n"
                              "    plan: " +
                              kLocalStepsPlan + "\n");
  ManualClock clock(system_clock::now());
  dr::drd::RunManager runs(box.state());
  Recorded recorded;
  dr::drd::Scheduler scheduler(cfg, clock, runs, recorded.sinks(), box.root() / "work");
  v1::ScheduleResult result;
  REQUIRE(scheduler.rehearse("broken", &result).ok());
  CHECK_FALSE(result.ok());
  CHECK_THAT(result.message(), Catch::Contains("FAILED"));
  std::lock_guard lock(recorded.mutex);
  REQUIRE(recorded.finished.size() == 1);
  CHECK_FALSE(recorded.finished[0].second);
}

TEST_CASE("test-restore schedules: a real snapshot passes, a corrupted one is reported failed", "[drd][schedule]") {
  RunSandbox box;
  const fs::path good_dir = box.root() / "backups-good";
  const fs::path bad_dir = box.root() / "backups-bad";
  fs::create_directories(good_dir);
  fs::create_directories(bad_dir);
  {
    EtcdCluster cluster(EtcdClusterOptions{.members = 1});
    for (int i = 0; i < 10; ++i)
      REQUIRE(cluster.etcdctl({"put", "/registry/k" + std::to_string(i), "v"}).exit_code == 0);
    auto saved = dr::saveSnapshot(cluster.inventory(), good_dir / "etcd-1.db", dr::SnapshotSaveOptions{});
    REQUIRE(saved.ok());
    fs::copy_file(saved->path, bad_dir / "etcd-1.db");
    fs::copy_file(saved->sidecar_path, dr::snapshotSidecarPath(bad_dir / "etcd-1.db"));
    std::fstream file(bad_dir / "etcd-1.db", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(bad_dir / "etcd-1.db") / 2));
    file.write("\xde\xad\xbe\xef", 4);
  }
  const auto cfg = config(box.root() / "drd.yaml",
                          "schedules:\n"
                          "  - name: good\n"
                          "    cron: \"0 4 * * *\"\n"
                          "    mode: test-restore\n"
                          "    backup_dir: " +
                              good_dir.string() +
                              "\n"
                              "  - name: bad\n"
                              "    cron: \"0 4 * * *\"\n"
                              "    mode: test-restore\n"
                              "    backup_dir: " +
                              bad_dir.string() + "\n");
  ManualClock clock(sys_days{year{2026} / 11 / 23} + hours(3) + minutes(59));
  dr::drd::RunManager runs(box.state());
  Recorded recorded;
  dr::drd::Scheduler scheduler(cfg, clock, runs, recorded.sinks(), box.root() / "work");
  fs::create_directories(box.root() / "work");
  scheduler.start();
  clock.set(sys_days{year{2026} / 11 / 23} + hours(4));
  scheduler.wake();
  REQUIRE(eventually([&] { return scheduler.finishedCount() == 2; }, seconds(90)));
  v1::ListSchedulesResponse response;
  scheduler.listSchedules(&response);
  REQUIRE(response.schedules_size() == 2);
  const auto& good = response.schedules(0);
  const auto& bad = response.schedules(1);
  INFO(good.last().message() << "\n" << good.last().detail());
  CHECK(good.last().ok());
  CHECK(good.last().snapshot() == (good_dir / "etcd-1.db").string());
  CHECK_THAT(good.last().detail(), Catch::Contains("revision: expected"));
  INFO(bad.last().message());
  CHECK_FALSE(bad.last().ok());
  CHECK_THAT(bad.last().message(), Catch::Contains("damaged"));
  scheduler.stop();
  // Each verdict is recorded beside its backup: the damaged one is never offered as the newest again, and the
  // newest good backup (drd's gauge) is known from the files alone.
  CHECK(dr::recordedVerdict(good_dir / "etcd-1.db") == true);
  CHECK(dr::recordedVerdict(bad_dir / "etcd-1.db") == false);
  CHECK_FALSE(dr::newestSnapshot(bad_dir));
  CHECK(dr::newestVerifiedBackupMs(good_dir).has_value());
  CHECK_FALSE(dr::newestVerifiedBackupMs(bad_dir).has_value());
}
