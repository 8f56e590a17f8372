// drctl apply: the apply use case (ops/apply.h) on the command line. Everything is checked before any host is
// touched; then the operator confirms, and the session runs with a checkpoint per step (or, with --dry-run, the
// plan is rehearsed against the real hosts, writing nothing anywhere).
#include <cstdio>
#include <map>

#include "bucket_input.h"
#include "cli_support.h"
#include "storage/s3_client.h"
#include "commands.h"
#include "ops/apply.h"
#include "remote_client.h"
#include "report/run_report.h"
#include "run_output.h"
#include "signal_guard.h"

namespace dr::cli {
namespace {

struct ApplyOptions {
  ops::ApplyRequest request;
  std::string log_format = "text";
  bool yes = false;
  std::string report_dir;
  bool members_fetch = false;
};

std::string confirmation(const ops::PreparedSession& prepared) {
  std::map<std::string, int> per_host;
  for (const auto& step : prepared.plan.steps) ++per_host[step.host];
  std::string text = fmt::format("About to run {} on cluster {} (run {}): {} steps on {} hosts.\n", prepared.plan.name,
                                 prepared.info.cluster, prepared.runId(), prepared.plan.steps.size(), per_host.size());
  for (const auto& [host, count] : per_host) text += fmt::format("  {:<22} {} steps\n", host, count);
  for (const auto& warning : prepared.plan.warnings) text += "warning: " + warning + "\n";
  if (!prepared.info.options.replace_members.empty()) {
    std::string names;
    for (const auto& name : prepared.info.options.replace_members) names += (names.empty() ? "" : ", ") + name;
    return text + "This removes " + names + " from the cluster, one at a time, sets their data aside and adds them "
                  "back empty; the other members keep serving.";
  }
  return text + "This stops the API servers and etcd and replaces etcd's data.";
}

int runApply(ApplyOptions o) {
  const char* who = "drctl apply";
  auto format = parseLogFormat(o.log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  if (o.members_fetch) {
    if (!isS3Url(o.request.snapshot)) {
      std::fprintf(stderr, "%s: --members-fetch needs the snapshot in a bucket: -s s3://BUCKET/KEY\n", who);
      return kExitBadInput;
    }
    o.request.members_fetch = o.request.snapshot;
  }
  if (int code = fetchSnapshotArgument(o.request.snapshot, o.request.runs_root.string(), who); code != 0) return code;
  putOwnDirectoryOnPath();
  SignalGuard signals;
  auto prepared = ops::prepareApply(o.request);
  printNotes(prepared.notes);
  if (!prepared.ok()) return printRefusal(who, *prepared.refusal);
  const auto& plaintext = prepared.value->snapshot.plaintext;
  if (!plaintext.path().empty()) signals.removeOnEarlyExit(plaintext.path(), o.request.dry_run);

  if (o.request.dry_run) return printDryRun(prepared.value->plan, ops::rehearse(*prepared.value));

  if (!o.yes) {
    if (!stdinIsTerminal()) {
      std::fprintf(stderr, "%s: no terminal to confirm on: pass --yes to run without confirmation\n", who);
      return kExitBadInput;
    }
    if (!confirmedOnTerminal(confirmation(*prepared.value))) {
      std::fprintf(stderr, "%s: not confirmed; nothing was run\n", who);
      return kExitFailed;
    }
  }
  signals.arm();
  auto session = ops::startSession(std::move(*prepared.value));
  printNotes(session.notes);
  if (!session.ok()) return printRefusal(who, *session.refusal);
  if (*format == LogFormat::Text) {
    std::fprintf(stderr, "run %s: %zu steps, journal %s\n", session.value->runId().c_str(),
                 session.value->plan().steps.size(), session.value->dir().journalPath().c_str());
  }
  const RunDirectory run_dir = session.value->dir();
  const int code = runSession(*session.value, signals, *format, o.request.runs_root.string());
  if (!o.report_dir.empty()) {
    if (Status s = writeRunReport(run_dir, o.report_dir); !s) {
      std::fprintf(stderr, "%s: the run ended but its report could not be written: %s\n", who,
                   s.error().message.c_str());
    } else {
      std::fprintf(stderr, "report: %s/report.md (also report.json, junit.xml, timeline.svg)\n", o.report_dir.c_str());
    }
  }
  return code;
}

}  // namespace

CommandRunner declareApply(CLI::App& command) {
  auto options = std::make_shared<ApplyOptions>();
  ops::ApplyRequest& r = options->request;
  r.plan_template = kDefaultTemplate;
  r.runs_root = kDefaultRunsDir;
  command.footer(R"(Before anything is touched: the inputs are validated (exit 2), the certificates checked, and the current
cluster asked whether a quorum is still healthy (then a full restore is refused: exit 1, unless --force).
Every step is journaled in RUNS/RUN_ID/; after an interruption (exit 3) or a failure (exit 1) drctl prints
the exact `drctl resume` and `drctl rollback` commands.

Examples:
  drctl apply -i inventory/kubeadm-3.yaml -s /backup/etcd.db --dry-run     # rehearse: changes nothing
  drctl apply -i inventory/kubeadm-3.yaml -s /backup/etcd.db --report out  # the real recovery, with a report
  drctl apply -i inv.yaml -s etcd.db.enc --key-file /secure/backup.key     # an encrypted snapshot
  drctl apply -i inv.yaml -s s3://etcd-backups/prod/nightly.db --members-fetch  # each member fetches it itself
  drctl apply -i inventory/kubeadm-3.yaml --from-member cp-1              # quorum lost: restore from cp-1's data
  drctl apply -i inventory/kubeadm-3.yaml -p replace-member                # replace the failed members
  drctl apply -i inventory/kubeadm-3.yaml -p replace-member --member cp-2  # this one (quorum must hold))");
  command.add_option("-i,--inventory", r.inventory, "Inventory file")->required();
  command.add_option("-s,--snapshot", r.snapshot,
                     "Snapshot file to restore (every plan that restores needs it), or s3://BUCKET/KEY: downloaded "
                     "to RUNS/downloads/ and checked end to end first");
  command.add_option("--from-member", r.from_member,
                     "The quorum is lost but this member's data is intact and its etcd answers: restore every member "
                     "from a snapshot of its own data (taken now, no leader needed) instead of -s, keeping the writes "
                     "a backup lacks (drctl diagnose names the member with the newest data)");
  command.add_option("--member", r.replace_members,
                     "replace-member: a member to replace (repeat for several); default: the members the cluster "
                     "reports failed");
  command.add_flag("--disarm-alarms", r.disarm_alarms,
                   "After the restore, disarm the alarms etcd still has raised (a snapshot keeps NOSPACE and CORRUPT); "
                   "without it they are listed and verify-etcd halts the run while any is raised");
  command.add_flag("--members-fetch", options->members_fetch,
                   "With -s s3://BUCKET/KEY: every member fetches the snapshot from the bucket itself (a presigned "
                   "URL, curl on the member; SHA-256 verified there) instead of receiving it from this machine, whose "
                   "uplink then carries nothing per member. The members must reach the bucket");
  command.add_option("-p,--plan", r.plan_template, "Plan template: a built-in name or a file")->capture_default_str();
  command.add_option("--runs", r.runs_root, "Runs directory")->capture_default_str();
  command.add_flag("--dry-run", r.dry_run,
                   "Connect, run preflight and every step's read-only check; change nothing, write nothing");
  command.add_option("--per-host", r.per_host, "Steps at a time on one host")->capture_default_str();
  command.add_flag("--accept-new-host-keys", r.accept_new_host_keys,
                   "Trust and record unknown host keys (like OpenSSH's accept-new); changed keys are still refused");
  command.add_option("--log-format", options->log_format, "text or json")->capture_default_str();
  command.add_flag("-y,--yes", options->yes, "Do not ask for confirmation (required without a terminal)");
  command.add_flag("--force", r.force,
                   "Restore even when a quorum of the current cluster is healthy (normally refused: replace the "
                   "failed members instead)");
  command.add_option("--report", options->report_dir,
                     "Write report.json, report.md, junit.xml and timeline.svg of the run into DIR when it ends");
  command.add_flag("--skip-hash-check", r.skip_hash_check,
                   "Accept a snapshot without etcd's integrity trailer (a db copied from a data dir); the restore then "
                   "skips etcd's hash check too (its bbolt structure is still checked first)");
  command.add_option("--key-file", r.key.key_file, "Key of an encrypted snapshot (drctl snapshot encrypt)");
  command.add_option("--key-env", r.key.key_env, "Environment variable holding the key of an encrypted snapshot");
  return [options] {
    if (!remoteOptions().active()) return runApply(*options);
    const auto& o = *options;
    const ops::ApplyRequest& r = o.request;
    if (!o.report_dir.empty() || o.request.key.given()) {
      std::fprintf(stderr, "drctl apply: --report, --key-file and --key-env are not available with --server (write "
                           "the report with drctl report on drd's host; give drd a decrypted snapshot)\n");
      return kExitBadInput;
    }
    return remoteApply({r.inventory, r.snapshot, r.plan_template, o.log_format, r.dry_run, r.accept_new_host_keys,
                        o.yes, r.force, r.per_host, r.skip_hash_check, r.replace_members, r.from_member,
                        r.disarm_alarms, o.members_fetch});
  };
}

}  // namespace dr::cli
