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

// The gate before a member replacement, the other way round: the cluster must have a quorum (refused otherwise:
// there is nothing to replace from, a full restore is the recovery), and replacing the members one at a time must
// never leave fewer healthy voters than a quorum of the others. `members` are the ones the operator named; when
// empty they are read from the cluster (the members whose endpoint is not healthy) and returned in `replace`.
struct ReplaceDecision {
  std::optional<Refusal> refusal;
  std::vector<std::string> notes;
  std::vector<std::string> replace;  // the members to replace, in inventory order
};
ReplaceDecision checkReplaceGate(const Inventory& inventory, const std::vector<std::string>& members,
                                 const GateOptions& options);

}  // namespace dr::ops
