// The planner on 1, 3, 5 and 7 members with the real full-restore template: the expansion, the ordering
// properties docs/design.md requires (checked on the DAG, transitively), the restore flags, the token, warnings, and
// the planner's own errors.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "core/sha256.h"
#include "core/shell.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/service_commands.h"
#include "fixtures/temp_dir.h"
#include "plan_test_support.h"

using namespace dr;

namespace {

std::vector<const Step*> stepsOf(const Plan& plan, const std::string& action) {
  std::vector<const Step*> out;
  for (const auto& step : plan.steps) {
    if (step.action == action) out.push_back(&step);
  }
  return out;
}

// Every step `from` transitively needs.
std::set<std::string> ancestors(const Plan& plan, const std::string& from) {
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& id) {
    const Step* step = plan.find(id);
    REQUIRE(step);
    for (const auto& need : step->needs) {
      if (seen.insert(need).second) visit(need);
    }
  };
  visit(from);
  return seen;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("the planner expands full-restore on 1, 3, 5 and 7 members", "[planner]") {
  for (int n : {1, 3, 5, 7}) {
    DYNAMIC_SECTION(n << " members") {
      const Plan plan = test::buildPlan(test::makeInventory(n));
      CHECK(plan.name == "full-restore");
      // 9 per-member templates, 4 per-API-server templates (one API server per member here), 1 once; no controller
      // manager, scheduler or kubelet in this inventory, so none of their steps.
      CHECK(plan.steps.size() == static_cast<std::size_t>(9 * n + 4 * n + 1));
      for (const char* action : {"stop-etcd", "upload-snapshot", "restore", "swap-data-dir", "start-etcd"}) {
        CHECK(stepsOf(plan, action).size() == static_cast<std::size_t>(n));
      }
      CHECK(stepsOf(plan, "verify-etcd").size() == 1);
      CHECK(stepsOf(plan, "preflight").size() == static_cast<std::size_t>(2 * n));

      const Step* restore = plan.find("restore@etcd-1");
      REQUIRE(restore);
      CHECK(restore->host == "10.0.0.1");
      CHECK(restore->member == "etcd-1");
      const Step* verify = plan.find("verify-etcd");
      REQUIRE(verify);
      CHECK(verify->host == kControllerHost);
      CHECK(verify->member.empty());
      const Step* api = plan.find("stop-apiserver@10.0.0.1");
      REQUIRE(api);
      CHECK(api->host == "10.0.0.1");

      // The steps are in a topological order, every need names a step, needs are sorted and unique.
      std::set<std::string> done;
      for (const auto& step : plan.steps) {
        INFO(step.id);
        CHECK(std::is_sorted(step.needs.begin(), step.needs.end()));
        CHECK(std::adjacent_find(step.needs.begin(), step.needs.end()) == step.needs.end());
        for (const auto& need : step.needs) CHECK(done.count(need) == 1);
        done.insert(step.id);
      }
      CHECK(plan.fingerprint == computeFingerprint(plan));
    }
  }
}

TEST_CASE("ordering properties of full-restore hold on the DAG", "[planner]") {
  for (int n : {1, 3, 5, 7}) {
    DYNAMIC_SECTION(n << " members") {
      const Plan plan = test::buildPlan(test::makeInventory(n));
      const auto stop_etcd = stepsOf(plan, "stop-etcd");
      const auto stop_api = stepsOf(plan, "stop-apiserver");
      const auto swaps = stepsOf(plan, "swap-data-dir");

      for (const Step* swap : swaps) {
        const auto before = ancestors(plan, swap->id);
        for (const Step* s : stop_etcd) CHECK(before.count(s->id) == 1);
        for (const Step* s : stop_api) CHECK(before.count(s->id) == 1);
      }
      for (const Step* restore : stepsOf(plan, "restore")) {
        const auto before = ancestors(plan, restore->id);
        CHECK(before.count("upload-snapshot@" + restore->member) == 1);
        for (const Step* s : stop_etcd) CHECK(before.count(s->id) == 1);
        for (const Step* s : stop_api) CHECK(before.count(s->id) == 1);
      }
      for (const Step* stop : stop_etcd) {
        const auto before = ancestors(plan, stop->id);
        for (const Step* s : stop_api) CHECK(before.count(s->id) == 1);
      }
      for (const Step* start : stepsOf(plan, "start-etcd")) {
        const auto before = ancestors(plan, start->id);
        for (const Step* swap : swaps) CHECK(before.count(swap->id) == 1);
        // Start together: no member's start waits on another member's start.
        for (const Step* other : stepsOf(plan, "start-etcd")) CHECK(before.count(other->id) == 0);
      }
      for (const Step* start : stepsOf(plan, "start-apiserver")) {
        CHECK(std::count(start->needs.begin(), start->needs.end(), "verify-etcd") == 1);
      }
      for (const Step* verify : stepsOf(plan, "verify-apiserver")) {
        const std::string host = verify->id.substr(verify->id.find('@') + 1);
        CHECK(verify->needs == std::vector<std::string>{"start-apiserver@" + host});
      }
      // The upload runs beside the stops: it needs only the locks (taken after every preflight), every member's, so
      // that a run refused at another member's lock has copied nothing anywhere.
      std::vector<std::string> lock_ids;
      for (const Step* lock : stepsOf(plan, "lock")) lock_ids.push_back(lock->id);
      std::sort(lock_ids.begin(), lock_ids.end());
      for (const Step* upload : stepsOf(plan, "upload-snapshot")) {
        CHECK(upload->needs == lock_ids);
        REQUIRE(upload->upload);
        CHECK(upload->upload->local_path == "/backup/snap.db");
        // Per run and per member: members sharing a /var/tmp never write the same file.
        CHECK(upload->upload->remote_path == "/var/tmp/etcd-dr/preview/" + upload->member + "/snapshot.db");
        CHECK(upload->upload->sha256 == std::string(64, 'a'));
      }
      // Nothing changes before every preflight passed and every member is locked.
      for (const Step* stop : stop_api) {
        const auto before = ancestors(plan, stop->id);
        for (const Step* pre : stepsOf(plan, "preflight")) CHECK(before.count(pre->id) == 1);
        for (const Step* lock : stepsOf(plan, "lock")) CHECK(before.count(lock->id) == 1);
      }
      // Locks are taken one member after another, in inventory order: two runs meet at the first member.
      const auto locks = stepsOf(plan, "lock");
      REQUIRE(locks.size() == static_cast<std::size_t>(n));
      for (std::size_t i = 1; i < locks.size(); ++i) {
        CHECK(std::count(locks[i]->needs.begin(), locks[i]->needs.end(), locks[i - 1]->id) == 1);
      }
      // The staged snapshot goes once etcd is verified; the locks go last, after every verification.
      for (const Step* remove : stepsOf(plan, "remove-snapshot")) {
        CHECK(ancestors(plan, remove->id).count("verify-etcd") == 1);
      }
      for (const Step* unlock : stepsOf(plan, "unlock")) {
        const auto before = ancestors(plan, unlock->id);
        for (const Step* remove : stepsOf(plan, "remove-snapshot")) CHECK(before.count(remove->id) == 1);
        for (const Step* verify : stepsOf(plan, "verify-apiserver")) CHECK(before.count(verify->id) == 1);
      }
      const auto verify_before = ancestors(plan, "verify-etcd");
      for (const Step* start : stepsOf(plan, "start-etcd")) CHECK(verify_before.count(start->id) == 1);
    }
  }
}

TEST_CASE("without API servers, nothing runs before the preflights", "[planner]") {
  const Plan plan = test::buildPlan(test::makeInventory(3, 0));
  CHECK(stepsOf(plan, "stop-apiserver").empty());
  for (const Step* stop : stepsOf(plan, "stop-etcd")) {
    const auto before = ancestors(plan, stop->id);
    for (const Step* pre : stepsOf(plan, "preflight")) CHECK(before.count(pre->id) == 1);
  }
}

TEST_CASE("every member restores with its own name and peer URL, the same token and initial-cluster", "[planner]") {
  PlanOptions options;
  options.run_id = "r42";
  const Inventory inventory = test::makeInventory(5);
  const Plan plan = test::buildPlan(inventory, test::makeSnapshot(), options);
  const std::string initial_cluster =
      "etcd-1=https://10.0.0.1:2380,etcd-2=https://10.0.0.2:2380,etcd-3=https://10.0.0.3:2380,"
      "etcd-4=https://10.0.0.4:2380,etcd-5=https://10.0.0.5:2380";
  const std::string token = deriveClusterToken("prod", "r42");
  CHECK(plan.inputs.at("run.token") == token);
  for (const auto& member : inventory.members) {
    const Step* restore = plan.find("restore@" + member.name);
    REQUIRE(restore);
    INFO(restore->command);
    CHECK(contains(restore->command, "ETCDCTL_API=3 etcdctl snapshot restore /var/tmp/etcd-dr/r42/" + member.name + "/snapshot.db"));
    CHECK(contains(restore->command, "--name " + member.name + " "));
    CHECK(contains(restore->command, "--initial-advertise-peer-urls " + member.peer_url + " "));
    CHECK(contains(restore->command, "--initial-cluster " + initial_cluster + " "));
    CHECK(contains(restore->command, "--initial-cluster-token " + token + " "));
    CHECK(contains(restore->command, "--data-dir /var/lib/etcd.restore-r42"));
    CHECK_FALSE(contains(restore->command, "--bump-revision"));
    CHECK(restore->check == "test -f /var/lib/etcd.restore-r42/member/snap/db");

    const Step* swap = plan.find("swap-data-dir@" + member.name);
    REQUIRE(swap);
    CHECK(contains(swap->command, "mv /var/lib/etcd /var/lib/etcd.before-r42"));
    CHECK(contains(swap->command, "mv /var/lib/etcd.restore-r42 /var/lib/etcd"));
    CHECK(contains(swap->command, "chown -R etcd:etcd /var/lib/etcd"));
    CHECK_FALSE(contains(swap->command, "rm "));  // the old data is never deleted
    CHECK_FALSE(contains(swap->undo, "rm "));
  }
  CHECK(plan.warnings.size() == 1);
  CHECK(contains(plan.warnings[0], "no revision bump"));
}

TEST_CASE("the restore command follows the tooling", "[planner]") {
  Inventory inventory = test::makeInventory(3);
  inventory.tooling.restore_tool = RestoreTool::Etcdutl;
  inventory.tooling.etcdutl = "/opt/etcd/bin/etcdutl";
  inventory.tooling.bump_revision = true;
  const Plan plan = test::buildPlan(inventory);
  const Step* restore = plan.find("restore@etcd-2");
  REQUIRE(restore);
  CHECK(contains(restore->command, "/opt/etcd/bin/etcdutl snapshot restore /var/tmp/etcd-dr/preview/etcd-2/snapshot.db"));
  CHECK_FALSE(contains(restore->command, "ETCDCTL_API"));
  CHECK(contains(restore->command, "--bump-revision 1000000000 --mark-compacted"));
  // The revision situation is stated either way: bumped, and nobody listed whose restart the plan could take on.
  REQUIRE(plan.warnings.size() == 1);
  CHECK(contains(plan.warnings[0], "bumps them by 1000000000"));
  CHECK(contains(plan.warnings[0], "lists no controller manager, scheduler or kubelet"));
  CHECK(contains(plan.find("preflight-member@etcd-1")->command, "command -v /opt/etcd/bin/etcdutl"));
}

TEST_CASE("service control: systemd, static-pod and command", "[planner]") {
  Inventory inventory = test::makeInventory(3);
  inventory.members[1].service = {};
  inventory.members[1].service.kind = ServiceKind::Command;
  inventory.members[1].service.start = "/lab/etcd-ctl start";
  inventory.members[1].service.stop = "/lab/etcd-ctl stop";
  inventory.members[1].service.status = "/lab/etcd-ctl status";
  const Plan plan = test::buildPlan(inventory);

  const Step* stop1 = plan.find("stop-etcd@etcd-1");
  CHECK(stop1->command ==
        "systemctl stop etcd &&\n{ ! systemctl is-active --quiet etcd || timeout 120 sh -c 'while systemctl "
        "is-active --quiet etcd; do sleep 1; done'; }");
  CHECK(stop1->check == "! systemctl is-active --quiet etcd");
  // A restored member alone has no quorum: starting must not wait for readiness.
  CHECK(plan.find("start-etcd@etcd-1")->command == "systemctl start --no-block etcd");

  CHECK(plan.find("start-etcd@etcd-2")->command == "{ /lab/etcd-ctl start; }");
  // A missing systemctl or crictl must fail the preflight, not read as "stopped".
  CHECK(contains(plan.find("preflight-member@etcd-1")->command, "systemctl cat etcd >/dev/null || fail"));
  CHECK(contains(plan.find("preflight-apiserver@10.0.0.1")->command, "crictl ps -q >/dev/null || fail"));
  CHECK(plan.find("stop-etcd@etcd-2")->check == "! { /lab/etcd-ctl status; }");

  const Step* stop_api = plan.find("stop-apiserver@10.0.0.1");
  CHECK(contains(stop_api->command, "mv /etc/kubernetes/manifests/kube-apiserver.yaml "
                                    "/etc/kubernetes/parked/kube-apiserver.yaml"));
  CHECK(contains(stop_api->command, "crictl ps --name kube-apiserver -q"));
  CHECK(contains(plan.find("start-apiserver@10.0.0.1")->command,
                 "mv /etc/kubernetes/parked/kube-apiserver.yaml /etc/kubernetes/manifests/kube-apiserver.yaml"));
  CHECK(contains(plan.find("verify-apiserver@10.0.0.1")->command,
                 "curl -fsS -k --max-time 5 https://10.0.0.1:6443/readyz"));
}

TEST_CASE("verify-etcd calls drctl with the inventory's absolute path and the snapshot's revision", "[planner]") {
  Inventory inventory = test::makeInventory(3);
  inventory.source = "relative/inv.yaml";
  const Plan plan = test::buildPlan(inventory);
  const std::string absolute = (std::filesystem::current_path() / "relative/inv.yaml").string();
  CHECK(plan.find("verify-etcd")->command ==
        "drctl etcd verify -i " + absolute + " --min-revision 1234 --wait 120s --alarms refuse");

  SnapshotInfo unknown = test::makeSnapshot();
  unknown.revision.reset();
  const Plan plan2 = test::buildPlan(inventory, unknown);
  CHECK(contains(plan2.find("verify-etcd")->command, "--min-revision 0 "));
  CHECK(plan2.warnings.size() == 2);
}

TEST_CASE("the token: given, or derived deterministically from cluster and run id", "[planner]") {
  CHECK(deriveClusterToken("prod", "r1") == deriveClusterToken("prod", "r1"));
  CHECK(deriveClusterToken("prod", "r1") != deriveClusterToken("prod", "r2"));
  CHECK(deriveClusterToken("prod", "r1") != deriveClusterToken("prod2", "r1"));
  CHECK(deriveClusterToken("prod", "r1").rfind("prod-r1-", 0) == 0);
  PlanOptions options;
  options.token = "my-token";
  const Plan plan = test::buildPlan(test::makeInventory(3), test::makeSnapshot(), options);
  CHECK(contains(plan.find("restore@etcd-3")->command, "--initial-cluster-token my-token "));
  CHECK(plan.inputs.at("run.token") == "my-token");
}

TEST_CASE("the plan records its inputs", "[planner]") {
  const Plan plan = test::buildPlan(test::makeInventory(3));
  CHECK(plan.inputs.at("snapshot.sha256") == std::string(64, 'a'));
  CHECK(plan.inputs.at("template.sha256") == test::fullRestoreTemplate().source_sha256);
  CHECK(plan.inputs.at("run.id") == "preview");
  CHECK(plan.inputs.at("inventory.sha256").size() == 64);
}

TEST_CASE("planner errors: no members, a bad run id, missing service fields, clashing ids", "[planner]") {
  const auto snapshot = test::makeSnapshot();
  const auto& t = test::fullRestoreTemplate();
  {
    auto build = Planner::build(test::makeInventory(0, 0), snapshot, t);
    CHECK_FALSE(build.plan);
    CHECK(contains(test::joined(build.diagnostics), "the inventory has no etcd members"));
  }
  {
    PlanOptions options;
    options.run_id = "../../etc";
    auto build = Planner::build(test::makeInventory(3), snapshot, t, options);
    CHECK_FALSE(build.plan);
    CHECK(contains(test::joined(build.diagnostics), "run id '../../etc' must be letters"));
  }
  {
    Inventory inventory = test::makeInventory(3);
    inventory.members[2].service.unit.clear();
    inventory.members[2].where = {"inv.yaml", 12, 5};
    inventory.api_servers[0].service.parked_dir.clear();
    auto build = Planner::build(inventory, snapshot, t);
    CHECK_FALSE(build.plan);
    const std::string all = test::joined(build.diagnostics);
    CHECK(contains(all, "inv.yaml:12:5: member etcd-3: service kind systemd needs a unit"));
    CHECK(contains(all, "API server 10.0.0.1: service kind static-pod needs manifest, parked_dir and container_name"));
  }
  {
    Inventory inventory = test::makeInventory(3);
    inventory.members[1].name = "etcd-1";
    auto build = Planner::build(inventory, snapshot, t);
    CHECK_FALSE(build.plan);
    CHECK(contains(test::joined(build.diagnostics), "two steps would both be named 'preflight-member@etcd-1'"));
  }
  {
    SnapshotInfo no_hash = snapshot;
    no_hash.sha256.clear();
    auto build = Planner::build(test::makeInventory(3), no_hash, t);
    CHECK_FALSE(build.plan);
    CHECK(contains(test::joined(build.diagnostics), "the snapshot has no SHA-256"));
  }
}

TEST_CASE("needs semantics: same instance, every instance, once", "[planner]") {
  auto load = parsePlanTemplate(R"YAML(name: t
steps:
  - id: m1
    foreach: etcd_members
    run: "true"
  - id: m2
    foreach: etcd_members
    needs: [m1]
    run: "true"
  - id: m3
    foreach: etcd_members
    needs: [all:m1]
    run: "true"
  - id: a1
    foreach: api_servers
    needs: [m1]
    run: "true"
  - id: a2
    foreach: api_servers
    needs: [a1]
    run: "true"
  - id: o
    needs: [a2, m2]
    run: "true"
)YAML",
                                "t.yaml");
  REQUIRE(load.plan_template);
  const Plan plan = test::buildPlan(test::makeInventory(2), test::makeSnapshot(), {}, *load.plan_template);
  using V = std::vector<std::string>;
  CHECK(plan.find("m2@etcd-2")->needs == V{"m1@etcd-2"});
  CHECK(plan.find("m3@etcd-1")->needs == V{"m1@etcd-1", "m1@etcd-2"});
  CHECK(plan.find("a1@10.0.0.1")->needs == V{"m1@etcd-1", "m1@etcd-2"});
  CHECK(plan.find("a2@10.0.0.2")->needs == V{"a1@10.0.0.2"});
  CHECK(plan.find("o")->needs == V{"a2@10.0.0.1", "a2@10.0.0.2", "m2@etcd-1", "m2@etcd-2"});
  // Ties are broken by template order then inventory order.
  V order;
  for (const auto& step : plan.steps) order.push_back(step.id);
  CHECK(order == V{"m1@etcd-1", "m1@etcd-2", "m2@etcd-1", "m2@etcd-2", "m3@etcd-1", "m3@etcd-2", "a1@10.0.0.1",
                   "a1@10.0.0.2", "a2@10.0.0.1", "a2@10.0.0.2", "o"});
}

