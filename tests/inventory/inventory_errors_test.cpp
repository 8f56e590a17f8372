// Every validation error of an inventory, each at its exact LINE:COLUMN (1-based, as editors show them).
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "inventory_test_util.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using dr::test::messageAt;
using dr::test::parse;
using dr::test::placed;

TEST_CASE("an unknown key gets a did-you-mean and is located at the key", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - name: cp-1
    adress: 10.0.0.11
    peer_url: https://10.0.0.11:2380
)");
  REQUIRE_FALSE(load.inventory);
  CHECK(messageAt(load, 4, 5) == "unknown key 'adress' in member; did you mean 'address'?");
  // The misspelt key leaves the member without an address: that is reported at the mapping itself.
  CHECK(messageAt(load, 3, 5) == "member is missing required key 'address'");
  CHECK(load.diagnostics.size() == 2);
}

TEST_CASE("an unknown key far from every known one lists the known keys", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
colour: blue
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
)");
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(messageAt(load, 2, 1) ==
        "unknown key 'colour' in the inventory (known keys: cluster, defaults, tooling, tls, members, api_servers, "
        "controller_managers, schedulers, kubelets)");
}

TEST_CASE("unknown keys are found in every section", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
defaults:
  ssh: {usr: root}
  data_dri: /var/lib/etcd
tooling:
  restore_tol: etcdutl
tls:
  cafile: /ca
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, servce: {kind: systemd}}
api_servers:
  - hots: a
)");
  CHECK(messageAt(load, 3, 9) == "unknown key 'usr' in defaults.ssh; did you mean 'user'?");
  CHECK(messageAt(load, 4, 3) == "unknown key 'data_dri' in defaults; did you mean 'data_dir'?");
  CHECK(messageAt(load, 6, 3) == "unknown key 'restore_tol' in tooling; did you mean 'restore_tool'?");
  CHECK_THAT(messageAt(load, 8, 3), StartsWith("unknown key 'cafile' in tls"));
  CHECK(messageAt(load, 10, 66) == "unknown key 'servce' in member; did you mean 'service'?");
  CHECK(messageAt(load, 12, 5) == "unknown key 'hots' in API server; did you mean 'host'?");
  // hots: the API server also lacks its host, reported at its mapping (same place as the key here).
  CHECK(load.diagnostics.size() == 7);
}

TEST_CASE("a repeated key is an error at the second one, naming the first", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - name: a
    address: 10.0.0.1
    peer_url: http://10.0.0.1:2380
    name: b
)");
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(messageAt(load, 6, 5) == "key 'name' repeated in member (first at line 3)");
}

TEST_CASE("missing required keys are reported at the mapping that lacks them", "[inventory][errors]") {
  SECTION("cluster and members at the top") {
    const auto load = parse("defaults: {data_dir: /var/lib/etcd}\n");
    CHECK(placed(load) == std::vector<std::string>{"1:1: the inventory is missing required key 'cluster'",
                                                   "1:1: the inventory is missing required key 'members'"});
  }
  SECTION("name, address and peer_url of a member") {
    const auto load = parse(R"(cluster: c
members:
  - data_dir: /d
)");
    CHECK(placed(load) == std::vector<std::string>{"3:5: member is missing required key 'name'",
                                                   "3:5: member is missing required key 'address'",
                                                   "3:5: member is missing required key 'peer_url'"});
  }
  SECTION("host of an API server") {
    const auto load = parse(R"(cluster: c
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
api_servers:
  - readyz_url: https://10.0.0.1:6443/readyz
)");
    CHECK(placed(load) == std::vector<std::string>{"5:5: API server is missing required key 'host'"});
  }
}

TEST_CASE("values of the wrong type are located at the value", "[inventory][errors]") {
  const auto load = parse(R"(cluster: [a, b]
defaults:
  ssh:
    port: abc
    become: root
  etcd_service: {kind: systmd, unit: etcd.service}
tooling:
  bump_revision: yes
  restore_tool: etcdadm
members: cp-1
api_servers: {host: a}
)");
  REQUIRE_FALSE(load.inventory);
  CHECK(messageAt(load, 1, 10) == "'cluster' in the inventory must be a string, not a list");
  CHECK(messageAt(load, 4, 11) == "'port' in defaults.ssh must be an integer in 1..65535, not 'abc'");
  CHECK(messageAt(load, 5, 13) == "'become' in defaults.ssh must be one of sudo, none, not 'root'");
  CHECK(messageAt(load, 6, 24) ==
        "'kind' in defaults.etcd_service must be one of systemd, static-pod, command, not 'systmd'; did you mean "
        "'systemd'?");
  CHECK(messageAt(load, 8, 18) == "'bump_revision' in tooling must be true or false, not 'yes'");
  CHECK(messageAt(load, 9, 17) ==
        "'restore_tool' in tooling must be one of etcdctl, etcdutl, not 'etcdadm'; did you mean "
        "'etcdctl'?");
  CHECK(messageAt(load, 10, 10) == "'members' in the inventory must be a list ('- ' items), not 'cp-1'");
  CHECK(messageAt(load, 11, 14) == "'api_servers' in the inventory must be a list ('- ' items), not a mapping");
  CHECK(load.diagnostics.size() == 8);
}

