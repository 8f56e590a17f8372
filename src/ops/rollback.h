// The rollback use case: undo every step of a run that took effect, in reverse (exec/run_state.h's
// buildRollbackPlan): the old data dirs come back and the old cluster is started again. Serial per host.
#pragma once

#include <filesystem>
#include <string>

#include "ops/outcome.h"
#include "ops/session.h"

namespace dr::ops {

struct RollbackRequest {
  std::filesystem::path runs_root = "runs";
  std::string run_id;
};

// NothingToDo for a run already rolled back; NotFound for an unknown one; BadInput when the run's inventory no
// longer loads.
Outcome<PreparedSession> prepareRollback(const RollbackRequest& request);

}  // namespace dr::ops
