// A run's event log and the conversions into it (see event_log.h).
#include "drd/event_log.h"

#include "drd/answers.h"
#include "exec/clock.h"

namespace dr::drd {

void RunEventLog::append(v1::RunEvent event) {
  repairUtf8(event);  // once here, not in every Watch that sends it
  {
    std::lock_guard lock(mutex_);
    event.set_seq(static_cast<std::int64_t>(events_.size()) + 1);
    events_.push_back(std::move(event));
  }
  changed_.notify_all();
}

void RunEventLog::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

void RunEventLog::reopen() {
  std::lock_guard lock(mutex_);
  closed_ = false;
}

std::int64_t RunEventLog::nextSeq() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(events_.size()) + 1;
}

std::vector<v1::RunEvent> RunEventLog::read(std::int64_t from, std::chrono::milliseconds wait, bool& closed) const {
  std::unique_lock lock(mutex_);
  const auto first = static_cast<std::size_t>(std::max<std::int64_t>(from, 1) - 1);
  changed_.wait_for(lock, wait, [&] { return closed_ || events_.size() > first; });
  closed = closed_;
  if (first >= events_.size()) return {};
  return {events_.begin() + static_cast<std::ptrdiff_t>(first), events_.end()};
}

std::vector<v1::RunEvent> eventsFromJournal(const std::vector<JournalRecord>& records) {
  std::vector<v1::RunEvent> events;
  for (const auto& record : records) {
    v1::RunEvent event;
    switch (record.type) {
      case RecordType::RunStarted:
        event.set_kind(v1::RunEvent::SESSION_STARTED);
        break;
      case RecordType::StepStarted:
      case RecordType::UndoStarted:
        event.set_kind(v1::RunEvent::STEP_STARTED);
        break;
      case RecordType::StepFinished:
      case RecordType::UndoFinished:
        event.set_kind(v1::RunEvent::STEP_FINISHED);
        break;
      case RecordType::StepFailed:
      case RecordType::UndoFailed:
        event.set_kind(v1::RunEvent::STEP_FAILED);
        break;
      case RecordType::StepSkipped:
        event.set_kind(v1::RunEvent::STEP_SKIPPED);
        break;
      case RecordType::RunHalted:
      case RecordType::RunFinished:
      case RecordType::RollbackFinished:
        continue;
    }
    event.set_time_ms(record.time_ms);
    event.set_step_id(record.step_id);
    event.set_host(record.host);
    event.set_attempt(record.attempt);
    if (record.exit_code) {
      event.set_has_exit_code(true);
      event.set_exit_code(*record.exit_code);
    }
    event.set_duration_ms(record.duration_ms);
    event.set_output_sha256(record.output_sha256);
    event.set_message(record.type == RecordType::RunStarted ? record.mode : record.message);
    events.push_back(std::move(event));
  }
  return events;
}

const char* runOutcomeText(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::Finished:
      return "finished";
    case RunOutcome::Failed:
      return "failed";
    case RunOutcome::Stopped:
      return "interrupted";
  }
  return "failed";
}

namespace {

void addHosts(v1::RunEvent& event, const std::vector<StepOutcome>& steps) {
  for (const auto& step : steps) {
    auto* out = event.add_steps();
    out->set_step_id(step.id);
    out->set_host(step.host);
    out->set_state(stepStateName(step.state));
    out->set_message(step.message);
  }
  for (const auto& host : summarizeHosts(steps)) {
    auto* out = event.add_hosts();
    out->set_host(host.host);
    out->set_outcome(hostOutcomeName(host.outcome));
    out->set_done(host.done);
    out->set_total(host.total);
    out->set_failed(host.failed);
    out->set_failed_step(host.failed_step);
    out->set_next_step(host.next_step);
  }
}

}  // namespace

v1::RunEvent runEndedFromResult(const ExecutionResult& result, bool undo, std::int64_t time_ms) {
  v1::RunEvent event;
  event.set_kind(v1::RunEvent::RUN_ENDED);
  event.set_time_ms(time_ms);
  event.set_outcome(runOutcomeText(result.outcome));
  event.set_reason(result.reason);
  event.set_undo(undo);
  addHosts(event, result.steps);
  return event;
}

