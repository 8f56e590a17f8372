#include "inventory/inventory.h"

namespace dr {

const char* kubeRoleName(KubeRole role) {
  switch (role) {
    case KubeRole::ControllerManager: return "kube-controller-manager";
    case KubeRole::Scheduler: return "kube-scheduler";
    case KubeRole::Kubelet: return "kubelet";
  }
  return "?";
}

const EtcdMember* Inventory::findMember(std::string_view name) const {
  for (const auto& member : members) {
    if (member.name == name) return &member;
  }
  return nullptr;
}

std::string Inventory::initialCluster() const {
  std::string out;
  for (const auto& member : members) {
    if (!out.empty()) out += ',';
    out += member.name + "=" + member.peer_url;
  }
  return out;
}

}  // namespace dr
