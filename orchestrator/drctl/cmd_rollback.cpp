// drctl rollback RUN_ID: run the `undo` of every step of a run that took effect, in reverse order (the undo of a
// step waits for the undo of every step that needed it; one at a time per host). Steps whose effect is in doubt
// (started but not finished, or failed) are undone only when their check says the effect is there. The old data
// dirs come back and the old cluster is started again. Journaled (Undo*, RollbackFinished), so it can itself be
// interrupted and run again.
#include <cstdio>

#include "commands.h"
#include "remote_client.h"
#include "exec/run_lock.h"
#include "inventory/inventory_loader.h"
#include "run_loading.h"
#include "run_support.h"

namespace dr::cli {
namespace {

struct RollbackOptions {
  std::string run_id;
  std::string runs = kDefaultRunsDir;
  std::string log_format = "text";
  bool yes = false;
};

int runRollback(const RollbackOptions& o) {
  const char* who = "drctl rollback";
  auto format = parseLogFormat(o.log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  int code = 0;
  auto run = openRun(who, o.runs, o.run_id, code);
  if (!run) return code;
  if (run->summary.phase == RunPhase::RolledBack) {
    std::fprintf(stderr, "%s: run %s is already rolled back\n", who, o.run_id.c_str());
    return kExitOk;
  }
  auto inventory = loadInventory(run->info.inventory_path);
  for (const auto& d : inventory.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
  if (!inventory.inventory) {
    std::fprintf(stderr, "%s: the run's inventory %s no longer loads; nothing was run\n", who,
                 run->info.inventory_path.c_str());
    return kExitBadInput;
  }
  auto rollback = buildRollbackPlan(run->plan, run->summary);
  if (!o.yes && !stdinIsTerminal()) {
    std::fprintf(stderr, "%s: no terminal to confirm on: pass --yes to roll back without confirmation\n", who);
    return kExitBadInput;
  }
  if (!o.yes) {
    std::fprintf(stderr, "Roll back run %s: %d undo steps. Type 'yes' to proceed: ", o.run_id.c_str(),
                 rollback.to_undo);
    std::string answer;
    char buffer[64];
    if (std::fgets(buffer, sizeof buffer, stdin) != nullptr) answer = buffer;
    if (answer != "yes\n" && answer != "yes") {
      std::fprintf(stderr, "%s: not confirmed; nothing was run\n", who);
      return kExitFailed;
    }
  }
  putOwnDirectoryOnPath();
  auto lock = acquireRunLock(o.runs, run->info.cluster, run->info.run_id);
  if (!lock) {
    std::fprintf(stderr, "%s: %s\n", who, lock.error().message.c_str());
    return kExitFailed;
  }
  auto journal = startJournalSession(run->dir, /*new_run=*/false, run->info, run->plan.fingerprint, "rollback");
  if (!journal) {
    std::fprintf(stderr, "%s: %s\n", who, journal.error().message.c_str());
    return kExitFailed;
  }
  if (*format == LogFormat::Text) {
    std::fprintf(stderr, "rolling back run %s: %d steps to undo\n", o.run_id.c_str(), rollback.to_undo);
  }
  const bool accept_new = run->info.options.count("accept_new_host_keys") &&
                          run->info.options.at("accept_new_host_keys") == "true";
  HostRouting routing(*inventory.inventory, accept_new);
  ExecutionRequest request;
  request.plan = &rollback.plan;
  request.directives = rollback.directives;
  request.run_dir = &run->dir;
  request.journal = &journal.value();
  request.endpoints = routing.endpoints(rollback.plan);
  request.options.per_host = 1;  // rollback is serial per host
  request.options.mode = ExecutionMode::Undo;
  request.log_format = *format;
  request.runs_root = o.runs;
  return executePlan(std::move(request));
}

}  // namespace

CommandRunner declareRollback(CLI::App& command) {
  auto options = std::make_shared<RollbackOptions>();
  command.add_option("run_id", options->run_id, "The run to roll back (see drctl status)")->required();
  command.add_option("--runs", options->runs, "Runs directory")->capture_default_str();
  command.add_option("--log-format", options->log_format, "text or json")->capture_default_str();
  command.add_flag("-y,--yes", options->yes, "Do not ask for confirmation (required without a terminal)");
  return [options] {
    if (remoteOptions().active()) return remoteRollback(options->run_id, options->yes, options->log_format);
    return runRollback(*options);
  };
}

}  // namespace dr::cli
