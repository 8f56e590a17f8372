// The Planner binds a plan template to one inventory and one snapshot: it expands every foreach into concrete
// steps (one per member, per API server or once), resolves needs into step ids, substitutes every ${variable}
// (shell-quoted; command-valued variables such as ${member.service.stop} are built here from quoted parts),
// orders the steps topologically and stamps the plan with its fingerprint. The same inputs always give the same
// plan, byte for byte: that is what lets a journal refuse to resume a run whose plan changed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "etcd/snapshot_file.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "plan/plan_template.h"

namespace dr {

struct PlanOptions {
  std::string run_id = "preview";
  std::string token;  // etcd's new --initial-cluster-token; empty: derived from cluster name and run id
  // Where the snapshot is staged on every member: REMOTE_DIR/RUN_ID/snapshot.db.
  std::string remote_snapshot_dir = "/var/tmp/etcd-dr";
  // SHA-256 of the inventory file's bytes when the caller has them; empty: hashed from inventory.source (or, for
  // an inventory built in memory, from its fields).
  std::string inventory_sha256;
  // The members a replace_members plan replaces (inventory names; planned in inventory order). Must be empty for a
  // template without replaced_members steps, and non-empty for one with them.
  std::vector<std::string> replace_members;
  // The operator asked for etcd's alarms to be disarmed after the restore (${alarms.policy} is "disarm", not
  // "refuse": verify-etcd disarms them before it verifies).
  bool disarm_alarms = false;
  // Where the members fetch the snapshot themselves (an s3:// URL: ${snapshot.source}); empty: the controller's file,
  // uploaded to each member (${snapshot.source} is ${snapshot.path}).
  std::string snapshot_source;
};

struct PlanBuild {
  std::optional<Plan> plan;  // set only when there are no errors
  std::vector<Diagnostic> diagnostics;
};

class Planner {
 public:
  static PlanBuild build(const Inventory& inventory, const SnapshotInfo& snapshot, const PlanTemplate& plan_template,
                         const PlanOptions& options = {});
};

// The token used when PlanOptions::token is empty: "CLUSTER-RUN_ID-" plus 8 hex digits of a hash of both, so
// two runs never share a token and the same run always gets the same one.
std::string deriveClusterToken(const std::string& cluster_name, const std::string& run_id);

// Every variable a template may use, with a one-line meaning, for docs and `--help`; per foreach kind.
struct VariableInfo {
  std::string name;
  std::string meaning;
  bool command_valued = false;  // inserted as it is (already a command), not quoted
  std::optional<Foreach> only_in;  // member.* only in etcd_members steps, apiserver.* only in api_servers steps
};
const std::vector<VariableInfo>& templateVariables();

}  // namespace dr
