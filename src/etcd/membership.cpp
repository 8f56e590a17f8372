// Member removal, addition as a learner and promotion, each decided on a fresh probe. See membership.h.
#include "etcd/membership.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace dr {

namespace {

bool hasPeer(const MemberInfo& m, const std::string& peer_url) {
  return std::find(m.peer_urls.begin(), m.peer_urls.end(), peer_url) != m.peer_urls.end();
}

bool isMember(const MemberInfo& live, const EtcdMember& member) {
  return (!live.name.empty() && live.name == member.name) || hasPeer(live, member.peer_url);
}

std::string describe(const MemberInfo& m) {
  return fmt::format("{} (id {}{})", m.name.empty() ? "an unstarted member" : m.name, memberIdHex(m.id),
                     m.is_learner ? ", learner" : "");
}

// The healthy endpoints' member ids (an endpoint that answered a linearizable read, by its status header).
bool healthyMember(const ClusterReport& report, std::uint64_t id) {
  return std::any_of(report.endpoints.begin(), report.endpoints.end(), [&](const EndpointReport& e) {
    return e.healthy() && e.status->header.member_id == id;
  });
}

MembershipDecision refuse(std::string message) {
  return {MembershipDecision::Kind::Refuse, 0, std::move(message)};
}

// A change already under way elsewhere (a learner, or a member added and never started, that is not `member`).
std::optional<std::string> otherChangeInProgress(const ClusterReport& report, const EtcdMember& member) {
  for (const auto& m : report.members) {
    if (isMember(m, member)) continue;
    if (m.is_learner || m.name.empty()) {
      return fmt::format("{} is still joining the cluster (peer URLs {}): one membership change at a time, finish "
                         "or undo that replacement first",
                         describe(m), fmt::join(m.peer_urls, ","));
    }
  }
  return std::nullopt;
}

// Every live member is an inventory member with its peer URL (members of the inventory may be missing: removed,
// still to be added back). The replacement joins with the live members and itself as its --initial-cluster, which
// the plan computes from the inventory in its own order; etcd refuses a join whose list differs.
std::optional<std::string> clusterIsTheInventorys(const Inventory& inventory, const ClusterReport& report,
                                                  const EtcdMember& member) {
  for (const auto& m : report.members) {
    if (isMember(m, member)) continue;
    auto known = std::find_if(inventory.members.begin(), inventory.members.end(),
                              [&](const EtcdMember& i) { return isMember(m, i); });
    if (known == inventory.members.end()) {
      return fmt::format("the live cluster has {} with peer URLs {}, which is not in the inventory: update the "
                         "inventory to the cluster's real members first",
                         describe(m), fmt::join(m.peer_urls, ","));
    }
    if (!hasPeer(m, known->peer_url)) {
      return fmt::format("the live member {} has peer URLs {}, the inventory says {}", describe(m),
                         fmt::join(m.peer_urls, ","), known->peer_url);
    }
  }
  return std::nullopt;
}

std::optional<MembershipDecision> needMemberList(const ClusterReport& report) {
  std::optional<MembershipDecision> out;
  if (report.members.empty()) {
    out = refuse("no endpoint answered the member list (" + report.members_error +
                 "): a membership change needs a cluster with a quorum");
  } else if (report.healthyCount() == 0) {
    out = refuse("no endpoint is healthy: a membership change needs a quorum");
  }
  if (out) out->transient = true;
  return out;
}

}  // namespace

const char* membershipChangeName(MembershipChange change) {
  switch (change) {
    case MembershipChange::Remove: return "remove";
    case MembershipChange::Add: return "add";
    case MembershipChange::Promote: return "promote";
  }
  return "?";
}

std::vector<MemberInfo> liveMembersOf(const ClusterReport& report, const EtcdMember& member) {
  std::vector<MemberInfo> out;
  for (const auto& m : report.members) {
    if (isMember(m, member)) out.push_back(m);
  }
  return out;
}

MembershipDecision decideRemove(const Inventory&, const ClusterReport& report, const EtcdMember& member) {
  if (auto problem = needMemberList(report)) return *problem;
  const auto targets = liveMembersOf(report, member);
  if (targets.empty()) {
    return {MembershipDecision::Kind::AlreadyDone, 0,
            fmt::format("{} ({}) is not a member of the cluster: nothing to remove", member.name, member.peer_url)};
  }
  if (targets.size() > 1) {
    return refuse(fmt::format("{} live members match {} ({}): {} and {}; remove the extra one by hand", targets.size(),
                              member.name, member.peer_url, describe(targets[0]), describe(targets[1])));
  }
  const MemberInfo& target = targets.front();
  if (auto other = otherChangeInProgress(report, member)) return refuse(*other);
  std::size_t voters = 0, healthy = 0;
  for (const auto& m : report.members) {
    if (m.is_learner || m.id == target.id) continue;
    ++voters;
    if (healthyMember(report, m.id)) ++healthy;
  }
  const std::size_t quorum = voters / 2 + 1;
  if (voters == 0 || healthy < quorum) {
    return refuse(fmt::format("removing {} would leave {} healthy of {} voting members, below the quorum of {}: "
                              "nothing was changed",
                              describe(target), healthy, voters, quorum));
  }
  return {MembershipDecision::Kind::Act, target.id,
          fmt::format("removing {}: {} healthy of the {} voting members that remain (quorum {})", describe(target),
                      healthy, voters, quorum)};
}

