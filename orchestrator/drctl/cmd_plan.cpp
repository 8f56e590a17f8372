// `drctl plan -i FILE [-s SNAPSHOT] [-p PLAN] [--member NAME]... [-o text|json|dot|mermaid] [--run-id ID]
// [--verbose]`: shows the recovery plan before anything is touched. Nothing is contacted: it reads the inventory, the snapshot and the
// template, builds the plan (ops/preview.h) and prints it on stdout. Every input problem is printed on stderr (the
// inventory's FILE:LINE:COLUMN lines, then the snapshot's, then the template's) and the exit code is 2.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bucket_input.h"
#include "cli_support.h"
#include "storage/s3_client.h"
#include "commands.h"
#include "ops/preview.h"
#include "remote_client.h"

namespace dr::cli {
namespace {

constexpr const char* kPlanFooter = R"(Output formats (-o):
  text     (default) for the person running the recovery: which cluster, snapshot and run; then the phases,
           i.e. what runs in parallel, per host, each step with its exact command; then totals.
           --verbose adds each step's check (its read-only postcondition), undo and needs.
  json     the plan as data: {"plan", "fingerprint", "steps": [{"id", "action", "host", "member", "needs",
           "command", ...}], "warnings", "inputs"} (the contract in docs/design.md)
  dot      a Graphviz digraph, one cluster per host:  drctl plan ... -o dot | dot -Tsvg > plan.svg
  mermaid  a Mermaid flowchart, one subgraph per host, for Markdown pages and tickets

The same inventory, snapshot, template and run id always give the same plan and fingerprint; a run refuses to
resume when the fingerprint changed. Bad input (inventory, snapshot, template) exits 2 and nothing is run.

Examples:
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db --run-id 2024-05-01-restore --verbose
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db -o json | jq '.steps[].id'
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db -p plans/full-restore.yaml -o dot | dot -Tsvg > plan.svg
  drctl plan -i inventory/kubeadm-3.yaml -p replace-member --member cp-2     # no snapshot: Raft copies the data

Plans (-p): full-restore (every member from one snapshot; needs -s), replace-member (failed members one at a
time while a quorum serves; needs --member here, drctl apply reads the failed ones from the cluster).
)";

struct PlanArgs {
  std::string inventory;
  std::string snapshot;
  std::string plan = "full-restore";
  std::string output = "text";
  std::string run_id = "preview";
  bool verbose = false;
  bool skip_hash_check = false;
  std::vector<std::string> members;
  bool disarm_alarms = false;
  bool members_fetch = false;
};

int runPlan(PlanArgs args) {
  std::string members_fetch;
  if (args.members_fetch) {
    if (!isS3Url(args.snapshot)) {
      std::fprintf(stderr, "drctl plan: --members-fetch needs the snapshot in a bucket: -s s3://BUCKET/KEY\n");
      return kExitBadInput;
    }
    members_fetch = args.snapshot;
  }
  if (int code = fetchSnapshotArgument(args.snapshot, kDefaultRunsDir, "drctl plan"); code != 0) return code;
  ops::PreviewRequest request{args.inventory,        args.snapshot, args.plan,          args.run_id,
                              args.output,           args.verbose,  args.skip_hash_check, args.members,
                              args.disarm_alarms,    members_fetch};
  auto preview = ops::previewPlan(request);
  printNotes(preview.notes);
  if (!preview.ok()) return printRefusal("drctl plan", *preview.refusal);
  const std::string& rendered = preview.value->rendered;
  std::fwrite(rendered.data(), 1, rendered.size(), stdout);
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
                     "The etcd snapshot file to restore (read here: size, SHA-256, etcd's integrity trailer); "
                     "every plan that restores needs it; s3://BUCKET/KEY is downloaded to runs/downloads/ first");
  command.add_option("--member", args->members,
                     "replace-member: a member to replace (repeat for several; they are replaced one at a time)");
  command.add_option("-p,--plan", args->plan, "A built-in template name or a template file (plans/*.yaml)")
      ->capture_default_str();
  command.add_option("-o,--output", args->output, "Output format")
      ->check(CLI::IsMember({"text", "json", "dot", "mermaid"}))
      ->capture_default_str();
  command.add_option("--run-id", args->run_id,
                     "The run this plan is for: names the moved-aside data dirs and derives the new cluster token")
      ->capture_default_str();
  command.add_flag("-v,--verbose", args->verbose, "Text output: also show each step's check, undo and needs");
  command.add_flag("--skip-hash-check", args->skip_hash_check,
                   "Accept a snapshot without etcd's integrity trailer (a db copied from a data dir); the restore "
                   "step then passes --skip-hash-check too");
  command.add_flag("--members-fetch", args->members_fetch,
                   "With -s s3://BUCKET/KEY: plan the members fetching the snapshot from the bucket themselves");
  command.add_flag("--disarm-alarms", args->disarm_alarms,
                   "The plan's alarms step disarms etcd's alarms after the restore (it lists them otherwise)");
  return [args] {
    if (remoteOptions().active()) {
      return remotePlan({args->inventory, args->snapshot, args->plan, args->output, args->run_id, args->verbose,
                         args->skip_hash_check, args->members, args->disarm_alarms, args->members_fetch});
    }
    return runPlan(*args);
  };
}

}  // namespace dr::cli