TEST_CASE("a cycle in a template built in code is still refused by the planner, named", "[planner]") {
  PlanTemplate t;
  t.name = "t";
  StepTemplate a;
  a.id = "a";
  a.foreach = Foreach::EtcdMembers;
  a.run.text = "true";
  a.needs.push_back({"b", false, {}});
  StepTemplate b = a;
  b.id = "b";
  b.needs = {{"a", false, {}}};
  t.steps = {a, b};
  auto build = Planner::build(test::makeInventory(1), test::makeSnapshot(), t);
  CHECK_FALSE(build.plan);
  CHECK(contains(test::joined(build.diagnostics), "cycle in needs: a@etcd-1 -> b@etcd-1 -> a@etcd-1"));
}

TEST_CASE("every variable in the table is computed by the planner", "[planner]") {
  for (Foreach kind :
       {Foreach::Once, Foreach::EtcdMembers, Foreach::ApiServers, Foreach::Components, Foreach::Kubelets}) {
    std::string run;
    for (const auto& v : templateVariables()) {
      if (!v.only_in || *v.only_in == kind) run += "echo ${" + v.name + "}\n";
    }
    PlanTemplate t;
    t.name = "all-variables";
    StepTemplate step;
    step.id = "s";
    step.foreach = kind;
    step.run.text = run;
    t.steps = {step};
    Inventory inventory = test::withComponents(test::makeInventory(1));
    inventory.tls = {"/pki/ca.crt", "/pki/client.crt", "/pki/client.key"};
    auto build = Planner::build(inventory, test::makeSnapshot(), t);
    INFO(foreachName(kind) << "\n" << test::joined(build.diagnostics));
    REQUIRE(build.plan);
    CHECK_FALSE(contains(build.plan->steps[0].command, "${"));
    if (kind == Foreach::Components) CHECK(contains(build.plan->steps[0].command, "echo kube-controller-manager\n"));
    if (kind == Foreach::Kubelets) CHECK(contains(build.plan->steps[0].command, "systemctl stop kubelet.service"));
    if (kind == Foreach::Once) {
      CHECK(contains(build.plan->steps[0].command, "--cacert /pki/ca.crt --cert /pki/client.crt --key /pki/client.key"));
      CHECK(contains(build.plan->steps[0].command, "echo 1073750016\n"));  // 2 x 4096 + 1 GiB
    }
  }
}

