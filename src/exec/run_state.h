// What a run's journal says: each step's state, attempts, last exit code and duration, and the run's phase
// (running, halted, failed, finished, rolling back, rolled back). `drctl status` prints it; resume and rollback
// derive from it what to do with each step (StepDirective).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/journal.h"
#include "plan/plan.h"

namespace dr {

enum class StepRecordState {
  NotStarted,
  InDoubt,   // started, no end record: drctl died or was stopped hard while it ran
  Finished,
  Failed,    // its last attempt failed
  Skipped,   // a resume's check found it already done
};
enum class UndoRecordState { None, InDoubt, Undone, Failed };

const char* stepRecordStateName(StepRecordState state);
const char* undoRecordStateName(UndoRecordState state);

struct StepHistory {
  std::string id;
  std::string host;
  StepRecordState state = StepRecordState::NotStarted;
  UndoRecordState undo = UndoRecordState::None;
  int attempts = 0;  // StepStarted records over every resume
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;  // of the last attempt that ended
  std::string message;           // of the last record that carried one
};

enum class RunPhase { Running, Halted, Failed, Finished, RollingBack, RolledBack };
const char* runPhaseName(RunPhase phase);

struct JournalSummary {
  std::string run_id;
  std::string fingerprint;  // of the first RunStarted
  RunPhase phase = RunPhase::Running;
  std::string reason;  // the message of the RunHalted that ended the last session; empty once another starts
  std::int64_t started_ms = 0;
  std::int64_t last_record_ms = 0;
  int sessions = 0;  // RunStarted records: the apply and each resume or rollback
  std::vector<StepHistory> steps;  // in plan order, then ids the plan does not know, in journal order

  const StepHistory* find(const std::string& id) const;
  bool rollbackStarted() const;
};

// A journal must be one run's: its first record RunStarted (mode apply) for `run_id`, and every later RunStarted a
// resume or rollback of that same run. An empty journal, one that does not start a run, a second apply, or a session
// of another run is refused with the record's number: resuming from it would redo or skip steps blindly.
Status checkJournalSessions(const std::vector<JournalRecord>& records, std::string_view run_id);

// `plan` may be null (status of a run whose plan.json is unreadable): steps then appear in journal order.
JournalSummary summarizeJournal(const std::vector<JournalRecord>& records, const Plan* plan);

// Resume: finished and skipped steps are done; started-but-unfinished and failed steps run their check first;
// the rest run.
std::map<std::string, StepDirective> resumeDirectives(const JournalSummary& summary);

// Rollback: the undo of every step that may have taken effect, in reverse: the undo of S waits for the undo of
// every step that needed S. Steps are the plan's own ids with `command` = their undo (no uploads); steps with no
// undo, or undone already, are AlreadyDone; steps whose effect is in doubt (started, or failed) are undone only
// when their check passes.
struct RollbackPlan {
  Plan plan;
  std::map<std::string, StepDirective> directives;
  int to_undo = 0;  // steps whose undo will (or may) run
};
RollbackPlan buildRollbackPlan(const Plan& plan, const JournalSummary& summary);

}  // namespace dr