TEST_CASE("ports must be integers in 1..65535", "[inventory][errors]") {
  for (const std::string bad : {"0", "65536", "-1", "22.5", "''", "[22]"}) {
    const auto load = parse("cluster: c\ndefaults:\n  ssh: {port: " + bad +
                            "}\nmembers:\n  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}\n");
    INFO(bad);
    CHECK_THAT(messageAt(load, 3, 15), StartsWith("'port' in defaults.ssh must be an integer in 1..65535"));
  }
  const auto good = parse(
      "cluster: c\ndefaults:\n  ssh: {port: 65535}\nmembers:\n  - {name: a, address: 10.0.0.1, "
      "peer_url: http://10.0.0.1:2380, ssh: {port: 1}}\n");
  REQUIRE(good.inventory);
  CHECK(good.inventory->members[0].ssh.port == 1);
}

TEST_CASE("a member that is not a mapping, and a section that is not one", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
defaults: /var/lib/etcd
members:
  - cp-1
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, ssh: [root]}
)");
  CHECK(messageAt(load, 2, 11) ==
        "'defaults' in the inventory must be a mapping (KEY: VALUE lines), not "
        "'/var/lib/etcd'");
  CHECK(messageAt(load, 4, 5) == "a member must be a mapping (name, address, peer_url...), not 'cp-1'");
  CHECK(messageAt(load, 5, 71) == "'ssh' in member must be a mapping (KEY: VALUE lines), not a list");
  CHECK_THAT(messageAt(load, 3, 1), StartsWith("2 members is an even count"));
  CHECK(load.diagnostics.size() == 4);
}

TEST_CASE("duplicate member names, addresses, peer and client URLs name the first line", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - name: cp-1
    address: 10.0.0.11
    peer_url: https://10.0.0.11:2380
    client_url: https://vip.example:2379
  - name: cp-1
    address: 10.0.0.11
    peer_url: https://10.0.0.11:2380
    client_url: https://VIP.example:2379
  - name: cp-3
    address: 10.0.0.13
    peer_url: https://10.0.0.13:2380
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "7:11: duplicate member name 'cp-1' (first used at line 3)",
                            "8:14: duplicate member address '10.0.0.11' (first used at line 4)",
                            "9:15: duplicate peer URL 'https://10.0.0.11:2380' (first used at line 5)",
                            "10:17: duplicate client URL 'https://VIP.example:2379' (first used at line 6)",
                        });
}

TEST_CASE("a defaulted client URL that collides with a written one is a duplicate", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - name: a
    address: 10.0.0.1
    peer_url: https://10.0.0.1:2380
    client_url: https://10.0.0.2:2379
  - name: b
    address: 10.0.0.2
    peer_url: https://10.0.0.2:2380
  - name: c
    address: 10.0.0.3
    peer_url: https://10.0.0.3:2380
)");
  CHECK(placed(load) == std::vector<std::string>{"7:5: duplicate client URL 'https://10.0.0.2:2379' (the default "
                                                 "client URL) (first used at line 6)"});
}

TEST_CASE("a peer URL whose host is not the member's address", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - name: a
    address: 10.0.0.1
    peer_url: https://10.0.0.2:2380
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "5:15: 'peer_url' in member host '10.0.0.2' is not the member's address '10.0.0.1': etcd "
                            "peers and SSH must reach the same machine"});
  // Host names compare without regard to case.
  CHECK(parse("cluster: c\nmembers:\n  - {name: a, address: Node1.example, peer_url: http://node1.EXAMPLE:2380}\n")
            .inventory);
}

