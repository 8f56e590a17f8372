// `drctl diagnose -i INV [-s SNAPSHOT]`: the incident commander's first command. Reads the cluster over etcd's API
// and each member's host over SSH (read-only), and prints the situation, what was seen and the recovery that fits,
// with the exact commands (`-o json` for tools). Exit 0 healthy, 1 action needed, 2 bad input. See ops/diagnose.h.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "bucket_input.h"
#include "cli_support.h"
#include "commands.h"
#include "core/utf8.h"
#include "etcd/certificates.h"
#include "etcd_cli_common.h"
#include "ops/diagnose.h"

namespace dr::cli {
namespace {

constexpr const char* kDiagnoseFooter = R"(What it reads (nothing is changed anywhere):
  etcd     every member's status, a linearizable read, the leader, revisions, the member list and alarms
  hosts    over SSH, read-only: is the host reachable, does the data dir exist and hold etcd data, does etcd run
  snapshot with -s: its revision, against the newest revision a member still reports

Situations and what it recommends:
  healthy         every member answers, one leader, no alarm: nothing to recover (exit 0)
  alarms          every member answers but an alarm is raised: fix the cause, then disarm (no recovery plan)
  members-failed  a quorum answers: replace the failed members one at a time (drctl apply -p replace-member); a
                  restore would lose writes
  quorum-lost     fewer than a quorum answer, the rest known down (service stopped, port refusing): a full restore,
                  from the member that still answers with data newer than the snapshot (drctl apply --from-member,
                  which keeps the writes the snapshot lacks), else from the newest snapshot (sim, dry-run, apply)
  unclear         fewer than a quorum answer, but some that do not are not known down (overloaded, partitioned,
                  stuck): no restore on this evidence; look again with a longer --timeout
  new-hosts       no member answers and no host has a data dir: a full restore onto the new hosts

Exit codes: 0 healthy, 1 action needed, 2 bad input.

Examples:
  drctl diagnose -i inventory/kubeadm-3.yaml
  drctl diagnose -i inventory/kubeadm-3.yaml -s /backup/etcd-snapshot.db -o json
)";

struct DiagnoseArgs {
  std::string inventory;
  std::string snapshot;
  std::string output = "text";
  std::string timeout = "3s";
  std::string settle = "5s";
  bool accept_new_host_keys = false;
  bool no_ssh = false;
};

std::string hostText(const ops::MemberDiagnosis& m, bool ssh) {
  if (!ssh) return "not asked (--no-ssh)";
  if (!m.host.reached) return "unreachable";
  std::string text = fmt::format("data dir {}", ops::dataDirText(m.host.data_dir));
  if (m.host.service_running) text += *m.host.service_running ? ", etcd service running" : ", etcd service stopped";
  else text += ", etcd service state unknown";
  return text;
}

std::string etcdText(const ops::MemberDiagnosis& m) {
  if (m.etcd_healthy) {
    return fmt::format("healthy{}, revision {}", m.is_leader ? " (leader)" : "", m.revision.value_or(0));
  }
  std::string text = "not answering";
  if (m.revision) text = fmt::format("answers status only (revision {}), no linearizable read", *m.revision);
  if (!m.etcd_error.empty()) text += ": " + m.etcd_error;
  return text;
}

void printText(const ops::Diagnosis& d, bool ssh) {
  fmt::print("SITUATION  {}: {}\n\n", ops::situationName(d.situation), d.headline);
  fmt::print("MEMBERS\n");
  for (const auto& m : d.members) {
    fmt::print("  {:<14} {:<16} etcd: {}\n", m.name, m.address, etcdText(m));
    fmt::print("  {:<14} {:<16} host: {}\n", "", "", hostText(m, ssh));
  }
  if (!d.alarms.empty()) fmt::print("\nALARMS     {}\n", fmt::join(d.alarms, ", "));
  if (!d.findings.empty()) {
    fmt::print("\nFINDINGS\n");
    for (const auto& finding : d.findings) fmt::print("  - {}\n", finding);
  }
  if (d.situation == ops::Situation::Healthy) {
    fmt::print("\nRECOMMENDED  nothing to recover\n");
    return;
  }
  std::string what = d.plan;
  if (what.empty()) {
    what = d.situation == ops::Situation::Unclear ? "no recovery yet: look again" : "no recovery plan: fix the cause";
  }
  fmt::print("\nRECOMMENDED  {}\n", what);
  for (const auto& command : d.commands) fmt::print("  {}\n", command);
}

void printJson(const ops::Diagnosis& d, bool ssh) {
  nlohmann::ordered_json j;
  j["situation"] = ops::situationName(d.situation);
  j["action_needed"] = d.action_needed();
  j["headline"] = d.headline;
  j["healthy"] = d.healthy;
  j["total"] = d.total;
  j["quorum"] = d.quorum;
  j["probes"] = d.probes;
  j["members"] = nlohmann::ordered_json::array();
  for (const auto& m : d.members) {
    nlohmann::ordered_json member;
    member["name"] = m.name;
    member["address"] = m.address;
    member["etcd_healthy"] = m.etcd_healthy;
    member["known_down"] = m.known_down;
    member["is_leader"] = m.is_leader;
    member["revision"] = m.revision ? nlohmann::ordered_json(*m.revision) : nlohmann::ordered_json();
    if (!m.etcd_error.empty()) member["etcd_error"] = m.etcd_error;
    nlohmann::ordered_json host;
    host["probed"] = ssh;
    host["reached"] = m.host.reached;
    if (!m.host.error.empty()) host["error"] = m.host.error;
    host["data_dir"] = ops::dataDirText(m.host.data_dir);
    host["etcd_service_running"] =
        m.host.service_running ? nlohmann::ordered_json(*m.host.service_running) : nlohmann::ordered_json();
    member["host"] = host;
    j["members"].push_back(member);
  }
  j["failed"] = d.failed;
  j["alarms"] = d.alarms;
  j["snapshot_revision"] = d.snapshot_revision ? nlohmann::ordered_json(*d.snapshot_revision) : nlohmann::ordered_json();
  j["newest_member_revision"] =
      d.newest_member_revision ? nlohmann::ordered_json(*d.newest_member_revision) : nlohmann::ordered_json();
  j["findings"] = d.findings;
  j["plan"] = d.plan;
  j["commands"] = d.commands;
  // Names, errors and paths come from outside: invalid UTF-8 is replaced, not thrown on.
  fmt::print("{}\n", jsonText(j, 2));
}

int runDiagnose(DiagnoseArgs args) {
  if (int code = fetchSnapshotArgument(args.snapshot, kDefaultRunsDir, "drctl diagnose"); code != 0) return code;
  if (args.output != "text" && args.output != "json") {
    fmt::print(stderr, "drctl diagnose: -o {}: expected text or json\n", args.output);
    return kExitBadInput;
  }
  auto timeout = parseDurationArg(args.timeout, "--timeout");
  auto settle = parseDurationArg(args.settle, "--settle");
  if (!timeout || !settle) return kExitBadInput;
  auto inventory = loadInventoryForCli(args.inventory);
  if (!inventory) return kExitBadInput;
  std::optional<SnapshotInfo> snapshot;
  if (!args.snapshot.empty()) {
    auto inspected = inspectSnapshot(args.snapshot);
    if (!inspected) {
      fmt::print(stderr, "{}\n", inspected.error().message);
      return kExitBadInput;
    }
    snapshot = std::move(*inspected);
  }
  const auto certs = checkCertificates(inventory->tls);
  for (const auto& w : certs.warnings) fmt::print(stderr, "warning: {}\n", w);
  for (const auto& e : certs.errors) fmt::print(stderr, "error: {}\n", e);
  ops::DiagnoseOptions options;
  options.timeout = *timeout;
  options.settle = *settle;
  options.accept_new_host_keys = args.accept_new_host_keys;
  options.ssh = !args.no_ssh;
  const ops::Diagnosis d = ops::diagnose(*inventory, snapshot, args.inventory, args.snapshot, options);
  if (args.output == "json") printJson(d, options.ssh);
  else printText(d, options.ssh);
  return d.action_needed() ? kExitFailed : kExitOk;
}

}  // namespace

CommandRunner declareDiagnose(CLI::App& command) {
  auto args = std::make_shared<DiagnoseArgs>();
  command.add_option("-i,--inventory", args->inventory, "The inventory (YAML)")->required();
  command.add_option("-s,--snapshot", args->snapshot,
                     "The snapshot a restore would use (a file or s3://BUCKET/KEY): its revision is compared with "
                     "the members'");
  command.add_option("-o,--output", args->output, "text or json")->capture_default_str();
  command.add_option("--timeout", args->timeout, "Per etcd call and per SSH command")->capture_default_str();
  command.add_option("--settle", args->settle,
                     "While a member does not answer (an election, a slow connection), read again until this passes")
      ->capture_default_str();
  command.add_flag("--accept-new-host-keys", args->accept_new_host_keys,
                   "Trust and record host keys not yet in known_hosts (first contact)");
  command.add_flag("--no-ssh", args->no_ssh, "Ask etcd's API only: the hosts' data dirs stay unknown");
  command.footer(kDiagnoseFooter);
  return [args] { return runDiagnose(*args); };
}

}  // namespace dr::cli
