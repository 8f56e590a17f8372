// The native gRPC client against a real etcd 3.4 cluster on loopback: status, member list, alarms, reads, TLS.
#include <catch2/catch.hpp>

#include <set>

#include "etcd/etcd_client.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;

TEST_CASE("the client reads status, member list and alarms of a 3-member cluster", "[etcd][client][real]") {
  test::EtcdCluster cluster;
  const auto& inventory = cluster.inventory();
  std::set<std::uint64_t> leaders;
  std::set<std::uint64_t> cluster_ids;
  for (const auto& member : inventory.members) {
    auto client = EtcdClient::open(member.client_url, ClientOptions{});
    REQUIRE(client.ok());
    auto status = client->status();
    REQUIRE(status.ok());
    CHECK(status->version == "3.4.23");
    CHECK(status->db_size > 0);
    CHECK(status->raft_term > 0);
    leaders.insert(status->leader);
    cluster_ids.insert(status->header.cluster_id);

    auto members = client->memberList();
    REQUIRE(members.ok());
    REQUIRE(members->size() == 3);
    std::set<std::string> names;
    for (const auto& m : *members) {
      names.insert(m.name);
      REQUIRE(m.peer_urls.size() == 1);
      CHECK(inventory.findMember(m.name) != nullptr);
    }
    CHECK(names == std::set<std::string>{"etcd-0", "etcd-1", "etcd-2"});
    auto alarms = client->alarms();
    REQUIRE(alarms.ok());
    CHECK(alarms->empty());
  }
  CHECK(leaders.size() == 1);
  CHECK(*leaders.begin() != 0);
  CHECK(cluster_ids.size() == 1);
}

TEST_CASE("writes through one member are read linearizably through another", "[etcd][client][real]") {
  test::EtcdCluster cluster({.members = 3});
  auto writer = EtcdClient::open(cluster.clientUrl(0), {});
  auto reader = EtcdClient::open(cluster.clientUrl(2), {});
  REQUIRE(writer.ok());
  REQUIRE(reader.ok());
  REQUIRE(writer->put("/registry/pods/a", "one").ok());
  REQUIRE(writer->put("/registry/pods/b", "two").ok());
  auto range = reader->range("/registry/", "/registry0", true);
  REQUIRE(range.ok());
  CHECK(range->count == 2);
  REQUIRE(range->kvs.size() == 2);
  CHECK(range->kvs[1] == std::pair<std::string, std::string>{"/registry/pods/b", "two"});
  CHECK(range->header.revision >= 3);
}

TEST_CASE("a stopped member's endpoint fails within the deadline, naming the endpoint", "[etcd][client][real]") {
  test::EtcdCluster cluster({.members = 1});
  const std::string url = cluster.clientUrl(0);
  cluster.stopMember(0);
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(1000);
  auto client = EtcdClient::open(url, options);
  REQUIRE(client.ok());
  const auto started = std::chrono::steady_clock::now();
  auto status = client->status();
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error().message, Catch::Contains(url));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE("bad endpoint URLs and unreadable TLS files are refused before any call", "[etcd][client]") {
  CHECK_FALSE(EtcdClient::open("127.0.0.1:2379", {}).ok());
  CHECK_FALSE(EtcdClient::open("ftp://127.0.0.1:2379", {}).ok());
  CHECK_FALSE(EtcdClient::open("http://127.0.0.1:2379/path", {}).ok());
  ClientOptions options;
  options.tls.ca = "/nonexistent/ca.pem";
  auto client = EtcdClient::open("https://127.0.0.1:2379", options);
  REQUIRE_FALSE(client.ok());
  CHECK_THAT(client.error().message, Catch::Contains("/nonexistent/ca.pem"));
  options.tls = TlsFiles{"", "/tmp/cert-only.pem", ""};
  CHECK_FALSE(EtcdClient::open("https://127.0.0.1:2379", options).ok());
  CHECK(grpcTarget("https://10.0.0.1:2379/").value() == "10.0.0.1:2379");
}

TEST_CASE("TLS round trip with a client certificate; a client without one is refused", "[etcd][client][tls][real]") {
  test::EtcdCluster cluster({.members = 1, .tls = true});
  ClientOptions options;
  options.tls = cluster.inventory().tls;
  auto client = EtcdClient::open(cluster.clientUrl(0), options);
  REQUIRE(client.ok());
  REQUIRE(client->put("k", "v").ok());
  auto range = client->range("k", "", true);
  REQUIRE(range.ok());
  REQUIRE(range->kvs.size() == 1);
  CHECK(range->kvs[0].second == "v");

  ClientOptions no_cert;
  no_cert.timeout = std::chrono::milliseconds(2000);
  no_cert.tls.ca = cluster.inventory().tls.ca;
  auto anonymous = EtcdClient::open(cluster.clientUrl(0), no_cert);
  REQUIRE(anonymous.ok());
  CHECK_FALSE(anonymous->status().ok());
}
