// drctl apply: validate the inputs, plan, confirm, lock the cluster, create the run directory and run the plan
// (or, with --dry-run, only connect, preflight and check, writing nothing anywhere).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "apply_gates.h"
#include "commands.h"
#include "remote_client.h"
#include "core/shell.h"
#include "exec/dry_run.h"
#include "exec/run_lock.h"
#include "plan/plan_json.h"
#include "report/run_report.h"
#include "run_support.h"

namespace dr::cli {
namespace {

struct ApplyOptions {
  std::string inventory;
  std::string snapshot;
  std::string plan_template = kDefaultTemplate;
  std::string runs = kDefaultRunsDir;
  bool dry_run = false;
  int per_host = 1;
  bool accept_new_host_keys = false;
  std::string log_format = "text";
  bool yes = false;
  bool force = false;
  std::string report_dir;
  SnapshotKeyOptions key;
};

}  // namespace

static std::string firstLine(const std::string& text) {
  const auto newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline) + " ...";
}

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

namespace {

bool confirm(const PlannedRun& run, const std::string& run_id) {
  std::map<std::string, int> per_host;
  for (const auto& step : run.plan.steps) ++per_host[step.host];
  std::fprintf(stderr, "About to run %s on cluster %s (run %s): %zu steps on %zu hosts.\n", run.plan.name.c_str(),
               run.inventory.cluster_name.c_str(), run_id.c_str(), run.plan.steps.size(), per_host.size());
  for (const auto& [host, count] : per_host) std::fprintf(stderr, "  %-22s %d steps\n", host.c_str(), count);
  for (const auto& warning : run.plan.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  std::fprintf(stderr, "This stops the API servers and etcd and replaces etcd's data. Type 'yes' to proceed: ");
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

int runApply(const ApplyOptions& o) {
  auto format = parseLogFormat(o.log_format);
  if (!format) {
    std::fprintf(stderr, "drctl apply: %s\n", format.error().message.c_str());
    return kExitBadInput;
  }
  if (o.per_host < 1) {
    std::fprintf(stderr, "drctl apply: --per-host must be at least 1\n");
    return kExitBadInput;
  }
  putOwnDirectoryOnPath();
  const std::string run_id = o.dry_run ? "dry-run" : newRunId();
  const std::string template_arg =
      o.plan_template.find('/') != std::string::npos || o.plan_template.ends_with(".yaml") ? absolute(o.plan_template)
                                                                                           : o.plan_template;
  // An encrypted snapshot is decrypted on the controller first: into the runs dir for a real run (resume plans
  // from it again; kept once the run directory exists), into a temp file for a dry-run.
  const std::filesystem::path decrypted =
      o.dry_run ? std::filesystem::temp_directory_path() / ("drctl-dry-run-" + std::to_string(getpid()) + ".db")
                : std::filesystem::path(absolute(o.runs)) / "decrypted" / (run_id + ".db");
  struct RemoveTemp {
    std::filesystem::path path;
    ~RemoveTemp() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove(path, ec);
    }
  } remove_temp{decrypted};  // a plaintext copy never outlives a run that did not start (secrets live in etcd)
  const auto snapshot = usableSnapshot(absolute(o.snapshot), o.key, decrypted);
  if (!snapshot) return kExitBadInput;

  auto planned = loadAndPlan(absolute(o.inventory), snapshot->string(), template_arg, run_id, "");
  if (!planned) return kExitBadInput;
  if (int code = checkBeforeRestore(planned->inventory, o.force, o.dry_run); code != kExitOk) return code;
  HostRouting routing(planned->inventory, o.accept_new_host_keys);

  if (o.dry_run) return printDryRun(planned->plan, dryRun(planned->plan, routing.endpoints(planned->plan)));

  if (!o.yes) {
    if (!stdinIsTerminal()) {
      std::fprintf(stderr, "drctl apply: no terminal to confirm on: pass --yes to run without confirmation\n");
      return kExitBadInput;
    }
    if (!confirm(*planned, run_id)) {
      std::fprintf(stderr, "drctl apply: not confirmed; nothing was run\n");
      return kExitFailed;
    }
  }

  auto lock = RunLock::acquire(o.runs, planned->inventory.cluster_name, run_id);
  if (!lock) {
    std::fprintf(stderr, "drctl apply: %s\n", lock.error().message.c_str());
    return kExitFailed;
  }
  RunInfo info;
  info.run_id = run_id;
  info.cluster = planned->inventory.cluster_name;
  info.inventory_path = absolute(o.inventory);
  info.snapshot_path = snapshot->string();
  info.plan_template = template_arg;
  info.fingerprint = planned->plan.fingerprint;
  info.created_ms = SystemClock().wallMs();
  info.options = {{"per_host", std::to_string(o.per_host)},
                  {"accept_new_host_keys", o.accept_new_host_keys ? "true" : "false"},
                  {"token", planned->plan.inputs.count("run.token") ? planned->plan.inputs.at("run.token") : ""}};
  auto created = createRun(o.runs, info, planned->plan);
  // Once the run directory exists, resume plans from the decrypted copy: keep it.
  if (std::filesystem::exists(std::filesystem::path(o.runs) / run_id)) remove_temp.path.clear();
  if (!created) {
    std::fprintf(stderr, "drctl apply: %s\n", created.error().message.c_str());
    return kExitFailed;
  }
  RunDirectory* run_dir = &created->dir;
  JournalWriter* journal = &created->journal;
  if (*format == LogFormat::Text) {
    std::fprintf(stderr, "run %s: %zu steps, journal %s\n", run_id.c_str(), planned->plan.steps.size(),
                 run_dir->journalPath().c_str());
  }

  ExecutionRequest request;
  request.plan = &planned->plan;
  request.run_dir = run_dir;
  request.journal = journal;
  request.endpoints = routing.endpoints(planned->plan);
  request.options.per_host = o.per_host;
  request.log_format = *format;
  request.runs_root = o.runs;
  const int code = executePlan(std::move(request));
  if (!o.report_dir.empty()) {
    if (Status s = writeRunReport(*run_dir, o.report_dir); !s) {
      std::fprintf(stderr, "drctl apply: the run ended but its report could not be written: %s\n",
                   s.error().message.c_str());
    } else {
      std::fprintf(stderr, "report: %s/report.md (also report.json, junit.xml, timeline.svg)\n",
                   o.report_dir.c_str());
    }
  }
  return code;
}

}  // namespace

CommandRunner declareApply(CLI::App& command) {
  auto options = std::make_shared<ApplyOptions>();
  command.footer(R"(Before anything is touched: the inputs are validated (exit 2), the certificates checked, and the current
cluster asked whether a quorum is still healthy (then a full restore is refused: exit 1, unless --force).
Every step is journaled in RUNS/RUN_ID/; after an interruption (exit 3) or a failure (exit 1) drctl prints
the exact `drctl resume` and `drctl rollback` commands.

Examples:
  drctl apply -i inventory/kubeadm-3.yaml -s /backup/etcd.db --dry-run     # rehearse: changes nothing
  drctl apply -i inventory/kubeadm-3.yaml -s /backup/etcd.db --report out  # the real recovery, with a report
  drctl apply -i inv.yaml -s etcd.db.enc --key-file /secure/backup.key     # an encrypted snapshot)");
  command.add_option("-i,--inventory", options->inventory, "Inventory file")->required();
  command.add_option("-s,--snapshot", options->snapshot, "Snapshot file to restore")->required();
  command.add_option("-p,--plan", options->plan_template, "Plan template: a built-in name or a file")
      ->capture_default_str();
  command.add_option("--runs", options->runs, "Runs directory")->capture_default_str();
  command.add_flag("--dry-run", options->dry_run,
                   "Connect, run preflight and every step's read-only check; change nothing, write nothing");
  command.add_option("--per-host", options->per_host, "Steps at a time on one host")->capture_default_str();
  command.add_flag("--accept-new-host-keys", options->accept_new_host_keys,
                   "Trust and record unknown host keys (like OpenSSH's accept-new); changed keys are still refused");
  command.add_option("--log-format", options->log_format, "text or json")->capture_default_str();
  command.add_flag("-y,--yes", options->yes, "Do not ask for confirmation (required without a terminal)");
  command.add_flag("--force", options->force,
                   "Restore even when a quorum of the current cluster is healthy (normally refused: replace the "
                   "failed members instead)");
  command.add_option("--report", options->report_dir,
                     "Write report.json, report.md, junit.xml and timeline.svg of the run into DIR when it ends");
  command.add_option("--key-file", options->key.key_file, "Key of an encrypted snapshot (drctl snapshot encrypt)");
  command.add_option("--key-env", options->key.key_env, "Environment variable holding the key of an encrypted snapshot");
  return [options] {
    if (!remoteOptions().active()) return runApply(*options);
    if (!options->report_dir.empty() || !options->key.key_file.empty() || !options->key.key_env.empty()) {
      std::fprintf(stderr, "drctl apply: --report, --key-file and --key-env are not available with --server (write "
                           "the report with drctl report on drd's host; give drd a decrypted snapshot)\n");
      return kExitBadInput;
    }
    const auto& o = *options;
    return remoteApply({o.inventory, o.snapshot, o.plan_template, o.log_format, o.dry_run, o.accept_new_host_keys,
                        o.yes, o.force, o.per_host});
  };
}

}  // namespace dr::cli
