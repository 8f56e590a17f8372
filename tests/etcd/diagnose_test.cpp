// drctl diagnose: the verdict from what was read (each situation, its findings and exact commands), the hosts'
// read-only probe run by a real shell, and the real binary against a real etcd cluster losing members.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/shell.h"
#include "etcd/snapshot_file.h"
#include "drctl_program.h"
#include "fixtures/etcd_fixture.h"
#include "fixtures/temp_dir.h"
#include "fixtures/tiny_snapshot.h"
#include "ops/diagnose.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {

using test::drctl;
using test::kDrctl;

Inventory threeMembers() {
  Inventory inventory;
  inventory.cluster_name = "c";
  for (int i = 1; i <= 3; ++i) {
    EtcdMember m;
    m.name = "etcd-" + std::to_string(i);
    m.address = "10.0.0." + std::to_string(i);
    m.peer_url = "http://10.0.0." + std::to_string(i) + ":2380";
    m.client_url = "http://10.0.0." + std::to_string(i) + ":2379";
    m.data_dir = "/var/lib/etcd";
    m.service.kind = ServiceKind::Systemd;
    m.service.unit = "etcd";
    inventory.members.push_back(m);
  }
  return inventory;
}

// A cluster report where the members in `answering` answer (member ids 0x11, 0x12, 0x13; etcd-1 leads), each at
// `revision`, and the others do not.
ClusterReport reportOf(const std::vector<bool>& answering, std::int64_t revision = 100) {
  ClusterReport report;
  for (int i = 0; i < 3; ++i) {
    EndpointReport e;
    e.member = "etcd-" + std::to_string(i + 1);
    e.endpoint = "http://10.0.0." + std::to_string(i + 1) + ":2379";
    if (answering[static_cast<std::size_t>(i)]) {
      EndpointStatus status;
      status.header.member_id = 0x11 + static_cast<std::uint64_t>(i);
      status.header.revision = revision;
      status.leader = 0x11;
      e.status = status;
      e.read_revision = revision;
    } else {
      e.status_error = "connection refused";
    }
    report.endpoints.push_back(e);
    report.members.push_back({0x11 + static_cast<std::uint64_t>(i), e.member, {}, {}, false});
  }
  return report;
}

std::vector<ops::HostProbe> hostsWith(ops::HostProbe::DataDir data) {
  ops::HostProbe probe;
  probe.reached = true;
  probe.data_dir = data;
  probe.service_running = false;
  return {probe, probe, probe};
}

SnapshotInfo snapshotAt(std::int64_t revision) {
  SnapshotInfo snapshot;
  snapshot.path = "/b/s.db";
  snapshot.revision = revision;
  return snapshot;
}

