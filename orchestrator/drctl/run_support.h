// What apply, resume, rollback and status share, around the non-printing core in exec/run_session.h (planning,
// host routing, lock, journal session, executing): printing what that core reports, showing progress (live view, log lines or JSON events), turning SIGINT/SIGTERM into a stop request, and running
// a plan through the executor with its journal, logs and the final summary.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etcd/snapshot_file.h"
#include "exec/dry_run.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/run_lock.h"
#include "exec/run_dir.h"
#include "exec/run_session.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "plan/plan_template.h"

namespace dr::cli {

inline constexpr const char* kDefaultRunsDir = "runs";
inline constexpr const char* kDefaultTemplate = "full-restore";

// Loads inventory, snapshot and template and builds the plan for `run_id`. On failure every problem has been
// printed (FILE:LINE:COLUMN: message) and nullopt is returned: the caller exits 2.
std::optional<PlannedRun> loadAndPlan(const std::string& inventory_path, const std::string& snapshot_path,
                                      const std::string& template_name, const std::string& run_id,
                                      const std::string& token);

// Puts the directory of the running drctl first on PATH (inherited by local steps).
void putOwnDirectoryOnPath();

enum class LogFormat { Text, Json };
Result<LogFormat> parseLogFormat(const std::string& text);

// A progress observer for the terminal: a live view when stderr is a TTY and the format is text, plain log lines
// otherwise, one JSON object per event on stdout for --log-format json.
std::unique_ptr<ExecutionObserver> makeProgressObserver(LogFormat format, const Plan& plan);

// SIGINT/SIGTERM while a plan runs: the first stops scheduling, the second cancels the steps in flight. Installed
// for the lifetime of the object; signals arriving before an executor is attached are remembered.
class SignalGuard {
 public:
  SignalGuard();
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  void attach(Executor* executor);
  int signalsSeen() const { return seen_.load(); }

 private:
  void watch();
  std::atomic<int> seen_{0};
  std::atomic<Executor*> executor_{nullptr};
  std::thread watcher_;
  std::string first_signal_;
};

// What executePlan needs for one session of a run (apply, resume or rollback).
struct ExecutionRequest {
  const Plan* plan = nullptr;
  std::map<std::string, StepDirective> directives;
  RunDirectory* run_dir = nullptr;
  JournalWriter* journal = nullptr;
  std::map<std::string, HostEndpoint> endpoints;
  ExecutorOptions options;
  LogFormat log_format = LogFormat::Text;
  std::string runs_root;  // as the operator should type it in the printed commands
};

// Runs the plan, prints the per-host summary and the exact resume / rollback commands, and returns the exit code
// (0 finished, 1 failed, 3 interrupted).
int executePlan(ExecutionRequest request);

// How a session's end is shown: the per-host summary and the exact resume / rollback commands (text), or one
// run-ended JSON object. Shared by executePlan and `drctl --server`, which gets the result from drd.
struct RunEndReport {
  std::string run_id;
  bool undo = false;
  LogFormat log_format = LogFormat::Text;
  std::filesystem::path logs_dir;
  std::string resume_command;
  std::string rollback_command;
};
// Prints the end of a session and returns its exit code (0 finished, 1 failed, 3 interrupted).
int reportRunEnd(const ExecutionResult& result, const RunEndReport& report);

// Prints a dry-run's report (per host, what would run and what is already done) on stdout; returns 0 when every
// host was reached and every preflight passed, 1 otherwise. Defined in cmd_apply.cpp.
int printDryRun(const Plan& plan, const DryRunReport& report);

// What `drctl status` shows, read from a local runs directory or from drd (`drctl --server`). Printed by
// cmd_status.cpp, on stdout.
struct RunStatusRow {
  std::string run_id, cluster, done, state;
};
void printRunList(const std::vector<RunStatusRow>& rows, const std::string& where);
struct StepStatusLine {
  std::string id, host, state;
  int attempts = 0;
  std::int64_t duration_ms = 0;
  std::optional<int> exit_code;
  std::string failure;  // the message of a failed step
  bool done = false;
};
struct RunStatusView {
  std::string run_id, cluster, plan_name, fingerprint, state_text, reason, tail_note;
  std::vector<StepStatusLine> steps;
  bool ended = false;  // finished or rolled back: no resume/rollback commands
  std::string resume_command, rollback_command;
};
void printRunStatus(const RunStatusView& view);

// `drctl resume RUN_ID --runs DIR` and friends, exactly as the operator should type them.
std::string resumeCommand(const std::string& run_id, const std::string& runs_root);
std::string rollbackCommand(const std::string& run_id, const std::string& runs_root);

// Takes the cluster lock for `run_id`. A stale lock left by this same run (drctl was killed) is taken over, saying
// so: resuming or rolling back the run is exactly what the lock protects. Any other holder refuses.
Result<RunLock> acquireRunLock(const std::string& runs_root, const std::string& cluster, const std::string& run_id);

bool stdinIsTerminal();
bool stderrIsTerminal();

}  // namespace dr::cli
