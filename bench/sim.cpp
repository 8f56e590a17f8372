// Simulator benchmark (issue 4: "the exhaustive crash-point and fault exploration of full-restore for 5 members
// finishes in under 2 s; print states explored per second"). Runs every crash point (before, during, after each
// step, then resume) and every fault (each step x exit/unreachable/timeout x resume/rollback) of the built-in plan
// for 5 members, and as the comparison measured in the same run, the same number of plain uninterrupted runs of
// the plan through the same executor and model: the ratio says what crashing, reading the journal back, resuming
// and rolling back cost over just running.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <cstdlib>

#include "etcd/snapshot_file.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_template.h"
#include "plan/planner.h"
#include "sim/explorer.h"

using namespace dr;
using WallClock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int members = argc > 1 ? std::atoi(argv[1]) : 5;
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("dr-bench-sim-{}", ::getpid());
  std::filesystem::create_directories(dir);
  std::string yaml = "cluster: bench\ndefaults:\n  ssh: {user: root, become: none}\n"
                     "  etcd_service: {kind: systemd, unit: etcd.service}\n"
                     "  apiserver_service: {kind: systemd, unit: kube-apiserver.service}\nmembers:\n";
  for (int i = 1; i <= members; ++i) {
    yaml += fmt::format("  - {{name: m{0}, address: 10.0.0.{0}, peer_url: https://10.0.0.{0}:2380}}\n", i);
  }
  yaml += "api_servers:\n";
  for (int i = 1; i <= members; ++i) yaml += fmt::format("  - {{host: m{}}}\n", i);
  std::ofstream(dir / "inventory.yaml") << yaml;
  std::ofstream(dir / "snapshot.db") << std::string(4096, 's');
  auto inventory = loadInventory((dir / "inventory.yaml").string());
  auto snapshot = inspectSnapshot(dir / "snapshot.db");
  auto plan_template = loadPlanTemplateByNameOrPath("full-restore");
  std::filesystem::remove_all(dir);
  if (!inventory.inventory || !snapshot || !plan_template.plan_template) {
    std::fprintf(stderr, "bench_sim: cannot load the inputs\n");
    return 1;
  }
  PlanOptions options;
  options.run_id = "bench";
  auto build = Planner::build(*inventory.inventory, *snapshot, *plan_template.plan_template, options);
  if (!build.plan) return 1;
  const Plan& plan = *build.plan;
  const auto facts = sim::ClusterFacts::fromInventory(*inventory.inventory, snapshot->sha256);

  sim::Explorer explorer(plan, facts);
  sim::ExploreOptions explore;
  explore.exhaustive_bound = 0;
  explore.random_orders = 0;
  explore.directed_orders = false;
  const auto t0 = WallClock::now();
  const sim::ExploreSummary s = explorer.explore(explore);
  const double seconds = std::chrono::duration<double>(WallClock::now() - t0).count();

  const std::uint64_t runs = s.scenarios;
  const auto t1 = WallClock::now();
  std::uint64_t plain_states = 0;
  for (std::uint64_t i = 0; i < runs; ++i) plain_states += explorer.run(sim::Scenario{}).transitions;
  const double plain = std::chrono::duration<double>(WallClock::now() - t1).count();

  std::printf("simulator, full-restore, %d members, %zu steps\n", members, plan.steps.size());
  std::printf("  crash points %llu + faults %llu = %llu scenarios, %llu states: %.3f s (target < 2 s: %s), %.0f states/s\n",
              static_cast<unsigned long long>(s.crash_points), static_cast<unsigned long long>(s.faults),
              static_cast<unsigned long long>(s.scenarios), static_cast<unsigned long long>(s.transitions), seconds,
              seconds < 2.0 ? "met" : "MISSED", static_cast<double>(s.transitions) / seconds);
  std::printf("  comparison: %llu plain uninterrupted runs, %llu states: %.3f s, %.0f states/s\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(plain_states), plain,
              static_cast<double>(plain_states) / plain);
  std::printf("  ratio exploration / plain runs: %.2fx the time, %.2fx the states\n", seconds / plain,
              static_cast<double>(s.transitions) / static_cast<double>(plain_states));
  std::printf("  violations: %zu\n", s.violations.size());
  return s.ok() ? 0 : 1;
}
