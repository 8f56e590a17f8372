// What `drctl status` shows, read from a local runs directory or from drd (`drctl --server`): the list of runs, or
// one run's steps. Printed on stdout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dr::cli {

struct RunStatusRow {
  std::string run_id, cluster, done, state;
};
void printRunList(const std::vector<RunStatusRow>& rows, const std::string& where);

struct StepStatusLine {
  std::string id, host, state;
  int attempts = 0;
  std::int64_t duration_ms = 0;
  std::optional<int> exit_code;
  std::string failure;  // the message of a failed step
  bool done = false;
};
struct RunStatusView {
  std::string run_id, cluster, plan_name, fingerprint, state_text, reason, tail_note;
  std::vector<StepStatusLine> steps;
  bool ended = false;  // finished or rolled back: no resume/rollback commands
  std::string resume_command, rollback_command;
};
void printRunStatus(const RunStatusView& view);

}  // namespace dr::cli
