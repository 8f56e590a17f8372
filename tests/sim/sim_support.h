// Plans for the simulator's tests: an inventory of N members (each host also runs an API server, as kubeadm
// does) written to a temp dir, a snapshot file, and the built-in full-restore plan made from them.
#pragma once

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <vector>
#include <string>

#include <catch2/catch.hpp>

#include "fixtures/tiny_snapshot.h"
#include "etcd/snapshot_file.h"
#include "fixtures/temp_dir.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_template.h"
#include "plan/planner.h"
#include "sim/model.h"

namespace dr::test {

// components: every host also runs a controller manager, a scheduler and a kubelet, listed for the restore.
inline std::string membersInventory(int members, bool components = false) {
  std::string yaml = "cluster: sim-" + std::to_string(members) + R"(
defaults:
  ssh: {user: root, become: none}
  data_dir: /var/lib/etcd/data
  etcd_user: root
  etcd_group: root
  etcd_service: {kind: command, start: /usr/local/bin/etcd-ctl start, stop: /usr/local/bin/etcd-ctl stop, status: /usr/local/bin/etcd-ctl status}
  apiserver_service: {kind: command, start: /usr/local/bin/api-ctl start, stop: /usr/local/bin/api-ctl stop, status: /usr/local/bin/api-ctl status}
members:
)";
  for (int i = 1; i <= members; ++i) {
    yaml += fmt::format("  - {{name: m{0}, address: 10.0.0.{0}, peer_url: http://10.0.0.{0}:2380}}\n", i);
  }
  yaml += "api_servers:\n";
  for (int i = 1; i <= members; ++i) yaml += fmt::format("  - {{host: m{}}}\n", i);
  if (components) {
    for (const char* list : {"controller_managers", "schedulers", "kubelets"}) {
      yaml += std::string(list) + ":\n";
      for (int i = 1; i <= members; ++i) yaml += fmt::format("  - {{host: m{}, service: {{kind: command, start: c start, stop: c stop, status: c status}}}}\n", i);
    }
  }
  return yaml;
}

struct SimPlan {
  TempDir dir{"dr-sim"};
  std::filesystem::path inventory_path, snapshot_path;
  Plan plan;
  sim::ClusterFacts facts;

  // replace: the members a replace-member plan replaces (down in the model unless in `running`).
  explicit SimPlan(int members, const std::string& template_name = "full-restore",
                   const std::vector<std::string>& replace = {}, const std::set<std::string>& running = {},
                   bool components = false) {
    inventory_path = dir.path / "inventory.yaml";
    snapshot_path = dir.path / "snapshot.db";
    std::ofstream(inventory_path) << membersInventory(members, components);
    test::writeTinySnapshot(snapshot_path);
    auto inventory = loadInventory(inventory_path.string());
    REQUIRE(inventory.inventory);
    auto snapshot = inspectSnapshot(snapshot_path);
    REQUIRE(snapshot);
    auto plan_template = loadPlanTemplateByNameOrPath(template_name);
    REQUIRE(plan_template.plan_template);
    PlanOptions options;
    options.run_id = "sim";
    options.replace_members = replace;
    const bool restores = plan_template.plan_template->uses_snapshot;
    auto build = Planner::build(*inventory.inventory, restores ? *snapshot : SnapshotInfo{},
                                *plan_template.plan_template, options);
    for (const auto& d : build.diagnostics) UNSCOPED_INFO(d.str());
    REQUIRE(build.plan);
    plan = *build.plan;
    facts = sim::ClusterFacts::fromInventory(*inventory.inventory, restores ? snapshot->sha256 : "");
    sim::applyReplacement(facts, plan, running);
  }
};

}  // namespace dr::test
