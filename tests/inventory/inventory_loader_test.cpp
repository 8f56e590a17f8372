// The inventory loader on valid files: the shipped examples, defaults and overrides, API server resolution,
// initialCluster(), and hostile member names accepted as data.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "inventory/url.h"
#include "inventory_test_util.h"

using dr::test::parse;
using dr::test::placed;

namespace {

std::string home() {
  const char* value = std::getenv("HOME");
  return value ? value : "/";
}

}  // namespace

TEST_CASE("every shipped example inventory is valid, without warnings", "[inventory][examples]") {
  const std::filesystem::path dir = std::filesystem::path(DR_SOURCE_DIR) / "inventory";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 4);
  for (const auto& file : files) {
    INFO(file.string());
    const auto load = dr::loadInventory(file);
    CHECK(placed(load).empty());
    CHECK(load.inventory.has_value());
  }
}

TEST_CASE("kubeadm-3: static pods, sudo, kubeadm TLS, stacked API servers", "[inventory][examples]") {
  const auto load = dr::loadInventory(std::filesystem::path(DR_SOURCE_DIR) / "inventory/kubeadm-3.yaml");
  REQUIRE(load.inventory);
  const auto& inv = *load.inventory;
  CHECK(inv.cluster_name == "prod-eu1");
  REQUIRE(inv.members.size() == 3);
  const auto& m = inv.members[1];
  CHECK(m.name == "cp-2");
  CHECK(m.client_url == "https://10.0.0.12:2379");  // defaulted from the peer URL's scheme and the address
  CHECK(m.ssh.become == dr::Become::Sudo);
  CHECK(m.ssh.identity_file == home() + "/.ssh/id_ed25519");  // `~` expanded at load time
  CHECK(m.service.kind == dr::ServiceKind::StaticPod);
  CHECK(m.service.manifest == "/etc/kubernetes/manifests/etcd.yaml");
  CHECK(m.service.parked_dir == "/etc/kubernetes/manifests-parked");
  CHECK(m.service.container_name == "etcd");  // the manifest's basename without .yaml
  CHECK(inv.tls.enabled());
  CHECK(inv.tls.ca == "/etc/kubernetes/pki/etcd/ca.crt");
  REQUIRE(inv.api_servers.size() == 3);
  CHECK(inv.api_servers[2].address == "10.0.0.13");
  CHECK(inv.api_servers[2].service.container_name == "kube-apiserver");
  CHECK(inv.api_servers[2].readyz_url == "https://10.0.0.13:6443/readyz");
  CHECK(inv.tooling.restore_tool == dr::RestoreTool::Etcdctl);
}

TEST_CASE("systemd-5 and lab-3 resolve their tooling and services", "[inventory][examples]") {
  const auto five = dr::loadInventory(std::filesystem::path(DR_SOURCE_DIR) / "inventory/systemd-5.yaml");
  REQUIRE(five.inventory);
  CHECK(five.inventory->members.size() == 5);
  CHECK(five.inventory->tooling.restore_tool == dr::RestoreTool::Etcdutl);
  CHECK(five.inventory->tooling.bump_revision);
  CHECK(five.inventory->tooling.etcdutl == "/usr/local/bin/etcdutl");
  CHECK(five.inventory->members[4].data_dir == "/data/etcd");
  CHECK(five.inventory->members[3].data_dir == "/var/lib/etcd");
  REQUIRE(five.inventory->api_servers.size() == 2);
  CHECK(five.inventory->api_servers[0].address == "10.20.0.31");
  CHECK(five.inventory->api_servers[0].ssh.user == "ops");  // not a member: the defaults apply
  CHECK(five.inventory->api_servers[0].service.unit == "kube-apiserver.service");

  const auto lab = dr::loadInventory(std::filesystem::path(DR_SOURCE_DIR) / "inventory/lab-3.yaml");
  REQUIRE(lab.inventory);
  const auto& member = lab.inventory->members[2];
  CHECK(member.address == "10.213.0.13");
  CHECK(member.ssh.identity_file == "/run/etcd-dr-lab/id_ed25519");
  CHECK(member.ssh.known_hosts == "/run/etcd-dr-lab/known_hosts");
  CHECK(member.service.kind == dr::ServiceKind::Command);
  CHECK(member.service.status == "/run/etcd-dr-lab/bin/etcd-ctl status");
  CHECK(lab.inventory->api_servers[0].service.stop == "/run/etcd-dr-lab/bin/apiserver-ctl stop");
  CHECK(lab.inventory->api_servers[0].readyz_url == "http://10.213.0.11:6443/readyz");
}

