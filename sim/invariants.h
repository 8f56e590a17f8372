// The invariants the simulator checks: every one of docs/design.md's, plus three the order in docs/design.md implies
// (etcd-down-before-restore, preflight-first) or that any recovery must meet (recovers). Each has a name and a
// one-line explanation printed with a violation and its trace.
#pragma once

#include <string>
#include <vector>

namespace dr::sim {

struct InvariantInfo {
  const char* name;
  const char* explanation;
};

inline constexpr const char* kApiFenced = "api-fenced";
inline constexpr const char* kEtcdDownBeforeSwap = "etcd-down-before-swap";
inline constexpr const char* kEtcdDownBeforeRestore = "etcd-down-before-restore";
inline constexpr const char* kSameSnapshotSameToken = "same-snapshot-same-token";
inline constexpr const char* kVerifiedBeforeRestore = "verified-before-restore";
inline constexpr const char* kAllSwappedBeforeStart = "all-swapped-before-start";
inline constexpr const char* kStartTogether = "start-together";
inline constexpr const char* kVerifiedBeforeApi = "verified-before-api";
inline constexpr const char* kOldDataKept = "old-data-kept";
inline constexpr const char* kNoLostWrites = "no-lost-writes";
inline constexpr const char* kResumeEquivalence = "resume-equivalence";
inline constexpr const char* kHaltIsSafe = "halt-is-safe";
inline constexpr const char* kPreflightFirst = "preflight-first";
inline constexpr const char* kLockedFirst = "locked-first";
inline constexpr const char* kPlaintextUntilVerified = "plaintext-until-verified";
inline constexpr const char* kRecovers = "recovers";
inline constexpr const char* kFreshCaches = "fresh-caches";
// replace-member's
inline constexpr const char* kQuorumKept = "quorum-kept";
inline constexpr const char* kOneChangeAtATime = "one-change-at-a-time";
inline constexpr const char* kRemovedNeverRestarts = "removed-never-restarts";

const std::vector<InvariantInfo>& invariantTable();
const char* invariantExplanation(const std::string& name);

struct Violation {
  std::string invariant;
  std::string detail;  // what exactly happened, with host and step
  std::size_t trace_lines = 0;  // the trace up to and including the operation that broke it
};

}  // namespace dr::sim
