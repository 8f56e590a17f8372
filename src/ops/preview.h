// The plan use case: build the plan for an inventory, a snapshot and a template and render it (text, json, dot,
// mermaid) before anything is touched. Nothing is contacted. `drctl plan` and drd's Plan both answer with this.
#pragma once

#include <string>
#include <vector>

#include "ops/outcome.h"
#include "plan/plan.h"

namespace dr::ops {

struct PreviewRequest {
  std::string inventory;
  std::string snapshot;
  std::string plan_template;  // empty: full-restore
  std::string run_id = "preview";
  std::string format = "text";  // text, json, dot, mermaid
  bool verbose = false;         // text: each step's check, undo and needs too
  bool skip_hash_check = false;  // accept a snapshot without etcd's trailer
  std::vector<std::string> replace_members;  // replace-member: the members to replace (nothing is contacted here)
  bool disarm_alarms = false;                // the plan's alarms step disarms them
  std::string members_fetch = {};            // the s3:// URL the members fetch the snapshot from (ApplyRequest's)
};

struct PlanPreview {
  Plan plan;
  std::string rendered;
};

// Notes hold the inputs' warnings (FILE:LINE:COLUMN: warning: ...).
Outcome<PlanPreview> previewPlan(const PreviewRequest& request);

}  // namespace dr::ops