TEST_CASE("defaults apply, and member overrides win per field", "[inventory][resolve]") {
  const auto load = parse(R"(cluster: c
defaults:
  ssh: {user: ops, port: 2222, identity_file: ~/.ssh/dr, become: sudo}
  data_dir: /srv/etcd
  etcd_user: etcd-svc
  etcd_service: {kind: systemd, unit: etcd-main.service}
members:
  - name: a
    address: 10.0.0.1
    peer_url: http://10.0.0.1:2380
  - name: b
    address: 10.0.0.2
    peer_url: https://10.0.0.2:2380
    client_url: https://10.0.0.2:4001
    data_dir: /data/etcd
    etcd_group: wheel
    ssh: {port: 22, become: none, known_hosts: /etc/ssh/dr_known_hosts}
    service: {kind: command, start: 'svc up', stop: 'svc down', status: 'svc ok'}
  - name: c
    address: fd00::3
    peer_url: https://[fd00::3]:2380
)");
  REQUIRE(placed(load).empty());
  REQUIRE(load.inventory);
  const auto& a = load.inventory->members[0];
  CHECK(a.ssh.user == "ops");
  CHECK(a.ssh.port == 2222);
  CHECK(a.ssh.identity_file == home() + "/.ssh/dr");
  CHECK(a.ssh.become == dr::Become::Sudo);
  CHECK(a.data_dir == "/srv/etcd");
  CHECK(a.etcd_user == "etcd-svc");
  CHECK(a.etcd_group == "etcd");  // the built-in default
  CHECK(a.client_url == "http://10.0.0.1:2379");
  CHECK(a.service.kind == dr::ServiceKind::Systemd);
  CHECK(a.service.unit == "etcd-main.service");
  const auto& b = load.inventory->members[1];
  CHECK(b.ssh.user == "ops");  // not overridden
  CHECK(b.ssh.port == 22);
  CHECK(b.ssh.become == dr::Become::None);
  CHECK(b.ssh.identity_file == home() + "/.ssh/dr");
  CHECK(b.ssh.known_hosts == "/etc/ssh/dr_known_hosts");
  CHECK(b.client_url == "https://10.0.0.2:4001");
  CHECK(b.data_dir == "/data/etcd");
  CHECK(b.etcd_user == "etcd-svc");
  CHECK(b.etcd_group == "wheel");
  CHECK(b.service.kind == dr::ServiceKind::Command);  // a service override replaces the default whole
  CHECK(b.service.unit.empty());
  CHECK(b.service.start == "svc up");
  CHECK(b.service.where.line == 18);
  const auto& c = load.inventory->members[2];
  CHECK(c.peer_url == "https://[fd00::3]:2380");
  CHECK(c.client_url == "https://[fd00::3]:2379");
  CHECK(c.where.line == 19);
  CHECK(c.where.column == 5);
}

TEST_CASE("with no defaults and no services, the built-in defaults apply", "[inventory][resolve]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
api_servers:
  - host: a
)");
  REQUIRE(load.inventory);
  const auto& m = load.inventory->members[0];
  CHECK(m.ssh.user == "root");
  CHECK(m.ssh.port == 22);
  CHECK(m.ssh.identity_file.empty());
  CHECK(m.ssh.become == dr::Become::None);
  CHECK(m.data_dir == "/var/lib/etcd");
  CHECK(m.etcd_user == "etcd");
  CHECK(m.service.kind == dr::ServiceKind::Systemd);
  CHECK(m.service.unit == "etcd.service");
  CHECK(load.inventory->api_servers[0].service.unit == "kube-apiserver.service");
  CHECK(load.inventory->tooling.restore_tool == dr::RestoreTool::Etcdctl);
  CHECK(load.inventory->tooling.etcdctl == "etcdctl");
  CHECK_FALSE(load.inventory->tooling.bump_revision);
  CHECK_FALSE(load.inventory->tls.enabled());
  CHECK(load.inventory->source == "inv.yaml");
}

