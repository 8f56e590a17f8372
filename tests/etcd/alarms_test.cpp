// etcd's alarms after a restore, against a real etcd: `drctl etcd alarm list|disarm` and verify-etcd's
// `--alarms refuse|disarm` (the restore's --disarm-alarms). A snapshot keeps the alarms raised when it was taken, so
// a restored cluster may refuse every write until they are disarmed.
#include <catch2/catch.hpp>

#include "drctl_program.h"
#include "etcd/alarms.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
using namespace std::chrono_literals;

namespace {
using test::drctl;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("alarms are listed, refused by verify, disarmed on request, and verify then passes",
          "[etcd][alarms][cli][real]") {
  test::EtcdCluster cluster({.members = 3});
  const std::string inventory = cluster.writeInventoryFile().string();

  // None raised: listed as none, verify passes either way.
  auto listed = drctl({"etcd", "alarm", "list", "-i", inventory});
  INFO(listed.output);
  CHECK(listed.exit_code == 0);
  CHECK(contains(listed.output, "no alarm raised"));

  // NOSPACE raised on the second member, as etcd raises it itself when its database is over its quota.
  auto client = EtcdClient::open(cluster.inventory().members[1].client_url, {});
  REQUIRE(client);
  auto status = client->status();
  REQUIRE(status);
  REQUIRE(client->activateAlarm(status->header.member_id, "NOSPACE"));
  CHECK_FALSE(client->put("/after-alarm", "refused"));  // etcd refuses writes: what a restored NOSPACE would do

  listed = drctl({"etcd", "alarm", "list", "-i", inventory});
  INFO(listed.output);
  CHECK(listed.exit_code == 0);
  CHECK(contains(listed.output, "alarm NOSPACE on etcd-1 raised"));
  CHECK(contains(listed.output, "drctl etcd alarm disarm -i " + inventory));

  auto refused = drctl({"etcd", "verify", "-i", inventory, "--alarms", "refuse"});
  INFO(refused.output);
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.output, "alarm NOSPACE raised on member etcd-1: fix its cause, then `drctl etcd alarm "
                                 "disarm -i " + inventory + "`"));

  // verify-etcd as a restore with --disarm-alarms runs it: disarmed first, then verified.
  auto verified = drctl({"etcd", "verify", "-i", inventory, "--alarms", "disarm", "--wait", "10s"});
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  CHECK(contains(verified.output, "alarm NOSPACE on etcd-1 disarmed"));
  CHECK(contains(verified.output, "etcd verified"));
  CHECK(client->put("/after-disarm", "accepted"));

  // And by hand: raised again, disarmed with the command verify's message names, listed as none.
  REQUIRE(client->activateAlarm(status->header.member_id, "NOSPACE"));
  auto disarmed = drctl({"etcd", "alarm", "disarm", "-i", inventory, "--json"});
  INFO(disarmed.output);
  CHECK(disarmed.exit_code == 0);
  CHECK(contains(disarmed.output, "\"disarmed\": [\n    \"NOSPACE on etcd-1\"\n  ]"));
  CHECK(contains(drctl({"etcd", "alarm", "list", "-i", inventory}).output, "no alarm raised"));
  CHECK(drctl({"etcd", "alarm", "bogus", "-i", inventory}).exit_code == 2);
}

TEST_CASE("alarms: no member answering is a failure after --wait, with what went wrong", "[etcd][alarms][real]") {
  test::EtcdCluster cluster({.members = 1});
  cluster.stopMember(0);
  AlarmOptions options;
  options.client.timeout = 500ms;
  options.disarm = true;
  options.wait = 1s;
  const auto started = std::chrono::steady_clock::now();
  const AlarmOutcome outcome = handleAlarms(cluster.inventory(), options);
  CHECK_FALSE(outcome.ok);
  CHECK_FALSE(outcome.error.empty());
  // Asked again every 200 ms until less than one interval of the wait is left.
  CHECK(std::chrono::steady_clock::now() - started >= 750ms);
  CHECK(outcome.disarmed.empty());
}
