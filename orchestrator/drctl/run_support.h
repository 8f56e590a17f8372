// What apply, resume, rollback and status share: loading and planning the inputs, choosing a transport per host,
// showing progress (live view, log lines or JSON events), turning SIGINT/SIGTERM into a stop request, and running
// a plan through the executor with its journal, logs and the final summary.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "etcd/snapshot_file.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/run_lock.h"
#include "exec/run_dir.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "plan/plan_template.h"
#include "transport/local_transport.h"
#include "transport/ssh_transport.h"

namespace dr::cli {

inline constexpr const char* kDefaultRunsDir = "runs";
inline constexpr const char* kDefaultTemplate = "full-restore";

// Everything a plan is made from, loaded and planned. Problems were printed to stderr when loading fails.
struct PlannedRun {
  Inventory inventory;
  SnapshotInfo snapshot;
  PlanTemplate plan_template;
  Plan plan;
};

// Loads inventory, snapshot and template and builds the plan for `run_id`. On failure every problem has been
// printed (FILE:LINE:COLUMN: message) and nullopt is returned: the caller exits 2.
std::optional<PlannedRun> loadAndPlan(const std::string& inventory_path, const std::string& snapshot_path,
                                      const std::string& template_name, const std::string& run_id,
                                      const std::string& token);

// Owns the transports and maps each of a plan's hosts to one: the controller and loopback hosts run locally
// (drctl's own directory first on PATH, so steps can call `drctl`), the others over SSH with the inventory's
// settings for that address.
class HostRouting {
 public:
  HostRouting(const Inventory& inventory, bool accept_new_host_keys);
  std::map<std::string, HostEndpoint> endpoints(const Plan& plan);

 private:
  const Inventory& inventory_;
  bool accept_new_host_keys_;
  LocalTransport local_;
  SshTransport ssh_;
};

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

// `drctl resume RUN_ID --runs DIR` and friends, exactly as the operator should type them.
std::string resumeCommand(const std::string& run_id, const std::string& runs_root);
std::string rollbackCommand(const std::string& run_id, const std::string& runs_root);

// Takes the cluster lock for `run_id`. A stale lock left by this same run (drctl was killed) is taken over, saying
// so: resuming or rolling back the run is exactly what the lock protects. Any other holder refuses.
Result<RunLock> acquireRunLock(const std::string& runs_root, const std::string& cluster, const std::string& run_id);

// Opens the run's journal (creates it for a new run) and records the start of this session: RunStarted with the
// plan's fingerprint and the mode ("apply", "resume", "resume --force", "rollback").
Result<JournalWriter> startJournalSession(const RunDirectory& dir, bool new_run, const RunInfo& info,
                                          const std::string& fingerprint, const std::string& mode);

bool stdinIsTerminal();
bool stderrIsTerminal();

}  // namespace dr::cli
