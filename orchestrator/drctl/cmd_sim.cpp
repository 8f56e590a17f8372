// `drctl sim -i INV -s SNAP [-p PLAN]`: proves, before anything touches a host, that the plan keeps every ordering
// rule of docs/design.md whatever order its parallel steps finish in, wherever drctl crashes and whichever step fails
// on which host. It runs the real executor over the simulator's model (sim/), prints a summary and exits 1 on any
// violation, with the seed and the shortest trace; `--replay SEED` reruns one scenario step by step; `--mutate`
// checks that the simulator catches deliberately wrong variants of the plan.
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

#include "bucket_input.h"
#include "cli_support.h"
#include "commands.h"
#include "exec/run_session.h"
#include "sim/explorer.h"
#include "sim/mutants.h"

namespace dr::cli {
namespace {

constexpr const char* kSimFooter = R"(What it explores (each scenario runs the real executor, journal and resume code over a model of the
cluster: API servers, etcd members, data dirs, uploaded snapshots, quorum):
  orders   every order in which ready steps can complete when there are at most --bound of them; otherwise the
           plan order, each step as early and as late as possible, and --orders seeded random orders
  crashes  drctl killed before, during and after every step (a torn journal record included), then resume
  faults   every step failing on its host (non-zero exit, host unreachable, timeout after its effect), then
           the halt, then resume, and separately rollback

The invariants (a violation prints the name, what happened, the seed and the shortest trace):
{}
Exit codes: 0 no violation (or, with --mutate, every mutant caught), 1 a violation (or a surviving mutant),
2 bad input.

Examples:
  drctl sim -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db
  drctl sim -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db --mutate
  drctl sim -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db --replay 0x4000500000000000
  drctl sim -i new-hosts.yaml -s /backup/etcd-snapshot.db --new-host etcd-1 --new-host etcd-2 --new-host etcd-3
  drctl sim -i inventory/systemd-5.yaml -p replace-member --member etcd-d --member etcd-e --mutate
)";

struct SimArgs {
  std::string inventory;
  std::string snapshot;
  std::string plan = "full-restore";
  std::string run_id = "sim";
  std::uint64_t seed = 1;
  int orders = 100;
  std::uint64_t bound = 2000;
  bool no_crashes = false;
  bool no_faults = false;
  bool mutate = false;
  std::string replay;
  bool skip_hash_check = false;
  std::vector<std::string> new_hosts;  // member names whose host has no data dir yet
  std::vector<std::string> members;    // replace-member: the members replaced
  std::vector<std::string> running;    // replace-member: replaced members that still run (a host migration)
};

std::string invariantList() {
  std::string text;
  for (const auto& info : sim::invariantTable()) text += fmt::format("  {:<26} {}\n", info.name, info.explanation);
  return text;
}

void printTrace(const std::vector<std::string>& trace) {
  for (std::size_t i = 0; i < trace.size(); ++i) std::printf("    %3zu. %s\n", i + 1, trace[i].c_str());
}

void printViolation(const sim::FoundViolation& found, const SimArgs& args) {
  std::printf("\nVIOLATION %s: %s\n", found.violation.invariant.c_str(),
              sim::invariantExplanation(found.violation.invariant));
  std::printf("  what:     %s\n", found.violation.detail.c_str());
  std::printf("  scenario: %s\n", found.scenario.c_str());
  std::string inputs = "-i " + args.inventory;
  if (!args.snapshot.empty()) inputs += " -s " + args.snapshot;
  inputs += " -p " + args.plan;
  for (const auto& m : args.members) inputs += " --member " + m;
  for (const auto& m : args.running) inputs += " --running " + m;
  for (const auto& m : args.new_hosts) inputs += " --new-host " + m;
  std::printf("  seed:     %s   (replay: drctl sim %s --replay %s)\n", sim::formatSeed(found.seed).c_str(),
              inputs.c_str(), sim::formatSeed(found.seed).c_str());
  std::printf("  trace (the shortest found, %zu lines):\n", found.trace.size());
  printTrace(found.trace);
}

sim::ExploreOptions exploreOptions(const SimArgs& args) {
  sim::ExploreOptions options;
  options.seed = args.seed;
  options.random_orders = args.orders;
  options.exhaustive_bound = args.bound;
  options.crashes = !args.no_crashes;
  options.faults = !args.no_faults;
  return options;
}

