// Scheduler: drd's schedules from its config. A thread wakes when the next schedule is due (ScheduleTimer says
// when) and runs it: a dry-run of the plan against the real hosts, a test-restore of the newest backup into a
// throwaway etcd, or a backup (rehearse/backup_job.h: save, test-restore, copy to the bucket, prune). Each result
// is appended to the schedule history on disk (schedule_history.h), kept as the schedule's last result
// (ListSchedules) and recorded in the metrics. Time comes from a WallClock, so tests fire a schedule by moving a
// manual clock instead of waiting a minute; results and backups are dated by it too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "drd.pb.h"
#include "drd/run_manager.h"
#include "drd/schedule_history.h"
#include "rehearse/drd_config.h"
#include "rehearse/schedule_timer.h"

namespace dr::drd {

// The scheduler's time. The system one in drd; a manual one in tests.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemWallClock final : public WallClock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

// Where results go besides ListSchedules: drd records them in its Prometheus metrics (rehearse/metrics.h).
struct SchedulerSinks {
  std::function<void(const ScheduleConfig& schedule, bool ok, std::chrono::milliseconds duration,
                     std::optional<std::chrono::milliseconds> rto, std::int64_t finished_unix_ms)>
      schedule_finished;
  std::function<void(const std::map<std::string, int>& run_states)> run_states;  // refreshed every few seconds
};

class Scheduler {
 public:
  // `clock`, `runs` and `history` are not owned and must outlive the scheduler. Test-restores work under
  // work_parent. Each schedule's last result starts as the history's (drd restarted). Without a history, results
  // are kept in memory only. The thread starts with start().
  Scheduler(const DrdConfig& config, WallClock& clock, RunManager& runs, SchedulerSinks sinks,
            std::filesystem::path work_parent, ScheduleHistory* history = nullptr);
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  // Ends the thread after the schedule it runs, if any, has finished.
  void stop();
  // Makes the thread look at the clock now (a test moved its clock).
  void wake();

  // Runs one schedule now, on the caller's thread (the Rehearse RPC). NOT_FOUND for an unknown name.
  grpc::Status rehearse(const std::string& name, v1::ScheduleResult* result);
  // With `history` > 0, each schedule's most recent results too, newest first.
  void listSchedules(v1::ListSchedulesResponse* response, int history = 0);
  // How many schedule runs have finished (tests wait on it).
  int finishedCount() const;

 private:
  void loop();
  v1::ScheduleResult runSchedule(const ScheduleConfig& schedule);
  v1::ScheduleResult runDryRun(const ScheduleConfig& schedule);
  v1::ScheduleResult runTestRestore(const ScheduleConfig& schedule);
  v1::ScheduleResult runBackupSchedule(const ScheduleConfig& schedule);

  DrdConfig config_;
  WallClock& clock_;
  RunManager& runs_;
  SchedulerSinks sinks_;
  std::filesystem::path work_parent_;
  ScheduleHistory* history_;

  mutable std::mutex mutex_;  // timer_, last_, finished_, stopping_, woken_
  std::condition_variable wake_;
  ScheduleTimer timer_;
  std::map<std::string, v1::ScheduleResult> last_;
  int finished_ = 0;
  bool stopping_ = false;
  bool woken_ = false;
  std::mutex running_;  // one schedule at a time, whether fired by the clock or by Rehearse
  std::thread thread_;
};

}  // namespace dr::drd
