// The gate before a full restore, asked of the live cluster before any host is touched: the inventory's client
// certificates must be usable, and the current cluster must really be without quorum (a full restore of a cluster
// that still has one throws a working cluster's data away; replacing the failed members is the right tool then).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "ops/outcome.h"

namespace dr::ops {

struct GateOptions {
  bool force = false;      // a healthy quorum is reported but does not refuse
  bool rehearsal = false;  // a dry-run: a healthy quorum is only noted (scheduled rehearsals run against live clusters)
  std::chrono::milliseconds timeout{2000};  // per endpoint
};

struct GateDecision {
  std::optional<Refusal> refusal;  // set when the restore must not run
  std::vector<std::string> notes;  // certificate warnings, the quorum verdict
};

GateDecision checkRestoreGate(const Inventory& inventory, const GateOptions& options);

}  // namespace dr::ops
