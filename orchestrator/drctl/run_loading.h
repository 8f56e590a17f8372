// Opening an existing run for resume, rollback and status: its directory, run.json, plan.json and journal, with
// one clear message per problem (unknown run id, unreadable plan, a journal damaged before its end).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exec/run_dir.h"
#include "exec/run_state.h"
#include "plan/plan.h"

namespace dr::cli {

struct OpenedRun {
  RunDirectory dir;
  RunInfo info;
  Plan plan;
  JournalSummary summary;
  bool torn_tail = false;
  std::string tail_note;
};

// Prints what is wrong (prefixed with `who`) and returns nullopt; `exit_code` is set to 2 for a bad run id or a
// missing run, 1 for a damaged run directory or journal.
std::optional<OpenedRun> openRun(const std::string& who, const std::string& runs_root, const std::string& run_id,
                                 int& exit_code);

// What differs between the plan a run started with and the plan made now: inputs (inventory, snapshot, template,
// token hashes) and, per step, added, removed and changed commands. One line each.
std::vector<std::string> describePlanChanges(const Plan& before, const Plan& now);

}  // namespace dr::cli
