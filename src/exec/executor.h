// The executor runs a Plan's DAG against real (or simulated) hosts: a step starts when all its needs are done;
// steps on different hosts run in parallel, at most `per_host` commands at a time on one host, plus at most one
// transfer (a step with an upload) beside them, since copying a file into its staging place changes nothing the
// host's other steps rely on; each slot's session is opened once and reused. It fails fast: after a failed step nothing new starts, steps in flight finish, and the
// result tells each host's state and which steps are done, failed and not started.
//
// Every start, finish and failure is appended to the journal (durable on return) before any step that depends on
// it can start; output streams into the step's log file and its SHA-256 goes into the journal. The executor
// reaches the world only through interfaces (Transport, Clock, JournalSink, ExecutionObserver), so tests and the
// simulator swap them. It never prints and never exits.
//
// The same engine runs a rollback (ExecutorOptions::mode = Undo, over the plan built by rollback.h): the records
// become Undo*, the end record RollbackFinished.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "exec/clock.h"
#include "exec/execution_observer.h"
#include "exec/journal_sink.h"
#include "plan/plan.h"
#include "transport/transport.h"

namespace dr {

// How to reach the host named by Step::host. `transport` is not owned and must outlive the executor.
struct HostEndpoint {
  Transport* transport = nullptr;
  HostTarget target;
};

// What to do with a step when the run starts (resume and rollback decide this from the journal).
enum class StepDirective {
  Run,          // run it
  AlreadyDone,  // done before: do not run, counts as done for its dependents
  CheckFirst,   // in doubt (started, not known to have finished): run its check; exit 0 => done, else run it
  RunIfCheckPasses,  // rollback of an in-doubt step: undo it only when its check says its effect is in place
};

enum class ExecutionMode { Apply, Undo };

struct ExecutorOptions {
  int per_host = 1;  // steps at a time on one host (each concurrent slot opens its own session: a Session is
                     // used by one thread at a time)
  std::chrono::milliseconds retry_backoff{1000};       // before the 2nd attempt; doubled after each failure
  std::chrono::milliseconds retry_backoff_max{30000};  // cap
  ExecutionMode mode = ExecutionMode::Apply;
  bool journal_run_end = true;  // append RunFinished / RollbackFinished / RunHalted at the end
};

// Chooses the next step when the executor runs single-threaded (ExecutorEnv::scheduler): the simulator explores
// the orders in which ready steps can complete through it, on the same executor that runs real plans.
class StepScheduler {
 public:
  virtual ~StepScheduler() = default;
  // `ready`: plan indices of the steps whose needs are done, in plan order, never empty. Returns the position in
  // `ready` of the step to run next (it runs to its end before the next pick), or nullopt to stop the run here
  // (it ends Stopped, as after requestStop).
  virtual std::optional<std::size_t> pick(const std::vector<std::size_t>& ready) = 0;
};

// The world the executor acts on. Pointers are not owned; everything must outlive run().
struct ExecutorEnv {
  std::map<std::string, HostEndpoint> hosts;  // by Step::host; every host of the plan must be here
  Clock* clock = nullptr;                     // required
  JournalSink* journal = nullptr;             // null: nothing journaled (tests of the scheduling only)
  ExecutionObserver* observer = nullptr;      // may be null
  // Where a step's output goes (appended, one section per attempt); empty function: no logs.
  std::function<std::filesystem::path(const std::string& step_id)> step_log_path;
  // Null: steps run on slot threads, in parallel. Set: run() runs one step at a time on the calling thread, in the
  // order this scheduler picks (no threads, so a simulated crash or fault is exactly where the scheduler put it).
  StepScheduler* scheduler = nullptr;
  // An upload whose source is an s3:// URL (drctl apply --members-fetch) is fetched by the host itself: this gives
  // the URL it fetches (a presigned GET, valid for a while; never journaled nor logged). Empty: such an upload fails.
  std::function<Result<std::string>(const std::string& source)> fetch_url;
};

enum class StepState { NotStarted, Running, Done, AlreadyDone, Failed };
const char* stepStateName(StepState state);

struct StepOutcome {
  std::string id;
  std::string host;
  StepState state = StepState::NotStarted;
  int attempts = 0;
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;  // of the last attempt
  std::string message;           // why it failed, or why it was skipped
};

enum class HostOutcome { Finished, Failed, Stopped };
const char* hostOutcomeName(HostOutcome outcome);

struct HostSummary {
  std::string host;
  HostOutcome outcome = HostOutcome::Finished;
  int total = 0;
  int done = 0;  // Done + AlreadyDone
  int failed = 0;
  int not_started = 0;
  std::string failed_step;  // the first failed step on this host
  std::string next_step;    // the first step not started on this host
};

enum class RunOutcome { Finished, Failed, Stopped };

struct ExecutionResult {
  RunOutcome outcome = RunOutcome::Finished;
  std::string reason;               // why it failed or stopped
  std::vector<StepOutcome> steps;   // in plan order
  std::vector<HostSummary> hosts;   // sorted by host name
  const StepOutcome* find(const std::string& id) const;
};

class Executor {
 public:
  Executor(const Plan& plan, ExecutorEnv env, ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs the plan to the end, to the first failure or to a stop request. Directives missing from the map are Run.
  // Fails (nothing run) when the plan is malformed for execution: a host without an endpoint, unknown needs.
  Result<ExecutionResult> run(const std::map<std::string, StepDirective>& directives = {});

  // Thread-safe, callable from a signal-watching thread. Stop scheduling: nothing new starts, in-flight steps
  // finish, the run ends Stopped (journaled RunHalted with `reason`).
  void requestStop(const std::string& reason);
  // Also end the steps in flight (through CommandRequest::cancelled); they are journaled as failed attempts.
  void cancelInFlight();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The host summaries for a set of outcomes (also used by `drctl status`).
std::vector<HostSummary> summarizeHosts(const std::vector<StepOutcome>& steps);

}  // namespace dr
