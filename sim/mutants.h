// Mutation testing of the simulator itself: wrong plans derived from a right one, each of which the invariants
// must catch. A survivor means a rule the simulator cannot see (or an edge the plan does not need).
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"
#include "sim/model.h"

namespace dr::sim {

struct Mutant {
  std::string kind;         // drop-edge, drop-step, swap-steps, other-token, other-initial-cluster,
                            // api-before-verify, start-before-swaps, delete-old-data; replace-member's
                            // fence-other, parallel-replacements, keep-old-data-in-place
  std::string description;  // exactly what was changed, with step ids
  Plan plan;
};

// The built-in set: one mutant per kind of dependency edge of the plan's transitive reduction (the first such edge,
// same-host and cross-host separately), per template step dropped, per same-host edge swapped, and one each of the
// others. Kinds that cannot differ from the plan on this inventory (e.g. another token with one member) are left out.
std::vector<Mutant> builtinMutants(const Plan& plan, const ClusterFacts& facts);

}  // namespace dr::sim