namespace {

// Runs `command` with /bin/sh, with DIR/bin first on PATH; returns its exit status.
int runShell(const std::filesystem::path& dir, const std::string& command) {
  const std::string line = "PATH=" + (dir / "bin").string() + ":$PATH /bin/sh -c " + shellQuote(command);
  int status = std::system(line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("the service waits, run by a real shell: one status call when already there, else a bounded poll",
          "[planner]") {
  namespace fs = std::filesystem;
  const test::TempDir scratch("dr-wait-test");
  const fs::path& dir = scratch.path;
  fs::create_directories(dir / "bin");
  // A timeout(1) that records that it ran, then does the real thing.
  {
    std::ofstream shim(dir / "bin" / "timeout");
    shim << "#!/bin/sh\necho ran >> " << shellQuote((dir / "timeout-ran").string()) << "\nexec /usr/bin/timeout \"$@\"\n";
  }
  fs::permissions(dir / "bin" / "timeout", fs::perms::owner_all);
  const std::string running = shellQuote((dir / "running").string());
  ServiceControl service;
  service.kind = ServiceKind::Command;
  service.start = "touch " + running;
  service.stop = "rm -f " + running;
  service.status = "echo x >> " + shellQuote((dir / "calls").string()) + " && test -e " + running;
  auto commands = buildServiceCommands(service, "test service");
  REQUIRE(commands);
  auto calls = [&] {
    std::string text = test::readText(dir / "calls");
    return std::count(text.begin(), text.end(), '\n');
  };
  auto reset = [&] {
    fs::remove(dir / "calls");
    fs::remove(dir / "timeout-ran");
  };

  SECTION("stopped already: wait_stopped asks once and starts no poller") {
    CHECK(runShell(dir, commands->wait_stopped) == 0);
    CHECK(calls() == 1);
    CHECK_FALSE(fs::exists(dir / "timeout-ran"));
  }
  SECTION("running, stopping a moment later: wait_stopped polls until it is gone") {
    runShell(dir, commands->start);
    CHECK(runShell(dir, "(sleep 0.3; " + commands->stop + ") & " + commands->wait_stopped) == 0);
    CHECK_FALSE(fs::exists(dir / "running"));
    CHECK(calls() >= 2);
    CHECK(fs::exists(dir / "timeout-ran"));
  }
  SECTION("wait_running mirrors it") {
    runShell(dir, commands->start);
    CHECK(runShell(dir, commands->wait_running) == 0);
    CHECK(calls() == 1);
    CHECK_FALSE(fs::exists(dir / "timeout-ran"));
    reset();
    runShell(dir, commands->stop);
    CHECK(runShell(dir, "(sleep 0.3; " + commands->start + ") & " + commands->wait_running) == 0);
    CHECK(calls() >= 2);
    CHECK(fs::exists(dir / "timeout-ran"));
  }
  SECTION("the wait is one command inside `a && b`: a failed wait fails the chain") {
    runShell(dir, commands->start);
    // The same wait with its bound cut from 120 s to 1 s, so that the test need not wait two minutes.
    std::string quick = commands->wait_stopped;
    quick.replace(quick.find("timeout 120"), 11, "timeout 1");
    CHECK(runShell(dir, "true && " + quick + " && echo reached > " + shellQuote((dir / "after").string())) != 0);
    CHECK_FALSE(fs::exists(dir / "after"));
  }
}

TEST_CASE("the restore step refuses a staged file that is not the planned snapshot, naming both, before any change",
          "[planner]") {
  namespace fs = std::filesystem;
  const test::TempDir scratch("dr-restore-refuse");
  const fs::path& dir = scratch.path;
  Inventory inventory = test::makeInventory(1);
  inventory.members[0].data_dir = (dir / "data").string();
  PlanOptions options;
  options.remote_snapshot_dir = (dir / "staging").string();
  const Plan plan = test::buildPlan(inventory, test::makeSnapshot(), options);
  const Step* restore = plan.find("restore@etcd-1");
  REQUIRE(restore != nullptr);
  // A half-done restore dir from an earlier attempt: the refusal must come before it is cleared.
  fs::create_directories(dir / ("data.restore-" + options.run_id));
  std::ofstream(dir / ("data.restore-" + options.run_id) / "left") << "x";
  fs::create_directories(dir / "staging" / options.run_id / "etcd-1");
  std::ofstream(dir / "staging" / options.run_id / "etcd-1" / "snapshot.db") << "not the snapshot\n";

  const std::string command = "/bin/sh -c " + shellQuote(restore->command) + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(contains(output, "restore refused on etcd-1: " + (dir / "staging" / options.run_id / "etcd-1" / "snapshot.db").string() +
                             " has sha256 " + sha256Hex("not the snapshot\n") + ", not the planned " +
                             test::makeSnapshot().sha256));
  CHECK(fs::exists(dir / ("data.restore-" + options.run_id) / "left"));
}

TEST_CASE("preflight-member, run by a real shell, refuses a restore tool older than the etcd that wrote the snapshot",
          "[planner]") {
  namespace fs = std::filesystem;
  const test::TempDir scratch("dr-preflight-version");
  const fs::path& dir = scratch.path;
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "data");
  // One member whose every other check passes here: a service of the operator's commands, an existing user, a data
  // dir and a staging dir under the scratch dir, and a df that reports plenty of room.
  Inventory inventory = test::makeInventory(1, 0);
  EtcdMember& member = inventory.members[0];
  member.data_dir = (dir / "data").string();
  member.etcd_user = "root";
  member.service = {};
  member.service.kind = ServiceKind::Command;
  member.service.start = "true";
  member.service.stop = "true";
  member.service.status = "true";
  PlanOptions options;
  options.remote_snapshot_dir = (dir / "staging").string();
  auto shim = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir / "bin" / name) << "#!/bin/sh\n" << body;
    fs::permissions(dir / "bin" / name, fs::perms::owner_all);
  };
  const std::string asked = shellQuote((dir / "asked").string());
  shim("etcdctl", "echo \"$@\" >> " + asked + "\nprintf 'etcdctl version: 3.4.30\\nAPI version: 3.4\\n'\n");
  shim("df", "printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n"
             "fake 1 1 999999999999 1%% /\\n'\n");
  // Runs the member's preflight planned for a snapshot written by `etcd_version`: its exit status, stdout and stderr.
  auto preflight = [&](std::optional<std::string> etcd_version, std::string& out, std::string& err) {
    SnapshotInfo snapshot = test::makeSnapshot();
    snapshot.etcd_version = std::move(etcd_version);
    const Plan plan = test::buildPlan(inventory, snapshot, options);
    const Step* step = plan.find("preflight-member@etcd-1");
    REQUIRE(step != nullptr);
    REQUIRE(contains(step->command, "command -v etcdctl"));  // ${tool.restore}: the shim
    fs::remove(dir / "asked");
    const int status = runShell(dir, "{ " + step->command + "\n} > " + shellQuote((dir / "out").string()) + " 2> " +
                                         shellQuote((dir / "err").string()));
    out = test::readText(dir / "out");
    err = test::readText(dir / "err");
    return status;
  };
  std::string out, err;

