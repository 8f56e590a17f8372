// summarizeRun: folds a run's journal over its plan into a RunSummary (see run_summary.h), and the log-tail and
// text-sanitizing helpers every report renderer relies on.
#include "report/run_summary.h"

#include <algorithm>
#include <map>
#include <set>

namespace dr {

const char* stepStateLabel(ReportStepState state) {
  switch (state) {
    case ReportStepState::Done: return "done";
    case ReportStepState::Failed: return "failed";
    case ReportStepState::Skipped: return "skipped";
    case ReportStepState::InDoubt: return "in-doubt";
    case ReportStepState::NotStarted: return "not-started";
  }
  return "unknown";
}

const StepSummary* RunSummary::find(std::string_view id) const {
  for (const auto& step : steps) {
    if (step.id == id) return &step;
  }
  return nullptr;
}

int RunSummary::count(ReportStepState state) const {
  return static_cast<int>(std::count_if(steps.begin(), steps.end(), [&](const auto& s) { return s.state == state; }));
}

namespace {

// The attempt a finishing record closes: the latest one still open, or a new one when there is none (a check that
// failed before any attempt started, or a journal whose StepStarted was lost to a torn tail).
AttemptSummary& closingAttempt(StepSummary& step, const JournalRecord& record, int session) {
  if (!step.attempts.empty() && !step.attempts.back().end_ms) return step.attempts.back();
  AttemptSummary synthetic;
  synthetic.session = session;
  synthetic.attempt = record.attempt;
  synthetic.start_ms = record.time_ms - record.duration_ms;
  step.attempts.push_back(synthetic);
  return step.attempts.back();
}

void applyStepRecord(StepSummary& step, const JournalRecord& record, int session) {
  switch (record.type) {
    case RecordType::StepStarted: {
      AttemptSummary attempt;
      attempt.session = session;
      attempt.attempt = record.attempt;
      attempt.start_ms = record.time_ms;
      step.attempts.push_back(attempt);
      step.state = ReportStepState::InDoubt;
      break;
    }
    case RecordType::StepFinished:
    case RecordType::StepFailed: {
      AttemptSummary& attempt = closingAttempt(step, record, session);
      attempt.end_ms = record.time_ms;
      attempt.duration_ms = record.duration_ms;
      attempt.exit_code = record.exit_code;
      attempt.ok = record.type == RecordType::StepFinished;
      attempt.output_sha256 = record.output_sha256;
      attempt.message = record.message;
      step.state = attempt.ok ? ReportStepState::Done : ReportStepState::Failed;
      step.exit_code = record.exit_code;
      step.output_sha256 = record.output_sha256;
      step.message = record.message;
      break;
    }
    case RecordType::StepSkipped:
      step.state = ReportStepState::Skipped;
      step.exit_code = record.exit_code;
      step.message = record.message;
      break;
    case RecordType::UndoStarted:
      step.undo = UndoSummary{"in-doubt", record.time_ms, record.time_ms, 0, std::nullopt, ""};
      return;  // undo records do not move the step's own times
    case RecordType::UndoFinished:
    case RecordType::UndoFailed: {
      if (!step.undo) step.undo = UndoSummary{"", record.time_ms - record.duration_ms, 0, 0, std::nullopt, ""};
      UndoSummary& undo = *step.undo;
      // The executor journals "nothing to undo" (its check showed the step never took effect) as an UndoFinished
      // with attempt 0 and no UndoStarted before it.
      const bool skipped = record.type == RecordType::UndoFinished && record.attempt == 0;
      undo.state = record.type == RecordType::UndoFailed ? "failed" : skipped ? "skipped" : "done";
      undo.end_ms = record.time_ms;
      undo.duration_ms = record.duration_ms;
      undo.exit_code = record.exit_code;
      undo.message = record.message;
      return;
    }
    default:
      return;
  }
  if (!step.start_ms) step.start_ms = record.time_ms;
  step.end_ms = record.time_ms;
}

void finishStep(StepSummary& step) {
  step.total_ms = 0;
  for (const auto& attempt : step.attempts) step.total_ms += attempt.duration_ms;
  if (!step.attempts.empty()) step.duration_ms = step.attempts.back().duration_ms;
}

std::optional<RtoSummary> computeRto(const RunSummary& summary) {
  RtoSummary rto;
  bool down = false;
  for (const auto& step : summary.steps) {
    if ((step.action == "stop-apiserver" || step.action == "stop-etcd") && step.start_ms &&
        (!down || *step.start_ms < rto.start_ms)) {
      down = true;
      rto.start_ms = *step.start_ms;
      rto.start_step = step.id;
    }
  }
  if (!down) return std::nullopt;

  auto settled = [](const StepSummary& s) {
    return s.state == ReportStepState::Done || s.state == ReportStepState::Skipped;
  };
  std::vector<const StepSummary*> ends;
  for (const auto& step : summary.steps) {
    if (step.action == "verify-apiserver") ends.push_back(&step);
  }
  if (ends.empty()) {
    for (const auto& step : summary.steps) ends.push_back(&step);
  }
  rto.complete = std::all_of(ends.begin(), ends.end(), [&](const StepSummary* s) { return settled(*s); });
  if (rto.complete) {
    for (const StepSummary* step : ends) {
      if (step->end_ms && (rto.end_step.empty() || *step->end_ms > rto.end_ms)) {
        rto.end_ms = *step->end_ms;
        rto.end_step = step->id;
      }
    }
  } else {
    rto.end_ms = summary.end_ms;
  }
  rto.ms = std::max<std::int64_t>(0, rto.end_ms - rto.start_ms);
  return rto;
}

std::string outcomeOf(const RunSummary& summary) {
  if (summary.sessions.empty()) return "not-started";
  const SessionSummary& last = summary.sessions.back();
  if (last.end == "rollback-finished") return "rolled-back";
  if (last.mode == "rollback" && last.end != "none") return "rollback-failed";
  if (last.end == "finished") return "succeeded";
  if (last.end == "halted") return summary.count(ReportStepState::Failed) > 0 ? "failed" : "halted";
  return "incomplete";
}

}  // namespace

RunSummary summarizeRun(const Plan& plan, const JournalContents& journal) {
  RunSummary summary;
  summary.plan_name = plan.name;
  summary.fingerprint = plan.fingerprint;
  summary.records = journal.records.size();
  summary.torn_tail = journal.torn_tail;
  summary.tail_note = journal.tail_note;

  std::map<std::string, std::size_t> index;  // step id -> position in plan order
  for (const Step& step : plan.steps) {
    index.emplace(step.id, summary.steps.size());
    StepSummary s;
    s.id = step.id;
    s.action = step.action;
    s.host = step.host;
    s.member = step.member;
    s.description = step.description;
    s.needs = step.needs;
    summary.steps.push_back(std::move(s));
  }

  std::set<std::string> unknown;
  for (const JournalRecord& record : journal.records) {
    if (&record == &journal.records.front()) summary.start_ms = record.time_ms;
    summary.start_ms = std::min(summary.start_ms, record.time_ms);
    summary.end_ms = std::max(summary.end_ms, record.time_ms);
    // Records before any RunStarted (a journal cut at its head is corruption, but be robust) get a session too.
    if (record.type == RecordType::RunStarted || summary.sessions.empty()) {
      SessionSummary session;
      session.start_ms = record.time_ms;
      session.end = "none";
      if (record.type == RecordType::RunStarted) {
        session.mode = record.mode.empty() ? "apply" : record.mode;
        session.fingerprint = record.fingerprint;
        if (!record.fingerprint.empty() && record.fingerprint != plan.fingerprint) summary.fingerprint_mismatch = true;
      }
      summary.sessions.push_back(session);
      if (record.type == RecordType::RunStarted) continue;
    }
    SessionSummary& session = summary.sessions.back();
    const int session_index = static_cast<int>(summary.sessions.size()) - 1;
    switch (record.type) {
      case RecordType::RunFinished:
      case RecordType::RunHalted:
      case RecordType::RollbackFinished:
        session.end = record.type == RecordType::RunFinished    ? "finished"
                      : record.type == RecordType::RunHalted    ? "halted"
                                                                 : "rollback-finished";
        session.end_ms = record.time_ms;
        session.message = record.message;
        break;
      default: {
        auto found = index.find(record.step_id);
        if (found == index.end()) {
          unknown.insert(record.step_id);
          break;
        }
        applyStepRecord(summary.steps[found->second], record, session_index);
      }
    }
  }
  summary.unknown_steps.assign(unknown.begin(), unknown.end());

  for (auto& step : summary.steps) finishStep(step);

  std::map<std::string, std::size_t> host_index;
  for (std::size_t i = 0; i < summary.steps.size(); ++i) {
    const StepSummary& step = summary.steps[i];
    auto [it, added] = host_index.emplace(step.host, summary.hosts.size());
    if (added) summary.hosts.push_back(HostTimeline{step.host, {}, 0, 0, 0, 0, 0, std::nullopt, std::nullopt});
    HostTimeline& host = summary.hosts[it->second];
    host.steps.push_back(i);
    switch (step.state) {
      case ReportStepState::Done: ++host.done; break;
      case ReportStepState::Failed: ++host.failed; break;
      case ReportStepState::Skipped: ++host.skipped; break;
      case ReportStepState::InDoubt: ++host.in_doubt; break;
      case ReportStepState::NotStarted: ++host.not_started; break;
    }
    if (step.start_ms && (!host.start_ms || *step.start_ms < *host.start_ms)) host.start_ms = step.start_ms;
    if (step.end_ms && (!host.end_ms || *step.end_ms > *host.end_ms)) host.end_ms = step.end_ms;
  }

  summary.outcome = outcomeOf(summary);
  if (!summary.sessions.empty()) summary.reason = summary.sessions.back().message;
  summary.rto = computeRto(summary);
  return summary;
}

}  // namespace dr
