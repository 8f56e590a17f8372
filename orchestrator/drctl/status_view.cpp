// What `drctl status` shows (see status_view.h).
#include "status_view.h"

#include <cstdio>

namespace dr::cli {

void printRunList(const std::vector<RunStatusRow>& rows, const std::string& where) {
  if (rows.empty()) {
    std::printf("no runs in %s\n", where.c_str());
    return;
  }
  std::printf("%-28s %-12s %-10s %s\n", "RUN", "CLUSTER", "DONE", "STATE");
  for (const auto& row : rows) {
    std::printf("%-28s %-12s %-10s %s\n", row.run_id.c_str(), row.cluster.c_str(), row.done.c_str(),
                row.state.c_str());
  }
}

void printRunStatus(const RunStatusView& view) {
  std::printf("run %s (cluster %s, plan %s, fingerprint %s)\n", view.run_id.c_str(), view.cluster.c_str(),
              view.plan_name.c_str(), view.fingerprint.substr(0, 16).c_str());
  std::printf("state: %s%s\n", view.state_text.c_str(), view.reason.empty() ? "" : (" (" + view.reason + ")").c_str());
  if (!view.tail_note.empty()) std::printf("note: %s\n", view.tail_note.c_str());
  std::printf("\n%-36s %-18s %-12s %8s %9s %s\n", "STEP", "HOST", "STATE", "ATTEMPTS", "DURATION", "EXIT");
  int done = 0;
  for (const auto& step : view.steps) {
    done += step.done ? 1 : 0;
    std::printf("%-36s %-18s %-12s %8d %8.1fs %s%s\n", step.id.c_str(), step.host.c_str(), step.state.c_str(),
                step.attempts, step.duration_ms / 1000.0, step.exit_code ? std::to_string(*step.exit_code).c_str() : "-",
                !step.failure.empty() ? ("  " + step.failure).c_str() : "");
  }
  std::printf("\n%d of %zu steps done\n", done, view.steps.size());
  if (!view.ended) {
    std::printf("Resume with:    %s\nRoll back with: %s\n", view.resume_command.c_str(),
                view.rollback_command.c_str());
  }
}

}  // namespace dr::cli
