// See service_commands.h.
#include "plan/service_commands.h"

#include <filesystem>

#include "core/shell.h"

namespace dr {

namespace {

std::string q(const std::string& value) { return shellQuote(value); }

// timeout(1) bounds the poll; the loop itself is a second shell so the condition may be any command list. The
// condition is tried once first: usually the stop (or start) has already waited, and then the poll's two extra
// processes (timeout, sh) are not started at all. Braced so that the whole wait stays one command in `a && b`.
std::string pollWhile(const std::string& condition) {
  return "{ ! " + condition + " || timeout " + std::to_string(kServiceWaitSeconds) + " sh -c " +
         q("while " + condition + "; do sleep 1; done") + "; }";
}
std::string pollUntil(const std::string& condition) {
  return "{ " + condition + " || timeout " + std::to_string(kServiceWaitSeconds) + " sh -c " +
         q("until " + condition + "; do sleep 1; done") + "; }";
}

}  // namespace

Result<ServiceCommands> buildServiceCommands(const ServiceControl& service, const std::string& what) {
  ServiceCommands out;
  switch (service.kind) {
    case ServiceKind::Systemd: {
      if (service.unit.empty()) return fail("{}: service kind systemd needs a unit", what);
      // --no-block: with Type=notify, `systemctl start` waits for etcd to report ready, which a restored member
      // started alone never does (no quorum). Health is verified later, once every member is started.
      out.start = "systemctl start --no-block " + q(service.unit);
      out.stop = "systemctl stop " + q(service.unit);
      out.status = "systemctl is-active --quiet " + q(service.unit);
      out.probe = "systemctl cat " + q(service.unit) + " >/dev/null";
      break;
    }
    case ServiceKind::StaticPod: {
      if (service.manifest.empty() || service.parked_dir.empty() || service.container_name.empty()) {
        return fail("{}: service kind static-pod needs manifest, parked_dir and container_name", what);
      }
      const std::string parked =
          (std::filesystem::path(service.parked_dir) / std::filesystem::path(service.manifest).filename()).string();
      // Idempotent both ways, so a retried or resumed step finds the manifest where it left it.
      out.stop = "if [ -e " + q(service.manifest) + " ]; then mkdir -p " + q(service.parked_dir) + " && mv " +
                 q(service.manifest) + " " + q(parked) + "; fi";
      out.start = "if [ -e " + q(parked) + " ]; then mv " + q(parked) + " " + q(service.manifest) + "; fi";
      out.status = "test -n \"$(crictl ps --name " + q(service.container_name) + " -q)\"";
      out.probe = "crictl ps -q >/dev/null";
      break;
    }
    case ServiceKind::Command: {
      if (service.start.empty() || service.stop.empty() || service.status.empty()) {
        return fail("{}: service kind command needs start, stop and status commands", what);
      }
      // Braced so that each stays one command inside a template's `a && b` chain, and `! ${...status}` negates
      // all of it.
      out.start = "{ " + service.start + "; }";
      out.stop = "{ " + service.stop + "; }";
      out.status = "{ " + service.status + "; }";
      out.probe = "true";  // the operator's commands are theirs to check
      break;
    }
  }
  out.wait_stopped = pollWhile(out.status);
  out.wait_running = pollUntil(out.status);
  return out;
}

}  // namespace dr

namespace dr {

std::string joinCommand(const ServiceControl& service, const std::string& initial_cluster) {
  const std::string state = "ETCD_INITIAL_CLUSTER_STATE=existing";
  const std::string cluster = "ETCD_INITIAL_CLUSTER=" + initial_cluster;
  switch (service.kind) {
    case ServiceKind::Systemd: {
      const std::string dir = "/run/systemd/system/" + service.unit + ".d";
      const std::string conf = "[Service]\nEnvironment=" + state + "\nEnvironment=\"" + cluster + "\"\n";
      return "{ mkdir -p " + q(dir) + " && printf '%b' " + q(conf) + " > " + q(dir + "/etcd-dr-join.conf") +
             " && systemctl daemon-reload && systemctl start --no-block " + q(service.unit) + "; }";
    }
    case ServiceKind::StaticPod: {
      const std::string parked =
          (std::filesystem::path(service.parked_dir) / std::filesystem::path(service.manifest).filename()).string();
      // sed's replacement text: '&', '\\' and the '|' delimiter escaped.
      std::string escaped;
      for (char c : initial_cluster) {
        if (c == '&' || c == '\\' || c == '|') escaped += '\\';
        escaped += c;
      }
      const std::string script = "s|--initial-cluster-state=[a-z]*|--initial-cluster-state=existing|; "
                                 "s|--initial-cluster=[^ \"]*|--initial-cluster=" + escaped + "|";
      return "{ if [ -e " + q(parked) + " ]; then sed -i " + q(script) + " " + q(parked) + " && mv " + q(parked) +
             " " + q(service.manifest) + "; fi; }";
    }
    case ServiceKind::Command:
      return "( export " + q(state) + " " + q(cluster) + "; " + service.start + " )";
  }
  return "";
}

}  // namespace dr
