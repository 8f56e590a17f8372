// `drctl diagnose`: the incident commander's first command. It reads the cluster as it is, from every side a recovery
// depends on, and says what the situation is and which recovery fits it, with the exact command:
//  - over etcd's gRPC API (probeCluster): which members answer, a linearizable read, the leader, revisions, alarms,
//    the member list;
//  - over SSH, read-only, per member: is the host reachable, does the data dir exist and hold etcd data, does the
//    etcd service run;
//  - optionally the snapshot a restore would use: its revision, against the newest revision a member still holds.
// Nothing is changed anywhere. The verdict is a value (the front end renders it as text or JSON).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "etcd/cluster_check.h"
#include "etcd/snapshot_file.h"
#include "inventory/inventory.h"
#include "transport/transport.h"

namespace dr::ops {

// What one member's host says over SSH.
struct HostProbe {
  enum class DataDir { Unknown, Present, NoEtcdData, Missing };
  bool reached = false;
  std::string error;                     // why the host could not be probed
  DataDir data_dir = DataDir::Unknown;   // Present: DATA_DIR/member/snap/db exists; NoEtcdData: the dir, no db
  std::optional<bool> service_running;   // the inventory's status command; empty when it could not be asked
};

const char* dataDirText(HostProbe::DataDir state);

enum class Situation {
  Healthy,          // every member healthy, one leader, no alarm: nothing to recover
  Alarms,           // healthy, but an alarm is raised (NOSPACE, CORRUPT): writes may be refused
  MembersFailed,    // a quorum answers, some members do not: replace those, never restore from a snapshot
  QuorumLost,       // fewer than a quorum answer, and the others are known down: a full restore
  Unclear,          // fewer than a quorum answer, but some that do not are not known down (their service runs, or
                    // their port does not refuse: overloaded, partitioned, stuck): no restore on this evidence
  NewHosts,         // no member answers and no member host has a data dir: a rebuild on new hosts
};

// "healthy", "alarms", "members-failed", "quorum-lost", "unclear", "new-hosts"
const char* situationName(Situation situation);

struct MemberDiagnosis {
  std::string name, address;
  bool etcd_healthy = false;            // status and a linearizable read answered
  bool known_down = false;              // not answering, and its service is stopped or its port refuses
  bool is_leader = false;
  std::optional<std::int64_t> revision;  // the member's revision when it answered status at all (even without quorum)
  std::string etcd_error;
  HostProbe host;
};

struct Diagnosis {
  Situation situation = Situation::QuorumLost;
  std::vector<MemberDiagnosis> members;  // inventory order
  std::size_t healthy = 0, total = 0, quorum = 0;
  std::vector<std::string> alarms;        // "NOSPACE on etcd-2"
  std::vector<std::string> failed;        // names of the members that do not answer
  std::optional<std::int64_t> snapshot_revision;
  std::optional<std::int64_t> newest_member_revision;  // the highest revision any member reported
  std::string headline;                   // one sentence: the situation
  std::vector<std::string> findings;      // what was seen that matters, one sentence each
  std::string plan;                       // the recovery that fits: "full-restore", "replace-member", "" for none
  std::vector<std::string> commands;      // the exact commands, in order
  int probes = 1;                         // how many times the cluster was read before it settled
  bool action_needed() const { return situation != Situation::Healthy; }
};

// The pure part: the verdict from what was read. `snapshot` may be empty; `inventory_path` and `snapshot_path` go
// into the commands as given.
Diagnosis judge(const Inventory& inventory, const ClusterReport& cluster, const std::vector<HostProbe>& hosts,
                const std::optional<SnapshotInfo>& snapshot, const std::string& inventory_path,
                const std::string& snapshot_path);

// The read-only script run on a member's host: prints "data=present|no-etcd-data|missing" and
// "service=running|stopped|unknown". Exposed for tests.
std::string hostProbeScript(const EtcdMember& member);
HostProbe parseHostProbe(const std::string& output);

struct DiagnoseOptions {
  std::chrono::milliseconds timeout{3000};  // per etcd call and per SSH command
  bool accept_new_host_keys = false;
  bool ssh = true;                          // false: etcd's API only (data dirs unknown)
  // A member that does not answer may only be in an election (a leader just died) or slow to accept a connection:
  // the cluster is read again, every 250 ms, until every member answers or this passes, before any verdict.
  std::chrono::milliseconds settle{5000};
};

// Reads everything (etcd and hosts in parallel) and judges it. Changes nothing.
Diagnosis diagnose(const Inventory& inventory, const std::optional<SnapshotInfo>& snapshot,
                   const std::string& inventory_path, const std::string& snapshot_path,
                   const DiagnoseOptions& options);

}  // namespace dr::ops
