// The explorer: runs a plan through the real executor over the sim transport, in many orders, with a crash of the
// orchestrator before, during and after every step (then a resume through the real journal code), and with a
// failure of every step in every way (then the halt, then a resume or a rollback), checking the invariants all
// along. Every scenario has a 64-bit seed that reproduces it exactly (`drctl sim --replay SEED`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "plan/plan.h"
#include "sim/invariants.h"
#include "sim/model.h"
#include "sim/sim_transport.h"

namespace dr::sim {

// The order in which ready steps complete. Plan: always the first ready step in plan order. Ranked: the N-th of
// all orders (exhaustive exploration). Random: seeded random picks. Directed: step K as early as possible (eager)
// or as late as possible (lazy): value = K * 2 + lazy.
enum class OrderKind { Plan = 0, Ranked = 1, Random = 2, Directed = 3 };
struct OrderSpec {
  OrderKind kind = OrderKind::Plan;
  std::uint64_t value = 0;  // 42 bits
};

enum class FollowUp { Resume = 0, Rollback = 1 };

struct Scenario {
  OrderSpec order;
  std::optional<CrashSpec> crash;
  std::optional<std::size_t> fault_step;  // plan index of the failing step
  FaultKind fault_kind = FaultKind::Exit;
  FollowUp follow = FollowUp::Resume;

  std::uint64_t seed() const;
  static Result<Scenario> fromSeed(std::uint64_t seed);
  std::string describe(const Plan& plan) const;
};
std::string formatSeed(std::uint64_t seed);                 // 0x + 16 hex digits
Result<std::uint64_t> parseSeed(const std::string& text);   // hex (0x...) or decimal

struct ScenarioResult {
  std::vector<Violation> violations;
  std::vector<std::string> trace;
  std::string trace_hash;   // SHA-256 of the trace and the final state: the same seed always gives the same hash
  std::string final_state;  // ModelState::canonical()
  std::uint64_t transitions = 0;
};

struct ExploreOptions {
  std::uint64_t seed = 1;             // the master seed the random orders come from
  int random_orders = 100;            // random samples when the orders are too many to enumerate
  std::uint64_t exhaustive_bound = 2000;  // enumerate every order when there are at most this many
  bool directed_orders = true;        // each step eager and lazy
  bool crashes = true;
  bool faults = true;
  bool stop_at_first = false;         // mutation testing: the first violation is enough
};

struct FoundViolation {
  Violation violation;
  std::uint64_t seed = 0;
  std::string scenario;
  std::vector<std::string> trace;
};

struct ExploreSummary {
  std::uint64_t orders = 0;          // order scenarios run
  std::optional<std::uint64_t> orders_total;  // how many orders exist, when countable within the bound
  bool exhaustive = false;
  std::uint64_t directed = 0, random = 0;
  std::uint64_t crash_points = 0;
  std::uint64_t faults = 0;          // fault scenarios (step x kind x follow-up)
  std::uint64_t scenarios = 0;
  std::uint64_t transitions = 0;     // model operations applied: the states explored
  double seconds = 0;
  std::vector<FoundViolation> violations;  // per invariant, the one with the shortest trace

  bool ok() const { return violations.empty(); }
};

class Explorer {
 public:
  Explorer(const Plan& plan, ClusterFacts facts);

  // Runs one scenario (a crash or fault scenario first runs the plan uninterrupted, once, for the final state a
  // resume must reach).
  ScenarioResult run(const Scenario& scenario);
  ExploreSummary explore(const ExploreOptions& options);

  // How many orders the plan's DAG allows, when at most `bound` (otherwise nullopt).
  std::optional<std::uint64_t> countOrders(std::uint64_t bound) const;

 private:
  ScenarioResult runWith(const Scenario& scenario, const std::string* reference_final);
  const Plan& plan_;
  ClusterFacts facts_;
  std::optional<std::string> reference_final_;
};

}  // namespace dr::sim