  SECTION("a 3.5 snapshot and a 3.4 tool: refused, naming both versions") {
    const int status = preflight("3.5.9", out, err);
    INFO(err);
    CHECK(status == 1);
    CHECK(contains(err, "restore tool etcdctl is version 3.4.30, older than etcd 3.5 that wrote the snapshot"));
  }
  SECTION("a 3.4 snapshot and a 3.4 tool: accepted") {
    const int status = preflight("3.4.23", out, err);
    INFO(err);
    CHECK(status == 0);
    CHECK(contains(out, "preflight ok on etcd-1"));
    CHECK(contains(test::readText(dir / "asked"), "version"));
  }
  SECTION("a snapshot whose etcd version is unknown: the check is skipped, the tool not even asked its version") {
    const int status = preflight(std::nullopt, out, err);
    INFO(err);
    CHECK(status == 0);
    CHECK(contains(out, "preflight ok on etcd-1"));
    CHECK_FALSE(contains(test::readText(dir / "asked"), "version"));
  }
  // The cluster's lock beside the data dir, and the staging path: checked here so nothing stops first.
  const fs::path lock_dir = dir / (".etcd-dr-lock-" + inventory.cluster_name);
  const fs::path staging_run = dir / "staging" / options.run_id / "etcd-1";
  SECTION("a lock held by another run: refused, naming that run and the lock") {
    fs::create_directories(lock_dir);
    std::ofstream(lock_dir / "owner") << "20261205-000000-other\n";
    const int status = preflight("3.4.23", out, err);
    INFO(err);
    CHECK(status == 1);
    CHECK(contains(err, "cluster " + inventory.cluster_name + " is locked by run 20261205-000000-other here, in " +
                            lock_dir.string()));
  }
  SECTION("the lock held by this same run (a resume): accepted") {
    fs::create_directories(lock_dir);
    std::ofstream(lock_dir / "owner") << options.run_id << "\n";
    CHECK(preflight("3.4.23", out, err) == 0);
  }
  SECTION("a staging dir another user owns: refused before anything stops") {
    fs::create_directories(staging_run);
    REQUIRE(::chown(staging_run.c_str(), 65534, 65534) == 0);
    const int status = preflight("3.4.23", out, err);
    INFO(err);
    CHECK(status == 1);
    CHECK(contains(err, staging_run.string() + " on the snapshot staging path is a link, belongs to user 65534"));
  }
  SECTION("a staging dir others can write, or a link in its place: refused") {
    fs::create_directories(staging_run.parent_path());
    if (GENERATE(0, 1) == 0) {
      fs::create_directories(staging_run);
      fs::permissions(staging_run, fs::perms::all);
    } else {
      fs::create_directory_symlink("/tmp", staging_run);
    }
    const int status = preflight("3.4.23", out, err);
    INFO(err);
    CHECK(status == 1);
    CHECK(contains(err, "on the snapshot staging path is a link, belongs to user"));
  }
  SECTION("a staging dir of this user, owner-only: accepted") {
    fs::create_directories(staging_run);
    fs::permissions(staging_run, fs::perms::owner_all);
    CHECK(preflight("3.4.23", out, err) == 0);
  }
  SECTION("no data dir and no etcd data beside it (a new host): accepted, and said") {
    fs::remove_all(dir / "data");
    const int status = preflight("3.4.23", out, err);
    INFO(err);
    CHECK(status == 0);
    CHECK(contains(out, "no data dir " + (dir / "data").string() + " on etcd-1: a new host"));
  }
  SECTION("no data dir, but etcd data beside it (data_dir misspelled): refused, naming that data") {
    fs::remove_all(dir / "data");
    fs::create_directories(dir / "real" / "member" / "snap");
    std::ofstream(dir / "real" / "member" / "snap" / "db") << "x";
    const int status = preflight("3.4.23", out, err);
    INFO(err);
    CHECK(status == 1);
    CHECK(contains(err, "data dir " + (dir / "data").string() + " is missing, but " +
                            (dir / "real" / "member" / "snap" / "db").string() + " is etcd data beside it"));
  }
  SECTION("a file in place of the data dir: refused") {
    fs::remove_all(dir / "data");
    std::ofstream(dir / "data") << "x";
    CHECK(preflight("3.4.23", out, err) == 1);
    CHECK(contains(err, "data dir " + (dir / "data").string() + " is not a directory"));
  }
}

