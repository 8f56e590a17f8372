// The simulator's model of a cluster under recovery: per host its API server (running, verified), its etcd
// member (running or not) and the directories that matter (path -> what they hold: the old cluster's data or a
// restore identified by snapshot hash, token, initial-cluster, name and peer URL), the files uploaded to it and
// which of them were verified there; cluster quorum and health are derived from the members. Every operation the
// sim transport applies goes through here, and the invariant monitor (invariants.h) watches each one.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "plan/plan.h"

namespace dr::sim {

// What a data directory holds.
struct DirContent {
  bool restored = false;  // false: the old cluster's data
  std::string snapshot_sha256, token, initial_cluster, name, peer_url;  // a restore's identity
  std::string origin_member;  // old data: whose it is
  bool joined = false;        // a replacement's data: it joined the running cluster empty and got the data by Raft

  bool operator==(const DirContent&) const = default;
  std::string describe() const;
};

// What a component that caches etcd's state through the API servers (a controller manager, scheduler or kubelet)
// holds: nothing (stopped, or started while no API server ran: it lists once one is back), or what the API servers
// served when it listed: the old cluster's objects and revisions, or the restored cluster's.
enum class CacheOf { Nothing, OldCluster, Restored };
const char* cacheName(CacheOf cache);

struct ComponentModel {
  bool running = true;
  bool preflight = false;
  CacheOf cache = CacheOf::OldCluster;

  bool operator==(const ComponentModel&) const = default;
};

// A member's place in the cluster's member list (replace-member changes it).
enum class Membership { Voter, Removed, Learner };
const char* membershipName(Membership membership);

struct HostModel {
  std::string address;
  std::string member;  // the etcd member on this host, or empty
  std::string data_dir;
  bool api = false;  // an API server lives here
  bool api_running = false;
  bool api_verified = false;
  bool etcd_running = false;
  std::map<std::string, DirContent> dirs;
  std::map<std::string, std::string> files;  // path -> sha256 of its content
  std::map<std::string, std::string> verified;  // path -> the sha256 the host checked it against (and matched)
  bool member_preflight = false;
  bool api_preflight = false;
  bool locked = false;  // the member's recovery lock is held by this run
  Membership membership = Membership::Voter;
  bool replace_preflight = false;  // preflight-replaced passed (replace-member)
  // The host's controller manager, scheduler and kubelet, by the plan's instance key ("HOST/kube-scheduler").
  std::map<std::string, ComponentModel> components;

  bool operator==(const HostModel&) const = default;
};

struct ModelState {
  std::map<std::string, HostModel> hosts;  // by address
  bool etcd_verified = false;               // verify-etcd passed and no member changed since
  // replace-member: members added back (member add) and not verified yet: the ones joining the cluster
  std::set<std::string> joining;

  bool operator==(const ModelState&) const = default;
  // Canonical text (deterministic), for comparing, hashing and showing states.
  std::string canonical() const;
};

// The facts of the cluster the model is built from.
struct ClusterFacts {
  std::string cluster_name;
  std::vector<EtcdMember> members;
  std::vector<std::string> api_hosts;  // addresses
  // The inventory's controller managers, schedulers and kubelets: (address, instance key "HOST/ROLE").
  std::vector<std::pair<std::string, std::string>> components;
  std::string initial_cluster;          // inventory's --initial-cluster
  std::string snapshot_sha256;          // the planned snapshot
  // Members whose host has no data dir at all before the run (a rebuild on new hosts): no old data, etcd not running.
  std::set<std::string> new_hosts;
  // replace-member: the members the plan replaces, and those down (etcd stopped) before the run; a replaced member
  // not down is a healthy one replaced on purpose (a host migration), whose fence matters.
  std::set<std::string> replaced;
  std::set<std::string> down;
  bool replacing() const { return !replaced.empty(); }

  static ClusterFacts fromInventory(const Inventory& inventory, const std::string& snapshot_sha256);
};

// The state before a recovery: every member running on the old cluster's data (a new host: no data dir, etcd not
// running), every API server running.
ModelState initialState(const ClusterFacts& facts);

// The members a plan replaces (its replace.members input) go into facts.replaced, and are down unless named in
// `running` (a healthy member replaced on purpose).
void applyReplacement(ClusterFacts& facts, const Plan& plan, const std::set<std::string>& running = {});

// Which running members form a cluster with a quorum, if any: members grouped by what their data dir holds.
// A restored group needs a majority of its initial-cluster; the old cluster a majority of the inventory.
bool clusterServing(const ModelState& state, const ClusterFacts& facts);

// Why the cluster is not healthy as a restored cluster (empty: healthy): every member running on a restore of
// the planned snapshot, one token, the inventory's initial-cluster, its own name and peer URL.
std::string restoredHealthProblem(const ModelState& state, const ClusterFacts& facts);

// The recovered end state: restored and healthy, verified, old data kept aside, every API server running and
// verified, every controller manager, scheduler and kubelet running with no cache of the old cluster.
std::string recoveredProblem(const ModelState& state, const ClusterFacts& facts);

// The old cluster is back as it was (after a rollback): same data dirs, same services (components running again),
// nothing left over.
std::string rolledBackProblem(const ModelState& state, const ModelState& initial);

// replace-member: why the cluster has no quorum of healthy voters (empty: it has), counting a voter healthy when
// its etcd runs on its own data (the old cluster's, or joined).
std::string quorumProblem(const ModelState& state, const ClusterFacts& facts);
// replace-member's end: every member a running voter, each replaced one on joined data with its old data kept aside,
// the others untouched, verified, no lock left.
std::string replacedProblem(const ModelState& state, const ClusterFacts& facts);
// replace-member's rollback: the members not replaced as before, each replaced one either as before or stopped out of
// the cluster's way (its data dir set aside, not a learner), a quorum serving, no lock left.
std::string replaceRolledBackProblem(const ModelState& state, const ModelState& initial, const ClusterFacts& facts);

}  // namespace dr::sim
