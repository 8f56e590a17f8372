// drctl: plan, rehearse, run and prove the recovery of an etcd cluster. See `drctl --help`.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "remote_client.h"
#include "core/suggest.h"

namespace dr::cli {
namespace {

// The table of subcommands, in the order `--help` lists them.
const Subcommand kSubcommands[] = {
    {"diagnose", "What state the cluster is in and which recovery fits it, with the exact commands (read-only)",
     declareDiagnose},
    {"validate", "Check an inventory file; print every problem as FILE:LINE:COLUMN: message", declareValidate},
    {"plan", "Show the recovery plan (a DAG of steps with exact commands) for an inventory and a snapshot",
     declarePlan},
    {"report", "Write a run's report (report.md, report.json, junit.xml, timeline.svg) from its run directory",
     declareReport},
    {"snapshot", "Save, verify, inspect, encrypt and decrypt etcd snapshots", declareSnapshot},
    {"etcd", "Ask the running etcd cluster: per-endpoint status and quorum, or the verify-etcd checks", declareEtcd},
    {"apply", "Run the plan for real (or --dry-run: connect, preflight and check only), with a checkpoint per step",
     declareApply},
    {"resume", "Continue an interrupted or failed run from its journal (refuses when the inputs changed)", declareResume},
    {"rollback", "Undo the done steps of a run in reverse order: old data dirs back, old cluster started", declareRollback},
    {"status", "Show a run's state from its journal, or list the runs", declareStatus},
    {"unlock", "Break a stale cluster lock left by a dead run", declareUnlock},
    {"sim", "Prove the plan keeps the ordering rules under every order, crash and fault (simulator)", declareSim},
};

constexpr const char* kFooter = R"(Exit codes: 0 success, 1 the run failed or was refused for safety,
2 bad input (nothing was run), 3 interrupted (resumable).

Start with:
  drctl diagnose -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db
  drctl validate -i inventory/kubeadm-3.yaml
  drctl plan -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db
)";

int run(int argc, char** argv) {
  CLI::App app{"drctl: the disaster-recovery orchestrator for etcd behind a Kubernetes control plane.\n"
               "It plans a full restore as a DAG you can read first, then runs it over SSH with a checkpoint after\n"
               "every step.",
               "drctl"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(DR_VERSION));
  app.require_subcommand(1);
  app.fallthrough(false);
  RemoteOptions& remote = remoteOptions();
  app.add_option("--server", remote.server,
                 "Send plan, apply, resume, rollback or status to drd: unix:///path or tcp://host:port");
  app.add_option("--tls-ca", remote.tls_ca, "With --server tcp://: the CA that signs drd's certificate");
  app.add_option("--tls-cert", remote.tls_cert, "With --server tcp://: this client's certificate");
  app.add_option("--tls-key", remote.tls_key, "With --server tcp://: this client's private key");

  std::vector<std::string> names;
  std::vector<std::pair<CLI::App*, CommandRunner>> runners;
  for (const auto& sub : kSubcommands) {
    names.emplace_back(sub.name);
    CLI::App* command = app.add_subcommand(sub.name, sub.summary);
    runners.emplace_back(command, sub.declare(*command));
  }

  // An unknown subcommand gets a suggestion instead of CLI11's generic complaint.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    bool known = false;
    for (const auto& name : names) known = known || name == word;
    if (!known) {
      std::fprintf(stderr, "drctl: unknown command '%s'.", word.c_str());
      if (auto guess = closestMatch(word, names)) std::fprintf(stderr, " Did you mean '%s'?", guess->c_str());
      std::fprintf(stderr, "\nRun 'drctl --help' for the list of commands.\n");
      return kExitBadInput;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  for (auto& [command, runner] : runners) {
    if (!command->parsed()) continue;
    const std::string name = command->get_name();
    if (remote.active() && name != "plan" && name != "apply" && name != "resume" && name != "rollback" &&
        name != "status") {
      std::fprintf(stderr, "drctl: --server works with plan, apply, resume, rollback and status, not '%s'\n",
                   name.c_str());
      return kExitBadInput;
    }
    return runner();
  }
  return kExitBadInput;
}

}  // namespace
}  // namespace dr::cli

int main(int argc, char** argv) {
  try {
    return dr::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "drctl: internal error: %s\n", e.what());
    return dr::cli::kExitFailed;
  }
}