TEST_CASE("verify-apiserver, run by a real shell: ten quick tries in the first second, then every 0.5 s, bounded",
          "[planner]") {
  namespace fs = std::filesystem;
  const test::TempDir scratch("dr-readyz-test");
  const fs::path& dir = scratch.path;
  fs::create_directories(dir / "bin");
  const Plan plan = test::buildPlan(test::makeInventory(1), test::makeSnapshot());
  const Step* verify = plan.find("verify-apiserver@10.0.0.1");
  REQUIRE(verify != nullptr);
  // A curl that answers from its READY_AT-th call on, and a sleep that records how long it was asked to sleep and
  // returns at once, so that the test sees the whole schedule without waiting it out.
  auto shim = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir / "bin" / name) << "#!/bin/sh\n" << body;
    fs::permissions(dir / "bin" / name, fs::perms::owner_all);
  };
  const std::string calls = shellQuote((dir / "curl-calls").string());
  shim("curl", "echo x >> " + calls + "\n[ \"$(wc -l < " + calls + ")\" -ge \"$READY_AT\" ] && echo ok && exit 0\n"
               "echo 'curl: (7) Failed to connect' >&2; exit 7\n");
  shim("sleep", "echo \"$1\" >> " + shellQuote((dir / "sleeps").string()) + "\n");
  auto lines = [&](const std::string& file) {
    std::vector<std::string> out;
    std::ifstream in(dir / file);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };

  SECTION("ready at the 13th try: ten sleeps of 0.1 s, then 0.5 s") {
    CHECK(runShell(dir, "READY_AT=13; export READY_AT; { " + verify->command + "\n} 2>/dev/null") == 0);
    CHECK(lines("curl-calls").size() == 13);
    const std::vector<std::string> expected = {"0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1",
                                               "0.1", "0.1", "0.1", "0.5", "0.5"};
    CHECK(lines("sleeps") == expected);
  }
  SECTION("ready at once: one try, no sleep") {
    CHECK(runShell(dir, "READY_AT=1; export READY_AT; { " + verify->command + "\n} 2>/dev/null") == 0);
    CHECK(lines("curl-calls").size() == 1);
    CHECK(lines("sleeps").empty());
  }
  SECTION("never ready: it gives up after 250 tries (10 x 0.1 s + 239 x 0.5 s of sleep, about two minutes)") {
    CHECK(runShell(dir, "READY_AT=100000; export READY_AT; { " + verify->command + "\n} 2> " +
                            shellQuote((dir / "err").string())) == 1);
    CHECK(lines("curl-calls").size() == 250);
    const auto sleeps = lines("sleeps");
    CHECK(std::count(sleeps.begin(), sleeps.end(), "0.1") == 10);
    CHECK(std::count(sleeps.begin(), sleeps.end(), "0.5") == 239);
    CHECK(contains(test::readText(dir / "err"), "API server on 10.0.0.1 not ready after 250 tries"));
  }
}