void printSummary(const sim::ExploreSummary& s) {
  std::string orders = std::to_string(s.orders);
  if (s.exhaustive) {
    orders += fmt::format(" (exhaustive: every one of the {} orders)", *s.orders_total);
  } else {
    orders += fmt::format(" (more than the bound: plan order, {} directed, {} seeded random)", s.directed, s.random);
  }
  std::printf("  orders explored:    %s\n", orders.c_str());
  std::printf("  crash points:       %llu (before, during and after each step), each followed by resume\n",
              static_cast<unsigned long long>(s.crash_points));
  std::printf("  faults:             %llu (each step x exit/unreachable/timeout x resume/rollback)\n",
              static_cast<unsigned long long>(s.faults));
  std::printf("  invariants checked: %zu\n", sim::invariantTable().size());
  std::printf("  scenarios:          %llu, %llu states explored in %.2f s (%.0f states/s)\n",
              static_cast<unsigned long long>(s.scenarios), static_cast<unsigned long long>(s.transitions), s.seconds,
              s.seconds > 0 ? static_cast<double>(s.transitions) / s.seconds : 0.0);
  std::printf("  violations:         %zu\n", s.violations.size());
}

int replay(const Plan& plan, const sim::ClusterFacts& facts, const SimArgs& args) {
  auto seed = sim::parseSeed(args.replay);
  if (!seed) {
    std::fprintf(stderr, "drctl sim: --replay: %s\n", seed.error().message.c_str());
    return kExitBadInput;
  }
  auto scenario = sim::Scenario::fromSeed(*seed);
  if (!scenario) {
    std::fprintf(stderr, "drctl sim: --replay: %s\n", scenario.error().message.c_str());
    return kExitBadInput;
  }
  if (scenario->fault_step && *scenario->fault_step >= plan.steps.size()) {
    std::fprintf(stderr, "drctl sim: --replay: seed %s names step #%zu, but this plan has %zu steps\n",
                 args.replay.c_str(), *scenario->fault_step, plan.steps.size());
    return kExitBadInput;
  }
  sim::Explorer explorer(plan, facts);
  const sim::ScenarioResult first = explorer.run(*scenario);
  const sim::ScenarioResult second = explorer.run(*scenario);
  std::printf("replay %s: %s\n", sim::formatSeed(*seed).c_str(), scenario->describe(plan).c_str());
  printTrace(first.trace);
  for (const auto& v : first.violations) {
    std::printf("VIOLATION %s: %s\n  what: %s\n", v.invariant.c_str(), sim::invariantExplanation(v.invariant),
                v.detail.c_str());
  }
  std::printf("trace hash: %s\n", first.trace_hash.c_str());
  if (first.trace_hash != second.trace_hash) {
    std::printf("self-check FAILED: a second run of the same seed gave trace hash %s\n", second.trace_hash.c_str());
    return kExitFailed;
  }
  std::printf("self-check: a second run of the same seed gave the same trace hash\n");
  std::printf("%s\n", first.violations.empty() ? "no violation" : "violations found");
  return first.violations.empty() ? kExitOk : kExitFailed;
}

int mutate(const Plan& plan, const sim::ClusterFacts& facts, const SimArgs& args) {
  const auto mutants = sim::builtinMutants(plan, facts);
  sim::ExploreOptions options = exploreOptions(args);
  options.stop_at_first = true;
  int caught = 0;
  std::printf("\nmutation testing: %zu mutants of %s\n", mutants.size(), plan.name.c_str());
  for (const auto& mutant : mutants) {
    sim::Explorer explorer(mutant.plan, facts);
    const sim::ExploreSummary s = explorer.explore(options);
    if (!s.ok()) {
      ++caught;
      // The most telling violation: a named ordering rule rather than the catch-all `recovers`.
      const auto& found = *std::find_if(s.violations.begin(), s.violations.end(), [&](const sim::FoundViolation& f) {
        return f.violation.invariant != sim::kRecovers || &f == &s.violations.back();
      });
      std::printf("  caught   %-22s %s\n           -> %s: %s (seed %s)\n", mutant.kind.c_str(), mutant.description.c_str(),
                  found.violation.invariant.c_str(), found.violation.detail.c_str(),
                  sim::formatSeed(found.seed).c_str());
    } else {
      std::printf("  SURVIVED %-22s %s\n           -> no invariant saw it in %llu scenarios (orders, crashes, faults): "
                  "every run of the mutant recovered the cluster without breaking a rule, so either the change is "
                  "harmless for this inventory or a rule is missing\n",
                  mutant.kind.c_str(), mutant.description.c_str(), static_cast<unsigned long long>(s.scenarios));
    }
    std::fflush(stdout);
  }
  std::printf("mutants caught: %d/%zu\n", caught, mutants.size());
  return caught == static_cast<int>(mutants.size()) ? kExitOk : kExitFailed;
}

