// drctl resume RUN_ID: continue a run from its journal. Re-plans from the run's recorded inputs with the same run
// id and token; a different fingerprint means the inventory, snapshot or template changed since the run started,
// which is refused (exit 2, saying what changed) unless --force. Finished steps are skipped; a step that started
// but did not finish (drctl died, or was stopped hard) runs its check: exit 0 means done, anything else redoes it.
#include <cstdio>

#include "commands.h"
#include "remote_client.h"
#include "exec/run_lock.h"
#include "plan/plan_json.h"
#include "run_loading.h"
#include "run_support.h"

namespace dr::cli {
namespace {

struct ResumeOptions {
  std::string run_id;
  std::string runs = kDefaultRunsDir;
  bool force = false;
  std::string log_format = "text";
  int per_host = 0;  // 0: as the run was started
};

int runResume(const ResumeOptions& o) {
  const char* who = "drctl resume";
  auto format = parseLogFormat(o.log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  int code = 0;
  auto run = openRun(who, o.runs, o.run_id, code);
  if (!run) return code;
  if (run->summary.phase == RunPhase::Finished) {
    std::fprintf(stderr, "%s: run %s already finished; nothing to resume\n", who, o.run_id.c_str());
    return kExitOk;
  }
  if (run->summary.rollbackStarted()) {
    std::fprintf(stderr, "%s: run %s was rolled back (or is rolling back); start a new run with drctl apply\n", who,
                 o.run_id.c_str());
    return kExitFailed;
  }
  putOwnDirectoryOnPath();
  const auto token = run->info.options.count("token") ? run->info.options.at("token") : std::string();
  auto planned = loadAndPlan(run->info.inventory_path, run->info.snapshot_path, run->info.plan_template,
                             run->info.run_id, token);
  if (!planned) {
    std::fprintf(stderr, "%s: the run's inputs no longer load (see above); nothing was run\n", who);
    return kExitBadInput;
  }
  if (planned->plan.fingerprint != run->plan.fingerprint) {
    const auto changes = describePlanChanges(run->plan, planned->plan);
    std::fprintf(stderr, "%s: the plan changed since run %s started (fingerprint %s -> %s):\n", who,
                 o.run_id.c_str(), run->plan.fingerprint.substr(0, 16).c_str(),
                 planned->plan.fingerprint.substr(0, 16).c_str());
    for (const auto& line : changes) std::fprintf(stderr, "  %s\n", line.c_str());
    if (!o.force) {
      std::fprintf(stderr, "Refusing to resume a different plan. Restore the inputs, or pass --force to continue with "
                           "the new plan.\n");
      return kExitBadInput;
    }
    std::fprintf(stderr, "--force: continuing with the new plan.\n");
  }
  int per_host = o.per_host;
  if (per_host <= 0) {
    auto it = run->info.options.find("per_host");
    per_host = it == run->info.options.end() ? 1 : std::max(1, std::atoi(it->second.c_str()));
  }
  const bool accept_new = run->info.options.count("accept_new_host_keys") &&
                          run->info.options.at("accept_new_host_keys") == "true";

  auto lock = acquireRunLock(o.runs, run->info.cluster, run->info.run_id);
  if (!lock) {
    std::fprintf(stderr, "%s: %s\n", who, lock.error().message.c_str());
    return kExitFailed;
  }
  if (planned->plan.fingerprint != run->plan.fingerprint) {
    RunInfo info = run->info;
    info.fingerprint = planned->plan.fingerprint;
    if (Status s = run->dir.writeFileAtomically("plan.json", planToJson(planned->plan).dump(2) + "\n"); !s) {
      std::fprintf(stderr, "%s: %s\n", who, s.error().message.c_str());
      return kExitFailed;
    }
    if (Status s = run->dir.writeRunInfo(info); !s) {
      std::fprintf(stderr, "%s: %s\n", who, s.error().message.c_str());
      return kExitFailed;
    }
  }
  const char* mode = o.force && planned->plan.fingerprint != run->plan.fingerprint ? "resume --force" : "resume";
  auto journal = startJournalSession(run->dir, /*new_run=*/false, run->info, planned->plan.fingerprint, mode);
  if (!journal) {
    std::fprintf(stderr, "%s: %s\n", who, journal.error().message.c_str());
    return kExitFailed;
  }
  auto directives = resumeDirectives(run->summary);
  if (*format == LogFormat::Text) {
    int done = 0;
    for (const auto& [id, d] : directives) done += d == StepDirective::AlreadyDone ? 1 : 0;
    std::fprintf(stderr, "resuming run %s: %d of %zu steps already done\n", o.run_id.c_str(), done,
                 planned->plan.steps.size());
  }
  HostRouting routing(planned->inventory, accept_new);
  ExecutionRequest request;
  request.plan = &planned->plan;
  request.directives = std::move(directives);
  request.run_dir = &run->dir;
  request.journal = &journal.value();
  request.endpoints = routing.endpoints(planned->plan);
  request.options.per_host = per_host;
  request.log_format = *format;
  request.runs_root = o.runs;
  return executePlan(std::move(request));
}

}  // namespace

CommandRunner declareResume(CLI::App& command) {
  auto options = std::make_shared<ResumeOptions>();
  command.add_option("run_id", options->run_id, "The run to resume (see drctl status)")->required();
  command.add_option("--runs", options->runs, "Runs directory")->capture_default_str();
  command.add_flag("--force", options->force, "Resume even though the inputs changed since the run started");
  command.add_option("--log-format", options->log_format, "text or json")->capture_default_str();
  command.add_option("--per-host", options->per_host, "Steps at a time on one host (default: as the run started)");
  return [options] {
    if (remoteOptions().active()) {
      return remoteResume(options->run_id, options->force, options->per_host, options->log_format);
    }
    return runResume(*options);
  };
}

}  // namespace dr::cli
