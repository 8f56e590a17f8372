// The cluster model's state and what is derived from it: see model.h.
#include "sim/model.h"

#include <fmt/format.h>

namespace dr::sim {

std::string DirContent::describe() const {
  if (!restored) return "old data of " + origin_member;
  return fmt::format("restore of {} (name {}, peer {}, token {}, initial-cluster {})", snapshot_sha256.substr(0, 12),
                     name, peer_url, token, initial_cluster);
}

std::string ModelState::canonical() const {
  std::string out = fmt::format("etcd_verified={}\n", etcd_verified);
  for (const auto& [address, h] : hosts) {
    out += fmt::format(
        "host {} member={} api={} api_running={} api_verified={} etcd_running={} preflight={}/{} locked={}\n",
        address, h.member, h.api, h.api_running, h.api_verified, h.etcd_running, h.member_preflight, h.api_preflight,
        h.locked);
    for (const auto& [path, content] : h.dirs) out += fmt::format("  dir {}: {}\n", path, content.describe());
    for (const auto& [path, sha] : h.files) out += fmt::format("  file {}: {}\n", path, sha);
    for (const auto& [path, sha] : h.verified) out += fmt::format("  verified {}: {}\n", path, sha);
  }
  return out;
}

ClusterFacts ClusterFacts::fromInventory(const Inventory& inventory, const std::string& snapshot_sha256) {
  ClusterFacts facts;
  facts.cluster_name = inventory.cluster_name;
  facts.members = inventory.members;
  for (const auto& api : inventory.api_servers) facts.api_hosts.push_back(api.address);
  facts.initial_cluster = inventory.initialCluster();
  facts.snapshot_sha256 = snapshot_sha256;
  return facts;
}

ModelState initialState(const ClusterFacts& facts) {
  ModelState state;
  for (const auto& m : facts.members) {
    HostModel& h = state.hosts[m.address];
    h.address = m.address;
    h.member = m.name;
    h.data_dir = m.data_dir;
    while (h.data_dir.size() > 1 && h.data_dir.back() == '/') h.data_dir.pop_back();
    if (facts.new_hosts.count(m.name)) continue;  // nothing there yet
    h.etcd_running = true;
    DirContent old;
    old.origin_member = m.name;
    h.dirs[h.data_dir] = old;
  }
  for (const auto& address : facts.api_hosts) {
    HostModel& h = state.hosts[address];
    h.address = address;
    h.api = true;
    h.api_running = true;
  }
  return state;
}

namespace {

std::string groupKey(const DirContent& d) {
  return d.restored ? d.snapshot_sha256 + "|" + d.token + "|" + d.initial_cluster : "old";
}

std::size_t clusterSize(const DirContent& d, const ClusterFacts& facts) {
  if (!d.restored) return facts.members.size();
  std::size_t n = d.initial_cluster.empty() ? 0 : 1;
  for (char c : d.initial_cluster) n += c == ',';
  return n;
}

}  // namespace

bool clusterServing(const ModelState& state, const ClusterFacts& facts) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> groups;  // key -> (running, size)
  for (const auto& [address, h] : state.hosts) {
    if (h.member.empty() || !h.etcd_running) continue;
    auto dir = h.dirs.find(h.data_dir);
    if (dir == h.dirs.end()) continue;
    auto& g = groups[groupKey(dir->second)];
    ++g.first;
    g.second = clusterSize(dir->second, facts);
  }
  for (const auto& [key, g] : groups) {
    if (g.second > 0 && g.first * 2 > g.second) return true;
  }
  return false;
}

std::string restoredHealthProblem(const ModelState& state, const ClusterFacts& facts) {
  std::string token;
  for (const auto& m : facts.members) {
    const HostModel& h = state.hosts.at(m.address);
    if (!h.etcd_running) return fmt::format("member {} is not running", m.name);
    auto dir = h.dirs.find(h.data_dir);
    if (dir == h.dirs.end()) return fmt::format("member {} has no data dir {}", m.name, h.data_dir);
    const DirContent& d = dir->second;
    if (!d.restored) return fmt::format("member {} runs on the old cluster's data", m.name);
    if (d.snapshot_sha256 != facts.snapshot_sha256) return fmt::format("member {} holds another snapshot", m.name);
    if (d.initial_cluster != facts.initial_cluster) {
      return fmt::format("member {} has initial-cluster {}, not the inventory's {}", m.name, d.initial_cluster,
                         facts.initial_cluster);
    }
    if (d.name != m.name || d.peer_url != m.peer_url) {
      return fmt::format("member {} was restored as {} at {}", m.name, d.name, d.peer_url);
    }
    if (token.empty()) token = d.token;
    if (d.token != token) return fmt::format("member {} has token {}, another member {}", m.name, d.token, token);
  }
  return "";
}

std::string recoveredProblem(const ModelState& state, const ClusterFacts& facts) {
  if (auto problem = restoredHealthProblem(state, facts); !problem.empty()) return problem;
  if (!state.etcd_verified) return "etcd was never verified after the last change";
  for (const auto& m : facts.members) {
    const HostModel& h = state.hosts.at(m.address);
    bool old_kept = false;
    for (const auto& [path, d] : h.dirs) old_kept = old_kept || (!d.restored && d.origin_member == m.name);
    if (!old_kept && !facts.new_hosts.count(m.name)) return fmt::format("member {}: the old data dir is gone", m.name);
    // The plaintext snapshot does not outlive the run, nor does the lock.
    if (!h.files.empty()) return fmt::format("member {}: the staged {} is left behind", m.name, h.files.begin()->first);
    if (h.locked) return fmt::format("member {}: the run's lock is still held", m.name);
  }
  for (const auto& address : facts.api_hosts) {
    const HostModel& h = state.hosts.at(address);
    if (!h.api_running) return fmt::format("the API server on {} is not running", address);
    if (!h.api_verified) return fmt::format("the API server on {} was not verified", address);
  }
  return "";
}

std::string rolledBackProblem(const ModelState& state, const ModelState& initial) {
  for (const auto& [address, before] : initial.hosts) {
    const HostModel& now = state.hosts.at(address);
    if (now.dirs != before.dirs) {
      std::string dirs;
      for (const auto& [path, d] : now.dirs) dirs += fmt::format(" {}: {};", path, d.describe());
      return fmt::format("{}: the data dirs are not as before the run:{}", address, dirs);
    }
    if (now.etcd_running != before.etcd_running) return fmt::format("{}: etcd is not running again", address);
    if (now.api_running != before.api_running) return fmt::format("{}: the API server is not running again", address);
    if (!now.files.empty()) return fmt::format("{}: {} is left behind", address, now.files.begin()->first);
    if (now.locked) return fmt::format("{}: the run's lock is still held", address);
  }
  return "";
}

}  // namespace dr::sim
