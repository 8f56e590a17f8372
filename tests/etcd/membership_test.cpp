// replace-member's membership changes: the decisions on made-up clusters (every refusal), and the changes
// themselves against a real etcd cluster (remove a dead member, add its replacement as a learner, idempotence,
// promotion refused until the learner runs, the quorum guard).
#include <catch2/catch.hpp>

#include "etcd/membership.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
using namespace std::chrono_literals;

namespace {

// A cluster of n members m1..mn, peer URLs http://10.0.0.i:2380; `healthy` of them answer (by index).
struct Made {
  Inventory inventory;
  ClusterReport report;
};

Made made(int n, const std::vector<int>& down = {}) {
  Made out;
  out.inventory.cluster_name = "c";
  for (int i = 1; i <= n; ++i) {
    EtcdMember m;
    m.name = "m" + std::to_string(i);
    m.peer_url = "http://10.0.0." + std::to_string(i) + ":2380";
    m.client_url = "http://10.0.0." + std::to_string(i) + ":2379";
    out.inventory.members.push_back(m);
    MemberInfo live;
    live.id = static_cast<std::uint64_t>(100 + i);
    live.name = m.name;
    live.peer_urls = {m.peer_url};
    out.report.members.push_back(live);
    EndpointReport e;
    e.member = m.name;
    e.endpoint = m.client_url;
    if (std::find(down.begin(), down.end(), i) == down.end()) {
      EndpointStatus status;
      status.header.member_id = live.id;
      e.status = status;
      e.read_revision = 10;
    } else {
      e.status_error = "connection refused";
    }
    out.report.endpoints.push_back(e);
  }
  return out;
}

const EtcdMember& member(const Made& m, int i) { return m.inventory.members[static_cast<std::size_t>(i - 1)]; }

}  // namespace

TEST_CASE("remove: a failed member goes when the others keep a quorum; never below it", "[etcd][membership]") {
  auto c = made(3, {2});
  auto d = decideRemove(c.inventory, c.report, member(c, 2));
  CHECK(d.kind == MembershipDecision::Kind::Act);
  CHECK(d.member_id == 102);
  // Removing a healthy member while another is down: 1 healthy of the 2 that remain, below their quorum of 2.
  d = decideRemove(c.inventory, c.report, member(c, 1));
  CHECK(d.kind == MembershipDecision::Kind::Refuse);
  CHECK(d.message.find("1 healthy of 2 voting members, below the quorum of 2") != std::string::npos);
  CHECK_FALSE(d.transient);  // final: asked again, the answer is the same
  // Already gone: nothing to do.
  c.report.members.erase(c.report.members.begin() + 1);
  d = decideRemove(c.inventory, c.report, member(c, 2));
  CHECK(d.kind == MembershipDecision::Kind::AlreadyDone);
  // Five members, two down: removing one of the dead leaves 3 healthy of 4 (quorum 3).
  auto five = made(5, {4, 5});
  CHECK(decideRemove(five.inventory, five.report, member(five, 5)).kind == MembershipDecision::Kind::Act);
  // No member list at all (no quorum anywhere): refused.
  auto lost = made(3, {1, 2, 3});
  lost.report.members.clear();
  lost.report.members_error = "deadline exceeded";
  const auto no_list = decideRemove(lost.inventory, lost.report, member(lost, 1));
  CHECK(no_list.kind == MembershipDecision::Kind::Refuse);
  CHECK(no_list.transient);  // an election may be under way: asked again while --wait lasts
}

TEST_CASE("one change at a time: a learner or an unstarted member elsewhere refuses remove and add",
          "[etcd][membership]") {
  auto c = made(5, {3});
  MemberInfo joining;
  joining.id = 999;
  joining.peer_urls = {"http://10.0.0.2:2380"};  // m2's replacement, added, never started
  joining.is_learner = true;
  c.report.members[1] = joining;
  auto d = decideRemove(c.inventory, c.report, member(c, 3));
  CHECK(d.kind == MembershipDecision::Kind::Refuse);
  CHECK(d.message.find("one membership change at a time") != std::string::npos);
  auto removed = c;  // m3 removed already: adding it back waits for m2's replacement too
  removed.report.members.erase(removed.report.members.begin() + 2);
  d = decideAdd(removed.inventory, removed.report, member(removed, 3));
  CHECK(d.kind == MembershipDecision::Kind::Refuse);
  CHECK(d.message.find("one membership change at a time") != std::string::npos);
  // For m2 itself, the learner is its own replacement: add is done, promote waits for it to start.
  CHECK(decideAdd(c.inventory, c.report, member(c, 2)).kind == MembershipDecision::Kind::AlreadyDone);
  auto p = decidePromote(c.inventory, c.report, member(c, 2));
  CHECK(p.kind == MembershipDecision::Kind::Refuse);
  CHECK(p.message.find("has not started yet") != std::string::npos);
  CHECK(p.transient);  // it may be starting: promote asks again while --wait lasts
  c.report.members[1].name = "m2";  // started: promotable
  p = decidePromote(c.inventory, c.report, member(c, 2));
  CHECK(p.kind == MembershipDecision::Kind::Act);
  CHECK(p.member_id == 999);
  c.report.members[1].is_learner = false;
  CHECK(decidePromote(c.inventory, c.report, member(c, 2)).kind == MembershipDecision::Kind::AlreadyDone);
}

