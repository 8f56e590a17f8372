// Running a session in drctl and showing how it ended: progress while it runs, then the per-host summary and the
// exact resume / rollback commands (text) or one run-ended JSON object. The end is printed by the same code for a
// local run and for a run in drd (`drctl --server`, which gets the result from drd). Also a dry-run's report.
#pragma once

#include <filesystem>
#include <string>

#include "exec/dry_run.h"
#include "exec/executor.h"
#include "ops/session.h"
#include "progress.h"
#include "signal_guard.h"

namespace dr::cli {

// Runs the session with drctl's progress view; `signals` (armed by the caller before the session started) stops it.
// Prints the end and returns the exit code (0 finished, 1 failed, 3 interrupted).
int runSession(ops::RunSession& session, SignalGuard& signals, LogFormat format, const std::string& runs_root);

struct RunEndReport {
  std::string run_id;
  bool undo = false;
  LogFormat log_format = LogFormat::Text;
  std::filesystem::path logs_dir;
  std::string resume_command;
  std::string rollback_command;
};
// Prints the end of a session and returns its exit code (0 finished, 1 failed, 3 interrupted).
int reportRunEnd(const ExecutionResult& result, const RunEndReport& report);

// A dry-run's report (per host, what would run and what is already done) on stdout; returns 0 when every host was
// reached and every preflight passed, 1 otherwise.
int printDryRun(const Plan& plan, const DryRunReport& report);

}  // namespace dr::cli
