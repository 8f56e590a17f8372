// The simulated world's replace-member operations (fence, `drctl etcd member remove|add|promote`, the join and the
// per-member verification), each with etcd's own refusals and the invariants only a replacement has: see
// sim_world.h. The rest of the world, shared by every plan, is sim_world.cpp.
#include <fmt/format.h>

#include <algorithm>

#include "sim/sim_world.h"

namespace dr::sim {

// Stops the member to replace.
void SimWorld::fence(HostModel& h, const Step& step) {
  if (!undo_ && !h.replace_preflight) {
    violate(kPreflightFirst, fmt::format("{} fences {} before its replacement's preflight passed ({})", step.id,
                                         h.member, where(step)));
  }
  h.etcd_running = false;
  state_.etcd_verified = false;
}

// What `drctl etcd member remove` does: nothing when already removed; refused (like the tool) when the quorum would
// not hold or another member is joining; a running member that is removed stops itself (etcd does).
int SimWorld::memberRemove(const Step& step, std::string& output) {
  HostModel* h = memberHost(step.member);
  if (!h) {
    output = "no member " + step.member;
    return 1;
  }
  if (h->membership == Membership::Removed) return 0;
  for (const auto& [address, other] : state_.hosts) {
    if (&other != h && other.membership == Membership::Learner) {
      output = "refused: " + other.member + " is still joining";
      return 1;
    }
  }
  const Membership before = h->membership;
  h->membership = Membership::Removed;
  if (!quorumProblem(state_, facts_).empty()) {
    h->membership = before;
    output = "refused: removing it would leave no quorum";
    return 1;
  }
  h->etcd_running = false;
  state_.etcd_verified = false;
  return 0;
}

int SimWorld::memberAdd(const Step& step, std::string& output) {
  HostModel* h = memberHost(step.member);
  if (!h) {
    output = "no member " + step.member;
    return 1;
  }
  if (h->membership != Membership::Removed) return 0;  // in the cluster already
  for (const auto& [address, other] : state_.hosts) {
    if (other.membership == Membership::Learner) {
      output = "refused: " + other.member + " is still joining";
      return 1;
    }
    // etcd's strict reconfiguration check: no member is added while a voting member is down.
    if (other.membership == Membership::Voter && !other.etcd_running && !other.member.empty()) {
      output = "etcdserver: unhealthy cluster (voting member " + other.member + " is down)";
      return 1;
    }
  }
  if (!undo_) {
    // One member joins at a time: the last one added must be verified first.
    for (const auto& other : state_.joining) {
      if (other == h->member) continue;
      violate(kOneChangeAtATime, fmt::format("{} adds {} while {} is still joining (not verified) ({})", step.id,
                                             h->member, other, where(step)));
    }
    state_.joining.insert(h->member);
  }
  h->membership = Membership::Learner;
  state_.etcd_verified = false;
  return 0;
}

// etcd started as a new member of the running cluster: on an empty data dir it joins (only as an added member),
// on the data it joined with it simply starts; on old data after a removal it is refused (and that is a violation).
int SimWorld::joinEtcd(HostModel& h, const Step& step, std::string& output) {
  if (h.etcd_running) return 0;
  auto data = h.dirs.find(h.data_dir);
  if (data != h.dirs.end()) return startEtcd(h, step, output);
  if (h.membership != Membership::Learner) {
    output = fmt::format("etcd exits: {} is a {}, not a member added to join", h.member, membershipName(h.membership));
    return 1;
  }
  DirContent joined;
  joined.joined = true;
  joined.origin_member = h.member;
  h.dirs[h.data_dir] = joined;
  h.etcd_running = true;
  state_.etcd_verified = false;
  return 0;
}

int SimWorld::memberPromote(const Step& step, std::string& output) {
  HostModel* h = memberHost(step.member);
  if (!h) {
    output = "no member " + step.member;
    return 1;
  }
  if (h->membership == Membership::Voter) return 0;
  auto data = h->dirs.find(h->data_dir);
  if (h->membership != Membership::Learner || !h->etcd_running || data == h->dirs.end() || !data->second.joined) {
    output = "refused: not a started learner that caught up";
    return 1;
  }
  h->membership = Membership::Voter;
  state_.etcd_verified = false;
  return 0;
}

// `drctl etcd verify --member NAME`: that member a running voter on the data it joined with, a quorum healthy.
int SimWorld::verifyReplacement(const Step& step, std::string& output) {
  HostModel* h = memberHost(step.member);
  if (!h) {
    output = "no member " + step.member;
    return 1;
  }
  auto data = h->dirs.find(h->data_dir);
  if (h->membership != Membership::Voter || !h->etcd_running || data == h->dirs.end() || !data->second.joined) {
    output = fmt::format("{} is not a running voter on the data it joined with", step.member);
    return 1;
  }
  output = quorumProblem(state_, facts_);
  for (const auto& [address, other] : state_.hosts) {
    if (other.membership == Membership::Learner) output = other.member + " is a learner";
  }
  if (!output.empty()) return 1;
  state_.etcd_verified = true;
  state_.joining.erase(step.member);
  return 0;
}

}  // namespace dr::sim
