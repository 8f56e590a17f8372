// Cluster probing, the verify-etcd verdict and the full-restore quorum preflight. See cluster_check.h.
#include "etcd/cluster_check.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace dr {

namespace {

struct Probe {
  EndpointReport report;
  std::optional<EtcdClient> client;
};

Probe probeEndpoint(const EtcdMember& member, const ClientOptions& options) {
  Probe probe;
  probe.report.member = member.name;
  probe.report.endpoint = member.client_url;
  auto client = EtcdClient::open(member.client_url, options);
  if (!client) {
    probe.report.status_error = client.error().message;
    probe.report.read_error = client.error().message;
    return probe;
  }
  if (auto status = client->status()) {
    probe.report.status = std::move(*status);
  } else {
    probe.report.status_error = status.error().message;
  }
  // The same read etcdctl's `endpoint health` makes: linearizable, so it needs a leader and a quorum.
  if (auto read = client->range("health", "", /*linearizable=*/true, /*count_only=*/true)) {
    probe.report.read_revision = read->header.revision;
  } else {
    probe.report.read_error = read.error().message;
  }
  probe.client.emplace(std::move(*client));
  return probe;
}

std::string label(const EndpointReport& e) { return fmt::format("{} ({})", e.member, e.endpoint); }

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

std::size_t ClusterReport::healthyCount() const {
  return static_cast<std::size_t>(std::count_if(endpoints.begin(), endpoints.end(),
                                                [](const EndpointReport& e) { return e.healthy(); }));
}

std::string ClusterReport::nameOf(std::uint64_t member_id) const {
  for (const auto& m : members) {
    if (m.id == member_id && !m.name.empty()) return m.name;
  }
  for (const auto& e : endpoints) {
    if (e.status && e.status->header.member_id == member_id) return e.member;
  }
  return memberIdHex(member_id);
}

ClusterReport probeCluster(const Inventory& inventory, const ClientOptions& options) {
  std::vector<std::future<Probe>> pending;
  for (const auto& member : inventory.members) {
    pending.push_back(std::async(std::launch::async, [&member, &options] { return probeEndpoint(member, options); }));
  }
  std::vector<Probe> probes;
  for (auto& p : pending) probes.push_back(p.get());

  ClusterReport report;
  // Member list and alarms are cluster-wide: ask the healthy endpoints first, then any that answered status.
  std::vector<Probe*> order;
  for (auto& p : probes) {
    if (p.report.healthy()) order.push_back(&p);
  }
  for (auto& p : probes) {
    if (!p.report.healthy() && p.report.status) order.push_back(&p);
  }
  report.members_error = "no endpoint answered";
  report.alarms_error = "no endpoint answered";
  for (Probe* p : order) {
    auto members = p->client->memberList();
    if (!members) {
      report.members_error = members.error().message;
      continue;
    }
    report.members = std::move(*members);
    report.members_from = p->report.endpoint;
    report.members_error.clear();
    break;
  }
  for (Probe* p : order) {
    auto alarms = p->client->alarms();
    if (!alarms) {
      report.alarms_error = alarms.error().message;
      continue;
    }
    report.alarms = std::move(*alarms);
    report.alarms_error.clear();
    break;
  }
  for (auto& p : probes) report.endpoints.push_back(std::move(p.report));
  return report;
}

std::vector<std::string> verifyCluster(const Inventory& inventory, const ClusterReport& report,
                                       const VerifyOptions& options) {
  std::vector<std::string> failures;
  std::map<std::uint64_t, std::vector<std::string>> by_cluster;
  std::map<std::uint64_t, std::vector<std::string>> by_leader;
  for (const auto& e : report.endpoints) {
    if (!options.member.empty() && e.member != options.member && !e.healthy()) {
      continue;  // another member, down: one still to be replaced
    }
    if (!e.status) {
      failures.push_back(fmt::format("{}: unreachable: {}", label(e), e.status_error));
      continue;
    }
    if (!e.read_revision) {
      failures.push_back(fmt::format("{}: linearizable read failed: {}", label(e), e.read_error));
    } else if (options.min_revision > 0 && *e.read_revision < options.min_revision) {
      failures.push_back(fmt::format("{}: revision {} is below the snapshot's revision {}", label(e), *e.read_revision,
                                     options.min_revision));
    }
    if (!e.status->errors.empty()) {
      failures.push_back(fmt::format("{}: reports errors: {}", label(e), joined(e.status->errors)));
    }
    if (e.status->leader == 0) {
      failures.push_back(fmt::format("{}: has no leader", label(e)));
    } else {
      by_leader[e.status->leader].push_back(e.member);
    }
    by_cluster[e.status->header.cluster_id].push_back(e.member);
  }
  if (!options.member.empty()) {
    const std::size_t total = report.endpoints.size();
    if (inventory.findMember(options.member) == nullptr) {
      failures.push_back(fmt::format("no member named {} in the inventory", options.member));
    }
    if (report.healthyCount() < total / 2 + 1) {
      failures.push_back(fmt::format("only {} of {} members are healthy, below the quorum of {}",
                                     report.healthyCount(), total, total / 2 + 1));
    }
  }
  if (by_cluster.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [id, names] : by_cluster) parts.push_back(fmt::format("{} in cluster {}", joined(names), memberIdHex(id)));
    failures.push_back("endpoints belong to different clusters: " + fmt::format("{}", fmt::join(parts, "; ")));
  }
  if (by_leader.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [id, names] : by_leader) parts.push_back(fmt::format("{} follow {}", joined(names), report.nameOf(id)));
    failures.push_back("more than one leader: " + fmt::format("{}", fmt::join(parts, "; ")));
  }

  if (!report.members_error.empty()) {
    failures.push_back("member list: " + report.members_error);
  } else {
    std::set<std::string> seen;
    for (const auto& m : report.members) {
      const std::string peers = joined(m.peer_urls);
      if (m.name.empty()) {
        failures.push_back(fmt::format("member list: member {} ({}) was added but never started", memberIdHex(m.id), peers));
        continue;
      }
      seen.insert(m.name);
      const EtcdMember* expected = inventory.findMember(m.name);
      if (expected == nullptr) {
        failures.push_back(fmt::format("member list: {} ({}, id {}) is not in the inventory", m.name, peers, memberIdHex(m.id)));
      } else if (m.peer_urls != std::vector<std::string>{expected->peer_url}) {
        failures.push_back(fmt::format("member list: {} has peer URLs {}, the inventory says {}", m.name, peers,
                                       expected->peer_url));
      }
      if (m.is_learner) failures.push_back(fmt::format("member list: {} is a learner, not a voting member", m.name));
    }
    for (const auto& member : inventory.members) {
      // A replacement's check: a member removed and still to be added back is not missing yet.
      if (!seen.count(member.name) && options.member.empty()) {
        failures.push_back(fmt::format("member list: {} ({}) is missing", member.name, member.peer_url));
      }
    }
  }

  if (!report.alarms_error.empty()) {
    failures.push_back("alarms: " + report.alarms_error);
  }
  for (const auto& alarm : report.alarms) {
    failures.push_back(fmt::format("alarm {} raised on member {}: fix its cause, then `drctl etcd alarm disarm -i {}`",
                                   alarm.alarm, report.nameOf(alarm.member_id), inventory.source.string()));
  }
  return failures;
}

