// The cluster model's state and what is derived from it: see model.h.
#include "sim/model.h"

#include <fmt/format.h>

#include <algorithm>

namespace dr::sim {

const char* membershipName(Membership membership) {
  switch (membership) {
    case Membership::Voter: return "voter";
    case Membership::Removed: return "removed";
    case Membership::Learner: return "learner";
  }
  return "?";
}

const char* cacheName(CacheOf cache) {
  switch (cache) {
    case CacheOf::Nothing: return "nothing";
    case CacheOf::OldCluster: return "old-cluster";
    case CacheOf::Restored: return "restored";
  }
  return "?";
}

std::string DirContent::describe() const {
  if (joined) return "joined data of " + origin_member;
  if (!restored) return "old data of " + origin_member;
  return fmt::format("restore of {} (name {}, peer {}, token {}, initial-cluster {})", snapshot_sha256.substr(0, 12),
                     name, peer_url, token, initial_cluster);
}

std::string ModelState::canonical() const {
  std::string out = fmt::format("etcd_verified={}\n", etcd_verified);
  for (const auto& member : joining) out += "joining " + member + "\n";
  for (const auto& [address, h] : hosts) {
    out += fmt::format(
        "host {} member={} api={} api_running={} api_verified={} etcd_running={} preflight={}/{}/{} locked={} {}\n",
        address, h.member, h.api, h.api_running, h.api_verified, h.etcd_running, h.member_preflight, h.api_preflight,
        h.replace_preflight, h.locked, membershipName(h.membership));
    for (const auto& [path, content] : h.dirs) out += fmt::format("  dir {}: {}\n", path, content.describe());
    for (const auto& [key, c] : h.components) {
      out += fmt::format("  component {}: running={} preflight={} cache={}\n", key, c.running, c.preflight,
                         cacheName(c.cache));
    }
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
  for (const auto* list : {&inventory.components, &inventory.kubelets}) {
    for (const auto& c : *list) facts.components.emplace_back(c.address, c.key());
  }
  facts.initial_cluster = inventory.initialCluster();
  facts.snapshot_sha256 = snapshot_sha256;
  return facts;
}

void applyReplacement(ClusterFacts& facts, const Plan& plan, const std::set<std::string>& running) {
  auto it = plan.inputs.find("replace.members");
  if (it == plan.inputs.end()) return;
  std::size_t start = 0;
  while (start <= it->second.size()) {
    const std::size_t end = std::min(it->second.find(',', start), it->second.size());
    const std::string name = it->second.substr(start, end - start);
    if (!name.empty()) {
      facts.replaced.insert(name);
      if (!running.count(name)) facts.down.insert(name);
    }
    start = end + 1;
  }
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
    h.etcd_running = !facts.down.count(m.name);
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
  for (const auto& [address, key] : facts.components) {
    HostModel& h = state.hosts[address];
    h.address = address;
    h.components[key] = ComponentModel{};
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
  for (const auto& [address, key] : facts.components) {
    const ComponentModel& c = state.hosts.at(address).components.at(key);
    if (!c.running) return fmt::format("{} is not running", key);
    if (c.cache == CacheOf::OldCluster) return fmt::format("{} still holds a cache of the old cluster", key);
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
    for (const auto& [key, c] : before.components) {
      if (c.running && !now.components.at(key).running) return fmt::format("{} is not running again", key);
    }
    if (!now.files.empty()) return fmt::format("{}: {} is left behind", address, now.files.begin()->first);
    if (now.locked) return fmt::format("{}: the run's lock is still held", address);
  }
  return "";
}

namespace {

bool onOwnData(const HostModel& h) {
  auto dir = h.dirs.find(h.data_dir);
  return dir != h.dirs.end() && !dir->second.restored && dir->second.origin_member == h.member;
}

const HostModel* hostOf(const ModelState& state, const std::string& member) {
  for (const auto& [address, h] : state.hosts) {
    if (h.member == member) return &h;
  }
  return nullptr;
}

}  // namespace

std::string quorumProblem(const ModelState& state, const ClusterFacts& facts) {
  std::size_t voters = 0, healthy = 0;
  for (const auto& m : facts.members) {
    const HostModel* h = hostOf(state, m.name);
    if (!h || h->membership != Membership::Voter) continue;
    ++voters;
    if (h->etcd_running && onOwnData(*h)) ++healthy;
  }
  if (healthy * 2 > voters) return "";
  return fmt::format("{} of {} voting members healthy, no quorum", healthy, voters);
}

std::string replacedProblem(const ModelState& state, const ClusterFacts& facts) {
  for (const auto& m : facts.members) {
    const HostModel* h = hostOf(state, m.name);
    if (!h) return fmt::format("member {} has no host", m.name);
    if (h->membership != Membership::Voter) {
      return fmt::format("member {} is a {}, not a voter", m.name, membershipName(h->membership));
    }
    if (!h->etcd_running) return fmt::format("member {} is not running", m.name);
    auto dir = h->dirs.find(h->data_dir);
    if (dir == h->dirs.end()) return fmt::format("member {} has no data dir {}", m.name, h->data_dir);
    const bool replaced = facts.replaced.count(m.name) > 0;
    if (replaced && !dir->second.joined) {
      return fmt::format("replaced member {} runs on {}, not on data it joined with", m.name, dir->second.describe());
    }
    if (!replaced && (dir->second.joined || dir->second.restored)) {
      return fmt::format("member {} was not to be replaced, yet runs on {}", m.name, dir->second.describe());
    }
    if (replaced && !facts.new_hosts.count(m.name)) {
      bool kept = false;
      for (const auto& [path, d] : h->dirs) {
        kept = kept || (path != h->data_dir && !d.joined && d.origin_member == m.name);
      }
      if (!kept) return fmt::format("replaced member {}: its old data dir is gone", m.name);
    }
    if (h->locked) return fmt::format("member {}: the run's lock is still held", m.name);
  }
  if (!state.etcd_verified) return "etcd was never verified after the last change";
  return "";
}

std::string replaceRolledBackProblem(const ModelState& state, const ModelState& initial, const ClusterFacts& facts) {
  for (const auto& [address, before] : initial.hosts) {
    const HostModel& now = state.hosts.at(address);
    if (now.locked) return fmt::format("{}: the run's lock is still held", address);
    if (!facts.replaced.count(now.member)) {
      if (now.dirs != before.dirs || now.etcd_running != before.etcd_running || now.membership != before.membership) {
        return fmt::format("{}: member {} was not to be replaced, yet is not as before the run", address, now.member);
      }
      continue;
    }
    // A failed member started again on its own data (fence-member's undo) is as before, or better.
    const bool as_before = now.dirs == before.dirs && now.membership == before.membership;
    bool kept = false;
    for (const auto& [path, d] : now.dirs) kept = kept || (path != now.data_dir && d.origin_member == now.member);
    const bool out_of_the_way = !now.etcd_running && !now.dirs.count(now.data_dir) &&
                                (kept || facts.new_hosts.count(now.member)) && now.membership != Membership::Learner;
    if (!as_before && !out_of_the_way) {
      return fmt::format("{}: replaced member {} is neither as before nor stopped with its data set aside "
                         "({}, etcd {})",
                         address, now.member, membershipName(now.membership), now.etcd_running ? "running" : "stopped");
    }
  }
  return quorumProblem(state, facts);
}

}  // namespace dr::sim
