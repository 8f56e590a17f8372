// drctl diagnose: see diagnose.h.
#include "ops/diagnose.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "core/shell.h"
#include "exec/run_session.h"
#include "plan/service_commands.h"

namespace dr::ops {

const char* dataDirText(HostProbe::DataDir state) {
  switch (state) {
    case HostProbe::DataDir::Present: return "holds etcd data";
    case HostProbe::DataDir::NoEtcdData: return "exists, no etcd data";
    case HostProbe::DataDir::Missing: return "missing";
    case HostProbe::DataDir::Unknown: break;
  }
  return "unknown";
}

const char* situationName(Situation situation) {
  switch (situation) {
    case Situation::Healthy: return "healthy";
    case Situation::Alarms: return "alarms";
    case Situation::MembersFailed: return "members-failed";
    case Situation::QuorumLost: return "quorum-lost";
    case Situation::NewHosts: return "new-hosts";
    case Situation::Unclear: return "unclear";
  }
  return "unknown";
}

std::string hostProbeScript(const EtcdMember& member) {
  const std::string dir = shellQuote(member.data_dir);
  // The status command may need a tool the host lacks (systemctl, crictl): the probe decides "unknown" then.
  std::string status = "false", probe = "true";
  if (auto service = buildServiceCommands(member.service, "member " + member.name); service) {
    status = service->status;
    probe = service->probe;
  }
  return fmt::format(
      "if [ -f {0}/member/snap/db ]; then echo data=present; elif [ -e {0} ]; then echo data=no-etcd-data; "
      "else echo data=missing; fi\n"
      "if ! {{ {1}; }} >/dev/null 2>&1; then echo service=unknown; elif {{ {2}; }} >/dev/null 2>&1; then "
      "echo service=running; else echo service=stopped; fi\n",
      dir, probe, status);
}

HostProbe parseHostProbe(const std::string& output) {
  HostProbe probe;
  probe.reached = true;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line == "data=present") probe.data_dir = HostProbe::DataDir::Present;
    else if (line == "data=no-etcd-data") probe.data_dir = HostProbe::DataDir::NoEtcdData;
    else if (line == "data=missing") probe.data_dir = HostProbe::DataDir::Missing;
    else if (line == "service=running") probe.service_running = true;
    else if (line == "service=stopped") probe.service_running = false;
  }
  return probe;
}

namespace {

// gRPC's words for a client port where nothing listens ("Failed to connect to remote host: Connection refused").
bool refused(const std::string& error) { return error.find("onnection refused") != std::string::npos; }

void recommendRestore(Diagnosis& d, const std::string& inventory_path, const std::string& snapshot_path) {
  d.plan = "full-restore";
  const std::string snapshot = snapshot_path.empty() ? "SNAPSHOT" : shellQuote(snapshot_path);
  const std::string common = fmt::format("-i {} -s {}", shellQuote(inventory_path), snapshot);
  d.commands.push_back(fmt::format("drctl sim {}", common));
  d.commands.push_back(fmt::format("drctl apply --dry-run {}", common));
  d.commands.push_back(fmt::format("drctl apply {}", common));
  if (snapshot_path.empty()) {
    d.findings.push_back("no snapshot was given (-s): give the newest one, so the revisions it would lose are shown "
                         "and the commands are complete");
  }
}

// The quorum is lost, and a member still answers with data newer than the snapshot (or no snapshot was given): a
// full restore from that member's own data keeps what a backup lacks.
void recommendFromMember(Diagnosis& d, const std::string& inventory_path, const std::string& member,
                         std::int64_t revision) {
  d.plan = "restore-from-member";
  d.findings.push_back(fmt::format(
      "{} still answers with its data at revision {}{}: restore every member from a snapshot of its own data (taken "
      "by the apply, no leader needed), which keeps every write it applied",
      member, revision,
      d.snapshot_revision ? fmt::format(", {} revisions newer than the snapshot's {}", revision - *d.snapshot_revision,
                                        *d.snapshot_revision)
                          : ""));
  const std::string common = fmt::format("-i {} --from-member {}", shellQuote(inventory_path), shellQuote(member));
  d.commands.push_back(fmt::format("drctl apply --dry-run {}", common));
  d.commands.push_back(fmt::format("drctl apply {}", common));
}

void recommendReplace(Diagnosis& d, const std::string& inventory_path) {
  d.plan = "replace-member";
  d.findings.push_back("do not restore from a snapshot: the cluster still serves, and a restore would throw away "
                       "every write since the snapshot. Replace the failed members, one at a time");
  d.findings.push_back("replace-member fences each failed member, sets its data aside, removes it, adds it back as "
                       "a learner, starts it empty and promotes it once it caught up: one at a time, never below "
                       "quorum, while the others keep serving");
  // drctl apply reads the failed members from the cluster itself; naming them pins the plan to what was seen here.
  std::string members;
  for (const auto& name : d.failed) members += " --member " + shellQuote(name);
  const std::string common = fmt::format("-i {} -p replace-member{}", shellQuote(inventory_path), members);
  d.commands.push_back(fmt::format("drctl plan {}", common));
  d.commands.push_back(fmt::format("drctl apply --dry-run {}", common));
  d.commands.push_back(fmt::format("drctl apply {}", common));
}

}  // namespace

