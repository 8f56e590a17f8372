// drd's Prometheus metrics: the outcome of every scheduled rehearsal and test-restore, and how many runs are in
// each state, so a team alerts on a backup that stopped being restorable instead of finding out during an outage.
// The metric names, their meaning and a sample alert rule are in docs/rehearsals.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/result.h"
#include "rehearse/drd_config.h"

namespace dr {

// Thread-safe registry rendered in the Prometheus text exposition format (version 0.0.4): per schedule
// drd_schedule_last_success_timestamp_seconds, drd_schedule_last_duration_seconds, drd_schedule_last_rto_seconds,
// drd_schedule_failures_total, drd_schedule_runs_total (label schedule="..", mode=".."); drd_runs{state=".."}.
// HELP and TYPE lines; label values escaped.
//
// In memory only: drd replays its stored schedule history through scheduleFinished at start-up if the figures
// should survive a restart. A gauge is absent until it has a value (no success yet: no last_success sample).
class Metrics {
 public:
  // Makes a configured schedule visible before its first run (runs and failures 0), so a dashboard lists it.
  void declareSchedule(const std::string& schedule, ScheduleMode mode);
  // One finished run. `rto`: the test-restore's whole duration (restore to serving), nullopt for a dry-run; the
  // last RTO shown is the last one given. `finished_unix_ms`: wall-clock end, milliseconds since the epoch.
  void scheduleFinished(const std::string& schedule, ScheduleMode mode, bool ok, std::chrono::milliseconds duration,
                        std::optional<std::chrono::milliseconds> rto, std::int64_t finished_unix_ms);
  // A test-restore schedule's backup dir: when its newest backup that passed its test-restore was saved (nullopt:
  // none has). Read from the verdicts on disk (backup_catalog.h), so it survives drd's restart. An alert on its age
  // catches backups that stopped coming, and backups that stopped passing.
  void setNewestGoodBackup(const std::string& schedule, std::optional<std::int64_t> saved_unix_ms);
  // Replaces the per-state run counts (drd_runs{state}): "running", "succeeded", "failed", "interrupted"...
  void setRunStates(const std::map<std::string, int>& count_by_state);
  std::string prometheusText() const;

 private:
  struct ScheduleStats {
    ScheduleMode mode = ScheduleMode::DryRun;
    std::optional<std::int64_t> last_success_unix_ms;
    std::optional<std::int64_t> last_duration_ms;
    std::optional<std::int64_t> last_rto_ms;
    std::optional<bool> last_ok;
    std::optional<std::int64_t> newest_good_backup_unix_ms;
    std::uint64_t failures = 0;
    std::uint64_t runs = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, ScheduleStats> schedules_;  // ordered: the exposition is deterministic
  std::map<std::string, int> run_states_;
};

// The Prometheus text format's label-value escaping: backslash, double quote and newline.
std::string escapePrometheusLabel(const std::string& value);

// Serves GET /metrics (cpp-httplib, libcpp-httplib-dev is installed; see sim/CMakeLists.txt for how to link it:
// pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)) on its own thread until destroyed.
// `metrics` must outlive the server.
class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen /*HOST:PORT, port 0 = any*/,
                                                      const Metrics& metrics);
  int port() const;
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dr
