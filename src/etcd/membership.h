// One membership change of a member replacement (plans/replace-member.yaml), asked of the live cluster and done
// only when it is safe: remove the failed member, add its replacement as a learner, promote the learner once it
// has caught up. Each is idempotent (done already: nothing to do, exit 0), so a retried or resumed step is safe,
// and each refuses what would hurt the cluster:
//  - removing a member never leaves fewer healthy voters than a quorum of the voters that remain;
//  - one change at a time: nothing is removed or added while another member is a learner or was added but never
//    started (a replacement that did not finish), other than this member's own;
//  - nothing is added while a voting member is down (etcd's strict reconfiguration check would refuse it);
//  - the live cluster must be the inventory's (every other member by name and peer URL), so the replacement joins
//    with the inventory's --initial-cluster, which is then the cluster's real member list.
// The decisions are pure functions of a probe (ClusterReport) so that the tests can give them any cluster.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etcd/cluster_check.h"
#include "inventory/inventory.h"

namespace dr {

enum class MembershipChange { Remove, Add, Promote };
const char* membershipChangeName(MembershipChange change);

struct MembershipDecision {
  enum class Kind { Act, AlreadyDone, Refuse } kind = Kind::Refuse;
  std::uint64_t member_id = 0;  // the live member to remove or promote
  std::string message;          // what was found, one sentence
  // A refusal that may pass by itself (no endpoint answered: an election in progress): asked again while --wait lasts.
  bool transient = false;
};

// The live members that are the inventory member `name`: by name, or (added, not yet started) by its peer URL.
std::vector<MemberInfo> liveMembersOf(const ClusterReport& report, const EtcdMember& member);

// Whether removing `member` keeps a quorum: healthy voters after the removal >= (voters after) / 2 + 1.
MembershipDecision decideRemove(const Inventory& inventory, const ClusterReport& report, const EtcdMember& member);
MembershipDecision decideAdd(const Inventory& inventory, const ClusterReport& report, const EtcdMember& member);
MembershipDecision decidePromote(const Inventory& inventory, const ClusterReport& report, const EtcdMember& member);

struct MembershipOptions {
  ClientOptions client;
  // Promote: etcd refuses to promote a learner that is not yet in sync with the leader; keep trying this long.
  std::chrono::milliseconds wait{0};
  std::chrono::milliseconds interval{200};
};

struct MembershipOutcome {
  bool ok = false;
  bool changed = false;  // the cluster's membership was changed by this call
  std::string message;
};

// Probes the cluster, decides, and acts through a healthy endpoint (the leader forwards the change).
MembershipOutcome changeMembership(const Inventory& inventory, const std::string& member_name,
                                   MembershipChange change, const MembershipOptions& options);

}  // namespace dr