TEST_CASE("malformed URLs say what is wrong", "[inventory][errors]") {
  struct Case {
    std::string url;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"10.0.0.1:2380", "is malformed: not a URL: expected SCHEME://HOST:PORT"},
      {"ftp://10.0.0.1:2380", "is malformed: scheme 'ftp' is not http or https"},
      {"https://10.0.0.1", "has no port: etcd URLs need one (SCHEME://HOST:PORT)"},
      {"https://10.0.0.1:2380/etcd", "has a path: etcd URLs are SCHEME://HOST:PORT only"},
      {"https://10.0.0.1:99999", "is malformed: port '99999' is not an integer in 1..65535"},
      {"https://10.0.0.1:port", "is malformed: port 'port' is not an integer in 1..65535"},
      {"https://:2380", "is malformed: the URL has no host"},
      {"https://10.0.0.300:2380", "is malformed: host '10.0.0.300' is not an IP address or a DNS name"},
      {"https://[fe80::1:2380", "is malformed: IPv6 host has no closing ']'"},
      {"https://root@10.0.0.1:2380", "is malformed: user information ('@') is not allowed in the URL"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    const auto load = parse("cluster: c\nmembers:\n  - name: a\n    address: 10.0.0.1\n    peer_url: " + c.url + "\n");
    CHECK(messageAt(load, 5, 15) == "'peer_url' in member '" + c.url + "' " + c.message);
    CHECK(load.diagnostics.size() == 1);
  }
  const auto client = parse(
      "cluster: c\nmembers:\n  - name: a\n    address: 10.0.0.1\n    peer_url: http://10.0.0.1:2380\n"
      "    client_url: http//10.0.0.1:2379\n");
  CHECK(messageAt(client, 6, 17) ==
        "'client_url' in member 'http//10.0.0.1:2379' is malformed: not a URL: expected SCHEME://HOST:PORT");
  const auto readyz = parse(
      "cluster: c\nmembers:\n  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}\n"
      "api_servers:\n  - {host: a, readyz_url: 'tcp://10.0.0.1:6443'}\n");
  CHECK(messageAt(readyz, 5, 27) ==
        "'readyz_url' in API server 'tcp://10.0.0.1:6443' is malformed: scheme 'tcp' is not http or https");
}

TEST_CASE("a member address must be an IP address or a DNS name", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - name: a
    address: 10.0.0.1; reboot
    peer_url: http://10.0.0.1:2380
)");
  CHECK(messageAt(load, 4, 14) == "'address' in member '10.0.0.1; reboot' is not an IP address or a DNS name");
  CHECK(load.diagnostics.size() == 1);  // the peer URL is not compared with an address that is not one
}

TEST_CASE("zero members is an error", "[inventory][errors]") {
  const auto empty_list = parse("cluster: c\nmembers: []\n");
  CHECK(placed(empty_list) ==
        std::vector<std::string>{"2:10: 'members' is empty: an inventory needs at least one etcd member"});
  REQUIRE_FALSE(empty_list.inventory);
  // `members:` with nothing after it: located at the key, since an empty value has no place of its own.
  const auto nothing = parse("cluster: c\nmembers:\n");
  CHECK(placed(nothing) ==
        std::vector<std::string>{"2:1: 'members' is empty: an inventory needs at least one etcd member"});
}

TEST_CASE("an even member count is a warning that says why, and the file stays valid", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
  - {name: b, address: 10.0.0.2, peer_url: http://10.0.0.2:2380}
  - {name: c, address: 10.0.0.3, peer_url: http://10.0.0.3:2380}
  - {name: d, address: 10.0.0.4, peer_url: http://10.0.0.4:2380}
)");
  REQUIRE(load.inventory);
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(load.diagnostics[0].severity == dr::Severity::Warning);
  CHECK(load.diagnostics[0].str() ==
        "inv.yaml:2:1: warning: 4 members is an even count: a majority of 4 is 3, so it tolerates 1 failed "
        "member(s), no more than 3 members would; an odd count is usual");
}

TEST_CASE("YAML syntax errors carry yaml-cpp's position", "[inventory][errors]") {
  const auto load = parse("cluster: c\nmembers: [a, b\ndefaults: {}\n");
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(placed(load)[0] == "3:9: YAML syntax error: end of sequence flow not found");
  const auto tabs = parse("cluster: c\nmembers:\n  - name: a\n     address: b\n");
  REQUIRE(tabs.diagnostics.size() == 1);
  CHECK_THAT(tabs.diagnostics[0].message, StartsWith("YAML syntax error: "));
  CHECK(tabs.diagnostics[0].where.line == 4);
}

TEST_CASE("an empty file and a file that is not a mapping", "[inventory][errors]") {
  CHECK(placed(parse("")) ==
        std::vector<std::string>{"1:1: the inventory is empty: it needs at least 'cluster' and 'members'"});
  CHECK(placed(parse("# only a comment\n")) ==
        std::vector<std::string>{"1:1: the inventory is empty: it needs at least 'cluster' and 'members'"});
  CHECK(placed(parse("- cp-1\n- cp-2\n")) ==
        std::vector<std::string>{"1:1: an inventory must be a mapping with 'cluster', 'members' and more, not a list"});
}

TEST_CASE("an unreadable file reports its path and the system's reason", "[inventory][errors]") {
  const auto missing = dr::loadInventory("/nonexistent/dir/inv.yaml");
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].str() == "/nonexistent/dir/inv.yaml:0:0: cannot open the inventory: No such file or directory");
  const auto directory = dr::loadInventory(std::filesystem::temp_directory_path());
  REQUIRE(directory.diagnostics.size() == 1);
  CHECK_THAT(directory.diagnostics[0].message, Contains("must be a regular file; this is a directory"));
  CHECK_FALSE(directory.inventory);
}