namespace {

PlanBuild buildReplace(const Inventory& inventory, const std::vector<std::string>& members,
                       const std::string& run_id = "r1") {
  auto loaded = loadPlanTemplateByNameOrPath("replace-member");
  REQUIRE(loaded.plan_template);
  PlanOptions options;
  options.run_id = run_id;
  options.replace_members = members;
  return Planner::build(inventory, SnapshotInfo{}, *loaded.plan_template, options);
}

std::string messages(const PlanBuild& build) {
  std::string out;
  for (const auto& d : build.diagnostics) out += d.str() + "\n";
  return out;
}

}  // namespace

TEST_CASE("replace-member: one member at a time, each chain in order, membership changes on the controller",
          "[planner][replace]") {
  // Named out of order: replaced in inventory order.
  const PlanBuild build = buildReplace(test::makeInventory(5), {"etcd-4", "etcd-2"});
  INFO(messages(build));
  REQUIRE(build.plan);
  const Plan& plan = *build.plan;
  CHECK(plan.warnings.empty());  // no snapshot, no restore: no revision warnings
  CHECK(plan.inputs.at("replace.members") == "etcd-2,etcd-4");
  CHECK_FALSE(plan.inputs.count("snapshot.sha256"));
  for (const char* action : {"fence", "set-aside-data", "member-remove", "member-add", "join-etcd", "member-promote"}) {
    INFO(action);
    CHECK(stepsOf(plan, action).size() == 2);
  }
  CHECK(stepsOf(plan, "lock").size() == 5);    // every member is locked
  CHECK(stepsOf(plan, "unlock").size() == 5);
  CHECK_FALSE(plan.find("fence-member@etcd-1"));
  // The chain of one member, in order.
  const std::vector<std::string> chain = {"fence-member", "set-aside-data", "remove-member", "add-member",
                                          "start-member", "promote-member", "verify-member"};
  for (const char* member : {"etcd-2", "etcd-4"}) {
    for (std::size_t i = 1; i < chain.size(); ++i) {
      INFO(member << ": " << chain[i]);
      CHECK(ancestors(plan, chain[i] + "@" + member).count(chain[i - 1] + "@" + member) == 1);
    }
  }
  // Every failed member is removed, one after another, before any is added (etcd adds none while a voter is
  // down); then one joins at a time: the second is added only once the first is verified.
  CHECK(ancestors(plan, "fence-member@etcd-4").count("remove-member@etcd-2") == 1);
  CHECK(ancestors(plan, "add-member@etcd-2").count("remove-member@etcd-4") == 1);
  CHECK(ancestors(plan, "add-member@etcd-4").count("verify-member@etcd-2") == 1);
  CHECK(ancestors(plan, "verify-member@etcd-2").count("add-member@etcd-4") == 0);
  // Nothing changes before every member is locked; the locks go only when every replacement is verified.
  for (const auto* lock : stepsOf(plan, "lock")) CHECK(ancestors(plan, "fence-member@etcd-2").count(lock->id) == 1);
  for (const auto* unlock : stepsOf(plan, "unlock")) {
    CHECK(ancestors(plan, unlock->id).count("verify-member@etcd-4") == 1);
  }
  // Membership changes and the verification run on the controller, through drctl; the rest on the member's host.
  for (const char* id :
       {"remove-member@etcd-2", "add-member@etcd-2", "promote-member@etcd-2", "verify-member@etcd-2"}) {
    const Step* step = plan.find(id);
    REQUIRE(step);
    CHECK(step->host == kControllerHost);
    CHECK(step->member == "etcd-2");
    CHECK(contains(step->command, "--name etcd-2") == (std::string(id).rfind("verify", 0) != 0));
  }
  CHECK(plan.find("fence-member@etcd-2")->host == "10.0.0.2");
  CHECK(plan.find("start-member@etcd-4")->host == "10.0.0.4");
  // The data dir is set aside before the removal, under the run id, and is never deleted.
  CHECK(contains(plan.find("set-aside-data@etcd-2")->command, "mv /var/lib/etcd /var/lib/etcd.before-r1"));
  for (const auto& step : plan.steps) CHECK_FALSE(contains(step.command, "rm -rf /var/lib/etcd "));
  // The new member joins the existing cluster with the inventory's member list (a systemd drop-in here).
  const std::string& join = plan.find("start-member@etcd-2")->command;
  CHECK(contains(join, "ETCD_INITIAL_CLUSTER_STATE=existing"));
  // etcd-2 joins while etcd-4 is still out (removed, not yet added back): the list is the cluster at that moment.
  CHECK(contains(join, "etcd-1=https://10.0.0.1:2380,etcd-2=https://10.0.0.2:2380,etcd-3=https://10.0.0.3:2380,"
                       "etcd-5=https://10.0.0.5:2380\""));
  CHECK_FALSE(contains(join, "etcd-4="));
  CHECK(contains(plan.find("start-member@etcd-4")->command,
                 "etcd-3=https://10.0.0.3:2380,etcd-4=https://10.0.0.4:2380,etcd-5=https://10.0.0.5:2380\""));
  CHECK(contains(join, "/run/systemd/system/etcd.d/etcd-dr-join.conf"));
}

