// The resume use case: continue a run from its journal. The run is re-planned from its recorded inputs with the
// same run id and token; a different fingerprint means the inventory, snapshot or template changed since the run
// started, which is refused (saying what changed) unless forced. Finished steps are skipped; a step that started
// but did not finish runs its check first.
#pragma once

#include <filesystem>
#include <string>

#include "ops/outcome.h"
#include "ops/session.h"
#include "ops/snapshot_input.h"

namespace dr::ops {

struct ResumeRequest {
  std::filesystem::path runs_root = "runs";
  std::string run_id;
  bool force = false;  // continue with the new plan even though the inputs changed
  int per_host = 0;    // 0: as the run was started
  SnapshotKey key;     // the key again, when the run's snapshot is encrypted
};

// NothingToDo for a finished run; NotFound for an unknown one; Conflict for a rolled-back one; InputsChanged for a
// changed plan without force.
Outcome<PreparedSession> prepareResume(const ResumeRequest& request);

}  // namespace dr::ops