int runSim(SimArgs args) {
  if (int code = fetchSnapshotArgument(args.snapshot, kDefaultRunsDir, "drctl sim"); code != 0) return code;
  // The same loading and planning as apply: a simulated plan is byte for byte the plan a run would execute.
  const PlanningOutcome planned =
      planRun({args.inventory, args.snapshot, args.plan, args.run_id, "", args.skip_hash_check, args.members});
  for (const auto& line : planned.problemLines()) std::fprintf(stderr, "%s\n", line.c_str());
  if (!planned.run) return kExitBadInput;
  const Plan& plan = planned.run->plan;
  auto facts = sim::ClusterFacts::fromInventory(planned.run->inventory, planned.run->snapshot.sha256);
  for (const auto& name : args.new_hosts) {
    const bool known = std::any_of(facts.members.begin(), facts.members.end(),
                                   [&](const EtcdMember& m) { return m.name == name; });
    if (!known) {
      std::fprintf(stderr, "drctl sim: --new-host %s: no member of that name in %s\n", name.c_str(),
                   args.inventory.c_str());
      return kExitBadInput;
    }
    facts.new_hosts.insert(name);
  }

  for (const auto& name : args.running) {
    if (std::find(args.members.begin(), args.members.end(), name) == args.members.end()) {
      std::fprintf(stderr, "drctl sim: --running %s: not a member replaced (--member)\n", name.c_str());
      return kExitBadInput;
    }
  }
  sim::applyReplacement(facts, plan, std::set<std::string>(args.running.begin(), args.running.end()));

  if (!args.replay.empty()) return replay(plan, facts, args);

  std::printf("drctl sim: plan %s for cluster %s: %zu members, %zu API servers, %zu steps, seed %llu\n",
              plan.name.c_str(), facts.cluster_name.c_str(), facts.members.size(), facts.api_hosts.size(),
              plan.steps.size(), static_cast<unsigned long long>(args.seed));
  sim::Explorer explorer(plan, facts);
  const sim::ExploreSummary summary = explorer.explore(exploreOptions(args));
  printSummary(summary);
  for (const auto& found : summary.violations) printViolation(found, args);
  std::fflush(stdout);
  if (!summary.ok()) return kExitFailed;
  if (args.mutate) return mutate(plan, facts, args);
  return kExitOk;
}

}  // namespace

CommandRunner declareSim(CLI::App& command) {
  auto args = std::make_shared<SimArgs>();
  command.add_option("-i,--inventory", args->inventory, "The inventory (YAML)")->required();
  command.add_option("-s,--snapshot", args->snapshot,
                     "The snapshot file the plan restores (a plan that restores), or s3://BUCKET/KEY (downloaded to "
                     "runs/downloads/)");
  command.add_option("--member", args->members,
                     "replace-member: a member replaced (repeat for several); the model starts it down");
  command.add_option("--running", args->running,
                     "replace-member: a replaced member that still runs (a healthy member replaced on purpose): its "
                     "fence then matters");
  command.add_option("-p,--plan", args->plan, "Plan template: a built-in name or a file")->capture_default_str();
  command.add_option("--run-id", args->run_id, "Run id the plan is made for")->capture_default_str();
  command.add_option("--seed", args->seed, "Master seed of the random orders")->capture_default_str();
  command.add_option("--orders", args->orders, "Random orders to sample when the orders are too many to enumerate")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command.add_option("--bound", args->bound, "Enumerate every order when there are at most this many")
      ->capture_default_str();
  command.add_flag("--no-crashes", args->no_crashes, "Skip the crash points");
  command.add_flag("--skip-hash-check", args->skip_hash_check, "Accept a snapshot without etcd's integrity trailer");
  command.add_flag("--no-faults", args->no_faults, "Skip the faults");
  command.add_flag("--mutate", args->mutate, "Also run the built-in mutants of the plan; ends with 'mutants caught: K/N'");
  command.add_option("--new-host", args->new_hosts,
                     "A member whose host has no data dir yet (a rebuild on new hosts): the model starts it empty, "
                     "with nothing to set aside. Repeat it for each such member");
  command.add_option("--replay", args->replay, "Rerun the one scenario of this seed, printing its trace");
  command.footer(fmt::format(fmt::runtime(kSimFooter), invariantList()));
  return [args] { return runSim(*args); };
}

}  // namespace dr::cli
