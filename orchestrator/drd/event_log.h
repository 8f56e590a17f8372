// A run's event log in drd: every step event of the run, in order, numbered from 1, kept in memory so that any
// number of Watch streams can follow it (each from the start, from a given event, or from now) while the executor
// appends. Events of sessions before this drd process (an earlier apply, a drd that was killed) are rebuilt from
// the journal, so a watcher sees one history whatever process wrote it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "drd.pb.h"
#include "exec/execution_observer.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/run_state.h"

namespace dr::drd {

class RunEventLog {
 public:
  // Appends an event (its seq is set here, its strings made valid UTF-8: see repairUtf8) and wakes the watchers.
  void append(v1::RunEvent event);
  // No more events will come (the session ended); watchers drain and stop.
  void close();
  // Reopens a closed log for a new session of the same run (a resume or a rollback in this process).
  void reopen();
  // The seq the next event will get.
  std::int64_t nextSeq() const;
  // Events with seq >= from, waiting up to `wait` for at least one when there are none yet. `closed` tells whether
  // the log was closed when the events were taken (then an empty answer means the end).
  std::vector<v1::RunEvent> read(std::int64_t from, std::chrono::milliseconds wait, bool& closed) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<v1::RunEvent> events_;
  bool closed_ = false;
};

// The events a journal's records stand for (step starts, ends, skips, sessions), in journal order. The run-level
// end records are left out: the RUN_ENDED event is made from the whole summary (runEndedFromSummary).
std::vector<v1::RunEvent> eventsFromJournal(const std::vector<JournalRecord>& records);

// RUN_ENDED for an executor's result (this process ran the session).
v1::RunEvent runEndedFromResult(const ExecutionResult& result, bool undo, std::int64_t time_ms);
// RUN_ENDED for a run known only from its journal: a journal without an end record is "interrupted".
v1::RunEvent runEndedFromSummary(const JournalSummary& summary, std::int64_t time_ms);

// "finished", "failed" or "interrupted".
const char* runOutcomeText(RunOutcome outcome);

// An ExecutionObserver that appends what the executor reports to a log. `log` must outlive it.
class EventLogObserver final : public ExecutionObserver {
 public:
  explicit EventLogObserver(RunEventLog& log) : log_(log) {}
  void onStepStarted(const Step& step, int attempt) override;
  void onStepFinished(const Step& step, const AttemptOutcome& outcome) override;
  void onStepFailed(const Step& step, const AttemptOutcome& outcome, bool will_retry) override;
  void onStepSkipped(const Step& step, std::string_view why) override;
  void onHostActivity(const std::string& host, HostActivity activity, const std::string& step_id) override;

 private:
  v1::RunEvent stepEvent(v1::RunEvent::Kind kind, const Step& step) const;
  RunEventLog& log_;
};

}  // namespace dr::drd