TEST_CASE("an API server host that is neither a member nor an address", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: cp-1, address: 10.0.0.11, peer_url: http://10.0.0.11:2380}
api_servers:
  - host: cp 1
  - host: 10.0.0.300
  - host: cp-4
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "5:11: 'host' in API server 'cp 1' is neither a member name nor an IP address or DNS "
                            "name; did you mean 'cp-1'?",
                            "6:11: 'host' in API server '10.0.0.300' is neither a member name nor an IP address or "
                            "DNS name",
                            "7:11: warning: API server host 'cp-4' is not a member name, so it is taken as a DNS "
                            "name; did you mean member 'cp-1'?",
                        });
}

TEST_CASE("duplicate API server hosts compare the resolved address", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: cp-1, address: 10.0.0.11, peer_url: http://10.0.0.11:2380}
api_servers:
  - host: cp-1
  - host: 10.0.0.11
)");
  CHECK(placed(load) ==
        std::vector<std::string>{
            "6:11: duplicate API server host '10.0.0.11' (as an API server host) (first used at line 5)"});
}

TEST_CASE("service control: required keys per kind, keys of another kind", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
defaults:
  etcd_service: {kind: command, start: /bin/start}
  apiserver_service:
    kind: static-pod
    unit: kube-apiserver.service
members:
  - name: a
    address: 10.0.0.1
    peer_url: http://10.0.0.1:2380
    service:
      manifest: /etc/kubernetes/manifests/etcd.yaml
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "3:17: defaults.etcd_service (kind command) is missing required key 'stop'",
                            "3:17: defaults.etcd_service (kind command) is missing required key 'status'",
                            "5:5: defaults.apiserver_service (kind static-pod) is missing required key 'manifest'",
                            "6:5: unknown key 'unit' in defaults.apiserver_service (kind static-pod) (known keys: "
                            "kind, manifest, parked_dir, container)",
                            "12:7: member service is missing required key 'kind'",
                        });
}

TEST_CASE("static-pod: the parked dir must not be the manifest dir, paths must be absolute", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
defaults:
  etcd_service:
    kind: static-pod
    manifest: /etc/kubernetes/manifests/etcd.yaml
    parked_dir: /etc/kubernetes/manifests/
  apiserver_service: {kind: static-pod, manifest: manifests/kube-apiserver.yaml, parked_dir: parked}
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "6:17: parked_dir in defaults.etcd_service (kind static-pod) is the manifest's own "
                            "directory: the kubelet would keep running the pod; park it elsewhere (default "
                            "/etc/kubernetes/manifests-parked)",
                            "7:51: 'manifest' in defaults.apiserver_service (kind static-pod) must be the absolute "
                            "path of a manifest file",
                            "7:94: 'parked_dir' in defaults.apiserver_service (kind static-pod) must be an absolute "
                            "directory path",
                        });
}

TEST_CASE("tls needs all three files or none", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
tls:
  ca: /etc/pki/ca.crt
  key: /etc/pki/client.key
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
)");
  CHECK(placed(load) ==
        std::vector<std::string>{"3:3: tls needs all of ca, cert and key, or none of them (missing: cert)"});
}

