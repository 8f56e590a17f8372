// The certificate and quorum gate (see restore_gate.h).
#include "ops/restore_gate.h"

#include <fmt/format.h>

#include <algorithm>

#include "etcd/certificates.h"
#include "etcd/cluster_check.h"

namespace dr::ops {

namespace {

// Both gates first: the inventory's client certificates must be usable (warnings go to the notes).
std::optional<Refusal> certificateRefusal(const Inventory& inventory, std::vector<std::string>& notes) {
  const CertificateReport certificates = checkCertificates(inventory.tls);
  for (const auto& warning : certificates.warnings) notes.push_back("warning: " + warning);
  if (certificates.ok()) return std::nullopt;
  std::string message;
  for (const auto& error : certificates.errors) message += error + "\n";
  message += "refused: etcd's client certificates cannot be used; nothing was run";
  return refuse(RefusalKind::Unsafe, message);
}

}  // namespace

GateDecision checkRestoreGate(const Inventory& inventory, const GateOptions& options) {
  GateDecision out;
  out.refusal = certificateRefusal(inventory, out.notes);
  if (out.refusal) return out;
  ClientOptions client;
  client.tls = inventory.tls;
  client.timeout = options.timeout;
  const QuorumVerdict verdict = checkCurrentQuorum(inventory, client);
  out.notes.push_back("current cluster: " + verdict.reason);
  if (!verdict.quorum_healthy) return out;
  if (options.force) {
    out.notes.push_back("warning: a quorum is healthy, restoring anyway because of --force");
  } else if (options.rehearsal) {
    out.notes.push_back(
        "note: a quorum is healthy, so a real apply would be refused now (--force overrides); rehearsing anyway");
  } else {
    out.refusal = refuse(RefusalKind::Unsafe,
                         "refused: a quorum of the current cluster is healthy, so a full restore would discard a "
                         "working cluster's data; nothing was run.\n" +
                             verdict.advice);
  }
  return out;
}

namespace {

// The order replace-member keeps, played on who is healthy now: every target fenced and removed one after another,
// then each added back, started and promoted. The first moment a quorum of the voters would not be healthy, named;
// empty when there is none.
std::string quorumGap(const Inventory& inventory, std::vector<bool> healthy, const std::vector<std::size_t>& targets) {
  std::vector<bool> voter(inventory.members.size(), true);
  auto check = [&](const std::string& when) -> std::string {
    std::size_t voters = 0, up = 0;
    for (std::size_t i = 0; i < voter.size(); ++i) {
      voters += voter[i] ? 1 : 0;
      up += voter[i] && healthy[i] ? 1 : 0;
    }
    if (up >= voters / 2 + 1) return "";
    return fmt::format("{}, {} of the {} voting members would be healthy, below their quorum of {}", when, up, voters,
                       voters / 2 + 1);
  };
  for (std::size_t i : targets) {
    healthy[i] = false;
    if (auto gap = check("once " + inventory.members[i].name + " is fenced"); !gap.empty()) return gap;
    voter[i] = false;
    if (auto gap = check("once " + inventory.members[i].name + " is removed"); !gap.empty()) return gap;
  }
  return "";  // adding back (a learner) and promoting (a caught-up, healthy member) only add healthy voters
}

}  // namespace

ReplaceDecision checkReplaceGate(const Inventory& inventory, const std::vector<std::string>& members,
                                 const GateOptions& options) {
  ReplaceDecision out;
  out.refusal = certificateRefusal(inventory, out.notes);
  if (out.refusal) return out;
  ClientOptions client;
  client.tls = inventory.tls;
  client.timeout = options.timeout;
  const ClusterReport report = probeCluster(inventory, client);
  const std::size_t total = inventory.members.size();
  std::vector<bool> healthy;
  std::size_t healthy_count = 0;
  for (const auto& e : report.endpoints) {
    healthy.push_back(e.healthy());
    healthy_count += e.healthy() ? 1 : 0;
  }
  const std::size_t quorum = total / 2 + 1;
  out.notes.push_back(
      fmt::format("current cluster: {} of {} members healthy (quorum {})", healthy_count, total, quorum));
  auto refuseOrNote = [&](RefusalKind kind, const std::string& message) {
    if (options.rehearsal) {
      out.notes.push_back("note: a real apply would be refused now: " + message);
    } else {
      out.refusal = refuse(kind, message);
    }
  };
  if (healthy_count < quorum) {
    refuseOrNote(RefusalKind::Unsafe,
                 "refused: the cluster has lost its quorum, so there is no cluster to replace members in; nothing "
                 "was run. Recover with a full restore (drctl diagnose -i INVENTORY says which plan fits)");
    if (out.refusal) return out;
  }
  std::vector<std::size_t> targets;
  for (std::size_t i = 0; i < total; ++i) {
    const auto& name = inventory.members[i].name;
    const bool named = std::find(members.begin(), members.end(), name) != members.end();
    if (members.empty() ? !healthy[i] : named) targets.push_back(i);
    if (named && healthy[i]) {
      out.notes.push_back("warning: member " + name + " is healthy; replacing it anyway as asked (it is fenced, its "
                          "data set aside, and it joins again empty)");
    }
  }
  for (std::size_t i : targets) out.replace.push_back(inventory.members[i].name);
  if (targets.empty()) {
    out.refusal = refuse(RefusalKind::NothingToDo,
                         "every member is healthy: nothing to replace (name a member with --member to replace a "
                         "healthy one, a host migration)");
    return out;
  }
  if (members.empty()) {
    out.notes.push_back(fmt::format("failed members read from the cluster: {}", fmt::join(out.replace, ", ")));
  }
  // etcd adds no member, not even a learner, while a voting member is down: one left down would stop the run after
  // the removals, with nothing added back.
  for (std::size_t i = 0; i < total; ++i) {
    if (healthy[i] || std::find(targets.begin(), targets.end(), i) != targets.end()) continue;
    refuseOrNote(RefusalKind::Unsafe,
                 fmt::format("refused: member {} is down and not being replaced, and etcd adds no member while a "
                             "voting member is down: replace it too (--member {}) or bring it back first; nothing "
                             "was run",
                             inventory.members[i].name, inventory.members[i].name));
    return out;
  }
  if (auto gap = quorumGap(inventory, healthy, targets); !gap.empty()) {
    refuseOrNote(RefusalKind::Unsafe, "refused: " + gap + "; nothing was run");
    return out;
  }
  return out;
}

}  // namespace dr::ops
