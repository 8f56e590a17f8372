// The core of running a plan, shared by drctl (which prints) and drd (which answers over gRPC): loading and
// planning the inputs with every problem returned instead of printed, mapping hosts to transports, the cluster
// lock, the run directory and its journal session, opening an existing run, and running the executor with an
// observer. Nothing here prints or exits; the programs decide what to show.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/result.h"
#include "etcd/snapshot_file.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/journal_sink.h"
#include "exec/run_dir.h"
#include "exec/run_lock.h"
#include "exec/run_state.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "plan/plan_template.h"
#include "transport/local_transport.h"
#include "transport/ssh_transport.h"

namespace dr {

// Everything a plan is made from, loaded and planned.
struct PlannedRun {
  Inventory inventory;
  SnapshotInfo snapshot;
  PlanTemplate plan_template;
  Plan plan;
};

// The outcome of planRun: the run when every input loaded and the plan was built, and every problem found on the
// way, kept apart by input so each program can show them its own way.
struct PlanningOutcome {
  std::optional<PlannedRun> run;
  std::vector<Diagnostic> inventory_diagnostics;  // FILE:LINE:COLUMN, warnings included
  std::string snapshot_error;                     // "PATH: why", empty when the snapshot is usable
  std::vector<Diagnostic> template_diagnostics;
  std::vector<Diagnostic> plan_diagnostics;

  // Every problem as one line, inventory first, then snapshot, template and planner.
  std::vector<std::string> problemLines() const;
  // Only the warnings among the diagnostics (FILE:LINE:COLUMN: warning: ...), for a plan that was built.
  std::vector<std::string> warningLines() const;
};

// What a plan is made from: files as the operator named them, the run it is for.
struct PlanInputs {
  std::string inventory;
  std::string snapshot;
  std::string plan_template;  // a built-in name or a file
  std::string run_id = "preview";
  std::string token;              // empty: derived from cluster name and run id
  bool allow_no_trailer = false;  // --skip-hash-check: a snapshot without etcd's trailer is accepted
  std::vector<std::string> replace_members;  // a replace_members plan's members (PlanOptions::replace_members)
  bool disarm_alarms = false;                // PlanOptions::disarm_alarms
  std::string snapshot_source = {};          // PlanOptions::snapshot_source
};

// Loads inventory, snapshot and template and builds the plan.
PlanningOutcome planRun(const PlanInputs& inputs);

// Puts the directory of the running program first on PATH (inherited by local steps), so a plan's steps can call
// `drctl` (verify-etcd does) whether drctl or drd, built side by side, runs them.
void prependProgramDirectoryToPath();

// Owns the transports and maps each of a plan's hosts to one: the controller and loopback hosts run locally, the
// others over SSH with the inventory's settings for that address. `inventory` must outlive the routing.
class HostRouting {
 public:
  HostRouting(const Inventory& inventory, bool accept_new_host_keys);
  std::map<std::string, HostEndpoint> endpoints(const Plan& plan);
  // The endpoint of one host (a plan's Step::host, or an inventory address).
  HostEndpoint endpointFor(const std::string& host);

 private:
  const Inventory& inventory_;
  bool accept_new_host_keys_;
  LocalTransport local_;
  SshTransport ssh_;
};

// Takes the cluster lock for `run_id`. A stale lock left by this same run (its process was killed) is taken over,
// and `took_over` (when given) says so: resuming or rolling back that run is exactly what the lock protects. Any
// other holder refuses, with RunLock's message naming it.
Result<RunLock> lockClusterForRun(const std::filesystem::path& runs_root, const std::string& cluster,
                                  const std::string& run_id, std::string* took_over = nullptr);

// Opens the run's journal (creates it for a new run) and records the start of this session: RunStarted with the
// plan's fingerprint and the mode ("apply", "resume", "resume --force", "rollback").
Result<JournalWriter> startJournalSession(const RunDirectory& dir, bool new_run, const RunInfo& info,
                                          const std::string& fingerprint, const std::string& mode);

// A new run on disk: runs_root/RUN_ID with plan.json, run.json and a journal whose first record is RunStarted
// ("apply"). The caller holds the cluster lock.
struct NewRun {
  RunDirectory dir;
  JournalWriter journal;
};
Result<NewRun> createRun(const std::filesystem::path& runs_root, const RunInfo& info, const Plan& plan);

// An existing run read back from its directory: run.json, plan.json and what the journal says.
struct OpenedRun {
  RunDirectory dir;
  RunInfo info;
  Plan plan;
  JournalSummary summary;
  std::vector<JournalRecord> records;  // the journal as read (drd replays it to watchers)
  bool torn_tail = false;
  std::string tail_note;
};
struct RunOpening {
  std::optional<OpenedRun> run;
  std::string error;       // what is wrong, when run is unset
  bool not_found = false;  // a bad run id or no such run (the caller's input), not a damaged run
};
RunOpening openRunDirectory(const std::filesystem::path& runs_root, const std::string& run_id);

// What differs between the plan a run started with and the plan made now: inputs (inventory, snapshot, template,
// token hashes) and, per step, added, removed and changed commands. One line each.
std::vector<std::string> describePlanChanges(const Plan& before, const Plan& now);

// One session of a run (apply, resume or rollback) through the executor. Pointers are not owned and must outlive
// the call.
struct RunExecution {
  const Plan* plan = nullptr;
  std::map<std::string, StepDirective> directives;
  const RunDirectory* run_dir = nullptr;  // step logs go to its logs/
  JournalSink* journal = nullptr;
  std::map<std::string, HostEndpoint> endpoints;
  ExecutorOptions options;
  ExecutionObserver* observer = nullptr;  // may be null
  Clock* clock = nullptr;                 // null: the system clock
  // Called with the executor once it exists and with nullptr before it is destroyed, so a signal watcher or an
  // RPC can stop it (Executor::requestStop, cancelInFlight) while it runs.
  std::function<void(Executor*)> attach;
  std::function<Result<std::string>(const std::string& source)> fetch_url;  // ExecutorEnv::fetch_url
};
Result<ExecutionResult> executeRun(const RunExecution& execution);

}  // namespace dr
