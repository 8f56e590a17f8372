// drctl status [RUN_ID]: a run's state from its journal (per step: state, attempts, duration, exit code; overall:
// running, halted, failed, finished, rolling back, rolled back), or, without a run id, the list of runs.
#include <cstdio>

#include "commands.h"
#include "exec/clock.h"
#include "exec/run_lock.h"
#include "run_loading.h"
#include "run_support.h"

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
  if (runs->empty()) {
    std::printf("no runs in %s\n", o.runs.c_str());
    return kExitOk;
  }
  std::printf("%-28s %-12s %-10s %s\n", "RUN", "CLUSTER", "DONE", "STATE");
  for (const auto& id : *runs) {
    int code = 0;
    auto run = openRun("drctl status", o.runs, id, code);
    if (!run) {
      std::printf("%-28s %-12s %-10s %s\n", id.c_str(), "?", "?", "unreadable (see above)");
      continue;
    }
    int done = 0;
    for (const auto& s : run->summary.steps) {
      done += s.state == StepRecordState::Finished || s.state == StepRecordState::Skipped ? 1 : 0;
    }
    std::printf("%-28s %-12s %-10s %s\n", id.c_str(), run->info.cluster.c_str(),
                fmt::format("{}/{}", done, run->plan.steps.size()).c_str(), phaseText(*run, o.runs).c_str());
  }
  return kExitOk;
}

int showRun(const StatusOptions& o) {
  int code = 0;
  auto run = openRun("drctl status", o.runs, o.run_id, code);
  if (!run) return code;
  const JournalSummary& s = run->summary;
  std::printf("run %s (cluster %s, plan %s, fingerprint %s)\n", run->info.run_id.c_str(), run->info.cluster.c_str(),
              run->plan.name.c_str(), run->plan.fingerprint.substr(0, 16).c_str());
  std::printf("state: %s%s\n", phaseText(*run, o.runs).c_str(), s.reason.empty() ? "" : (" (" + s.reason + ")").c_str());
  if (run->torn_tail) std::printf("note: %s\n", run->tail_note.c_str());
  std::printf("\n%-36s %-18s %-12s %8s %9s %s\n", "STEP", "HOST", "STATE", "ATTEMPTS", "DURATION", "EXIT");
  int done = 0;
  for (const auto& step : s.steps) {
    std::string state = stepRecordStateName(step.state);
    if (step.undo != UndoRecordState::None) state = undoRecordStateName(step.undo);
    done += step.state == StepRecordState::Finished || step.state == StepRecordState::Skipped ? 1 : 0;
    std::printf("%-36s %-18s %-12s %8d %8.1fs %s%s\n", step.id.c_str(), step.host.c_str(), state.c_str(),
                step.attempts, step.duration_ms / 1000.0, step.exit_code ? std::to_string(*step.exit_code).c_str() : "-",
                step.state == StepRecordState::Failed && !step.message.empty() ? ("  " + step.message).c_str() : "");
  }
  std::printf("\n%d of %zu steps done\n", done, s.steps.size());
  if (s.phase != RunPhase::Finished && s.phase != RunPhase::RolledBack) {
    std::printf("Resume with:    %s\nRoll back with: %s\n", resumeCommand(run->info.run_id, o.runs).c_str(),
                rollbackCommand(run->info.run_id, o.runs).c_str());
  }
  return kExitOk;
}

}  // namespace

CommandRunner declareStatus(CLI::App& command) {
  auto options = std::make_shared<StatusOptions>();
  command.add_option("run_id", options->run_id, "The run to show; without it, every run is listed");
  command.add_option("--runs", options->runs, "Runs directory")->capture_default_str();
  return [options] { return options->run_id.empty() ? listAll(*options) : showRun(*options); };
}

}  // namespace dr::cli
