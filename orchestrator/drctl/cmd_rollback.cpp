// drctl rollback RUN_ID: the rollback use case (ops/rollback.h) on the command line: the undo of every step of a
// run that took effect, in reverse order, one at a time per host. Steps whose effect is in doubt are undone only
// when their check says the effect is there. Journaled, so it can itself be interrupted and run again.
#include <cstdio>

#include "cli_support.h"
#include "commands.h"
#include "ops/rollback.h"
#include "remote_client.h"
#include "run_output.h"
#include "signal_guard.h"

namespace dr::cli {
namespace {

struct RollbackOptions {
  ops::RollbackRequest request;
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
  SignalGuard signals;
  auto prepared = ops::prepareRollback(o.request);
  if (!prepared.ok()) {
    printNotes(prepared.notes);
    return printRefusal(who, *prepared.refusal);
  }
  if (!o.yes && !stdinIsTerminal()) {
    std::fprintf(stderr, "%s: no terminal to confirm on: pass --yes to roll back without confirmation\n", who);
    return kExitBadInput;
  }
  if (!o.yes && !confirmedOnTerminal(fmt::format("Roll back run {}: {} undo steps.", o.request.run_id,
                                                 prepared.value->to_undo))) {
    std::fprintf(stderr, "%s: not confirmed; nothing was run\n", who);
    return kExitFailed;
  }
  printNotes(prepared.notes);
  putOwnDirectoryOnPath();
  signals.arm();
  auto session = ops::startSession(std::move(*prepared.value));
  printNotes(session.notes);
  if (!session.ok()) return printRefusal(who, *session.refusal);
  return runSession(*session.value, signals, *format, o.request.runs_root.string());
}

}  // namespace

CommandRunner declareRollback(CLI::App& command) {
  auto options = std::make_shared<RollbackOptions>();
  options->request.runs_root = kDefaultRunsDir;
  command.add_option("run_id", options->request.run_id, "The run to roll back (see drctl status)")->required();
  command.add_option("--runs", options->request.runs_root, "Runs directory")->capture_default_str();
  command.add_option("--log-format", options->log_format, "text or json")->capture_default_str();
  command.add_flag("-y,--yes", options->yes, "Do not ask for confirmation (required without a terminal)");
  return [options] {
    if (remoteOptions().active()) return remoteRollback(options->request.run_id, options->yes, options->log_format);
    return runRollback(*options);
  };
}

}  // namespace dr::cli
