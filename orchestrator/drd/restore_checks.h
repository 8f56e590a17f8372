// What drd checks before a restore and how it rehearses one, shared by Apply (real and dry-run) and the dry-run
// schedules: the certificate and quorum gate `drctl apply` applies, and a dry-run of an inventory's plan against
// its real hosts. Errors are gRPC statuses whose details hold the drctl exit code (serviceError).
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "exec/dry_run.h"
#include "exec/run_session.h"
#include "inventory/inventory.h"

namespace dr::drd {

inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

// A gRPC error with the drctl exit code it corresponds to in its details.
grpc::Status serviceError(grpc::StatusCode code, const std::string& message, int exit_code);

std::string joinLines(const std::vector<std::string>& lines);
// The warnings among the planning diagnostics, one FILE:LINE:COLUMN: warning: line each.
std::vector<std::string> warningLines(const PlanningOutcome& planned);
// An empty template name means the built-in full restore.
std::string templateOrDefault(const std::string& name);

// Certificates and quorum before a restore, as `drctl apply` checks them: an unusable client certificate or a
// healthy quorum refuses the run (FAILED_PRECONDITION, exit 1); a rehearsal only notes the quorum; `force`
// overrides it. What was found is appended to `notes`.
grpc::Status checkBeforeRestore(const Inventory& inventory, bool force, bool rehearsal,
                                std::vector<std::string>& notes);

// A dry-run of an inventory's plan against its real hosts: planning problems, or the report.
struct DryRunOutcome {
  std::vector<std::string> problems;  // the inputs did not load or plan, or the gate refused: nothing was contacted
  std::vector<std::string> notes;     // warnings, the quorum verdict
  std::optional<PlannedRun> planned;
  std::optional<DryRunReport> report;  // points into planned->plan
  bool ok() const { return problems.empty() && report && report->ok(); }
};
DryRunOutcome dryRunInventory(const std::string& inventory, const std::string& snapshot,
                              const std::string& plan_template, bool accept_new_host_keys);
// The report as text, one line per step ("HOST STEP VERDICT: message"), for schedule results.
std::string dryRunText(const DryRunReport& report);

}  // namespace dr::drd
