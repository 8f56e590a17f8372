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

}  // namespace dr
