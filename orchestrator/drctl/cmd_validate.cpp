// `drctl validate -i FILE`: checks an inventory and prints every problem at once, one `FILE:LINE:COLUMN: message`
// line each on stderr (the contract in docs/design.md). Exit 0 when valid (warnings allowed), 2 when not.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "inventory/inventory_loader.h"

namespace dr::cli {
namespace {

constexpr const char* kValidateFooter = R"(Every problem is reported at once, one line each on stderr:
  FILE:LINE:COLUMN: message            an error (exit 2: nothing can be run from this file)
  FILE:LINE:COLUMN: warning: message   a warning (the file is still valid)
A valid file prints "FILE: valid: N members, M API servers" on stdout, with the controller managers, schedulers
and kubelets it lists (the components a restore stops and restarts), and exits 0.
The keys are described in docs/inventory.md.

Example:
  drctl validate -i inventory/kubeadm-3.yaml
  inventory/kubeadm-3.yaml: valid: 3 members, 3 API servers, 3 controller managers, 3 schedulers, 3 kubelets
)";

std::string plural(std::size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

CommandRunner declareValidate(CLI::App& command) {
  command.description(
      "Check an inventory file: keys, types, required fields, duplicate members, URLs that do not match their\n"
      "member, service control. Nothing is contacted: this reads the file only.");
  command.footer(kValidateFooter);
  auto file = std::make_shared<std::string>();
  command.add_option("-i,--inventory", *file, "The inventory file (YAML) to check")->required()->type_name("FILE");

  return [file] {
    const InventoryLoad load = loadInventory(*file);
    for (const auto& diagnostic : load.diagnostics) std::fprintf(stderr, "%s\n", diagnostic.str().c_str());
    if (!load.inventory) return kExitBadInput;
    const Inventory& inventory = *load.inventory;
    std::string counts = plural(inventory.members.size(), "member", "members") + ", " +
                         plural(inventory.api_servers.size(), "API server", "API servers");
    std::size_t managers = 0, schedulers = 0;
    for (const auto& c : inventory.components) ++(c.role == KubeRole::ControllerManager ? managers : schedulers);
    if (managers) counts += ", " + plural(managers, "controller manager", "controller managers");
    if (schedulers) counts += ", " + plural(schedulers, "scheduler", "schedulers");
    if (!inventory.kubelets.empty()) counts += ", " + plural(inventory.kubelets.size(), "kubelet", "kubelets");
    std::printf("%s: valid: %s\n", file->c_str(), counts.c_str());
    return kExitOk;
  };
}

}  // namespace dr::cli