MembershipDecision decideAdd(const Inventory& inventory, const ClusterReport& report, const EtcdMember& member) {
  if (auto problem = needMemberList(report)) return *problem;
  const auto existing = liveMembersOf(report, member);
  if (!existing.empty()) {
    const MemberInfo& m = existing.front();
    if (!m.name.empty() && !m.is_learner) {
      // A voter named like the member but never replaced: the remove step did not run or did not take.
      if (!hasPeer(m, member.peer_url)) {
        return refuse(fmt::format("{} is still a member with peer URLs {}: remove it first", describe(m),
                                  fmt::join(m.peer_urls, ",")));
      }
    }
    if (!hasPeer(m, member.peer_url)) {
      return refuse(fmt::format("{} has peer URLs {}, the inventory says {}", describe(m), fmt::join(m.peer_urls, ","),
                                member.peer_url));
    }
    return {MembershipDecision::Kind::AlreadyDone, m.id,
            fmt::format("{} ({}) is already in the cluster as {}: nothing to add", member.name, member.peer_url,
                        describe(m))};
  }
  if (auto other = otherChangeInProgress(report, member)) return refuse(*other);
  if (auto problem = clusterIsTheInventorys(inventory, report, member)) return refuse(*problem);
  // etcd's strict reconfiguration check (on by default) adds no member, not even a learner, while a voting member
  // is down: every failed member must be removed first.
  for (const auto& m : report.members) {
    if (!m.is_learner && !healthyMember(report, m.id)) {
      return refuse(fmt::format("voting member {} does not answer, and etcd adds no member while a voter is down: "
                                "remove every failed member first",
                                describe(m)));
    }
  }
  return {MembershipDecision::Kind::Act, 0,
          fmt::format("adding {} ({}) as a learner (it votes only once promoted)", member.name, member.peer_url)};
}

MembershipDecision decidePromote(const Inventory&, const ClusterReport& report, const EtcdMember& member) {
  if (auto problem = needMemberList(report)) return *problem;
  const auto existing = liveMembersOf(report, member);
  if (existing.empty()) {
    return refuse(fmt::format("{} ({}) is not in the cluster: add it first", member.name, member.peer_url));
  }
  const MemberInfo& m = existing.front();
  if (!m.is_learner) {
    if (m.name.empty()) return refuse(fmt::format("{} was added but never started", describe(m)));
    return {MembershipDecision::Kind::AlreadyDone, m.id, fmt::format("{} is a voting member: nothing to promote",
                                                                     describe(m))};
  }
  if (m.name.empty()) {
    // It may be starting: a new member publishes its name a moment after it starts. Asked again while --wait lasts.
    auto starting = refuse(fmt::format("learner {} has not started yet (no name in the member list): start it first",
                                       describe(m)));
    starting.transient = true;
    return starting;
  }
  return {MembershipDecision::Kind::Act, m.id, fmt::format("promoting learner {} to a voting member", describe(m))};
}

MembershipOutcome changeMembership(const Inventory& inventory, const std::string& member_name,
                                   MembershipChange change, const MembershipOptions& options) {
  MembershipOutcome out;
  const EtcdMember* member = nullptr;
  for (const auto& m : inventory.members) {
    if (m.name == member_name) member = &m;
  }
  if (!member) {
    out.message = fmt::format("no member named '{}' in the inventory", member_name);
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + options.wait;
  while (true) {
    const ClusterReport report = probeCluster(inventory, options.client);
    MembershipDecision decision;
    switch (change) {
      case MembershipChange::Remove: decision = decideRemove(inventory, report, *member); break;
      case MembershipChange::Add: decision = decideAdd(inventory, report, *member); break;
      case MembershipChange::Promote: decision = decidePromote(inventory, report, *member); break;
    }
    if (decision.kind == MembershipDecision::Kind::AlreadyDone) {
      out.ok = true;
      out.message = decision.message;
      return out;
    }
    std::string failure;
    if (decision.kind == MembershipDecision::Kind::Refuse) {
      const bool time_left = std::chrono::steady_clock::now() + options.interval <= deadline;
      if (!decision.transient || !time_left) {
        out.message = "refused: " + decision.message;
        return out;
      }
      std::this_thread::sleep_for(options.interval);
      continue;
    }
    // Act through a healthy endpoint: a follower forwards the change to the leader.
    for (const auto& e : report.endpoints) {
      if (!e.healthy()) continue;
      auto client = EtcdClient::open(e.endpoint, options.client);
      if (!client) {
        failure = client.error().message;
        continue;
      }
      Status done;
      if (change == MembershipChange::Remove) {
        done = client->memberRemove(decision.member_id);
      } else if (change == MembershipChange::Add) {
        auto added = client->memberAdd(member->peer_url, /*learner=*/true);
        if (added) decision.message += fmt::format(": id {}", memberIdHex(added->id));
        done = added ? Status{} : Status(added.error());
      } else {
        done = client->memberPromote(decision.member_id);
      }
      if (done) {
        out.ok = true;
        out.changed = true;
        out.message = decision.message;
        return out;
      }
      failure = done.error().message;
      break;  // the cluster answered: another endpoint would say the same
    }
    if (std::chrono::steady_clock::now() + options.interval > deadline) {
      out.message = decision.message + " failed: " + (failure.empty() ? "no healthy endpoint" : failure);
      return out;
    }
    std::this_thread::sleep_for(options.interval);
  }
}

}  // namespace dr
