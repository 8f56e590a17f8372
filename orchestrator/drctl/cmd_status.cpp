// drctl status [RUN_ID]: a run's state from its journal (per step: state, attempts, duration, exit code; overall:
// running, halted, failed, finished, rolling back, rolled back), or, without a run id, the list of runs.
#include <cstdio>

#include "commands.h"
#include "remote_client.h"
#include "exec/clock.h"
#include "exec/run_lock.h"
#include "cli_support.h"
#include "exec/run_session.h"
#include "status_view.h"

namespace dr::cli {
namespace {

struct StatusOptions {
  std::string run_id;
  std::string runs = kDefaultRunsDir;
};

// "running" from the journal alone cannot tell a live run from a dead one: the lock can.
std::string phaseText(const OpenedRun& run, const std::string& runs_root) {
  std::string phase = runPhaseName(run.summary.phase);
  if (run.summary.phase != RunPhase::Running && run.summary.phase != RunPhase::RollingBack) return phase;
  auto holder = RunLock::inspect(runs_root, run.info.cluster);
  const bool live = holder && holder->has_value() && (*holder)->run_id == run.info.run_id && !(*holder)->stale;
  return live ? phase : phase + ", but drctl is no longer running: interrupted";
}

int listAll(const StatusOptions& o) {
  auto runs = listRuns(o.runs);
  if (!runs) {
    std::fprintf(stderr, "drctl status: %s\n", runs.error().message.c_str());
    return kExitBadInput;
  }
  std::vector<RunStatusRow> rows;
  for (const auto& id : *runs) {
    RunOpening opened = openRunDirectory(o.runs, id);
    if (!opened.run) {
      std::fprintf(stderr, "drctl status: %s\n", opened.error.c_str());
      rows.push_back({id, "?", "?", "unreadable (see above)"});
      continue;
    }
    const auto& run = opened.run;
    int done = 0;
    for (const auto& s : run->summary.steps) {
      done += s.state == StepRecordState::Finished || s.state == StepRecordState::Skipped ? 1 : 0;
    }
    rows.push_back({id, run->info.cluster, fmt::format("{}/{}", done, run->plan.steps.size()), phaseText(*run, o.runs)});
  }
  printRunList(rows, o.runs);
  return kExitOk;
}

int showRun(const StatusOptions& o) {
  RunOpening opened = openRunDirectory(o.runs, o.run_id);
  if (!opened.run) {
    std::fprintf(stderr, "drctl status: %s\n", opened.error.c_str());
    return opened.not_found ? kExitBadInput : kExitFailed;
  }
  const auto& run = opened.run;
  const JournalSummary& s = run->summary;
  RunStatusView view;
  view.run_id = run->info.run_id;
  view.cluster = run->info.cluster;
  view.plan_name = run->plan.name;
  view.fingerprint = run->plan.fingerprint;
  view.state_text = phaseText(*run, o.runs);
  view.reason = s.reason;
  if (run->torn_tail) view.tail_note = run->tail_note;
  for (const auto& step : s.steps) {
    std::string state = stepRecordStateName(step.state);
    if (step.undo != UndoRecordState::None) state = undoRecordStateName(step.undo);
    view.steps.push_back({step.id, step.host, state, step.attempts, step.duration_ms, step.exit_code,
                          step.state == StepRecordState::Failed ? step.message : "",
                          step.state == StepRecordState::Finished || step.state == StepRecordState::Skipped});
  }
  view.ended = s.phase == RunPhase::Finished || s.phase == RunPhase::RolledBack;
  view.resume_command = resumeCommand(run->info.run_id, o.runs);
  view.rollback_command = rollbackCommand(run->info.run_id, o.runs);
  printRunStatus(view);
  return kExitOk;
}

}  // namespace

CommandRunner declareStatus(CLI::App& command) {
  auto options = std::make_shared<StatusOptions>();
  command.add_option("run_id", options->run_id, "The run to show; without it, every run is listed");
  command.add_option("--runs", options->runs, "Runs directory")->capture_default_str();
  return [options] {
    if (remoteOptions().active()) return remoteStatus(options->run_id);
    return options->run_id.empty() ? listAll(*options) : showRun(*options);
  };
}

}  // namespace dr::cli
