// Cluster verification (the verify-etcd step) and the full-restore quorum preflight against a real etcd cluster.
#include <catch2/catch.hpp>

#include <algorithm>

#include "etcd/cluster_check.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
using namespace std::chrono_literals;

namespace {
bool anyContains(const std::vector<std::string>& lines, const std::string& a, const std::string& b = "") {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(a) != std::string::npos && line.find(b) != std::string::npos;
  });
}
std::string all(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}
ClientOptions fast() {
  ClientOptions options;
  options.timeout = 1500ms;
  return options;
}
}  // namespace

TEST_CASE("a healthy cluster verifies; a stopped member is named; quorum is judged 2/3 then 1/3",
          "[etcd][verify][quorum][real]") {
  test::EtcdCluster cluster;
  const Inventory& inventory = cluster.inventory();

  auto report = probeCluster(inventory, fast());
  REQUIRE(report.healthyCount() == 3);
  CHECK(report.members.size() == 3);
  const auto healthy = verifyCluster(inventory, report, {});
  INFO(all(healthy));
  CHECK(healthy.empty());
  auto quorum = checkCurrentQuorum(inventory, fast());
  CHECK(quorum.quorum_healthy);
  CHECK(quorum.healthy == 3);
  CHECK(quorum.failed_members.empty());

  const int stopped = cluster.followerIndex();
  const std::string name = "etcd-" + std::to_string(stopped);
  cluster.stopMember(stopped);
  report = probeCluster(inventory, fast());
  const auto failures = verifyCluster(inventory, report, {});
  INFO(all(failures));
  REQUIRE(failures.size() == 1);
  CHECK(anyContains(failures, name + " (" + cluster.clientUrl(stopped) + ")", "unreachable"));

  quorum = checkCurrentQuorum(inventory, fast());
  CHECK(quorum.quorum_healthy);  // 2 of 3 still serve linearizable reads: a full restore must be refused
  CHECK(quorum.healthy == 2);
  CHECK(quorum.quorum == 2);
  CHECK(quorum.failed_members == std::vector<std::string>{name});
  CHECK_THAT(quorum.reason, Catch::Contains("2 of 3"));
  CHECK_THAT(quorum.advice, Catch::Contains("-p replace-member") && Catch::Contains(name) &&
                                Catch::Contains("--force"));

  cluster.stopMember(cluster.followerIndex());
  quorum = checkCurrentQuorum(inventory, fast());
  CHECK_FALSE(quorum.quorum_healthy);  // the lone survivor has no leader: a full restore is the right tool
  CHECK(quorum.healthy == 0);
  CHECK_THAT(quorum.reason, Catch::Contains("lost quorum"));
}

TEST_CASE("verify names member-list mismatches, a low revision, and alarms", "[etcd][verify][real]") {
  test::EtcdCluster cluster;
  auto client = EtcdClient::open(cluster.clientUrl(0), {});
  REQUIRE(client.ok());
  REQUIRE(client->put("a", "1").ok());

  Inventory wrong = cluster.inventory();
  wrong.members[2].name = "etcd-9";
  wrong.members[0].peer_url = "http://127.0.0.1:1";
  auto report = probeCluster(wrong, fast());
  auto failures = verifyCluster(wrong, report, VerifyOptions{1'000'000, ""});
  INFO(all(failures));
  CHECK(anyContains(failures, "etcd-9", "is missing"));
  CHECK(anyContains(failures, "etcd-2", "is not in the inventory"));
  CHECK(anyContains(failures, "etcd-0 has peer URLs", "the inventory says http://127.0.0.1:1"));
  CHECK(anyContains(failures, "revision", "below the snapshot's revision 1000000"));

  // The revision check passes at the cluster's real revision.
  report = probeCluster(cluster.inventory(), fast());
  const auto revision = report.endpoints[0].read_revision.value();
  CHECK(verifyCluster(cluster.inventory(), report, VerifyOptions{revision, ""}).empty());

  auto status = client->status();
  REQUIRE(status.ok());
  REQUIRE(client->activateAlarm(status->header.member_id, "NOSPACE").ok());
  report = probeCluster(cluster.inventory(), fast());
  failures = verifyCluster(cluster.inventory(), report, {});
  INFO(all(failures));
  CHECK(anyContains(failures, "alarm NOSPACE", "etcd-0"));
  CHECK_FALSE(client->activateAlarm(1, "BOGUS").ok());
}

TEST_CASE("verify with a wait keeps polling until its deadline, then reports the last failures", "[etcd][verify][real]") {
  test::EtcdCluster cluster({.members = 1});
  cluster.stopMember(0);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = verifyClusterUntil(cluster.inventory(), fast(), {}, 1200ms, 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.attempts >= 3);
  CHECK(took >= 900ms);
  CHECK(took < 6s);
  CHECK(anyContains(outcome.failures, "etcd-0", "unreachable"));
  CHECK(anyContains(outcome.failures, "member list"));
}

TEST_CASE("verify succeeds once a starting cluster is ready", "[etcd][verify][real]") {
  test::EtcdCluster cluster({.members = 1});
  const auto outcome = verifyClusterUntil(cluster.inventory(), fast(), {}, 5s);
  INFO(all(outcome.failures));
  CHECK(outcome.ok);
  CHECK(outcome.attempts == 1);
}