TEST_CASE("data dirs must be absolute and not '/', accounts plain names", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
defaults:
  data_dir: var/lib/etcd
  etcd_user: 'etcd:etcd'
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, data_dir: /, etcd_group: ''}
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "3:13: 'data_dir' in defaults must be an absolute path other than '/', with no '.', "
                            "'..' or empty component, trailing '/' or control character, not \"var/lib/etcd\"",
                            "4:14: 'etcd_user' in defaults 'etcd:etcd' is not a user or group name (letters, "
                            "digits, '-', '_', '.')",
                            "6:76: 'data_dir' in member must be an absolute path other than '/', with no '.', '..' "
                            "or empty component, trailing '/' or control character, not \"/\"",
                            "6:91: 'etcd_group' in member must not be empty",
                        });
}

TEST_CASE("data dirs are spelled one way: no '/./', '/../', '//', trailing '/', newline or NUL", "[inventory][errors]") {
  for (const std::string& bad : {std::string("/var/lib/./etcd"), std::string("/var/lib/../etcd"),
                                 std::string("/var//etcd"), std::string("/var/lib/etcd/"), std::string("/."),
                                 std::string("/.."), std::string("/var/lib/etcd\\nx"), std::string("/var/lib/etcd\\0x")}) {
    INFO(bad);
    const auto load = parse("cluster: c\nmembers:\n  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, "
                            "data_dir: \"" + bad + "\"}\n");
    const auto lines = placed(load);
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Catch::StartsWith("3:76: 'data_dir' in member ") &&
                             (Catch::Contains("must be an absolute path") || Catch::Contains("contains a NUL byte")));
  }
  const auto good = parse("cluster: c\nmembers:\n  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, "
                          "data_dir: /var/lib/etcd..x/.d}\n");
  CHECK(placed(good).empty());
}

TEST_CASE("a second YAML document in an inventory is an error where it starts, not silently dropped",
          "[inventory][errors]") {
  const auto load = parse("cluster: c\nmembers:\n  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}\n"
                          "---\ncluster: other\n");
  CHECK(placed(load) == std::vector<std::string>{"5:1: a second YAML document starts here: an inventory is one document "
                                                 "(remove the '---' and what follows, or give it its own file)"});
}

TEST_CASE("more members than any etcd cluster has are refused before planning, at the first one too many",
          "[inventory][errors]") {
  auto inventoryOf = [](int members) {
    std::string yaml = "cluster: c\nmembers:\n";
    for (int i = 1; i <= members; ++i) {
      yaml += fmt::format("  - {{name: m{0}, address: 10.0.{1}.{2}, peer_url: http://10.0.{1}.{2}:2380}}\n", i,
                          i / 256, i % 256);
    }
    return yaml;
  };
  CHECK(placed(parse(inventoryOf(99))).size() == 0);  // 99: odd, at the cap's edge, fine
  const auto lines = placed(parse(inventoryOf(5000)));
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::StartsWith("103:5: 5000 members: an etcd cluster has 3, 5 or 7 members, and a plan for "
                                         "more than 100 is refused"));
}

TEST_CASE("more API servers than a plan can wait on are refused, at the first one too many", "[inventory][errors]") {
  auto inventoryOf = [](int servers) {
    std::string yaml = "cluster: c\nmembers:\n  - {name: m, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}\n"
                       "api_servers:\n";
    for (int i = 1; i <= servers; ++i) yaml += fmt::format("  - {{host: 10.1.{}.{}}}\n", i / 256, i % 256);
    return yaml;
  };
  CHECK(placed(parse(inventoryOf(100))).empty());
  const auto lines = placed(parse(inventoryOf(101)));
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::StartsWith("105:5: 101 API servers: a plan for more than 100 is refused"));
}

TEST_CASE("a name or path that is not valid UTF-8 is refused where it is, before it reaches any output",
          "[inventory][errors]") {
  // Before: a member named "m\xc3x" validated, and was planned into every step id, the JSON plan and drd's events.
  const auto name = parse("cluster: c\nmembers:\n  - {name: \"m\xc3x\", address: 10.0.0.1, "
                          "peer_url: http://10.0.0.1:2380}\n");
  CHECK(placed(name) == std::vector<std::string>{"3:12: 'name' in member is not valid UTF-8 text"});
  const auto dir = parse("cluster: c\nmembers:\n  - {name: m, address: 10.0.0.1, peer_url: http://10.0.0.1:2380, "
                         "data_dir: /var/lib/\xff}\n");
  CHECK(placed(dir) == std::vector<std::string>{"3:76: 'data_dir' in member is not valid UTF-8 text"});
  const auto fine = parse("cluster: c\nmembers:\n  - {name: m\xc3\xa9, address: 10.0.0.1, "
                          "peer_url: http://10.0.0.1:2380, data_dir: /var/lib/\xc3\xa9tcd}\n");
  CHECK(placed(fine).empty());  // UTF-8 that is not ASCII is fine
}

