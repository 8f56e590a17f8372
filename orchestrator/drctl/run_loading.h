// Opening an existing run for resume, rollback and status: its directory, run.json, plan.json and journal, with
// one clear message per problem (unknown run id, unreadable plan, a journal damaged before its end). The reading
// is exec/run_session.h's openRunDirectory; this prints its verdict.
#pragma once

#include <optional>
#include <string>

#include "exec/run_session.h"

namespace dr::cli {

// Prints what is wrong (prefixed with `who`) and returns nullopt; `exit_code` is set to 2 for a bad run id or a
// missing run, 1 for a damaged run directory or journal.
std::optional<OpenedRun> openRun(const std::string& who, const std::string& runs_root, const std::string& run_id,
                                 int& exit_code);

}  // namespace dr::cli
