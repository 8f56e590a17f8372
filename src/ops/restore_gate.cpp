// The certificate and quorum gate (see restore_gate.h).
#include "ops/restore_gate.h"

#include <fmt/format.h>

#include <algorithm>

#include "etcd/certificates.h"
#include "etcd/cluster_check.h"

namespace dr::ops {

GateDecision checkRestoreGate(const Inventory& inventory, const GateOptions& options) {
  GateDecision out;
  const CertificateReport certificates = checkCertificates(inventory.tls);
  for (const auto& warning : certificates.warnings) out.notes.push_back("warning: " + warning);
  if (!certificates.ok()) {
    std::string message;
    for (const auto& error : certificates.errors) message += error + "\n";
    message += "refused: etcd's client certificates cannot be used; nothing was run";
    out.refusal = refuse(RefusalKind::Unsafe, message);
    return out;
  }
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

// The healthy voters while member `target` is replaced, members replaced before it being healthy again: the other
// N-1 members that are healthy now or were replaced already.
std::size_t healthyWhileReplacing(const Inventory& inventory, const std::vector<bool>& healthy,
                                  const std::vector<std::size_t>& targets, std::size_t k) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < inventory.members.size(); ++i) {
    if (i == targets[k]) continue;
    const bool replaced_before = std::find(targets.begin(), targets.begin() + static_cast<long>(k), i) !=
                                 targets.begin() + static_cast<long>(k);
    if (healthy[i] || replaced_before) ++count;
  }
  return count;
}

}  // namespace

ReplaceDecision checkReplaceGate(const Inventory& inventory, const std::vector<std::string>& members,
                                 const GateOptions& options) {
  ReplaceDecision out;
  const CertificateReport certificates = checkCertificates(inventory.tls);
  for (const auto& warning : certificates.warnings) out.notes.push_back("warning: " + warning);
  if (!certificates.ok()) {
    std::string message;
    for (const auto& error : certificates.errors) message += error + "\n";
    message += "refused: etcd's client certificates cannot be used; nothing was run";
    out.refusal = refuse(RefusalKind::Unsafe, message);
    return out;
  }
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
  for (std::size_t k = 0; k < targets.size(); ++k) {
    const std::size_t voters = total - 1;
    const std::size_t left = healthyWhileReplacing(inventory, healthy, targets, k);
    if (left < voters / 2 + 1) {
      refuseOrNote(RefusalKind::Unsafe,
                   fmt::format("refused: while {} is replaced, {} of the other {} members would be healthy, below "
                               "their quorum of {}; nothing was run",
                               inventory.members[targets[k]].name, left, voters, voters / 2 + 1));
      return out;
    }
  }
  return out;
}

}  // namespace dr::ops
