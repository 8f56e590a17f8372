// drd's rehearsal schedules (see scheduler.h).
#include "drd/scheduler.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "core/suggest.h"
#include "etcd/snapshot_crypto.h"
#include "rehearse/backup_catalog.h"
#include "rehearse/backup_job.h"
#include "rehearse/test_restore.h"

namespace dr::drd {

namespace {

std::int64_t toMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// How often the run-state gauges are refreshed (each refresh reads every run's journal).
constexpr std::chrono::seconds kRunStatesEvery{5};

}  // namespace

Scheduler::Scheduler(const DrdConfig& config, WallClock& clock, RunManager& runs, SchedulerSinks sinks,
                     std::filesystem::path work_parent, ScheduleHistory* history)
    : config_(config),
      clock_(clock),
      runs_(runs),
      sinks_(std::move(sinks)),
      work_parent_(std::move(work_parent)),
      history_(history),
      timer_(config.schedules, clock.now()) {
  if (history_ != nullptr) {
    for (const auto& result : history_->results()) last_[result.schedule()] = result;
  }
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  if (sinks_.run_states) sinks_.run_states(runs_.runStateCounts());
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

int Scheduler::finishedCount() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

void Scheduler::loop() {
  auto states_refreshed = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = clock_.now();
    std::vector<ScheduleConfig> due = timer_.due(now);
    lock.unlock();
    for (const auto& schedule : due) {
      if (std::lock_guard check(mutex_); stopping_) break;
      runSchedule(schedule);
    }
    if (sinks_.run_states && (!due.empty() || std::chrono::steady_clock::now() - states_refreshed >= kRunStatesEvery)) {
      sinks_.run_states(runs_.runStateCounts());
      states_refreshed = std::chrono::steady_clock::now();
    }
    lock.lock();
    // Sleep until the next schedule is due by the clock, but look again at least every second: the clock may be
    // a test's, or the wall clock may have been set.
    auto wait = std::chrono::milliseconds(1000);
    if (auto next = timer_.nextWake()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock_.now());
      wait = std::clamp(until, std::chrono::milliseconds(0), wait);
    }
    wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

grpc::Status Scheduler::rehearse(const std::string& name, v1::ScheduleResult* result) {
  std::vector<std::string> names;
  for (const auto& schedule : config_.schedules) {
    if (schedule.name == name) {
      *result = runSchedule(schedule);
      return grpc::Status::OK;
    }
    names.push_back(schedule.name);
  }
  std::string message = "no schedule named '" + name + "'";
  if (auto guess = closestMatch(name, names)) message += "; did you mean '" + *guess + "'?";
  if (names.empty()) message += " (drd's config has no schedules)";
  return serviceError(grpc::StatusCode::NOT_FOUND, message, 2);
}

void Scheduler::listSchedules(v1::ListSchedulesResponse* response, int history) {
  history = std::clamp(history, 0, 1000);  // a bounded answer, whatever a client asks
  std::vector<v1::ScheduleResult> results;
  if (history > 0 && history_ != nullptr) results = history_->results();
  std::lock_guard lock(mutex_);
  for (const auto& schedule : config_.schedules) {
    auto* out = response->add_schedules();
    out->set_name(schedule.name);
    out->set_cron(schedule.cron);
    out->set_mode(scheduleModeName(schedule.mode));
    out->set_inventory(schedule.inventory);
    out->set_backup_dir(schedule.backup_dir);
    if (auto next = timer_.nextRun(schedule.name)) out->set_next_run_ms(toMs(*next));
    if (auto it = last_.find(schedule.name); it != last_.end()) {
      *out->mutable_last() = it->second;
    }
    for (auto it = results.rbegin(); it != results.rend() && out->recent_size() < history; ++it) {
      if (it->schedule() == schedule.name) *out->add_recent() = *it;
    }
  }
}

v1::ScheduleResult Scheduler::runSchedule(const ScheduleConfig& schedule) {
  std::lock_guard one_at_a_time(running_);
  const std::int64_t started = toMs(clock_.now());
  const auto began = std::chrono::steady_clock::now();
  v1::ScheduleResult result = schedule.mode == ScheduleMode::TestRestore ? runTestRestore(schedule)
                              : schedule.mode == ScheduleMode::Backup    ? runBackupSchedule(schedule)
                                                                         : runDryRun(schedule);
  const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  result.set_schedule(schedule.name);
  result.set_mode(scheduleModeName(schedule.mode));
  result.set_started_ms(started);
  result.set_finished_ms(std::max(toMs(clock_.now()), started + duration.count()));
  result.set_duration_ms(duration.count());
  // A test-restore's duration is how long bringing a backup back took: the RTO it proves (a backup's own
  // test-restore set rto_ms already).
  if (schedule.mode == ScheduleMode::TestRestore && result.ok()) result.set_rto_ms(duration.count());
  // On disk before anyone is told: what ListSchedules and the metrics said survives a restart.
  if (history_ != nullptr) {
    if (auto recorded = history_->append(result); !recorded) {
      result.set_message(result.message() + " (not recorded in the schedule history: " + recorded.error().message + ")");
    }
  }
  std::optional<std::chrono::milliseconds> rto;
  if (result.rto_ms() > 0) rto = std::chrono::milliseconds(result.rto_ms());
  if (sinks_.schedule_finished) sinks_.schedule_finished(schedule, result.ok(), duration, rto, result.finished_ms());
  std::lock_guard lock(mutex_);
  last_[schedule.name] = result;
  ++finished_;
  return result;
}

v1::ScheduleResult Scheduler::runDryRun(const ScheduleConfig& schedule) {
  v1::ScheduleResult result;
  std::string snapshot = schedule.snapshot;
  if (snapshot.empty()) {
    auto newest = newestSnapshot(schedule.backup_dir);
    if (!newest) {
      result.set_message(newest.error().message);
      return result;
    }
    snapshot = newest->string();
  }
  result.set_snapshot(snapshot);
  ops::ApplyRequest request;
  request.inventory = schedule.inventory;
  request.snapshot = snapshot;
  request.plan_template = schedule.plan;
  DryRunOutcome outcome = dryRunInventory(std::move(request));
  std::string detail;
  for (const auto& note : outcome.notes) detail += note + "\n";
  const std::vector<std::string> problems = outcome.refusal ? outcome.refusal->lines() : std::vector<std::string>{};
  for (const auto& problem : problems) detail += problem + "\n";
  if (outcome.report) detail += dryRunText(*outcome.report);
  result.set_detail(detail);
  result.set_ok(outcome.ok());
  if (!problems.empty()) {
    result.set_message("dry run could not start: " + problems.front());
  } else if (outcome.ok()) {
    result.set_message("dry run passed: every host reached, every preflight passed");
  } else {
    result.set_message("dry run FAILED: an unreachable host or a failed preflight (see detail)");
  }
  return result;
}

v1::ScheduleResult Scheduler::runTestRestore(const ScheduleConfig& schedule) {
  v1::ScheduleResult result;
  auto newest = newestSnapshot(schedule.backup_dir);
  if (!newest) {
    result.set_message(newest.error().message);
    return result;
  }
  result.set_snapshot(newest->string());
  TestRestoreOptions options;
  options.etcd = config_.etcd;
  options.etcdctl = config_.etcdctl;
  options.work_parent = work_parent_;
  std::string key;
  if (!schedule.encryption_key_file.empty()) {
    auto loaded = loadSnapshotKeyFile(schedule.encryption_key_file);
    if (!loaded) {
      result.set_message("the encryption key: " + loaded.error().message);
      return result;
    }
    key = std::move(loaded).value();
  }
  options.key = key;
  auto restored = testRestore(*newest, options);
  OPENSSL_cleanse(key.data(), key.size());
  if (!restored) {
    result.set_message(restored.error().message);
    return result;
  }
  result.set_ok(restored->ok);
  result.set_message(restored->message);
  // Beside the snapshot, so `drctl snapshot list` shows it and a failed backup is never offered as the newest again.
  if (auto recorded = recordVerdict(*restored, toMs(clock_.now())); !recorded) {
    result.set_message(result.message() + " (verdict not recorded: " + recorded.error().message + ")");
  }
  auto number = [](const std::optional<std::int64_t>& n) { return n ? std::to_string(*n) : std::string("?"); };
  result.set_detail(fmt::format(
      "snapshot {} sha256 {}\nrevision: expected {}, restored {}\nkeys: expected {}, "
      "restored {}\n",
      restored->snapshot.string(), restored->sha256, number(restored->expected_revision),
      number(restored->restored_revision), number(restored->expected_keys), number(restored->restored_keys)));
  return result;
}

v1::ScheduleResult Scheduler::runBackupSchedule(const ScheduleConfig& schedule) {
  BackupJob job;
  job.name = schedule.name;
  job.inventory = schedule.inventory;
  job.backup_dir = schedule.backup_dir;
  job.encryption_key_file = schedule.encryption_key_file;
  job.bucket = schedule.bucket;
  job.object_store = config_.object_store;
  job.retention = schedule.retention;
  job.test_restore.etcd = config_.etcd;
  job.test_restore.etcdctl = config_.etcdctl;
  job.test_restore.work_parent = work_parent_;
  job.runs_dir = runs_.runsDir();
  const BackupOutcome outcome = runBackup(job, toMs(clock_.now()));
  v1::ScheduleResult result;
  result.set_ok(outcome.ok);
  result.set_message(outcome.message);
  result.set_snapshot(outcome.backup.string());
  std::string detail;
  for (const auto& stage : outcome.stages) detail += stage + "\n";
  result.set_detail(detail);
  result.set_size(outcome.size);
  result.set_revision(outcome.revision);
  result.set_encrypted(outcome.encrypted);
  result.set_verified(outcome.verified.value_or(false));
  if (outcome.verified == true) result.set_rto_ms(outcome.test_restore_duration.count());
  result.set_uploaded_to(outcome.uploaded_to);
  for (const auto& pruned : outcome.pruned) result.add_pruned(pruned);
  return result;
}

}  // namespace dr::drd
