// The inventory: the hosts of one etcd cluster and how to reach and control them. This header is the model every
// other part reads; inventory_loader.h turns a YAML file into it, with every problem reported at once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"

namespace dr {

enum class Become { None, Sudo };

// How to reach a host over SSH. Members and API servers start from the inventory's defaults and override fields.
struct SshSettings {
  std::string user = "root";
  int port = 22;
  std::string identity_file;  // empty: use ssh-agent
  std::string known_hosts;    // empty: ~/.ssh/known_hosts
  Become become = Become::None;
};

enum class ServiceKind { Systemd, StaticPod, Command };

// How to stop, start and ask about a service on its host. Exactly one group of fields is meaningful per kind.
struct ServiceControl {
  ServiceKind kind = ServiceKind::Systemd;
  // systemd: the unit, controlled with systemctl.
  std::string unit;
  // static-pod: the manifest inside the kubelet's manifest dir; stopping moves it to parked_dir and waits (crictl)
  // until no container named container_name runs; starting moves it back and waits until one runs.
  std::string manifest;
  std::string parked_dir;
  std::string container_name;
  // command: explicit commands, written by the operator (trusted like a shell script, inserted as they are).
  // `status` exits 0 when the service runs and non-zero when it does not.
  std::string start;
  std::string stop;
  std::string status;
  SourceLocation where;
};

struct EtcdMember {
  std::string name;
  std::string address;  // where SSH connects; also the host part of peer_url
  SshSettings ssh;      // defaults with this member's overrides applied
  std::string peer_url;
  std::string client_url;
  std::string data_dir = "/var/lib/etcd";
  std::string etcd_user = "etcd";
  std::string etcd_group = "etcd";
  ServiceControl service;
  SourceLocation where;
};

struct ApiServer {
  std::string host;     // as written: a member name or an address
  std::string address;  // resolved: the member's address when host names a member, otherwise host itself
  SshSettings ssh;
  ServiceControl service;
  std::string readyz_url;  // checked by verify-apiserver; default https://ADDRESS:6443/readyz
  SourceLocation where;
};

// The Kubernetes components that cache etcd's state through the API servers. After a restore they hold objects and
// resource versions the restored cluster never had (newer than its revision), so the restore stops the controller
// managers and schedulers with the API servers and starts them after, and restarts the kubelets while nothing runs.
// Optional: an inventory without them gets a plan that says who must restart them.
enum class KubeRole { ControllerManager, Scheduler, Kubelet };
// "kube-controller-manager", "kube-scheduler", "kubelet"
const char* kubeRoleName(KubeRole role);

struct KubeComponent {
  KubeRole role = KubeRole::ControllerManager;
  std::string host;     // as written: a member name or an address
  std::string address;  // resolved like an API server's host
  SshSettings ssh;
  ServiceControl service;
  SourceLocation where;

  // The plan's instance key, "HOST/kube-scheduler" or "HOST/kubelet": a '/' no member or API server key has.
  std::string key() const { return host + "/" + kubeRoleName(role); }
};

enum class RestoreTool { Etcdctl, Etcdutl };

struct EtcdTooling {
  RestoreTool restore_tool = RestoreTool::Etcdctl;  // etcdctl for 3.4, etcdutl for 3.5+
  std::string etcdctl = "etcdctl";                  // binary paths on the hosts
  std::string etcdutl = "etcdutl";
  // Whether the restore tool takes --bump-revision/--mark-compacted (etcd >= 3.4.27 / 3.5.10). When false the
  // plan carries a warning: clients watching from a revision above the snapshot's may miss events.
  bool bump_revision = false;
};

// Client TLS for talking to etcd (the API server's client certificate, or etcd's healthcheck client).
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

struct Inventory {
  std::filesystem::path source;  // the file it was read from
  std::string cluster_name;
  std::vector<EtcdMember> members;
  std::vector<ApiServer> api_servers;
  std::vector<KubeComponent> components;  // controller managers, then schedulers, in inventory order
  std::vector<KubeComponent> kubelets;
  EtcdTooling tooling;
  TlsFiles tls;

  const EtcdMember* findMember(std::string_view name) const;
  // "name1=peer1,name2=peer2,..." in inventory order: etcd's --initial-cluster.
  std::string initialCluster() const;
};

}  // namespace dr
