// drd's restore gate and dry-runs (see restore_checks.h).
#include "drd/restore_checks.h"

#include <fmt/format.h>

#include "etcd/certificates.h"
#include "etcd/cluster_check.h"

namespace dr::drd {

grpc::Status serviceError(grpc::StatusCode code, const std::string& message, int exit_code) {
  return grpc::Status(code, message, std::to_string(exit_code));
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

std::vector<std::string> warningLines(const PlanningOutcome& planned) {
  std::vector<std::string> lines;
  for (const auto* list : {&planned.inventory_diagnostics, &planned.template_diagnostics, &planned.plan_diagnostics}) {
    for (const auto& d : *list) {
      if (d.severity == Severity::Warning) lines.push_back(d.str());
    }
  }
  return lines;
}

std::string templateOrDefault(const std::string& name) {
  return name.empty() ? "full-restore" : name;
}

grpc::Status checkBeforeRestore(const Inventory& inventory, bool force, bool rehearsal,
                                std::vector<std::string>& notes) {
  const CertificateReport certificates = checkCertificates(inventory.tls);
  for (const auto& warning : certificates.warnings) notes.push_back("warning: " + warning);
  if (!certificates.ok()) {
    std::vector<std::string> lines = certificates.errors;
    lines.push_back("refused: etcd's client certificates cannot be used; nothing was run");
    return serviceError(grpc::StatusCode::FAILED_PRECONDITION, joinLines(lines), kExitFailed);
  }
  ClientOptions options;
  options.tls = inventory.tls;
  options.timeout = std::chrono::milliseconds(2000);
  const QuorumVerdict verdict = checkCurrentQuorum(inventory, options);
  notes.push_back("current cluster: " + verdict.reason);
  if (!verdict.quorum_healthy) return grpc::Status::OK;
  if (force) {
    notes.push_back("warning: a quorum is healthy, restoring anyway because of --force");
  } else if (rehearsal) {
    notes.push_back(
        "note: a quorum is healthy, so a real apply would be refused now (--force overrides); "
        "rehearsing anyway");
  } else {
    return serviceError(grpc::StatusCode::FAILED_PRECONDITION,
                        "refused: a quorum of the current cluster is healthy, so a full restore would discard a "
                        "working cluster's data; nothing was run.\n" +
                            verdict.advice,
                        kExitFailed);
  }
  return grpc::Status::OK;
}

DryRunOutcome dryRunInventory(const std::string& inventory, const std::string& snapshot,
                              const std::string& plan_template, bool accept_new_host_keys) {
  DryRunOutcome out;
  PlanningOutcome planned = planRun(inventory, snapshot, templateOrDefault(plan_template), "dry-run", "");
  out.notes = warningLines(planned);
  if (!planned.run) {
    out.problems = planned.problemLines();
    if (out.problems.empty()) out.problems.push_back("the plan could not be built");
    return out;
  }
  out.planned = std::move(planned.run);
  if (grpc::Status gate = checkBeforeRestore(out.planned->inventory, false, true, out.notes); !gate.ok()) {
    out.problems.push_back(gate.error_message());
    return out;
  }
  HostRouting routing(out.planned->inventory, accept_new_host_keys);
  out.report = dryRun(out.planned->plan, routing.endpoints(out.planned->plan));
  return out;
}

std::string dryRunText(const DryRunReport& report) {
  std::string text;
  for (const auto& host : report.hosts) {
    if (!host.connect_error.empty()) text += fmt::format("{}: UNREACHABLE: {}\n", host.host, host.connect_error);
    for (const auto& item : host.steps) {
      text += fmt::format("{} {} {}{}\n", host.host, item.step->id, dryRunVerdictName(item.verdict),
                          item.message.empty() ? "" : ": " + item.message);
    }
  }
  return text;
}

}  // namespace dr::drd
