// The invariant table: see invariants.h.
#include "sim/invariants.h"

namespace dr::sim {

const std::vector<InvariantInfo>& invariantTable() {
  static const std::vector<InvariantInfo> table = {
      {kApiFenced, "no etcd member is stopped, restored or swapped while any API server runs"},
      {kEtcdDownBeforeSwap, "no data dir is swapped while any etcd member runs"},
      {kEtcdDownBeforeRestore, "no member restores while any etcd member runs (the restore follows stopping all)"},
      {kSameSnapshotSameToken,
       "every member restores the same verified snapshot with the same new token and the same initial-cluster, "
       "listing exactly the inventory's members, each with its own name and peer URL"},
      {kVerifiedBeforeRestore, "a member restores only a snapshot whose hash was verified on that member"},
      {kAllSwappedBeforeStart, "no member starts on restored data before every member's data dir is swapped"},
      {kStartTogether, "no step waits on etcd's health before all members are started"},
      {kVerifiedBeforeApi, "API servers start only after etcd is verified healthy"},
      {kOldDataKept, "an old data dir is never deleted by the plan"},
      {kNoLostWrites, "no write is accepted between the start of the restore and the verification"},
      {kResumeEquivalence, "a crash at any point followed by resume reaches the same final state as an uninterrupted run"},
      {kHaltIsSafe, "after any failed step, no API server starts, and rollback brings the old cluster back"},
      {kPreflightFirst,
       "a host is changed only after its preflight passed, and nothing live (a service, a data dir) before every "
       "host's preflight passed"},
      {kLockedFirst,
       "every member holds the run's lock, taken in inventory order after every preflight, before anything changes "
       "and until the recovery is verified (one recovery per cluster)"},
      {kPlaintextUntilVerified, "the staged snapshot is deleted from a member only once etcd is verified"},
      {kRecovers, "without faults, every order ends with the restored cluster healthy, verified and serving"},
      {kFreshCaches,
       "no controller manager, scheduler or kubelet that cached the old cluster runs when an API server starts on "
       "the restored data, and the controller managers and schedulers start again only once every API server is "
       "verified"},
      {kQuorumKept, "replace-member: a quorum of the voting members is healthy after every step, rollbacks included"},
      {kOneChangeAtATime,
       "replace-member: one member joins at a time (the next is added only once the last is verified)"},
      {kRemovedNeverRestarts,
       "replace-member: a member never starts on its old data once it was removed from the cluster"},
  };
  return table;
}

const char* invariantExplanation(const std::string& name) {
  for (const auto& info : invariantTable()) {
    if (name == info.name) return info.explanation;
  }
  return "";
}

}  // namespace dr::sim
