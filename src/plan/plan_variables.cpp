// The table of template variables: every ${name} a template may use, what it means, whether it is a command
// (inserted as it is) or a value (shell-quoted), and which kind of step may use it. The loader checks templates
// against this table; the Planner computes exactly these names (a test holds the two together).
#include "plan/planner.h"

namespace dr {

const std::vector<VariableInfo>& templateVariables() {
  static const std::vector<VariableInfo> table = [] {
    const std::optional<Foreach> any;
    const std::optional<Foreach> member = Foreach::EtcdMembers;
    const std::optional<Foreach> api = Foreach::ApiServers;
    const std::optional<Foreach> component = Foreach::Components;
    const std::optional<Foreach> kubelet = Foreach::Kubelets;
    return std::vector<VariableInfo>{
        {"cluster.name", "the inventory's cluster name", false, any},
        {"cluster.initial_cluster", "NAME=PEER_URL,... of every member, in inventory order (--initial-cluster)",
         false, any},
        {"cluster.client_urls", "every member's client URL, comma-separated (etcdctl --endpoints)", false, any},
        {"cluster.member_count", "the number of etcd members", false, any},
        {"run.id", "the run id (\"preview\" for a plan that is only shown)", false, any},
        {"run.token", "the new --initial-cluster-token shared by every member", false, any},
        {"snapshot.path", "the snapshot file on the controller (absolute)", false, any},
        {"snapshot.source",
         "where each member gets the snapshot: the controller's file (snapshot.path, uploaded over SFTP), or the "
         "s3:// URL each member fetches itself (drctl apply --members-fetch)",
         false, any},
        {"snapshot.sha256", "the snapshot's SHA-256, lowercase hex", false, any},
        {"snapshot.size", "the snapshot's size in bytes", false, any},
        {"snapshot.revision", "the snapshot's revision, 0 when unknown", false, any},
        {"snapshot.etcd_version", "MAJOR.MINOR of the etcd that wrote the snapshot, empty when unknown", false, any},
        {"snapshot.min_free_bytes", "free bytes a member needs: 2 x the snapshot size + 1 GiB margin", false, any},
        {"tool.etcdctl", "the etcdctl binary on the hosts", false, any},
        {"tool.etcdutl", "the etcdutl binary on the hosts", false, any},
        {"tool.restore", "the binary that restores (etcdctl or etcdutl, per tooling.restore_tool)", false, any},
        {"tool.sha256", "prints the SHA-256 of stdin, hex first: openssl (SHA extensions) when present, else sha256sum",
         true, any},
        {"inventory.path", "the inventory file (absolute), for controller steps that call drctl", false, any},
        {"alarms.policy",
         "what verify-etcd does with etcd's alarms after the restore: \"refuse\" (fail, naming them), or \"disarm\" "
         "when the operator asked (--disarm-alarms)",
         false, any},
        {"tls.ca", "etcd client CA file, empty without TLS", false, any},
        {"tls.cert", "etcd client certificate file, empty without TLS", false, any},
        {"tls.key", "etcd client key file, empty without TLS", false, any},
        {"tls.etcdctl_flags", "--cacert/--cert/--key for etcdctl, or nothing without TLS", true, any},
        {"member.name", "the member's name (--name)", false, member},
        {"member.address", "the member's host address", false, member},
        {"member.peer_url", "the member's peer URL (--initial-advertise-peer-urls)", false, member},
        {"member.client_url", "the member's client URL", false, member},
        {"member.data_dir", "etcd's data dir on the member", false, member},
        {"member.data_parent_dir", "the directory holding the data dir (where the restore dir is made)", false,
         member},
        {"member.lock_dir",
         "the cluster's recovery lock on the member, beside its data dir: DATA_PARENT_DIR/.etcd-dr-lock-CLUSTER "
         "(a directory whose file owner names the run holding it)",
         false, member},
        {"member.etcd_user", "the user etcd runs as (owner of the data dir)", false, member},
        {"member.etcd_group", "the group etcd runs as", false, member},
        {"member.restore_dir", "the fresh restore target: DATA_DIR.restore-RUN_ID", false, member},
        {"member.restore_partial_dir",
         "where the restore command writes: RESTORE_DIR.partial, renamed to RESTORE_DIR once complete", false, member},
        {"member.old_data_dir", "where the old data dir is moved aside: DATA_DIR.before-RUN_ID", false, member},
        {"member.snapshot_dir", "the staging dir for the snapshot on the member: /var/tmp/etcd-dr/RUN_ID/MEMBER (per member: members may share a /var/tmp)", false,
         member},
        {"member.snapshot_path", "the snapshot on the member: SNAPSHOT_DIR/snapshot.db", false, member},
        {"member.restore_command", "the full restore command (etcdctl or etcdutl snapshot restore, every flag)",
         true, member},
        {"member.service.start", "starts etcd without waiting for health (a lone member cannot reach quorum)", true,
         member},
        {"member.service.stop", "stops etcd", true, member},
        {"member.service.status", "exits 0 when etcd runs", true, member},
        {"member.service.wait_stopped", "waits (bounded, 120 s) until etcd is really stopped", true, member},
        {"member.service.wait_running", "waits (bounded, 120 s) until etcd runs", true, member},
        {"member.service.join",
         "starts etcd on an empty data dir as a new member of the existing cluster (initial-cluster-state existing, "
         "the inventory's initial-cluster): see docs/plan-templates.md for what each service kind does",
         true, member},
        {"member.service.probe",
         "exits 0 when etcd can be controlled on this host (systemctl knows the unit, crictl reaches the runtime)",
         true, member},
        {"apiserver.host", "the API server's host as written in the inventory", false, api},
        {"apiserver.address", "the API server's host address", false, api},
        {"apiserver.readyz_url", "the URL verify-apiserver polls", false, api},
        {"apiserver.service.start", "starts the API server", true, api},
        {"apiserver.service.stop", "stops the API server", true, api},
        {"apiserver.service.status", "exits 0 when the API server runs", true, api},
        {"apiserver.service.wait_stopped", "waits (bounded, 120 s) until the API server is really stopped", true,
         api},
        {"apiserver.service.wait_running", "waits (bounded, 120 s) until the API server runs", true, api},
        {"apiserver.service.probe", "exits 0 when the API server can be controlled on this host", true, api},
        {"component.name", "kube-controller-manager or kube-scheduler", false, component},
        {"component.host", "the component's host as written in the inventory", false, component},
        {"component.address", "the component's host address", false, component},
        {"component.service.start", "starts the component", true, component},
        {"component.service.stop", "stops the component", true, component},
        {"component.service.status", "exits 0 when the component runs", true, component},
        {"component.service.wait_stopped", "waits (bounded, 120 s) until the component is really stopped", true,
         component},
        {"component.service.wait_running", "waits (bounded, 120 s) until the component runs", true, component},
        {"component.service.probe", "exits 0 when the component can be controlled on this host", true, component},
        {"kubelet.host", "the kubelet's host as written in the inventory", false, kubelet},
        {"kubelet.address", "the kubelet's host address", false, kubelet},
        {"kubelet.service.start", "starts the kubelet", true, kubelet},
        {"kubelet.service.stop", "stops the kubelet (the containers it started keep running)", true, kubelet},
        {"kubelet.service.status", "exits 0 when the kubelet runs", true, kubelet},
        {"kubelet.service.wait_stopped", "waits (bounded, 120 s) until the kubelet is really stopped", true, kubelet},
        {"kubelet.service.wait_running", "waits (bounded, 120 s) until the kubelet runs", true, kubelet},
        {"kubelet.service.probe", "exits 0 when the kubelet can be controlled on this host", true, kubelet},
    };
  }();
  return table;
}

}  // namespace dr
