// Dry-run is a mode of its own, not a flag threaded through the executor (ninja's DryRunCommandRunner is the
// model): it connects to every host, runs each preflight step's command and every step's read-only `check`, and
// reports, per host and in plan order, what would run and which steps are already done. It performs no upload,
// runs no other command and writes nothing: no journal, no logs, no run directory.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "plan/plan.h"

namespace dr {

enum class DryRunVerdict {
  WouldRun,     // its check failed (or it has none): the step would run
  AlreadyDone,  // its check passed
  PreflightOk,  // a preflight step: its command ran and passed
  PreflightFailed,
  Error,        // the check could not be run (transport error, timeout)
  Unreachable,  // the host could not be reached
};
const char* dryRunVerdictName(DryRunVerdict verdict);

struct DryRunStep {
  const Step* step = nullptr;  // points into the plan given to dryRun()
  DryRunVerdict verdict = DryRunVerdict::WouldRun;
  bool has_check = false;
  std::optional<int> exit_code;  // of the check, or of the preflight command
  std::string message;           // why it failed; the last output line of a failed preflight
};

struct DryRunHost {
  std::string host;
  std::string connect_error;  // empty when connected
  std::vector<DryRunStep> steps;  // this host's steps, in plan order
};

struct DryRunReport {
  std::vector<DryRunHost> hosts;  // sorted by host name
  bool ok() const;                // every host reached and every preflight passed
};

// Hosts are visited in parallel (one thread and one session each). `plan` must outlive the report.
DryRunReport dryRun(const Plan& plan, const std::map<std::string, HostEndpoint>& hosts);

}  // namespace dr