bool anyContains(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("diagnose: each situation, with what it recommends and the exact commands", "[diagnose]") {
  const Inventory inventory = threeMembers();
  const auto present = hostsWith(ops::HostProbe::DataDir::Present);

  SECTION("every member answers, one leader, no alarm: healthy, nothing to run") {
    const auto d = ops::judge(inventory, reportOf({true, true, true}), present, std::nullopt, "inv.yaml", "");
    CHECK(d.situation == ops::Situation::Healthy);
    CHECK_FALSE(d.action_needed());
    CHECK(d.headline == "all 3 members answer, leader etcd-1, revision 100, no alarm: nothing to recover");
    CHECK(d.plan.empty());
    CHECK(d.commands.empty());
  }
  SECTION("an alarm: listed, and the disarm command after the cause is fixed") {
    auto report = reportOf({true, true, true});
    report.alarms.push_back({0x12, "NOSPACE"});
    const auto d = ops::judge(inventory, report, present, std::nullopt, "inv.yaml", "");
    CHECK(d.situation == ops::Situation::Alarms);
    CHECK(d.action_needed());
    CHECK(d.alarms == std::vector<std::string>{"NOSPACE on etcd-2"});
    CHECK(d.commands == std::vector<std::string>{"drctl etcd alarm list -i inv.yaml",
                                                 "drctl etcd alarm disarm -i inv.yaml   # once the cause is fixed"});
  }
  SECTION("one of three fails: quorum holds, replace it (never restore), its id removed and its peer URL added") {
    const auto d = ops::judge(inventory, reportOf({true, true, false}), present, snapshotAt(60), "inv.yaml",
                              "/b/s.db");
    CHECK(d.situation == ops::Situation::MembersFailed);
    CHECK(d.headline == "quorum holds: 2 of 3 members answer (quorum is 2); failed: etcd-3");
    CHECK(d.plan == "replace-member");
    CHECK(anyContains(d.findings, "do not restore from a snapshot"));
    // The exact command, the failed member named; no snapshot (a replacement restores nothing).
    CHECK(d.commands.back() == "drctl apply -i inv.yaml -p replace-member --member etcd-3");
    CHECK(d.commands.front() == "drctl plan -i inv.yaml -p replace-member --member etcd-3");
    CHECK_FALSE(anyContains(d.commands, "-s "));
  }
  SECTION("two of three fail, one survivor newer than the snapshot: restore from that member, keeping 40 revisions") {
    const SnapshotInfo snapshot = snapshotAt(60);
    auto report = reportOf({true, false, false}, 100);
    report.endpoints[0].read_revision.reset();  // no quorum: status answers, a linearizable read does not
    report.endpoints[0].read_error = "context deadline exceeded";
    const auto d = ops::judge(inventory, report, present, snapshot, "inv.yaml", "/b/s.db");
    CHECK(d.situation == ops::Situation::QuorumLost);
    CHECK(d.headline == "0 of 3 members answer (quorum is 2); not answering: etcd-1, etcd-2, etcd-3");
    CHECK(d.plan == "restore-from-member");
    CHECK(d.commands == std::vector<std::string>{"drctl apply --dry-run -i inv.yaml --from-member etcd-1",
                                                 "drctl apply -i inv.yaml --from-member etcd-1"});
    CHECK(anyContains(d.findings, "etcd-1 reports revision 100, newer than the snapshot's 60: a restore from this "
                                  "snapshot loses the writes of the 40 revisions between"));
    CHECK(anyContains(d.findings, "etcd-1 still answers with its data at revision 100, 40 revisions newer than the "
                                  "snapshot's 60"));
    CHECK(anyContains(d.findings, "etcd-2 still has etcd data in its data dir"));
    // etcd-2's service is stopped with its data intact: starting it may offer a newer source. etcd-1 answers.
    CHECK(anyContains(d.findings, "etcd-2's etcd is stopped with its data intact: start it"));
    CHECK_FALSE(anyContains(d.findings, "etcd-1's etcd is stopped"));
  }
  SECTION("two of three fail, the survivor no newer than the snapshot: a full restore from the snapshot") {
    auto report = reportOf({true, false, false}, 60);
    report.endpoints[0].read_revision.reset();
    report.endpoints[0].read_error = "context deadline exceeded";
    const auto d = ops::judge(inventory, report, present, snapshotAt(60), "inv.yaml", "/b/s.db");
    CHECK(d.plan == "full-restore");
    CHECK(d.commands == std::vector<std::string>{"drctl sim -i inv.yaml -s /b/s.db",
                                                 "drctl apply --dry-run -i inv.yaml -s /b/s.db",
                                                 "drctl apply -i inv.yaml -s /b/s.db"});
  }
  SECTION("no snapshot given: the commands say where it goes, and a finding asks for it") {
    const auto d = ops::judge(inventory, reportOf({false, false, false}), present, std::nullopt, "inv.yaml", "");
    CHECK(d.commands.back() == "drctl apply -i inv.yaml -s SNAPSHOT");
    CHECK(anyContains(d.findings, "no snapshot was given (-s)"));
  }
  SECTION("nothing answers and no host has etcd data: new hosts, rebuilt by a full restore") {
    const auto d = ops::judge(inventory, reportOf({false, false, false}), hostsWith(ops::HostProbe::DataDir::Missing),
                              snapshotAt(60), "inv.yaml", "/b/s.db");
    CHECK(d.situation == ops::Situation::NewHosts);
    CHECK(d.plan == "full-restore");
    CHECK(d.commands.back() == "drctl apply -i inv.yaml -s /b/s.db");
  }
  SECTION("too few answer, but the silent ones are not known down (service running, timeouts): no restore advised") {
    auto report = reportOf({true, false, false});
    for (int i : {1, 2}) report.endpoints[static_cast<std::size_t>(i)].status_error = "Deadline Exceeded";
    auto hosts = present;
    for (auto& h : hosts) h.service_running = true;
    const auto d = ops::judge(inventory, report, hosts, snapshotAt(60), "inv.yaml", "/b/s.db");
    CHECK(d.situation == ops::Situation::Unclear);
    CHECK(d.action_needed());
    CHECK(d.plan.empty());
    CHECK(d.headline == "1 of 3 members answer (quorum is 2), and 2 more do not but are not known down: etcd-2, etcd-3");
    CHECK(d.commands == std::vector<std::string>{"drctl diagnose -i inv.yaml -s /b/s.db --timeout 10s --settle 30s"});
    // The same silence from members whose service is stopped is a lost quorum.
    const auto down = ops::judge(inventory, report, present, snapshotAt(60), "inv.yaml", "/b/s.db");
    CHECK(down.situation == ops::Situation::QuorumLost);
  }
  SECTION("a host that SSH cannot reach is named, and not taken for a new host") {
    auto hosts = hostsWith(ops::HostProbe::DataDir::Missing);
    hosts[1] = ops::HostProbe{};
    hosts[1].error = "connection refused";
    const auto d = ops::judge(inventory, reportOf({false, false, false}), hosts, std::nullopt, "inv.yaml", "");
    CHECK(d.situation == ops::Situation::QuorumLost);
    CHECK(anyContains(d.findings, "etcd-2 (10.0.0.2): not reachable over SSH (connection refused)"));
  }
}

TEST_CASE("diagnose: the hosts' probe, run by a real shell, reads the data dir and the service and changes nothing",
          "[diagnose]") {
  const test::TempDir dir("dr-diagnose-probe");
  EtcdMember member;
  member.name = "m";
  member.data_dir = (dir.path / "data").string();
  member.service.kind = ServiceKind::Command;
  member.service.start = "true";
  member.service.stop = "true";
  const std::string running = (dir.path / "running").string();
  member.service.status = "test -e " + shellQuote(running);
  auto probe = [&] {
    const auto out = test::runProgram({"/bin/sh", "-c", ops::hostProbeScript(member)});
    REQUIRE(out.exit_code == 0);
    return ops::parseHostProbe(out.output);
  };
  auto missing = probe();
  CHECK(missing.data_dir == ops::HostProbe::DataDir::Missing);
  CHECK(missing.service_running == std::optional<bool>(false));
  CHECK_FALSE(fs::exists(dir.path / "data"));  // nothing made
  fs::create_directories(dir.path / "data");
  CHECK(probe().data_dir == ops::HostProbe::DataDir::NoEtcdData);
  fs::create_directories(dir.path / "data" / "member" / "snap");
  std::ofstream(dir.path / "data" / "member" / "snap" / "db") << "x";
  std::ofstream(running) << "";
  auto present = probe();
  CHECK(present.data_dir == ops::HostProbe::DataDir::Present);
  CHECK(present.service_running == std::optional<bool>(true));
  // A member name or data dir with shell syntax in it stays a word.
  member.data_dir = (dir.path / "$(touch pwned)").string();
  CHECK(probe().data_dir == ops::HostProbe::DataDir::Missing);
  CHECK_FALSE(fs::exists("pwned"));
}

TEST_CASE("drctl diagnose against a real cluster: healthy, then one member lost, then quorum lost", "[diagnose][real]") {
  REQUIRE(fs::exists(kDrctl));
  test::EtcdCluster cluster;
  const std::string inventory = cluster.writeInventoryFile().string();
  const fs::path snapshot = cluster.dir() / "tiny.db";
  test::writeTinySnapshot(snapshot);

  auto healthy = drctl({"diagnose", "-i", inventory, "--no-ssh"});
  INFO(healthy.output);
  CHECK(healthy.exit_code == 0);
  CHECK_THAT(healthy.output, Catch::Contains("SITUATION  healthy: all 3 members answer"));
  CHECK_THAT(healthy.output, Catch::Contains("RECOMMENDED  nothing to recover"));

  cluster.stopMember(2);
  auto failed = drctl({"diagnose", "-i", inventory, "--no-ssh", "--timeout", "1s"});
  INFO(failed.output);
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.output, Catch::Contains("SITUATION  members-failed: quorum holds: 2 of 3 members answer"));
  CHECK_THAT(failed.output, Catch::Contains("  drctl apply -i " + shellQuote(inventory) +
                                            " -p replace-member --member etcd-2\n"));

  cluster.stopMember(1);
  auto lost = drctl({"diagnose", "-i", inventory, "--no-ssh", "--timeout", "1s", "-s", snapshot.string(), "-o", "json"});
  INFO(lost.output);
  CHECK(lost.exit_code == 1);
  const auto j = nlohmann::json::parse(lost.output);
  CHECK(j["situation"] == "quorum-lost");
  CHECK(j["action_needed"] == true);
  CHECK(j["healthy"] == 0);
  CHECK(j["plan"] == "full-restore");
  CHECK(j["commands"].back() == "drctl apply -i " + shellQuote(inventory) + " -s " + shellQuote(snapshot.string()));
  // The member still running (etcd-0) answers status without a quorum: its revision is reported.
  CHECK(j["members"][0]["revision"].is_number());
  CHECK(j["newest_member_revision"].is_number());

  CHECK(drctl({"diagnose", "-i", "/nonexistent.yaml"}).exit_code == 2);
  CHECK(drctl({"diagnose", "-i", inventory, "-o", "yaml"}).exit_code == 2);
  CHECK(drctl({"diagnose", "-i", inventory, "-s", (cluster.dir() / "nope.db").string()}).exit_code == 2);
}