Diagnosis judge(const Inventory& inventory, const ClusterReport& cluster, const std::vector<HostProbe>& hosts,
                const std::optional<SnapshotInfo>& snapshot, const std::string& inventory_path,
                const std::string& snapshot_path) {
  Diagnosis d;
  d.total = inventory.members.size();
  d.quorum = d.total / 2 + 1;
  std::set<std::string> leaders;
  for (std::size_t i = 0; i < inventory.members.size(); ++i) {
    const EtcdMember& member = inventory.members[i];
    MemberDiagnosis m;
    m.name = member.name;
    m.address = member.address;
    if (i < hosts.size()) m.host = hosts[i];
    if (i < cluster.endpoints.size()) {
      const EndpointReport& e = cluster.endpoints[i];
      m.etcd_healthy = e.healthy();
      if (e.status) {
        m.is_leader = e.status->isLeader();
        m.revision = e.read_revision ? *e.read_revision : e.status->header.revision;
        if (e.status->leader != 0) leaders.insert(cluster.nameOf(e.status->leader));
      }
      m.etcd_error = !e.status_error.empty() ? e.status_error : e.read_error;
    }
    // Down for certain: the service is stopped, or nothing listens on the client port. A timeout proves nothing.
    m.known_down = !m.etcd_healthy && ((m.host.service_running && !*m.host.service_running) || refused(m.etcd_error) ||
                                       m.host.data_dir == HostProbe::DataDir::Missing);
    if (m.etcd_healthy) ++d.healthy;
    else d.failed.push_back(m.name);
    if (m.revision) d.newest_member_revision = std::max(d.newest_member_revision.value_or(0), *m.revision);
    d.members.push_back(std::move(m));
  }
  for (const auto& alarm : cluster.alarms) d.alarms.push_back(alarm.alarm + " on " + cluster.nameOf(alarm.member_id));
  if (snapshot) d.snapshot_revision = snapshot->revision;

  // What the hosts say, whatever the situation.
  bool every_host_reached = !d.members.empty();
  bool no_etcd_data_anywhere = true, no_data_dir_anywhere = true;
  for (const auto& m : d.members) {
    if (!m.host.reached) {
      every_host_reached = false;
      if (!m.host.error.empty()) {
        d.findings.push_back(fmt::format("{} ({}): not reachable over SSH ({}): a recovery needs every member's host",
                                         m.name, m.address, m.host.error));
      }
    }
    if (m.host.data_dir != HostProbe::DataDir::Missing && m.host.data_dir != HostProbe::DataDir::NoEtcdData) {
      no_etcd_data_anywhere = false;
    }
    if (m.host.data_dir != HostProbe::DataDir::Missing) no_data_dir_anywhere = false;
  }

  if (d.healthy == d.total && d.total > 0) {
    if (!d.alarms.empty()) {
      d.situation = Situation::Alarms;
      d.headline = fmt::format("every member answers, but {} alarm{} raised: {}", d.alarms.size(),
                               d.alarms.size() == 1 ? " is" : "s are", fmt::join(d.alarms, ", "));
      d.findings.push_back("an alarm makes etcd refuse writes (NOSPACE) or stop serving (CORRUPT); no recovery plan "
                           "applies: fix the cause (compact and defragment for NOSPACE), then disarm");
      d.commands.push_back(fmt::format("drctl etcd alarm list -i {}", shellQuote(inventory_path)));
      d.commands.push_back(
          fmt::format("drctl etcd alarm disarm -i {}   # once the cause is fixed", shellQuote(inventory_path)));
      return d;
    }
    d.situation = Situation::Healthy;
    const std::string leader = leaders.size() == 1 ? *leaders.begin() : "";
    d.headline = fmt::format("all {} members answer, {}, revision {}, no alarm: nothing to recover", d.total,
                             leaders.size() == 1 ? "leader " + leader : fmt::format("{} leaders", leaders.size()),
                             d.newest_member_revision.value_or(0));
    if (leaders.size() != 1) d.findings.push_back("the members do not agree on one leader: look again in a moment");
    return d;
  }

  std::vector<std::string> not_known_down;
  for (const auto& m : d.members) {
    if (!m.etcd_healthy && !m.known_down) not_known_down.push_back(m.name);
  }
  if (d.healthy >= d.quorum) {
    d.situation = Situation::MembersFailed;
    d.headline = fmt::format("quorum holds: {} of {} members answer (quorum is {}); failed: {}", d.healthy, d.total,
                             d.quorum, fmt::join(d.failed, ", "));
    for (const auto& alarm : d.alarms) d.findings.push_back("alarm " + alarm);
    if (!not_known_down.empty()) {
      d.findings.push_back(fmt::format("{}: not answering, yet not known down (the service runs, or the port does "
                                       "not refuse): look at its log and restart it first; replace it only if it "
                                       "does not come back",
                                       fmt::join(not_known_down, ", ")));
    }
    recommendReplace(d, inventory_path);
    return d;
  }

  if (d.healthy + not_known_down.size() >= d.quorum) {
    // A restore would throw away a cluster that may well be alive: say what is known, and how to know more.
    d.situation = Situation::Unclear;
    d.headline = fmt::format("{} of {} members answer (quorum is {}), and {} more do not but are not known down: {}",
                             d.healthy, d.total, d.quorum, not_known_down.size(), fmt::join(not_known_down, ", "));
    d.findings.push_back("no recovery is recommended on this evidence: their etcd service runs or their client port "
                         "accepts connections, so they may be overloaded, partitioned from here, or stuck. Read their "
                         "logs, and look again with a longer timeout");
    d.commands.push_back(fmt::format("drctl diagnose -i {}{} --timeout 10s --settle 30s", shellQuote(inventory_path),
                                     snapshot_path.empty() ? "" : " -s " + shellQuote(snapshot_path)));
    return d;
  }
  if (d.healthy == 0 && every_host_reached && no_data_dir_anywhere) {
    d.situation = Situation::NewHosts;
    d.headline = fmt::format("no member answers and no member host has a data dir (0 of {}): a rebuild on new hosts "
                             "from the snapshot",
                             d.total);
  } else {
    d.situation = Situation::QuorumLost;
    d.headline = fmt::format("{} of {} members answer (quorum is {}); not answering: {}", d.healthy,
                             d.total, d.quorum, fmt::join(d.failed, ", "));
    if (every_host_reached && no_etcd_data_anywhere) {
      d.findings.push_back("no member's data dir holds etcd data any more: the snapshot is all that is left");
    }
    for (const auto& m : d.members) {
      if (m.host.data_dir == HostProbe::DataDir::Present) {
        d.findings.push_back(fmt::format("{} still has etcd data in its data dir: the restore sets it aside under the "
                                         "run id, never deletes it",
                                         m.name));
        // Its data may be newer than any backup, and a restore from it (--from-member) needs it answering.
        if (!m.revision && m.host.service_running == false) {
          d.findings.push_back(fmt::format("{}'s etcd is stopped with its data intact: start it (it runs alone, "
                                           "without quorum) and diagnose again, to see whether a restore from its "
                                           "data (--from-member) keeps writes the snapshot lacks",
                                           m.name));
        }
      }
    }
  }
  if (d.snapshot_revision && d.newest_member_revision && *d.newest_member_revision > *d.snapshot_revision) {
    std::string newest;
    for (const auto& m : d.members) {
      if (m.revision == d.newest_member_revision) newest = m.name;
    }
    d.findings.push_back(fmt::format(
        "{} reports revision {}, newer than the snapshot's {}: a restore from this snapshot loses the writes of the "
        "{} revisions between; a newer snapshot loses less",
        newest, *d.newest_member_revision, *d.snapshot_revision, *d.newest_member_revision - *d.snapshot_revision));
  } else if (d.snapshot_revision) {
    d.findings.push_back(fmt::format("the snapshot is at revision {}{}", *d.snapshot_revision,
                                     d.newest_member_revision ? fmt::format(
                                                                    " (the newest a member reports: {})",
                                                                    *d.newest_member_revision)
                                                              : ", and no member reports one"));
  }
  // The member with the newest data that still answers (status needs no quorum).
  const MemberDiagnosis* survivor = nullptr;
  for (const auto& m : d.members) {
    if (m.revision && (!survivor || *m.revision > *survivor->revision)) survivor = &m;
  }
  if (survivor && *survivor->revision > 1 && (!d.snapshot_revision || *survivor->revision > *d.snapshot_revision)) {
    recommendFromMember(d, inventory_path, survivor->name, *survivor->revision);
  } else {
    recommendRestore(d, inventory_path, snapshot_path);
  }
  return d;
}

