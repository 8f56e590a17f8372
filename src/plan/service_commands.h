// The shell commands that control a service (etcd or an API server) on its host, built from the inventory's
// ServiceControl: systemctl for systemd, moving the manifest out of/into the kubelet's manifest dir and polling
// crictl for static pods, the operator's own commands for `command`. Every inventory value is shell-quoted; the
// operator's commands are inserted as they are (they are trusted like a script the operator wrote).
#pragma once

#include <string>

#include "core/result.h"
#include "inventory/inventory.h"

namespace dr {

// How long the wait_* commands poll before they give up (exit 124, from timeout(1)).
inline constexpr int kServiceWaitSeconds = 120;

struct ServiceCommands {
  std::string start;         // returns once the service is asked to start; never waits for etcd's health
  std::string stop;          // asks the service to stop
  std::string status;        // exits 0 when the service runs
  std::string wait_stopped;  // polls status until it fails (bounded)
  std::string wait_running;  // polls status until it succeeds (bounded)
  // exits 0 when this host can control the service at all (systemctl present, crictl reaches the runtime):
  // without it a missing tool would read as "stopped"
  std::string probe;
};

// `what` names the service in error messages ("member etcd-1", "API server 10.0.0.1"). Fails when the fields the
// kind needs are empty.
Result<ServiceCommands> buildServiceCommands(const ServiceControl& service, const std::string& what);

// Starts etcd on an empty data dir so that it joins the running cluster (replace-member): etcd reads
// ETCD_INITIAL_CLUSTER_STATE=existing and ETCD_INITIAL_CLUSTER from its environment when no flag sets them.
//  - command: the operator's start runs with both exported (the start script must pass them on, or not set the
//    flags itself);
//  - systemd: a runtime drop-in (/run/systemd/system/UNIT.d/etcd-dr-join.conf) sets both, then the unit starts
//    (an EnvironmentFile that sets them too wins: the drop-in is then ignored);
//  - static-pod: the parked manifest's --initial-cluster-state and --initial-cluster flags are rewritten first.
// Once the member has joined, its data dir carries the membership and these settings are ignored.
std::string joinCommand(const ServiceControl& service, const std::string& initial_cluster);

}  // namespace dr