TEST_CASE("an address with an embedded NUL is refused, not read up to the NUL", "[inventory][errors]") {
  const auto load = parse("cluster: c\nmembers:\n  - {name: a, address: \"10.0.0.1\\0$(reboot)\", "
                          "peer_url: http://10.0.0.1:2380}\n");
  CHECK(placed(load) == std::vector<std::string>{"3:24: 'address' in member contains a NUL byte"});
}

TEST_CASE("a value with no value, and a cluster name that is not a safe label", "[inventory][errors]") {
  const auto load = parse(R"(cluster: ../prod
members:
  - name:
    address: 10.0.0.1
    peer_url: http://10.0.0.1:2380
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "1:10: 'cluster' in the inventory '../prod' may hold only letters, digits, '-', '_' and "
                            "'.' (it names lock files and the cluster token)",
                            "3:5: 'name' in member has no value",
                        });
}

TEST_CASE("member names that would break --initial-cluster are refused", "[inventory][errors]") {
  for (const std::string name : {"'a,b'", "'a=b'", "\"a\\tb\""}) {
    INFO(name);
    const auto load = parse("cluster: c\nmembers:\n  - name: " + name +
                            "\n    address: 10.0.0.1\n    peer_url: http://10.0.0.1:2380\n");
    REQUIRE(load.diagnostics.size() == 1);
    CHECK_THAT(messageAt(load, 3, 11), StartsWith("'name' in member must not contain"));
  }
}

TEST_CASE("all problems are reported at once, sorted by line then column", "[inventory][errors]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: b, address: 10.0.0.2, peer_url: http://10.0.0.9:2380, ssh: {port: x, user: [a]}}
  - {name: a, address: 10.0.0.1, peer_url: ftp://10.0.0.1:2380}
  - {name: a, address: 10.0.0.3, peer_url: http://10.0.0.3:2380}
  - {name: d, address: 10.0.0.4, peer_url: http://10.0.0.4:2380, tpyo: 1}
)");
  const auto lines = placed(load);
  REQUIRE(lines.size() == 7);
  CHECK_THAT(lines[0], StartsWith("2:1: warning: 4 members is an even count"));
  CHECK_THAT(lines[1], StartsWith("3:44: 'peer_url' in member host '10.0.0.9'"));
  CHECK_THAT(lines[2], StartsWith("3:78: 'port' in member ssh"));
  CHECK_THAT(lines[3], StartsWith("3:87: 'user' in member ssh must be a string, not a list"));
  CHECK_THAT(lines[4], StartsWith("4:44: 'peer_url' in member 'ftp://10.0.0.1:2380' is malformed"));
  CHECK_THAT(lines[5], StartsWith("5:12: duplicate member name 'a' (first used at line 4)"));
  CHECK_THAT(lines[6], StartsWith("6:66: unknown key 'tpyo' in member"));
  for (const auto& d : load.diagnostics) CHECK(d.where.file == "inv.yaml");
}

TEST_CASE("components: a kubelet is no static pod, hosts resolve and are not listed twice per role",
          "[inventory][errors][components]") {
  const auto load = parse(R"(cluster: c
members:
  - {name: cp-1, address: 10.0.0.11, peer_url: http://10.0.0.11:2380}
kubelets:
  - host: cp-1
    service: {kind: static-pod, manifest: /etc/kubernetes/manifests/kubelet.yaml}
schedulers:
  - host: cp 1
  - host: cp-1
  - host: 10.0.0.11
controller_managers: [cp-1]
)");
  CHECK(placed(load) == std::vector<std::string>{
                            "6:21: 'kind' in kubelet service (kind static-pod) must be systemd or command: a "
                            "kubelet cannot be a static pod, it is what runs them",
                            "8:11: 'host' in scheduler 'cp 1' is neither a member name nor an IP address or DNS "
                            "name; did you mean 'cp-1'?",
                            "10:11: duplicate scheduler host '10.0.0.11' (first used at line 9)",
                            "11:23: a controller manager must be a mapping (host, ssh, service), not 'cp-1'",
                        });
}