Diagnosis diagnose(const Inventory& inventory, const std::optional<SnapshotInfo>& snapshot,
                   const std::string& inventory_path, const std::string& snapshot_path,
                   const DiagnoseOptions& options) {
  ClientOptions client;
  client.tls = inventory.tls;
  client.timeout = options.timeout;
  // Read again while some member does not answer, up to the settle time: an election in progress (status answers, a
  // read does not), or a busy member's connection timing out, must not pass for a failed member.
  auto cluster = std::async(std::launch::async, [&] {
    const auto deadline = std::chrono::steady_clock::now() + options.settle;
    int probes = 1;
    for (;;) {
      ClusterReport report = probeCluster(inventory, client);
      // Settled when every member answers, or refuses outright (nothing listens: not an election, not slowness).
      const bool settled = std::all_of(report.endpoints.begin(), report.endpoints.end(), [](const EndpointReport& e) {
        return e.healthy() || refused(e.status_error);
      });
      if (settled || std::chrono::steady_clock::now() >= deadline) return std::make_pair(std::move(report), probes);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      ++probes;
    }
  });

  std::vector<HostProbe> hosts(inventory.members.size());
  if (options.ssh) {
    HostRouting routing(inventory, options.accept_new_host_keys);
    std::vector<std::future<HostProbe>> probes;
    for (const auto& member : inventory.members) {
      HostEndpoint endpoint = routing.endpointFor(member.address);
      probes.push_back(std::async(std::launch::async, [&member, endpoint, &options] {
        HostProbe probe;
        auto session = endpoint.transport->connect(endpoint.target);
        if (!session) {
          probe.error = session.error().message;
          return probe;
        }
        CommandRequest request;
        request.command = hostProbeScript(member);
        request.timeout = options.timeout;
        auto result = (*session)->run(request);
        if (!result) {
          probe.error = result.error().message;
          return probe;
        }
        if (result->timed_out) {
          probe.error = fmt::format("the read-only probe timed out after {} ms", options.timeout.count());
          return probe;
        }
        return parseHostProbe(result->output);
      }));
    }
    for (std::size_t i = 0; i < probes.size(); ++i) hosts[i] = probes[i].get();
  }
  auto [report, probes] = cluster.get();
  Diagnosis d = judge(inventory, report, hosts, snapshot, inventory_path, snapshot_path);
  d.probes = probes;
  if (probes > 1) {
    d.findings.push_back(fmt::format("the cluster was read {} times in {} ms: {}", probes, options.settle.count(),
                                     d.healthy == d.total ? "not every member answered at first, then every one did"
                                                          : "the members above never all answered"));
  }
  return d;
}

}  // namespace dr::ops
