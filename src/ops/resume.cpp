// The resume and rollback use cases (see resume.h, rollback.h): both open an existing run and prepare a session on it.
#include "ops/resume.h"

#include "exec/run_session.h"
#include "exec/run_state.h"
#include "inventory/inventory_loader.h"
#include "ops/rollback.h"

namespace dr::ops {

namespace {

// The run, or why it cannot be continued (an unknown id is the caller's mistake; a damaged run is not).
Outcome<OpenedRun> openExistingRun(const std::filesystem::path& runs_root, const std::string& run_id) {
  RunOpening opening = openRunDirectory(runs_root, run_id);
  if (!opening.run) {
    return Outcome<OpenedRun>::refused(
        refuse(opening.not_found ? RefusalKind::NotFound : RefusalKind::Failed, opening.error));
  }
  Outcome<OpenedRun> out;
  out.value = std::move(opening.run);
  return out;
}

PreparedSession sessionOn(OpenedRun& run, const std::filesystem::path& runs_root, SessionKind kind) {
  PreparedSession prepared;
  prepared.kind = kind;
  prepared.runs_root = runs_root;
  prepared.info = run.info;
  prepared.earlier = std::move(run.records);
  prepared.dir.emplace(std::move(run.dir));
  return prepared;
}

}  // namespace

Outcome<PreparedSession> prepareResume(const ResumeRequest& request) {
  using Out = Outcome<PreparedSession>;
  auto opened = openExistingRun(request.runs_root, request.run_id);
  if (!opened.ok()) return Out::refused(std::move(*opened.refusal));
  OpenedRun& run = *opened.value;
  const std::string& id = run.info.run_id;
  if (run.summary.phase == RunPhase::Finished) {
    return Out::refused(refuse(RefusalKind::NothingToDo, "run " + id + " already finished; nothing to resume"));
  }
  if (run.summary.rollbackStarted()) {
    return Out::refused(refuse(RefusalKind::Conflict, "run " + id +
                                                          " was rolled back (or is rolling back); start a new run "
                                                          "with apply"));
  }
  PlaintextPlace place;
  place.file = plaintextPathFor(request.runs_root, id);
  auto snapshot = prepareSnapshot(run.info.snapshot_path, request.key, place);
  std::vector<std::string> notes = std::move(snapshot.notes);
  if (!snapshot.ok()) return Out::refused(std::move(*snapshot.refusal), std::move(notes));
  PlanningOutcome planned =
      planRun({run.info.inventory_path, snapshot.value->path.string(), run.info.plan_template, id,
               run.info.options.token, run.info.options.skip_hash_check, run.info.options.replace_members,
               run.info.options.disarm_alarms, run.info.options.members_fetch});
  if (!planned.run) {
    return Out::refused(
        refuse(RefusalKind::BadInput, "the run's inputs no longer load; nothing was run", planned.problemLines()),
        std::move(notes));
  }
  for (const auto& line : planned.warningLines()) notes.push_back(line);
  const bool changed = planned.run->plan.fingerprint != run.plan.fingerprint;
  if (changed) {
    std::string message = fmt::format("the plan changed since run {} started (fingerprint {} -> {}):", id,
                                      run.plan.fingerprint.substr(0, 16), planned.run->plan.fingerprint.substr(0, 16));
    for (const auto& line : describePlanChanges(run.plan, planned.run->plan)) message += "\n  " + line;
    if (!request.force) {
      message += "\nRefusing to resume a different plan. Restore the inputs, or resume with --force to continue with "
                 "the new plan.";
      return Out::refused(refuse(RefusalKind::InputsChanged, message), std::move(notes));
    }
    notes.push_back(message);
    notes.push_back("--force: continuing with the new plan.");
  }
  PreparedSession prepared = sessionOn(run, request.runs_root, SessionKind::Resume);
  prepared.mode = changed ? "resume --force" : "resume";
  prepared.plan_changed = changed;
  prepared.directives = resumeDirectives(run.summary);
  for (const auto& [step, directive] : prepared.directives) {
    prepared.already_done += directive == StepDirective::AlreadyDone ? 1 : 0;
  }
  prepared.executor.per_host = request.per_host > 0 ? request.per_host : run.info.options.per_host;
  if (request.per_host > 0) prepared.info.options.per_host = request.per_host;
  prepared.inventory = std::move(planned.run->inventory);
  prepared.plan = std::move(planned.run->plan);
  prepared.snapshot = std::move(*snapshot.value);
  notes.push_back(fmt::format("resuming run {}: {} of {} steps already done", id, prepared.already_done,
                              prepared.plan.steps.size()));
  Out out;
  out.value = std::move(prepared);
  out.notes = std::move(notes);
  return out;
}

Outcome<PreparedSession> prepareRollback(const RollbackRequest& request) {
  using Out = Outcome<PreparedSession>;
  auto opened = openExistingRun(request.runs_root, request.run_id);
  if (!opened.ok()) return Out::refused(std::move(*opened.refusal));
  OpenedRun& run = *opened.value;
  if (run.summary.phase == RunPhase::RolledBack) {
    return Out::refused(refuse(RefusalKind::NothingToDo, "run " + run.info.run_id + " is already rolled back"));
  }
  auto inventory = loadInventory(run.info.inventory_path);
  if (!inventory.inventory) {
    std::vector<std::string> lines;
    for (const auto& d : inventory.diagnostics) lines.push_back(d.str());
    return Out::refused(refuse(RefusalKind::BadInput,
                               "the run's inventory " + run.info.inventory_path + " no longer loads; nothing was run",
                               std::move(lines)));
  }
  RollbackPlan rollback = buildRollbackPlan(run.plan, run.summary);
  PreparedSession prepared = sessionOn(run, request.runs_root, SessionKind::Rollback);
  prepared.mode = "rollback";
  prepared.inventory = std::move(*inventory.inventory);
  prepared.plan = std::move(rollback.plan);
  prepared.directives = std::move(rollback.directives);
  prepared.to_undo = rollback.to_undo;
  prepared.executor.per_host = 1;  // rollback is serial per host
  prepared.executor.mode = ExecutionMode::Undo;
  Out out;
  for (const auto& d : inventory.diagnostics) out.notes.push_back(d.str());
  out.notes.push_back(fmt::format("rolling back run {}: {} steps to undo", run.info.run_id, rollback.to_undo));
  out.value = std::move(prepared);
  return out;
}

}  // namespace dr::ops
