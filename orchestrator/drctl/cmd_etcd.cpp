// drctl etcd status|verify|member|alarm: what the running etcd cluster says about itself, over every endpoint of the inventory.
// `verify` is the plan's verify-etcd step: exit 0 only when every check passes (see cluster_check.h).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>
#include <cstdio>

#include "commands.h"
#include "core/utf8.h"
#include "etcd/alarms.h"
#include "etcd/certificates.h"
#include "etcd/cluster_check.h"
#include "etcd/membership.h"
#include "etcd_cli_common.h"

namespace dr::cli {

namespace {

struct EtcdArgs {
  std::string inventory;
  std::string timeout = "5s";
  std::string wait = "0s";
  std::int64_t min_revision = 0;
  bool json = false;
  std::string member;
  std::string alarms = "refuse";  // verify: refuse, or disarm them first
};

void printCertificates(const CertificateReport& certs) {
  for (const auto& w : certs.warnings) fmt::print(stderr, "warning: {}\n", w);
  for (const auto& e : certs.errors) fmt::print(stderr, "error: {}\n", e);
}

nlohmann::ordered_json endpointJson(const EndpointReport& e, const ClusterReport& report) {
  nlohmann::ordered_json j;
  j["member"] = e.member;
  j["endpoint"] = e.endpoint;
  j["healthy"] = e.healthy();
  if (e.status) {
    j["member_id"] = memberIdHex(e.status->header.member_id);
    j["version"] = e.status->version;
    j["db_size"] = e.status->db_size;
    j["db_size_in_use"] = e.status->db_size_in_use;
    j["leader"] = e.status->leader ? report.nameOf(e.status->leader) : "";
    j["is_leader"] = e.status->isLeader();
    j["raft_term"] = e.status->raft_term;
    j["raft_index"] = e.status->raft_index;
    j["revision"] = e.read_revision ? *e.read_revision : e.status->header.revision;
    j["errors"] = e.status->errors;
  }
  if (!e.status_error.empty()) j["error"] = e.status_error;
  else if (!e.read_error.empty()) j["error"] = e.read_error;
  return j;
}

int runStatus(const EtcdArgs& args) {
  auto inventory = loadInventoryForCli(args.inventory);
  if (!inventory) return kExitBadInput;
  auto timeout = parseDurationArg(args.timeout, "--timeout");
  if (!timeout) return kExitBadInput;
  const auto certs = checkCertificates(inventory->tls);
  printCertificates(certs);
  ClientOptions options;
  options.tls = inventory->tls;
  options.timeout = *timeout;
  const ClusterReport report = probeCluster(*inventory, options);
  const std::size_t healthy = report.healthyCount();
  const std::size_t total = report.endpoints.size();
  const std::size_t quorum = total / 2 + 1;
  const bool has_quorum = healthy >= quorum;
  if (args.json) {
    nlohmann::ordered_json j;
    j["endpoints"] = nlohmann::ordered_json::array();
    for (const auto& e : report.endpoints) j["endpoints"].push_back(endpointJson(e, report));
    j["healthy"] = healthy;
    j["total"] = total;
    j["quorum"] = quorum;
    j["has_quorum"] = has_quorum;
    j["alarms"] = nlohmann::ordered_json::array();
    for (const auto& a : report.alarms) j["alarms"].push_back({{"member", report.nameOf(a.member_id)}, {"alarm", a.alarm}});
    // Member names and the endpoints' errors come from outside: invalid UTF-8 is replaced, not thrown on.
    fmt::print("{}\n", jsonText(j, 2));
  } else {
    fmt::print("{:<12} {:<28} {:<8} {:>10} {:<12} {:>6} {:>10} {:>10}  {}\n", "MEMBER", "ENDPOINT", "VERSION", "DB SIZE",
               "LEADER", "TERM", "INDEX", "REVISION", "ERRORS");
    for (const auto& e : report.endpoints) {
      if (!e.status) {
        fmt::print("{:<12} {:<28} unreachable: {}\n", e.member, e.endpoint, e.status_error);
        continue;
      }
      const auto& s = *e.status;
      std::string errors = fmt::format("{}", fmt::join(s.errors, "; "));
      if (!e.read_revision) errors += (errors.empty() ? "" : "; ") + e.read_error;
      fmt::print("{:<12} {:<28} {:<8} {:>10} {:<12} {:>6} {:>10} {:>10}  {}\n", e.member, e.endpoint, s.version,
                 s.db_size, s.leader ? report.nameOf(s.leader) + (s.isLeader() ? "*" : "") : "none", s.raft_term,
                 s.raft_index, e.read_revision ? *e.read_revision : s.header.revision, errors.empty() ? "-" : errors);
    }
    for (const auto& a : report.alarms) fmt::print("alarm {} on {}\n", a.alarm, report.nameOf(a.member_id));
    fmt::print("quorum: {} of {} members healthy (quorum is {}): {}\n", healthy, total, quorum,
               has_quorum ? "the cluster has quorum" : "QUORUM LOST");
  }
  return has_quorum && certs.ok() ? kExitOk : kExitFailed;
}

// What verify, member and alarm begin with: the inventory loaded, --timeout and --wait read, the client
// certificates usable. Without it, `exit_code` says why (2 bad input, 1 unusable certificates).
struct EtcdCall {
  Inventory inventory;
  ClientOptions client;
  std::chrono::milliseconds wait{0};
};
std::optional<EtcdCall> prepareCall(const EtcdArgs& args, int& exit_code) {
  exit_code = kExitBadInput;
  auto inventory = loadInventoryForCli(args.inventory);
  if (!inventory) return std::nullopt;
  auto timeout = parseDurationArg(args.timeout, "--timeout");
  auto wait = parseDurationArg(args.wait, "--wait");
  if (!timeout || !wait) return std::nullopt;
  const auto certs = checkCertificates(inventory->tls);
  printCertificates(certs);
  if (!certs.ok()) {
    exit_code = kExitFailed;
    return std::nullopt;
  }
  EtcdCall call{std::move(*inventory), {}, *wait};
  call.client.tls = call.inventory.tls;
  call.client.timeout = *timeout;
  return call;
}

int runVerify(const EtcdArgs& args) {
  if (args.min_revision < 0) {
    fmt::print(stderr, "drctl etcd verify: --min-revision must not be negative\n");
    return kExitBadInput;
  }
  int exit_code = 0;
  auto call = prepareCall(args, exit_code);
  if (!call) return exit_code;
  auto wait_left = call->wait;
  if (args.alarms == "disarm") {
    // Once a leader is elected (an alarm list goes through Raft), then the verification with what is left of --wait.
    const auto started = std::chrono::steady_clock::now();
    AlarmOptions alarm_options;
    alarm_options.client = call->client;
    alarm_options.disarm = true;
    alarm_options.wait = call->wait;
    const AlarmOutcome disarmed = handleAlarms(call->inventory, alarm_options);
    if (!disarmed.ok) {
      fmt::print("alarms not disarmed: {}\n", disarmed.error);
      return kExitFailed;
    }
    for (const auto& alarm : disarmed.disarmed) fmt::print("alarm {} disarmed\n", alarm);
    const auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    wait_left = spent < wait_left ? wait_left - spent : std::chrono::milliseconds(0);
  }
  const auto outcome =
      verifyClusterUntil(call->inventory, call->client, VerifyOptions{args.min_revision, args.member}, wait_left);
  if (!outcome.ok) {
    for (const auto& failure : outcome.failures) fmt::print("{}\n", failure);
    return kExitFailed;
  }
  std::int64_t revision = 0;
  for (const auto& e : outcome.report.endpoints) revision = std::max(revision, e.read_revision.value_or(0));
  if (!args.member.empty()) {
    fmt::print("etcd verified: member {} healthy and voting, {} of {} endpoints healthy (a quorum), member list "
               "matches the inventory, one leader, no alarms, revision {}\n",
               args.member, outcome.report.healthyCount(), outcome.report.endpoints.size(), revision);
    return kExitOk;
  }
  fmt::print("etcd verified: {} endpoints healthy, member list matches the inventory, one leader, no alarms, "
             "revision {}{}\n",
             outcome.report.endpoints.size(), revision,
             args.min_revision > 0 ? fmt::format(" >= {}", args.min_revision) : "");
  return kExitOk;
}

// drctl etcd member remove|add|promote: replace-member's membership steps (etcd/membership.h). Exit 0 when done
// or already done, 1 when refused or failed (the message says why), 2 on bad input.
int runMember(const EtcdArgs& args, MembershipChange change) {
  int exit_code = 0;
  auto call = prepareCall(args, exit_code);
  if (!call) return exit_code;
  if (!call->inventory.findMember(args.member)) {
    fmt::print(stderr, "drctl etcd member {}: no member named '{}' in {}\n", membershipChangeName(change),
               args.member, args.inventory);
    return kExitBadInput;
  }
  MembershipOptions options;
  options.client = call->client;
  options.wait = call->wait;
  const auto outcome = changeMembership(call->inventory, args.member, change, options);
  fmt::print(outcome.ok ? stdout : stderr, "{}\n", outcome.message);
  return outcome.ok ? kExitOk : kExitFailed;
}

// drctl etcd alarm list|disarm: what verify-etcd names when an alarm is raised. Exit 0 when listed (raised or not)
// or all disarmed, 1 when nothing answered within --wait or a disarm did not hold, 2 on bad input.
int runAlarm(const EtcdArgs& args, bool disarm) {
  int exit_code = 0;
  auto call = prepareCall(args, exit_code);
  if (!call) return exit_code;
  AlarmOptions options;
  options.client = call->client;
  options.disarm = disarm;
  options.wait = call->wait;
  const AlarmOutcome outcome = handleAlarms(call->inventory, options);
  if (args.json) {
    nlohmann::ordered_json j;
    j["ok"] = outcome.ok;
    j["raised"] = outcome.raised;
    j["disarmed"] = outcome.disarmed;
    if (!outcome.error.empty()) j["error"] = outcome.error;
    fmt::print("{}\n", jsonText(j, 2));
    return outcome.ok ? kExitOk : kExitFailed;
  }
  if (!outcome.ok) {
    for (const auto& alarm : outcome.raised) fmt::print("alarm {} raised\n", alarm);
    fmt::print(stderr, "drctl etcd alarm {}: {}\n", disarm ? "disarm" : "list", outcome.error);
    return kExitFailed;
  }
  if (outcome.raised.empty()) {
    fmt::print("no alarm raised (asked {})\n", outcome.answered_by);
  } else if (disarm) {
    for (const auto& alarm : outcome.disarmed) fmt::print("alarm {} disarmed\n", alarm);
  } else {
    for (const auto& alarm : outcome.raised) fmt::print("alarm {} raised\n", alarm);
    fmt::print("{} alarm{} raised: NOSPACE refuses writes, CORRUPT stops serving. Fix the cause, then "
               "`drctl etcd alarm disarm -i {}` (a restore plan disarms them when given --disarm-alarms)\n",
               outcome.raised.size(), outcome.raised.size() == 1 ? "" : "s", args.inventory);
  }
  return kExitOk;
}

}  // namespace

CommandRunner declareEtcd(CLI::App& command) {
  auto args = std::make_shared<EtcdArgs>();
  command.require_subcommand(1);
  auto* status = command.add_subcommand("status", "Per-endpoint status (version, db size, leader, raft term/index, "
                                                  "revision, errors) and a quorum verdict; exit 1 without quorum");
  status->add_option("-i,--inventory", args->inventory, "Inventory file")->required();
  status->add_option("--timeout", args->timeout, "Deadline of each call (e.g. 5s, 500ms)");
  status->add_flag("--json", args->json, "Print JSON");
  auto* verify = command.add_subcommand(
      "verify", "The verify-etcd step: every endpoint answers a linearizable read, the member list equals the "
                "inventory, one leader, no alarms, revision >= --min-revision; exit 1 with one line per failure");
  verify->add_option("-i,--inventory", args->inventory, "Inventory file")->required();
  verify->add_option("--min-revision", args->min_revision, "The snapshot's revision");
  verify->add_option("--wait", args->wait, "Keep checking, every 100 ms, until this long has passed (a restored "
                                           "cluster needs seconds to elect a leader), e.g. 60s");
  verify->add_option("--timeout", args->timeout, "Deadline of each call (e.g. 5s)");
  verify->add_option("--alarms", args->alarms,
                     "refuse: a raised alarm fails the check, named with how to disarm it; disarm: disarm every raised "
                     "alarm first, once a leader is elected (the restore's --disarm-alarms)")
      ->check(CLI::IsMember({"refuse", "disarm"}))
      ->capture_default_str();
  verify->add_option("--member", args->member,
                     "replace-member's check of one replacement: this member must pass every check and a quorum be "
                     "healthy; other members that are down are tolerated (still to be replaced)");
  auto* member = command.add_subcommand(
      "member", "replace-member's membership changes, each checked on the live cluster first and idempotent: remove "
                "(never below quorum), add (as a learner), promote (once it caught up)");
  member->require_subcommand(1);
  std::map<std::string, MembershipChange> changes;
  for (auto [name, change, help] :
       {std::tuple{"remove", MembershipChange::Remove,
                   "Remove the member (by name, or by its peer URL when it never started); refused when the healthy "
                   "voters left would be fewer than a quorum"},
        std::tuple{"add", MembershipChange::Add,
                   "Add the member's peer URL as a learner; refused while another member is joining or the live "
                   "cluster is not the inventory's"},
        std::tuple{"promote", MembershipChange::Promote,
                   "Promote the member, a started learner, to a voter; etcd refuses until it caught up (--wait)"}}) {
    auto* sub = member->add_subcommand(name, help);
    sub->add_option("-i,--inventory", args->inventory, "Inventory file")->required();
    sub->add_option("--name", args->member, "The inventory member being replaced")->required();
    sub->add_option("--timeout", args->timeout, "Deadline of each call (e.g. 5s)");
    sub->add_option("--wait", args->wait, "Keep trying this long when etcd is not ready yet (e.g. 60s)");
    changes[name] = change;
  }
  auto* alarm = command.add_subcommand(
      "alarm", "etcd's alarms (a snapshot keeps those raised when it was taken): list them, or disarm them once "
               "their cause is fixed");
  alarm->require_subcommand(1);
  auto* alarm_list = alarm->add_subcommand("list", "List the raised alarms (exit 0 whether or not any is raised)");
  auto* alarm_disarm = alarm->add_subcommand(
      "disarm", "Disarm every raised alarm and list again to confirm (NOSPACE comes back while the database is over "
                "its quota: compact and defragment first)");
  for (auto* sub : {alarm_list, alarm_disarm}) {
    sub->add_option("-i,--inventory", args->inventory, "Inventory file")->required();
    sub->add_option("--timeout", args->timeout, "Deadline of each call (e.g. 5s)");
    sub->add_option("--wait", args->wait, "Keep asking this long while no member answers (a restored cluster "
                                          "electing its leader), e.g. 60s");
    sub->add_flag("--json", args->json, "Print JSON");
  }
  return [args, status, verify, member, changes, alarm_list, alarm_disarm] {
    if (status->parsed()) return runStatus(*args);
    if (verify->parsed()) return runVerify(*args);
    if (alarm_list->parsed()) return runAlarm(*args, false);
    if (alarm_disarm->parsed()) return runAlarm(*args, true);
    for (auto* sub : member->get_subcommands()) {
      if (sub->parsed()) return runMember(*args, changes.at(sub->get_name()));
    }
    return kExitBadInput;
  };
}

}  // namespace dr::cli