v1::RunEvent runEndedFromSummary(const JournalSummary& summary, std::int64_t time_ms) {
  RunOutcome outcome = RunOutcome::Stopped;  // no end record, or halted: resumable
  if (summary.phase == RunPhase::Finished || summary.phase == RunPhase::RolledBack) outcome = RunOutcome::Finished;
  if (summary.phase == RunPhase::Failed) outcome = RunOutcome::Failed;
  std::vector<StepOutcome> steps;
  for (const auto& history : summary.steps) {
    StepOutcome step;
    step.id = history.id;
    step.host = history.host;
    step.message = history.message;
    switch (history.state) {
      case StepRecordState::NotStarted:
      case StepRecordState::InDoubt:
        step.state = StepState::NotStarted;
        break;
      case StepRecordState::Finished:
        step.state = StepState::Done;
        break;
      case StepRecordState::Skipped:
        step.state = StepState::AlreadyDone;
        break;
      case StepRecordState::Failed:
        step.state = StepState::Failed;
        break;
    }
    steps.push_back(std::move(step));
  }
  v1::RunEvent event;
  event.set_kind(v1::RunEvent::RUN_ENDED);
  event.set_time_ms(time_ms);
  event.set_outcome(runOutcomeText(outcome));
  event.set_reason(summary.reason.empty() && outcome == RunOutcome::Stopped
                       ? "the journal has no end record: the process running it stopped"
                       : summary.reason);
  event.set_undo(summary.rollbackStarted());
  addHosts(event, steps);
  return event;
}

v1::RunEvent EventLogObserver::stepEvent(v1::RunEvent::Kind kind, const Step& step) const {
  v1::RunEvent event;
  event.set_kind(kind);
  event.set_time_ms(SystemClock().wallMs());
  event.set_step_id(step.id);
  event.set_host(step.host);
  return event;
}

namespace {

void setOutcome(v1::RunEvent& event, const AttemptOutcome& outcome) {
  event.set_attempt(outcome.attempt);
  if (outcome.exit_code) {
    event.set_has_exit_code(true);
    event.set_exit_code(*outcome.exit_code);
  }
  event.set_timed_out(outcome.timed_out);
  event.set_duration_ms(outcome.duration_ms);
  event.set_output_sha256(outcome.output_sha256);
  event.set_message(outcome.message);
}

}  // namespace

void EventLogObserver::onStepStarted(const Step& step, int attempt) {
  auto event = stepEvent(v1::RunEvent::STEP_STARTED, step);
  event.set_attempt(attempt);
  log_.append(std::move(event));
}

void EventLogObserver::onStepFinished(const Step& step, const AttemptOutcome& outcome) {
  auto event = stepEvent(v1::RunEvent::STEP_FINISHED, step);
  setOutcome(event, outcome);
  log_.append(std::move(event));
}

void EventLogObserver::onStepFailed(const Step& step, const AttemptOutcome& outcome, bool will_retry) {
  auto event = stepEvent(v1::RunEvent::STEP_FAILED, step);
  setOutcome(event, outcome);
  event.set_will_retry(will_retry);
  log_.append(std::move(event));
}

void EventLogObserver::onStepSkipped(const Step& step, std::string_view why) {
  auto event = stepEvent(v1::RunEvent::STEP_SKIPPED, step);
  event.set_message(std::string(why));
  log_.append(std::move(event));
}

void EventLogObserver::onHostActivity(const std::string& host, HostActivity activity, const std::string& step_id) {
  v1::RunEvent event;
  event.set_kind(v1::RunEvent::HOST_ACTIVITY);
  event.set_time_ms(SystemClock().wallMs());
  event.set_host(host);
  event.set_step_id(step_id);
  event.set_activity(hostActivityName(activity));
  log_.append(std::move(event));
}

}  // namespace dr::drd