TEST_CASE("replace-member: the members are part of the plan's identity", "[planner][replace]") {
  const auto a = buildReplace(test::makeInventory(5), {"etcd-2"});
  const auto b = buildReplace(test::makeInventory(5), {"etcd-3"});
  const auto c = buildReplace(test::makeInventory(5), {"etcd-2"});
  REQUIRE(a.plan);
  REQUIRE(b.plan);
  REQUIRE(c.plan);
  CHECK(a.plan->fingerprint != b.plan->fingerprint);
  CHECK(a.plan->fingerprint == c.plan->fingerprint);
}

TEST_CASE("replace-member: members that are not there, none, or a majority are refused", "[planner][replace]") {
  const auto unknown = buildReplace(test::makeInventory(3), {"etcd-9"});
  CHECK_FALSE(unknown.plan);
  CHECK(contains(messages(unknown), "member 'etcd-9' to replace is not in the inventory"));
  const auto none = buildReplace(test::makeInventory(3), {});
  CHECK_FALSE(none.plan);
  CHECK(contains(messages(none), "name them (--member NAME)"));
  const auto majority = buildReplace(test::makeInventory(3), {"etcd-1", "etcd-3"});
  CHECK_FALSE(majority.plan);
  CHECK(contains(messages(majority), "replacing 2 of 3 members would leave no quorum"));
  const auto single = buildReplace(test::makeInventory(1), {"etcd-1"});
  CHECK_FALSE(single.plan);  // a one-member cluster has no one to replace from
  // Members named for a plan that replaces none.
  auto full = loadPlanTemplateByNameOrPath("full-restore");
  REQUIRE(full.plan_template);
  PlanOptions options;
  options.replace_members = {"etcd-1"};
  const auto restore = Planner::build(test::makeInventory(3), test::makeSnapshot(), *full.plan_template, options);
  CHECK_FALSE(restore.plan);
  CHECK(contains(messages(restore), "replaces no members, but members to replace were named"));
}

TEST_CASE("the join command of each service kind starts etcd in the existing cluster", "[planner][replace]") {
  const std::string cluster = "a=https://10.0.0.1:2380,b&c=https://10.0.0.2:2380";
  ServiceControl command;
  command.kind = ServiceKind::Command;
  command.start = "/usr/local/bin/etcd-ctl start";
  CHECK(joinCommand(command, cluster) ==
        "( export ETCD_INITIAL_CLUSTER_STATE=existing 'ETCD_INITIAL_CLUSTER=a=https://10.0.0.1:2380,b&c=https://"
        "10.0.0.2:2380'; /usr/local/bin/etcd-ctl start )");
  ServiceControl pod;
  pod.kind = ServiceKind::StaticPod;
  pod.manifest = "/etc/kubernetes/manifests/etcd.yaml";
  pod.parked_dir = "/etc/kubernetes/parked";
  pod.container_name = "etcd";
  const std::string pod_join = joinCommand(pod, cluster);
  CHECK(contains(pod_join, "--initial-cluster-state=existing"));
  CHECK(contains(pod_join, "b\\&c="));  // sed's '&' escaped in the replacement
  CHECK(contains(pod_join, "mv /etc/kubernetes/parked/etcd.yaml /etc/kubernetes/manifests/etcd.yaml"));
  // The sed script, run for real on a kubeadm-like manifest, rewrites both flags.
  test::TempDir dir;
  const auto manifest = dir.path / "etcd.yaml";
  std::ofstream(manifest) << "    - --initial-cluster=old=https://10.0.0.9:2380\n    - --initial-cluster-state=new\n"
                             "    - --name=b\n";
  const auto begin = pod_join.find("sed -i ");
  REQUIRE(begin != std::string::npos);
  const auto end = pod_join.find(" /etc/kubernetes/parked", begin);
  REQUIRE(end != std::string::npos);
  const std::string sed = pod_join.substr(begin, end - begin) + " " + shellQuote(manifest.string());
  REQUIRE(std::system(sed.c_str()) == 0);
  CHECK(test::readText(manifest) == "    - --initial-cluster=" + cluster +
                                        "\n    - --initial-cluster-state=existing\n    - --name=b\n");
}

