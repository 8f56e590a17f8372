// Folding a journal into a JournalSummary, and the resume and rollback decisions made from it.
#include "exec/run_state.h"

#include <algorithm>
#include <set>

namespace dr {

const char* stepRecordStateName(StepRecordState state) {
  switch (state) {
    case StepRecordState::NotStarted: return "not-started";
    case StepRecordState::InDoubt: return "in-doubt";
    case StepRecordState::Finished: return "finished";
    case StepRecordState::Failed: return "failed";
    case StepRecordState::Skipped: return "skipped";
  }
  return "?";
}

const char* undoRecordStateName(UndoRecordState state) {
  switch (state) {
    case UndoRecordState::None: return "";
    case UndoRecordState::InDoubt: return "undo-in-doubt";
    case UndoRecordState::Undone: return "undone";
    case UndoRecordState::Failed: return "undo-failed";
  }
  return "?";
}

const char* runPhaseName(RunPhase phase) {
  switch (phase) {
    case RunPhase::Running: return "running";
    case RunPhase::Halted: return "halted";
    case RunPhase::Failed: return "failed";
    case RunPhase::Finished: return "finished";
    case RunPhase::RollingBack: return "rolling back";
    case RunPhase::RolledBack: return "rolled back";
  }
  return "?";
}

const StepHistory* JournalSummary::find(const std::string& id) const {
  for (const auto& step : steps) {
    if (step.id == id) return &step;
  }
  return nullptr;
}

bool JournalSummary::rollbackStarted() const {
  return phase == RunPhase::RollingBack || phase == RunPhase::RolledBack ||
         std::any_of(steps.begin(), steps.end(), [](const StepHistory& s) { return s.undo != UndoRecordState::None; });
}

Status checkJournalSessions(const std::vector<JournalRecord>& records, std::string_view run_id) {
  if (records.empty()) {
    return fail("the journal is empty: the run never recorded its start (or the file was cut to nothing); there is "
                "nothing to resume from");
  }
  if (records.front().type != RecordType::RunStarted) {
    return fail("record 1 is {}, not RunStarted: this journal does not start a run", recordTypeName(records.front().type));
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const JournalRecord& r = records[i];
    if (r.type != RecordType::RunStarted) continue;
    if (!r.run_id.empty() && r.run_id != run_id) {
      return fail("record {} starts a session of run {}, but this is run {}: two runs wrote one journal", i + 1,
                  r.run_id, run_id);
    }
    // Journals written before the mode was recorded have none on their first record.
    const bool apply = r.mode == "apply" || (i == 0 && r.mode.empty());
    if (i == 0 && !apply) {
      return fail("record 1 starts a '{}' session, but a run's journal starts with its apply", r.mode);
    }
    if (i > 0 && (r.mode == "apply" || r.mode.empty())) {
      return fail("record {} is a second RunStarted of an apply: two applies wrote one journal", i + 1);
    }
  }
  return {};
}

JournalSummary summarizeJournal(const std::vector<JournalRecord>& records, const Plan* plan) {
  JournalSummary summary;
  std::map<std::string, std::size_t> index;
  auto stepFor = [&](const JournalRecord& r) -> StepHistory& {
    auto [it, inserted] = index.try_emplace(r.step_id, summary.steps.size());
    if (inserted) {
      StepHistory fresh;
      fresh.id = r.step_id;
      summary.steps.push_back(fresh);
    }
    StepHistory& step = summary.steps[it->second];
    if (!r.host.empty()) step.host = r.host;
    return step;
  };
  if (plan != nullptr) {
    for (const auto& s : plan->steps) {
      index[s.id] = summary.steps.size();
      StepHistory h;
      h.id = s.id;
      h.host = s.host;
      summary.steps.push_back(h);
    }
  }
  bool step_failed = false;
  for (const auto& r : records) {
    summary.last_record_ms = std::max(summary.last_record_ms, r.time_ms);
    switch (r.type) {
      case RecordType::RunStarted:
        if (summary.sessions++ == 0) {
          summary.run_id = r.run_id;
          summary.fingerprint = r.fingerprint;
          summary.started_ms = r.time_ms;
        }
        step_failed = false;
        // A new session (resume, rollback): an earlier session's halt no longer says where the run stands.
        summary.reason.clear();
        summary.phase = r.mode == "rollback" ? RunPhase::RollingBack : RunPhase::Running;
        break;
      case RecordType::StepStarted: {
        StepHistory& s = stepFor(r);
        s.state = StepRecordState::InDoubt;
        ++s.attempts;
        break;
      }
      case RecordType::StepFinished:
      case RecordType::StepFailed: {
        StepHistory& s = stepFor(r);
        const bool ok = r.type == RecordType::StepFinished;
        s.state = ok ? StepRecordState::Finished : StepRecordState::Failed;
        s.exit_code = r.exit_code;
        s.duration_ms = r.duration_ms;
        s.message = r.message;
        if (!ok) step_failed = true;
        break;
      }
      case RecordType::StepSkipped: {
        StepHistory& s = stepFor(r);
        s.state = StepRecordState::Skipped;
        s.message = r.message;
        break;
      }
      case RecordType::UndoStarted: stepFor(r).undo = UndoRecordState::InDoubt; break;
      case RecordType::UndoFinished:
      case RecordType::UndoFailed: {
        StepHistory& s = stepFor(r);
        s.undo = r.type == RecordType::UndoFinished ? UndoRecordState::Undone : UndoRecordState::Failed;
        if (!r.message.empty()) s.message = r.message;
        if (r.type == RecordType::UndoFailed) step_failed = true;
        break;
      }
      case RecordType::RunHalted:
        summary.phase = step_failed ? RunPhase::Failed : RunPhase::Halted;
        summary.reason = r.message;
        break;
      case RecordType::RunFinished: summary.phase = RunPhase::Finished; break;
      case RecordType::RollbackFinished: summary.phase = RunPhase::RolledBack; break;
    }
  }
  return summary;
}

std::map<std::string, StepDirective> resumeDirectives(const JournalSummary& summary) {
  std::map<std::string, StepDirective> directives;
  for (const auto& step : summary.steps) {
    switch (step.state) {
      case StepRecordState::Finished:
      case StepRecordState::Skipped: directives[step.id] = StepDirective::AlreadyDone; break;
      case StepRecordState::InDoubt:
      case StepRecordState::Failed: directives[step.id] = StepDirective::CheckFirst; break;
      case StepRecordState::NotStarted: directives[step.id] = StepDirective::Run; break;
    }
  }
  return directives;
}

RollbackPlan buildRollbackPlan(const Plan& plan, const JournalSummary& summary) {
  RollbackPlan rollback;
  rollback.plan.name = plan.name + " (rollback)";
  rollback.plan.fingerprint = plan.fingerprint;
  rollback.plan.inputs = plan.inputs;
  auto tookEffect = [&](const std::string& id) {
    const StepHistory* h = summary.find(id);
    return h != nullptr && (h->state != StepRecordState::NotStarted || h->undo != UndoRecordState::None);
  };
  std::set<std::string> included;
  for (const auto& step : plan.steps) {
    if (tookEffect(step.id)) included.insert(step.id);
  }
  // Reverse plan order is a topological order of the reversed graph.
  for (auto it = plan.steps.rbegin(); it != plan.steps.rend(); ++it) {
    if (!included.count(it->id)) continue;
    Step undo = *it;
    undo.command = it->undo;
    undo.upload.reset();
    undo.needs.clear();
    for (const auto& other : plan.steps) {
      if (included.count(other.id) && std::find(other.needs.begin(), other.needs.end(), it->id) != other.needs.end()) {
        undo.needs.push_back(other.id);
      }
    }
    std::sort(undo.needs.begin(), undo.needs.end());
    const StepHistory& h = *summary.find(it->id);
    StepDirective directive = StepDirective::Run;
    if (h.undo == UndoRecordState::Undone || it->undo.empty()) {
      directive = StepDirective::AlreadyDone;
    } else if (h.state == StepRecordState::InDoubt || h.state == StepRecordState::Failed) {
      directive = StepDirective::RunIfCheckPasses;
    }
    if (directive != StepDirective::AlreadyDone) ++rollback.to_undo;
    rollback.directives[undo.id] = directive;
    rollback.plan.steps.push_back(std::move(undo));
  }
  return rollback;
}

}  // namespace dr