TEST_CASE("add: only into the inventory's cluster, and not while the old member is still in it",
          "[etcd][membership]") {
  auto c = made(3, {2});
  // m2 not removed yet.
  auto d = decideAdd(c.inventory, c.report, member(c, 2));
  CHECK(d.kind == MembershipDecision::Kind::AlreadyDone);  // same name and peer URL: it is in the cluster
  c.report.members.erase(c.report.members.begin() + 1);
  CHECK(decideAdd(c.inventory, c.report, member(c, 2)).kind == MembershipDecision::Kind::Act);
  // Another voter down: etcd would refuse the add ("unhealthy cluster"); remove every failed member first.
  auto two_down = made(5, {4, 5});
  two_down.report.members.erase(two_down.report.members.begin() + 3);  // m4 removed, m5 still a voter, down
  d = decideAdd(two_down.inventory, two_down.report, member(two_down, 4));
  CHECK(d.kind == MembershipDecision::Kind::Refuse);
  CHECK(d.message.find("etcd adds no member while a voter is down") != std::string::npos);
  // A live member the inventory does not know: the inventory's --initial-cluster would be wrong.
  MemberInfo stranger;
  stranger.id = 7;
  stranger.name = "other";
  stranger.peer_urls = {"http://10.9.9.9:2380"};
  auto strange = c;
  strange.report.members.push_back(stranger);
  d = decideAdd(strange.inventory, strange.report, member(strange, 2));
  CHECK(d.kind == MembershipDecision::Kind::Refuse);
  CHECK(d.message.find("not in the inventory") != std::string::npos);
  // Another inventory member removed (to be added back later) is no obstacle; the join's list leaves it out.
  auto missing = made(5, {4, 5});
  missing.report.members.erase(missing.report.members.begin() + 3, missing.report.members.end());
  d = decideAdd(missing.inventory, missing.report, member(missing, 4));
  CHECK(d.kind == MembershipDecision::Kind::Act);
  // A member of that name with another peer URL.
  auto moved = made(3, {2});
  moved.report.members[1].peer_urls = {"http://10.0.0.99:2380"};
  CHECK(decideAdd(moved.inventory, moved.report, member(moved, 2)).kind == MembershipDecision::Kind::Refuse);
}

TEST_CASE("a real cluster: remove a killed member, add its replacement as a learner, each idempotent",
          "[etcd][membership][real]") {
  test::EtcdCluster cluster;
  const Inventory& inventory = cluster.inventory();
  MembershipOptions options;
  options.client.timeout = 2s;
  // etcd refuses a membership change until its members have been connected for 5 s ("unhealthy cluster"): a fresh
  // cluster needs the wait, as replace-member's steps have.
  options.wait = 20s;
  std::string name = inventory.members[2].name;

  // A healthy cluster: promoting a voter is done already.
  auto promote = changeMembership(inventory, name, MembershipChange::Promote, options);
  CHECK(promote.ok);
  CHECK_FALSE(promote.changed);

  // A follower dies (killing the leader would start an election, during which nothing answers).
  const int dead = cluster.followerIndex();
  const int alive = dead == 0 ? 1 : 0;
  name = inventory.members[static_cast<std::size_t>(dead)].name;
  cluster.stopMember(dead);
  // Removing a healthy member now would leave 1 healthy of 2: refused, nothing changed.
  auto refused =
      changeMembership(inventory, inventory.members[static_cast<std::size_t>(alive)].name, MembershipChange::Remove,
                       options);
  INFO(refused.message);
  CHECK_FALSE(refused.ok);
  CHECK(refused.message.find("below the quorum") != std::string::npos);
  REQUIRE(probeCluster(inventory, options.client).members.size() == 3);

  auto removed = changeMembership(inventory, name, MembershipChange::Remove, options);
  INFO(removed.message);
  CHECK(removed.ok);
  CHECK(removed.changed);
  auto again = changeMembership(inventory, name, MembershipChange::Remove, options);
  CHECK(again.ok);
  CHECK_FALSE(again.changed);
  CHECK(probeCluster(inventory, options.client).members.size() == 2);

  // Promote before the member exists: refused.
  CHECK_FALSE(changeMembership(inventory, name, MembershipChange::Promote, options).ok);
  auto added = changeMembership(inventory, name, MembershipChange::Add, options);
  INFO(added.message);
  CHECK(added.ok);
  CHECK(added.changed);
  auto report = probeCluster(inventory, options.client);
  const auto live = liveMembersOf(report, inventory.members[static_cast<std::size_t>(dead)]);
  REQUIRE(live.size() == 1);
  CHECK(live[0].is_learner);
  CHECK(live[0].name.empty());  // added, never started
  CHECK_FALSE(changeMembership(inventory, name, MembershipChange::Add, options).changed);
  // Not started: promotion is refused once its wait is over, and so is a change to another member (one at a time).
  MembershipOptions brief = options;
  brief.wait = 1s;
  auto unstarted = changeMembership(inventory, name, MembershipChange::Promote, brief);
  CHECK_FALSE(unstarted.ok);
  CHECK(unstarted.message.find("has not started yet") != std::string::npos);
  auto other = changeMembership(inventory, inventory.members[static_cast<std::size_t>(alive)].name,
                                MembershipChange::Remove, options);
  CHECK_FALSE(other.ok);
  CHECK(other.message.find("one membership change at a time") != std::string::npos);
  // The rollback path: the unstarted learner is removed again (it does not vote: the quorum is untouched).
  auto undone = changeMembership(inventory, name, MembershipChange::Remove, options);
  INFO(undone.message);
  CHECK(undone.ok);
  CHECK(undone.changed);
  CHECK(probeCluster(inventory, options.client).members.size() == 2);
}