TEST_CASE("an API server on a member takes the member's address and SSH, then its own overrides",
          "[inventory][resolve]") {
  const auto load = parse(R"(cluster: c
defaults:
  ssh: {user: ops}
  apiserver_service: {kind: systemd}
members:
  - {name: cp-1, address: 10.0.0.11, peer_url: http://10.0.0.11:2380, ssh: {port: 2201}}
  - {name: cp-2, address: 10.0.0.12, peer_url: http://10.0.0.12:2380, ssh: {port: 2202}}
  - {name: cp-3, address: 10.0.0.13, peer_url: http://10.0.0.13:2380}
api_servers:
  - host: cp-1
  - host: 10.0.0.12
    ssh: {user: apiserver}
  - host: lb.example.com
    service: {kind: systemd, unit: apiserver.service}
    readyz_url: https://lb.example.com/readyz
)");
  REQUIRE(placed(load).empty());
  const auto& servers = load.inventory->api_servers;
  REQUIRE(servers.size() == 3);
  CHECK(servers[0].host == "cp-1");
  CHECK(servers[0].address == "10.0.0.11");
  CHECK(servers[0].ssh.port == 2201);
  CHECK(servers[0].ssh.user == "ops");
  CHECK(servers[0].readyz_url == "https://10.0.0.11:6443/readyz");
  CHECK(servers[0].service.unit == "kube-apiserver.service");  // `unit` left out: the role's default
  CHECK(servers[1].address == "10.0.0.12");
  CHECK(servers[1].ssh.port == 2202);  // the member's SSH, since the address is a member's
  CHECK(servers[1].ssh.user == "apiserver");
  CHECK(servers[2].address == "lb.example.com");
  CHECK(servers[2].ssh.port == 22);
  CHECK(servers[2].service.unit == "apiserver.service");
  CHECK(servers[2].readyz_url == "https://lb.example.com/readyz");
  CHECK(servers[2].where.line == 13);
}

TEST_CASE("static-pod container defaults to the manifest's basename", "[inventory][resolve]") {
  const auto load = parse(R"(cluster: c
members:
  - name: a
    address: 10.0.0.1
    peer_url: http://10.0.0.1:2380
    service: {kind: static-pod, manifest: /etc/kubernetes/manifests/etcd-main.yml, parked_dir: /root/parked}
  - name: b
    address: 10.0.0.2
    peer_url: http://10.0.0.2:2380
    service: {kind: static-pod, manifest: /etc/kubernetes/manifests/etcd.yaml, container: etcd-server}
  - {name: c, address: 10.0.0.3, peer_url: http://10.0.0.3:2380}
)");
  REQUIRE(placed(load).empty());
  CHECK(load.inventory->members[0].service.container_name == "etcd-main");
  CHECK(load.inventory->members[0].service.parked_dir == "/root/parked");
  CHECK(load.inventory->members[1].service.container_name == "etcd-server");
  CHECK(load.inventory->members[1].service.parked_dir == "/etc/kubernetes/manifests-parked");
}

TEST_CASE("initialCluster lists name=peer_url in inventory order", "[inventory][resolve]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: z, address: 10.0.0.3, peer_url: https://10.0.0.3:2380/}
  - {name: a, address: 10.0.0.1, peer_url: HTTPS://10.0.0.1:2380}
  - {name: m, address: 10.0.0.2, peer_url: https://10.0.0.2:12380}
)");
  REQUIRE(load.inventory);
  // A trailing '/' and an upper-case scheme are normalized: etcd compares these strings with its own.
  CHECK(load.inventory->initialCluster() == "z=https://10.0.0.3:2380,a=https://10.0.0.1:2380,m=https://10.0.0.2:12380");
  CHECK(load.inventory->findMember("m")->address == "10.0.0.2");
  CHECK(load.inventory->findMember("q") == nullptr);
}

// Decision (docs/inventory.md): member names are data. Only ',', '=' and control characters are refused, since
// they break etcd's --initial-cluster syntax; shell metacharacters are kept verbatim and the planner quotes them.
TEST_CASE("hostile member names are accepted verbatim as data", "[inventory][hostile]") {
  const auto load = parse(R"(cluster: c
members:
  - name: "cp-1; rm -rf /"
    address: 10.0.0.1
    peer_url: http://10.0.0.1:2380
  - name: $(reboot)
    address: 10.0.0.2
    peer_url: http://10.0.0.2:2380
  - name: "`id` 'q' \"dq\""
    address: 10.0.0.3
    peer_url: http://10.0.0.3:2380
)");
  REQUIRE(placed(load).empty());
  REQUIRE(load.inventory);
  CHECK(load.inventory->members[0].name == "cp-1; rm -rf /");
  CHECK(load.inventory->members[1].name == "$(reboot)");
  CHECK(load.inventory->members[2].name == "`id` 'q' \"dq\"");
  CHECK(load.inventory->initialCluster() ==
        "cp-1; rm -rf /=http://10.0.0.1:2380,$(reboot)=http://10.0.0.2:2380,`id` 'q' \"dq\"=http://10.0.0.3:2380");
}

TEST_CASE("loadInventory reads a file and names it in diagnostics", "[inventory][file]") {
  const auto dir = std::filesystem::temp_directory_path() / ("dr-inv-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  const auto file = dir / "bad.yaml";
  std::ofstream(file)
      << "cluster: c\nmembers:\n  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, x: 1}\n";
  const auto load = dr::loadInventory(file);
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(load.diagnostics[0].str() == file.string() +
                                         ":3:66: unknown key 'x' in member (known keys: name, address, "
                                         "peer_url, client_url, data_dir, etcd_user, etcd_group, ssh, "
                                         "service)");
}

TEST_CASE("URLs and addresses", "[inventory][url]") {
  auto url = dr::parseUrl("https://[fd00::1]:2380");
  REQUIRE(url);
  CHECK(url->host == "fd00::1");
  CHECK(url->port == 2380);
  CHECK(url->str() == "https://[fd00::1]:2380");
  url = dr::parseUrl("http://Node-1.example.com/readyz?verbose");
  REQUIRE(url);
  CHECK(url->port == 0);
  CHECK(url->path == "/readyz?verbose");
  CHECK_FALSE(dr::parseUrl("https://fd00::1:2380"));  // IPv6 needs brackets
  CHECK(dr::isPlausibleAddress("10.0.0.1"));
  CHECK(dr::isPlausibleAddress("::1"));
  CHECK(dr::isPlausibleAddress("cp-1"));
  CHECK(dr::isPlausibleAddress("node1.example.com."));
  CHECK_FALSE(dr::isPlausibleAddress("10.0.0.256"));
  CHECK_FALSE(dr::isPlausibleAddress("1.2.3"));
  CHECK_FALSE(dr::isPlausibleAddress("-cp"));
  CHECK_FALSE(dr::isPlausibleAddress("cp_1"));
  CHECK_FALSE(dr::isPlausibleAddress("a..b"));
  CHECK_FALSE(dr::isPlausibleAddress(std::string(64, 'a')));
  CHECK_FALSE(dr::isPlausibleAddress("$(reboot)"));
  CHECK(dr::hostForUrl("fd00::1") == "[fd00::1]");
}

TEST_CASE("controller managers, schedulers and kubelets: hosts like API servers, services of their own role",
          "[inventory][resolve][components]") {
  const auto load = parse(R"(cluster: c
defaults:
  ssh: {user: ops}
  scheduler_service: {kind: static-pod, manifest: /etc/kubernetes/manifests/kube-scheduler.yaml}
members:
  - {name: cp-1, address: 10.0.0.11, peer_url: http://10.0.0.11:2380, ssh: {port: 2201}}
  - {name: cp-2, address: 10.0.0.12, peer_url: http://10.0.0.12:2380}
  - {name: cp-3, address: 10.0.0.13, peer_url: http://10.0.0.13:2380}
controller_managers:
  - host: cp-1
  - host: 10.0.0.12
    service: {kind: command, start: cm start, stop: cm stop, status: cm status}
schedulers:
  - host: cp-2
kubelets:
  - host: cp-1
  - host: worker-1.example.com
    ssh: {port: 2222}
)");
  REQUIRE(placed(load).empty());
  const auto& inv = *load.inventory;
  REQUIRE(inv.components.size() == 3);  // controller managers first, then schedulers
  CHECK(inv.components[0].role == dr::KubeRole::ControllerManager);
  CHECK(inv.components[0].key() == "cp-1/kube-controller-manager");
  CHECK(inv.components[0].address == "10.0.0.11");
  CHECK(inv.components[0].ssh.port == 2201);  // the member's SSH
  CHECK(inv.components[0].service.unit == "kube-controller-manager.service");  // the role's default unit
  CHECK(inv.components[1].service.kind == dr::ServiceKind::Command);
  CHECK(inv.components[2].role == dr::KubeRole::Scheduler);
  CHECK(inv.components[2].service.kind == dr::ServiceKind::StaticPod);  // from defaults.scheduler_service
  CHECK(inv.components[2].service.container_name == "kube-scheduler");
  REQUIRE(inv.kubelets.size() == 2);
  CHECK(inv.kubelets[0].service.unit == "kubelet.service");
  CHECK(inv.kubelets[1].address == "worker-1.example.com");
  CHECK(inv.kubelets[1].ssh.user == "ops");
  CHECK(inv.kubelets[1].ssh.port == 2222);
  CHECK(inv.kubelets[1].where.line == 17);
}

TEST_CASE("a component's own ssh on a member's host is a warning: that host is reached with the member's settings",
          "[inventory][components]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: cp-1, address: 10.0.0.11, peer_url: http://10.0.0.11:2380}
kubelets:
  - host: cp-1
    ssh: {port: 2222}
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "6:5: warning: ssh of the kubelet on cp-1 is not used: it runs on a member's host, reached "
                            "with that member's SSH settings (one session per host)"});
  CHECK(load.inventory);
}