TEST_CASE("controller managers and schedulers stop with the API servers and start after them; kubelets restart "
          "while no API server runs",
          "[planner][components]") {
  const Plan plan = test::buildPlan(test::withComponents(test::makeInventory(3)));
  const auto stops = stepsOf(plan, "stop-component");
  const auto starts = stepsOf(plan, "start-component");
  const auto restarts = stepsOf(plan, "restart-kubelet");
  REQUIRE(stops.size() == 6);
  REQUIRE(starts.size() == 6);
  REQUIRE(restarts.size() == 3);
  CHECK(plan.find("stop-component@etcd-2/kube-scheduler"));
  CHECK(plan.find("restart-kubelet@etcd-3/kubelet"));
  CHECK(stepsOf(plan, "preflight").size() == 3 + 3 + 6 + 3);
  CHECK(contains(plan.find("stop-component@etcd-1/kube-controller-manager")->command,
                 "mv /etc/kubernetes/manifests/kube-controller-manager.yaml /etc/kubernetes/parked/"));
  const std::string restart = plan.find("restart-kubelet@etcd-1/kubelet")->command;
  CHECK(restart.find("systemctl stop kubelet.service") < restart.find("systemctl start --no-block kubelet.service"));

  // Nothing stops before every preflight (theirs included).
  for (const Step* s : stops) {
    const auto before = ancestors(plan, s->id);
    for (const Step* pre : stepsOf(plan, "preflight")) CHECK(before.count(pre->id) == 1);
  }
  // The kubelets restart once every API server is stopped, and every API server starts again only after every
  // kubelet restarted and every component stopped: none of them meets the restored cluster with a cache of the old.
  for (const Step* r : restarts) {
    const auto before = ancestors(plan, r->id);
    for (const Step* s : stepsOf(plan, "stop-apiserver")) CHECK(before.count(s->id) == 1);
  }
  for (const Step* api : stepsOf(plan, "start-apiserver")) {
    const auto before = ancestors(plan, api->id);
    for (const Step* r : restarts) CHECK(before.count(r->id) == 1);
    for (const Step* s : stops) CHECK(before.count(s->id) == 1);
  }
  // The components start once every API server is verified, and the lock is released only after that.
  for (const Step* s : starts) {
    const auto before = ancestors(plan, s->id);
    for (const Step* v : stepsOf(plan, "verify-apiserver")) CHECK(before.count(v->id) == 1);
  }
  for (const Step* api : stepsOf(plan, "start-apiserver")) {
    const auto before = ancestors(plan, api->id);
    for (const Step* s : starts) CHECK(before.count(s->id) == 0);
  }
  for (const Step* unlock : stepsOf(plan, "unlock")) {
    const auto before = ancestors(plan, unlock->id);
    for (const Step* s : starts) CHECK(before.count(s->id) == 1);
    for (const Step* r : restarts) CHECK(before.count(r->id) == 1);
  }
  // The revision note names them as restarted by the plan.
  REQUIRE(plan.warnings.size() == 1);
  CHECK(contains(plan.warnings[0], "no revision bump"));
  CHECK(contains(plan.warnings[0], "is not optional"));
  CHECK(contains(plan.warnings[0], "etcd-1/kube-controller-manager"));
  CHECK(contains(plan.warnings[0], "etcd-3/kubelet"));
}

TEST_CASE("verify-etcd refuses etcd's alarms, or disarms them first when the operator asked", "[planner][alarms]") {
  const Inventory inventory = test::makeInventory(3);
  const Plan refused = test::buildPlan(inventory);
  PlanOptions options;
  options.disarm_alarms = true;
  const Plan disarmed = test::buildPlan(inventory, test::makeSnapshot(), options);
  CHECK(contains(refused.find("verify-etcd")->command, "--wait 120s --alarms refuse"));
  CHECK(contains(disarmed.find("verify-etcd")->command, "--wait 120s --alarms disarm"));
  // The check (a dry-run and a resume run it) never disarms anything.
  CHECK_FALSE(contains(disarmed.find("verify-etcd")->check, "disarm"));
  CHECK(refused.fingerprint != disarmed.fingerprint);  // a resume re-plans with the operator's choice
}

TEST_CASE("members fetch (--members-fetch): every member's snapshot comes from the bucket URL instead of the controller's file",
          "[planner][s3]") {
  const Inventory inventory = test::makeInventory(3);
  const Plan uploaded = test::buildPlan(inventory);
  PlanOptions options;
  options.snapshot_source = "s3://etcd-backups/prod/nightly.db";
  const Plan fetched = test::buildPlan(inventory, test::makeSnapshot(), options);
  int uploads = 0;
  for (const Step& step : fetched.steps) {
    if (!step.upload) continue;
    ++uploads;
    CHECK(step.upload->local_path == "s3://etcd-backups/prod/nightly.db");
    const Step* same = uploaded.find(step.id);
    REQUIRE(same != nullptr);
    REQUIRE(same->upload.has_value());
    CHECK(same->upload->local_path == test::makeSnapshot().path.string());
    // Same destination and the same SHA-256 checked on the host: only where the bytes come from differs.
    CHECK(step.upload->remote_path == same->upload->remote_path);
    CHECK(step.upload->sha256 == same->upload->sha256);
  }
  CHECK(uploads == 3);
  CHECK(uploaded.fingerprint != fetched.fingerprint);  // a resume re-plans with the same source
}
