// The certificate and quorum gate (see restore_gate.h).
#include "ops/restore_gate.h"

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

}  // namespace dr::ops
