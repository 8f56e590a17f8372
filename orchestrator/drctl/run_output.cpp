// Running a session with progress, and the end of a run (see run_output.h).
#include "run_output.h"

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "bucket_input.h"
#include "cli_support.h"
#include "commands.h"
#include "core/utf8.h"
#include "exec/journal_sink.h"

namespace dr::cli {

namespace {

// Test hook for the crash tests (tests/cli/apply_test.cpp): with DRCTL_TEST_CRASH_AFTER_RECORDS=K in the
// environment, drctl kills itself with SIGKILL right after the executor's K-th journal record is durable, which is
// the "kill -9 at any moment" of the resume contract made deterministic.
class CrashAfterRecordsSink final : public JournalSink {
 public:
  CrashAfterRecordsSink(JournalSink& inner, long limit) : inner_(inner), limit_(limit) {}
  Status append(const JournalRecord& record) override {
    Status written = inner_.append(record);
    if (++count_ >= limit_) ::kill(::getpid(), SIGKILL);
    return written;
  }

 private:
  JournalSink& inner_;
  long limit_;
  std::atomic<long> count_{0};
};

}  // namespace

int runSession(ops::RunSession& session, SignalGuard& signals, LogFormat format, const std::string& runs_root) {
  const std::string run_id = session.runId();
  const bool undo = session.undo();
  const std::filesystem::path logs_dir = session.dir().path() / "logs";
  std::optional<ExecutionResult> outcome;
  std::string error;
  {
    auto observer = makeProgressObserver(format, session.plan());
    ops::RunSession::Hooks hooks;
    hooks.observer = observer.get();
    hooks.attach = [&signals](Executor* executor) { signals.attach(executor); };
    if (!session.info().options.members_fetch.empty()) hooks.fetch_url = bucketFetcher();
    if (const char* crash_after = std::getenv("DRCTL_TEST_CRASH_AFTER_RECORDS")) {
      const long limit = std::atol(crash_after);
      hooks.wrap_journal = [limit](JournalSink& journal) -> std::unique_ptr<JournalSink> {
        return std::make_unique<CrashAfterRecordsSink>(journal, limit);
      };
    }
    auto result = session.execute(hooks);
    if (result) {
      outcome = std::move(result).value();
    } else {
      error = result.error().message;
    }
  }
  if (!outcome) {
    std::fprintf(stderr, "drctl: %s\n", error.c_str());
    return kExitFailed;
  }
  RunEndReport report;
  report.run_id = run_id;
  report.undo = undo;
  report.log_format = format;
  report.logs_dir = logs_dir;
  report.resume_command = resumeCommand(run_id, runs_root);
  report.rollback_command = rollbackCommand(run_id, runs_root);
  return reportRunEnd(*outcome, report);
}

int reportRunEnd(const ExecutionResult& result, const RunEndReport& report) {
  const std::string& run_id = report.run_id;
  const bool undo = report.undo;
  const std::string& resume = report.resume_command;
  const std::string& rollback = report.rollback_command;
  const int code = result.outcome == RunOutcome::Finished  ? kExitOk
                   : result.outcome == RunOutcome::Stopped ? kExitInterrupted
                                                           : kExitFailed;
  if (report.log_format == LogFormat::Json) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : result.hosts) {
      hosts.push_back({{"host", h.host}, {"state", hostOutcomeName(h.outcome)}, {"done", h.done}, {"total", h.total},
                       {"failed_step", h.failed_step}, {"next_step", h.next_step}});
    }
    nlohmann::json end = {{"event", "run-ended"}, {"run_id", run_id}, {"exit_code", code},
                          {"outcome", code == 0 ? "finished" : code == 3 ? "interrupted" : "failed"},
                          {"reason", result.reason}, {"hosts", hosts}};
    if (code != 0) {
      end["resume_command"] = resume;
      end["rollback_command"] = rollback;
    }
    printJsonLine(jsonText(end));
    return code;
  }
  const char* what = undo ? "rollback of run" : "run";
  if (code == kExitOk) {
    std::fprintf(stderr, "%s %s finished: %zu steps\n", what, run_id.c_str(), result.steps.size());
    return code;
  }
  std::fprintf(stderr, "\n%s %s %s: %s\n", what, run_id.c_str(), code == kExitInterrupted ? "interrupted" : "FAILED",
               result.reason.c_str());
  for (const auto& h : result.hosts) {
    std::string detail;
    if (!h.failed_step.empty()) {
      const auto* step = result.find(h.failed_step);
      detail = fmt::format("failed at {}: {}", h.failed_step, step != nullptr ? step->message : "");
    } else if (!h.next_step.empty()) {
      detail = "next: " + h.next_step;
    }
    std::fprintf(stderr, "  %-22s %-9s %d/%d done  %s\n", h.host.c_str(), hostOutcomeName(h.outcome), h.done, h.total,
                 detail.c_str());
  }
  std::fprintf(stderr, "Step logs: %s\n", report.logs_dir.c_str());
  std::fprintf(stderr, "Resume with:    %s\n", undo ? rollback.c_str() : resume.c_str());
  if (!undo) std::fprintf(stderr, "Roll back with: %s\n", rollback.c_str());
  return code;
}

namespace {

std::string firstLine(const std::string& text) {
  const auto newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline) + " ...";
}

}  // namespace

int printDryRun(const Plan& plan, const DryRunReport& report) {
  std::printf("Dry run of %s (fingerprint %s): nothing was changed, no journal was written.\n", plan.name.c_str(),
              plan.fingerprint.substr(0, 16).c_str());
  for (const auto& host : report.hosts) {
    std::printf("\n%s:%s\n", host.host.c_str(),
                host.connect_error.empty() ? "" : (" UNREACHABLE: " + host.connect_error).c_str());
    int n = 0;
    for (const auto& item : host.steps) {
      const Step& step = *item.step;
      std::string verdict = dryRunVerdictName(item.verdict);
      if (item.verdict == DryRunVerdict::WouldRun && !item.has_check) verdict = "would run (no check)";
      if (!item.message.empty()) verdict += ": " + item.message;
      std::printf("  %2d. %-32s %s\n", ++n, step.id.c_str(), verdict.c_str());
      if (item.verdict == DryRunVerdict::AlreadyDone || step.action == "preflight") continue;
      if (step.upload) {
        std::printf("        upload %s -> %s (sha256 %s)\n", step.upload->local_path.c_str(),
                    step.upload->remote_path.c_str(), step.upload->sha256.substr(0, 16).c_str());
      }
      if (!step.command.empty()) std::printf("        $ %s\n", firstLine(step.command).c_str());
    }
  }
  for (const auto& warning : plan.warnings) std::printf("warning: %s\n", warning.c_str());
  const bool ok = report.ok();
  std::printf("\n%s\n", ok ? "Dry run passed: every host reached, every preflight passed."
                           : "Dry run FAILED: see the hosts above (unreachable host or failed preflight).");
  return ok ? kExitOk : kExitFailed;
}

}  // namespace dr::cli
