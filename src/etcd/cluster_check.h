// What the orchestrator asks a running etcd cluster, over every endpoint of the inventory at once:
//  - probeCluster: each endpoint's status, a linearizable read, the member list and the alarms (`drctl etcd status`);
//  - verifyCluster: the verify-etcd step's verdict: every endpoint answers a linearizable read, the member list
//    equals the inventory (names and peer URLs), exactly one leader, no alarms, revision >= the snapshot's;
//  - checkCurrentQuorum: the preflight of a full restore. When a quorum of the current cluster is healthy, a full
//    restore would throw away a working cluster's data: it is refused (unless forced) in favour of replacing the
//    failed members.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etcd/etcd_client.h"
#include "inventory/inventory.h"

namespace dr {

struct EndpointReport {
  std::string member;    // the inventory's name for this endpoint
  std::string endpoint;  // its client URL
  std::optional<EndpointStatus> status;
  std::string status_error;                  // set when status is empty
  std::optional<std::int64_t> read_revision;  // the revision a linearizable read returned
  std::string read_error;                    // set when the linearizable read failed
  bool healthy() const { return status.has_value() && read_revision.has_value(); }
};

struct ClusterReport {
  std::vector<EndpointReport> endpoints;  // in inventory order
  std::vector<MemberInfo> members;        // the member list, from the first endpoint that gave one
  std::string members_from;               // which endpoint gave it
  std::string members_error;              // set when no endpoint answered the member list
  std::vector<AlarmInfo> alarms;
  std::string alarms_error;

  std::size_t healthyCount() const;
  // The inventory name of a member id ("etcd-1"), or its hex id when the id is not in the member list.
  std::string nameOf(std::uint64_t member_id) const;
};

// Asks every endpoint in parallel; each call has the options' deadline, so this takes at most a few deadlines.
ClusterReport probeCluster(const Inventory& inventory, const ClientOptions& options);

struct VerifyOptions {
  std::int64_t min_revision = 0;  // the snapshot's revision; 0 skips the check
  // A replacement's check (replace-member): this member's endpoint must pass every check, and a quorum of the
  // inventory's members must be healthy; other members' endpoints that are down, or members absent from the member
  // list, are tolerated (members still to be replaced, or removed and still to be added back). Empty: every
  // endpoint must pass, and the member list must be the inventory's.
  std::string member;
};

// One line per failed check, naming the endpoint (or member) and what is wrong; empty when the cluster is healthy.
std::vector<std::string> verifyCluster(const Inventory& inventory, const ClusterReport& report,
                                       const VerifyOptions& options);

struct VerifyOutcome {
  bool ok = false;
  std::vector<std::string> failures;  // of the last attempt
  ClusterReport report;               // of the last attempt
  int attempts = 0;
};

// Probes and verifies until the cluster passes or `wait` has passed (0: a single attempt). A freshly restored
// cluster needs a few seconds to elect a leader, so the verify-etcd step waits. The interval is short because this
// wait is on the recovery's critical path (the API servers start after it): a probe costs a few milliseconds, and a
// 500 ms interval added 250 ms to the lab's recovery on average.
VerifyOutcome verifyClusterUntil(const Inventory& inventory, const ClientOptions& client, const VerifyOptions& options,
                                 std::chrono::milliseconds wait,
                                 std::chrono::milliseconds interval = std::chrono::milliseconds(100));

struct QuorumVerdict {
  bool quorum_healthy = false;  // true: a full restore must be refused unless forced
  std::size_t healthy = 0;      // members that answer status and a linearizable read
  std::size_t total = 0;        // members in the inventory
  std::size_t quorum = 0;       // total / 2 + 1
  std::vector<std::string> failed_members;  // inventory names of the members that did not answer
  std::string reason;  // one sentence: what was found
  std::string advice;  // what to do instead (member replacement), when quorum_healthy
};

// The full-restore preflight: is a quorum of the CURRENT cluster healthy? Uses a short deadline per call: a member
// without quorum blocks a linearizable read until the deadline.
QuorumVerdict checkCurrentQuorum(const Inventory& inventory, const ClientOptions& options);

}  // namespace dr
