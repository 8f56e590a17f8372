// Inventories and snapshots built in memory for the plan tests (the inventory loader is tested on its own).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "etcd/snapshot_file.h"
#include "inventory/inventory.h"
#include "plan/plan.h"
#include "plan/plan_template.h"
#include "plan/planner.h"

namespace dr::test {

// The whole of a file's bytes; empty when it cannot be read.
inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// N members named etcd-1..N at 10.0.0.1..N (systemd units), and one API server per member host (static pods).
inline Inventory makeInventory(int members, int api_servers = -1) {
  if (api_servers < 0) api_servers = members;
  Inventory inventory;
  inventory.cluster_name = "prod";
  for (int i = 1; i <= members; ++i) {
    EtcdMember m;
    m.name = "etcd-" + std::to_string(i);
    m.address = "10.0.0." + std::to_string(i);
    m.peer_url = "https://" + m.address + ":2380";
    m.client_url = "https://" + m.address + ":2379";
    m.service.kind = ServiceKind::Systemd;
    m.service.unit = "etcd";
    inventory.members.push_back(m);
  }
  for (int i = 1; i <= api_servers; ++i) {
    ApiServer api;
    api.host = "10.0.0." + std::to_string(i);
    api.address = api.host;
    api.service.kind = ServiceKind::StaticPod;
    api.service.manifest = "/etc/kubernetes/manifests/kube-apiserver.yaml";
    api.service.parked_dir = "/etc/kubernetes/parked";
    api.service.container_name = "kube-apiserver";
    inventory.api_servers.push_back(api);
  }
  return inventory;
}

// Every host of makeInventory(n) with a controller manager and a scheduler (static pods) and a kubelet (systemd).
inline Inventory withComponents(Inventory inventory) {
  for (const auto& member : inventory.members) {
    for (KubeRole role : {KubeRole::ControllerManager, KubeRole::Scheduler, KubeRole::Kubelet}) {
      KubeComponent c;
      c.role = role;
      c.host = member.name;
      c.address = member.address;
      if (role == KubeRole::Kubelet) {
        c.service.unit = "kubelet.service";
        inventory.kubelets.push_back(c);
      } else {
        c.service.kind = ServiceKind::StaticPod;
        c.service.manifest = std::string("/etc/kubernetes/manifests/") + kubeRoleName(role) + ".yaml";
        c.service.parked_dir = "/etc/kubernetes/parked";
        c.service.container_name = kubeRoleName(role);
        inventory.components.push_back(c);
      }
    }
  }
  return inventory;
}

inline SnapshotInfo makeSnapshot() {
  SnapshotInfo snapshot;
  snapshot.path = "/backup/snap.db";
  snapshot.size = 4096;
  snapshot.sha256 = std::string(64, 'a');
  snapshot.has_trailer = true;
  snapshot.revision = 1234;
  return snapshot;
}

inline const PlanTemplate& fullRestoreTemplate() {
  static const PlanTemplate plan_template = [] {
    auto load = loadPlanTemplate(std::string(DR_SOURCE_DIR) + "/plans/full-restore.yaml");
    if (!load.plan_template) {
      std::string all;
      for (const auto& d : load.diagnostics) all += d.str() + "\n";
      throw std::runtime_error("plans/full-restore.yaml does not load:\n" + all);
    }
    return *load.plan_template;
  }();
  return plan_template;
}

inline Plan buildPlan(const Inventory& inventory, const SnapshotInfo& snapshot = makeSnapshot(),
                      const PlanOptions& options = {}, const PlanTemplate& plan_template = fullRestoreTemplate()) {
  auto build = Planner::build(inventory, snapshot, plan_template, options);
  if (!build.plan) {
    std::string all;
    for (const auto& d : build.diagnostics) all += d.str() + "\n";
    throw std::runtime_error("planning failed:\n" + all);
  }
  return *build.plan;
}

inline std::string joined(const std::vector<Diagnostic>& diagnostics) {
  std::string all;
  for (const auto& d : diagnostics) all += d.str() + "\n";
  return all;
}

}  // namespace dr::test