VerifyOutcome verifyClusterUntil(const Inventory& inventory, const ClientOptions& client, const VerifyOptions& options,
                                 std::chrono::milliseconds wait, std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  VerifyOutcome outcome;
  for (;;) {
    ++outcome.attempts;
    outcome.report = probeCluster(inventory, client);
    outcome.failures = verifyCluster(inventory, outcome.report, options);
    outcome.ok = outcome.failures.empty();
    if (outcome.ok || std::chrono::steady_clock::now() + interval >= deadline) return outcome;
    std::this_thread::sleep_for(interval);
  }
}

QuorumVerdict checkCurrentQuorum(const Inventory& inventory, const ClientOptions& options) {
  const ClusterReport report = probeCluster(inventory, options);
  QuorumVerdict verdict;
  verdict.total = inventory.members.size();
  verdict.quorum = verdict.total / 2 + 1;
  verdict.healthy = report.healthyCount();
  for (const auto& e : report.endpoints) {
    if (!e.healthy()) verdict.failed_members.push_back(e.member);
  }
  verdict.quorum_healthy = verdict.total > 0 && verdict.healthy >= verdict.quorum;
  if (verdict.quorum_healthy) {
    verdict.reason = fmt::format(
        "{} of {} etcd members are healthy (quorum is {}): the current cluster has quorum and serves reads, so a full "
        "restore would replace live data with the snapshot's",
        verdict.healthy, verdict.total, verdict.quorum);
    if (verdict.failed_members.empty()) {
      verdict.advice = "nothing to recover: every member is healthy. Use --force only to roll the cluster back to the snapshot";
    } else {
      verdict.advice = fmt::format(
          "replace the failed member(s) {} instead, one at a time while the others keep serving (no write lost): "
          "`drctl apply -i {} -p replace-member`; pass --force to run the full restore anyway",
          joined(verdict.failed_members), inventory.source.empty() ? "INVENTORY" : inventory.source.string());
    }
  } else {
    verdict.reason = fmt::format("{} of {} etcd members are healthy (quorum is {}): the cluster has lost quorum",
                                 verdict.healthy, verdict.total, verdict.quorum);
  }
  return verdict;
}

}  // namespace dr
