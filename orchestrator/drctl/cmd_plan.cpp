// `drctl plan -i FILE -s SNAPSHOT [-p PLAN] [-o text|json|dot|mermaid] [--run-id ID] [--verbose]`: shows the
// recovery plan before anything is touched. Nothing is contacted: it reads the inventory, the snapshot and the
// template, builds the plan and prints it on stdout. Every input problem is printed on stderr (the snapshot's
// first, then the inventory's FILE:LINE:COLUMN lines, then the template's) and the exit code is 2.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "remote_client.h"
#include "etcd/snapshot_file.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_json.h"
#include "plan/plan_render.h"
#include "plan/plan_template.h"
#include "plan/planner.h"

namespace dr::cli {
namespace {

constexpr const char* kPlanFooter = R"(Output formats (-o):
  text     (default) for the person running the recovery: which cluster, snapshot and run; then the phases,
           i.e. what runs in parallel, per host, each step with its exact command; then totals.
           --verbose adds each step's check (its read-only postcondition), undo and needs.
  json     the plan as data: {"plan", "fingerprint", "steps": [{"id", "action", "host", "member", "needs",
           "command", ...}], "warnings", "inputs"} (the contract in DESIGN.md)
  dot      a Graphviz digraph, one cluster per host:  drctl plan ... -o dot | dot -Tsvg > plan.svg
  mermaid  a Mermaid flowchart, one subgraph per host, for Markdown pages and tickets

The same inventory, snapshot, template and run id always give the same plan and fingerprint; a run refuses to
resume when the fingerprint changed. Bad input (inventory, snapshot, template) exits 2 and nothing is run.

Examples:
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db --run-id 2024-05-01-restore --verbose
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db -o json | jq '.steps[].id'
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db -p plans/full-restore.yaml -o dot | dot -Tsvg > plan.svg
)";

struct PlanArgs {
  std::string inventory;
  std::string snapshot;
  std::string plan = "full-restore";
  std::string output = "text";
  std::string run_id = "preview";
  bool verbose = false;
};

void printDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& diagnostic : diagnostics) std::fprintf(stderr, "%s\n", diagnostic.str().c_str());
}

int runPlan(const PlanArgs& args) {
  // Every input is read before any is judged, so one run reports every problem at once.
  const Result<SnapshotInfo> snapshot = inspectSnapshot(args.snapshot);
  const InventoryLoad inventory = loadInventory(args.inventory);
  const TemplateLoad plan_template = loadPlanTemplateByNameOrPath(args.plan);

  if (!snapshot) std::fprintf(stderr, "drctl plan: %s\n", snapshot.error().message.c_str());
  printDiagnostics(inventory.diagnostics);
  printDiagnostics(plan_template.diagnostics);
  if (!plan_template.plan_template && plan_template.diagnostics.empty()) {
    std::fprintf(stderr, "drctl plan: cannot load plan template '%s'\n", args.plan.c_str());
  }
  if (!snapshot || !inventory.inventory || !plan_template.plan_template) return kExitBadInput;

  PlanOptions options;
  options.run_id = args.run_id;
  const PlanBuild build = Planner::build(*inventory.inventory, *snapshot, *plan_template.plan_template, options);
  printDiagnostics(build.diagnostics);
  if (!build.plan) return kExitBadInput;
  const Plan& plan = *build.plan;

  PlanContext context;
  context.cluster = inventory.inventory->cluster_name;
  context.inventory_path = args.inventory;
  context.template_source = plan_template.plan_template->source.string();
  context.run_id = args.run_id;
  context.snapshot = *snapshot;

  Result<std::string> rendered = std::string();
  if (args.output == "json") {
    rendered = planToJson(plan).dump(2) + "\n";
  } else if (args.output == "dot") {
    rendered = renderPlanDot(plan, context);
  } else if (args.output == "mermaid") {
    rendered = renderPlanMermaid(plan);
  } else {
    rendered = renderPlanText(plan, context, TextRenderOptions{.verbose = args.verbose});
  }
  if (!rendered) {
    // The planner never makes such a plan; if it did, saying so beats printing a wrong drawing.
    std::fprintf(stderr, "drctl plan: internal error: %s\n", rendered.error().message.c_str());
    return kExitFailed;
  }
  std::fwrite(rendered->data(), 1, rendered->size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailed;
}

}  // namespace

CommandRunner declarePlan(CLI::App& command) {
  command.description(
      "Show the recovery plan for an inventory and a snapshot: the DAG of steps, per host, with the exact\n"
      "commands, in the order the full restore must keep. Nothing is contacted and nothing is run.");
  command.footer(kPlanFooter);
  auto args = std::make_shared<PlanArgs>();
  command.add_option("-i,--inventory", args->inventory, "The inventory file (YAML), see drctl validate")->required();
  command.add_option("-s,--snapshot", args->snapshot,
                     "The etcd snapshot file to restore (read here: size, SHA-256, etcd's integrity trailer)")
      ->required();
  command.add_option("-p,--plan", args->plan, "A built-in template name or a template file (plans/*.yaml)")
      ->capture_default_str();
  command.add_option("-o,--output", args->output, "Output format")
      ->check(CLI::IsMember({"text", "json", "dot", "mermaid"}))
      ->capture_default_str();
  command.add_option("--run-id", args->run_id,
                     "The run this plan is for: names the moved-aside data dirs and derives the new cluster token")
      ->capture_default_str();
  command.add_flag("-v,--verbose", args->verbose, "Text output: also show each step's check, undo and needs");
  return [args] {
    if (remoteOptions().active()) {
      return remotePlan({args->inventory, args->snapshot, args->plan, args->output, args->run_id, args->verbose});
    }
    return runPlan(*args);
  };
}

}  // namespace dr::cli
