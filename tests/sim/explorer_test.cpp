// The simulator over the built-in full-restore plan: no violation for 1, 3, 5 and 7 members, reproducible seeds,
// and teeth: a plan with a rule broken is caught with the invariant's name, its seed and a trace.
#include <algorithm>
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "sim/explorer.h"
#include "sim/mutants.h"
#include "sim/script.h"
#include "sim_support.h"

namespace dr::sim {
namespace {

bool hasViolation(const ExploreSummary& s, const std::string& invariant) {
  return std::any_of(s.violations.begin(), s.violations.end(),
                     [&](const FoundViolation& f) { return f.violation.invariant == invariant; });
}

std::string violationsText(const ExploreSummary& s) {
  std::string text;
  for (const auto& f : s.violations) {
    text += f.violation.invariant + ": " + f.violation.detail + " [" + f.scenario + "]\n";
    for (const auto& line : f.trace) text += "    " + line + "\n";
  }
  return text;
}

TEST_CASE("full-restore keeps every invariant under every order, crash and fault", "[sim]") {
  for (int members : {1, 3, 5, 7}) {
    test::SimPlan p(members);
    Explorer explorer(p.plan, p.facts);
    ExploreOptions options;
    options.random_orders = members >= 5 ? 20 : 50;
    const ExploreSummary s = explorer.explore(options);
    INFO(members << " members:\n" << violationsText(s));
    CHECK(s.ok());
    const std::size_t steps = p.plan.steps.size();
    CHECK(s.crash_points == 3 * steps);
    CHECK(s.faults == 6 * steps);
    CHECK(s.transitions > steps * (s.crash_points + s.faults));
    if (members == 1) {
      CHECK(s.exhaustive);  // 1 member: few enough orders to run every one
      CHECK(s.orders == *s.orders_total);
      CHECK(s.orders > 1);
    } else {
      CHECK_FALSE(s.exhaustive);
      CHECK(s.directed == 2 * steps);
    }
  }
}

TEST_CASE("full-restore onto new hosts (no data dir yet), every one or some, keeps every invariant", "[sim]") {
  for (const std::set<std::string>& fresh : {std::set<std::string>{"m1", "m2", "m3"}, std::set<std::string>{"m2"}}) {
    test::SimPlan p(3);
    p.facts.new_hosts = fresh;
    Explorer explorer(p.plan, p.facts);
    ExploreOptions options;
    options.random_orders = 30;
    const ExploreSummary s = explorer.explore(options);
    INFO(fresh.size() << " new host(s):\n" << violationsText(s));
    CHECK(s.ok());
    CHECK(s.crash_points == 3 * p.plan.steps.size());
    // The model starts them with nothing: no data dir, etcd not running.
    const ModelState before = initialState(p.facts);
    for (const auto& m : p.facts.members) {
      const HostModel& h = before.hosts.at(m.address);
      CHECK(h.dirs.empty() == (fresh.count(m.name) == 1));
      CHECK(h.etcd_running == (fresh.count(m.name) == 0));
    }
  }
  // Where some hosts keep old data, deleting it is still caught.
  test::SimPlan p(3);
  p.facts.new_hosts = {"m2"};
  ExploreOptions options;
  options.random_orders = 20;
  options.stop_at_first = true;
  int delete_mutants = 0;
  for (const auto& m : builtinMutants(p.plan, p.facts)) {
    if (m.kind != "delete-old-data") continue;
    ++delete_mutants;
    Explorer explorer(m.plan, p.facts);
    INFO(m.description);
    CHECK_FALSE(explorer.explore(options).ok());
  }
  CHECK(delete_mutants > 0);
}

TEST_CASE("every built-in mutant of full-restore is caught", "[sim][mutants]") {
  test::SimPlan p(3);
  const auto mutants = builtinMutants(p.plan, p.facts);
  std::set<std::string> kinds;
  for (const auto& m : mutants) kinds.insert(m.kind);
  CHECK(kinds == std::set<std::string>{"drop-edge", "drop-step", "swap-steps", "other-token", "other-initial-cluster",
                                       "api-before-verify", "start-before-swaps", "delete-old-data"});
  CHECK(mutants.size() >= 25);
  ExploreOptions options;
  options.random_orders = 30;
  options.stop_at_first = true;
  int caught = 0;
  for (const auto& m : mutants) {
    Explorer explorer(m.plan, p.facts);
    const ExploreSummary s = explorer.explore(options);
    INFO(m.kind << ": " << m.description);
    CHECK_FALSE(s.ok());
    caught += s.ok() ? 0 : 1;
  }
  CHECK(caught == static_cast<int>(mutants.size()));
}

TEST_CASE("each kind of mutant is caught by the invariant that names its rule", "[sim][mutants]") {
  test::SimPlan p(3);
  const std::map<std::string, std::string> expected = {
      {"other-token", kSameSnapshotSameToken},     {"other-initial-cluster", kSameSnapshotSameToken},
      {"api-before-verify", kVerifiedBeforeApi},  {"start-before-swaps", kAllSwappedBeforeStart},
      {"delete-old-data", kOldDataKept},
  };
  for (const auto& m : builtinMutants(p.plan, p.facts)) {
    auto want = expected.find(m.kind);
    if (want == expected.end()) continue;
    Explorer explorer(m.plan, p.facts);
    ExploreOptions options;
    options.random_orders = 10;
    const ExploreSummary s = explorer.explore(options);
    INFO(m.description << "\n" << violationsText(s));
    CHECK(hasViolation(s, want->second));
  }
}

TEST_CASE("a dropped fence is caught with its name, seed and shortest trace, and the seed replays it", "[sim]") {
  test::SimPlan p(3);
  // stop-etcd on m2 no longer waits for the API server on m3.
  Plan bad = p.plan;
  for (auto& step : bad.steps) {
    if (step.id == "stop-etcd@m2") std::erase(step.needs, "stop-apiserver@m3");
  }
  Explorer explorer(bad, p.facts);
  ExploreOptions options;
  options.crashes = false;
  options.faults = false;
  const ExploreSummary s = explorer.explore(options);
  REQUIRE(hasViolation(s, kApiFenced));
  const auto& found = *std::find_if(s.violations.begin(), s.violations.end(),
                                    [](const FoundViolation& f) { return f.violation.invariant == kApiFenced; });
  CHECK_THAT(found.violation.detail, Catch::Contains("stop-etcd@m2") && Catch::Contains("10.0.0.3"));
  // The trace is the shortest found: the eager order for stop-etcd@m2 gets there first.
  CHECK(found.trace.size() < bad.steps.size());
  auto scenario = Scenario::fromSeed(found.seed);
  REQUIRE(scenario);
  const ScenarioResult again = explorer.run(*scenario);
  REQUIRE(again.trace.size() >= found.trace.size());
  CHECK(std::equal(found.trace.begin(), found.trace.end(), again.trace.begin()));
  CHECK_THAT(found.trace.back(), Catch::Contains("stop-etcd@m2"));
  CHECK(std::any_of(again.violations.begin(), again.violations.end(),
                    [](const Violation& v) { return v.invariant == kApiFenced; }));
  CHECK(explorer.run(*scenario).trace_hash == again.trace_hash);
}

TEST_CASE("replace-member keeps every invariant: one or two failed members, or a healthy one migrated",
          "[sim][replace]") {
  struct Case {
    int members;
    std::vector<std::string> replace;
    std::set<std::string> running;
  };
  for (const Case& c :
       {Case{3, {"m2"}, {}}, Case{3, {"m2"}, {"m2"}}, Case{5, {"m4", "m5"}, {}}, Case{5, {"m1"}, {"m1"}}}) {
    test::SimPlan p(c.members, "replace-member", c.replace, c.running);
    Explorer explorer(p.plan, p.facts);
    ExploreOptions options;
    options.random_orders = 30;
    const ExploreSummary s = explorer.explore(options);
    INFO(c.members << " members, replacing " << c.replace.size() << ":\n" << violationsText(s));
    CHECK(s.ok());
    CHECK(s.crash_points == 3 * p.plan.steps.size());
    CHECK(s.faults == 6 * p.plan.steps.size());
  }
  // The model: the replaced members start down (unless running), every member a voter.
  test::SimPlan p(5, "replace-member", {"m4", "m5"});
  const ModelState before = initialState(p.facts);
  for (const auto& m : p.facts.members) {
    const HostModel& h = before.hosts.at(m.address);
    CHECK(h.etcd_running == (m.name != "m4" && m.name != "m5"));
    CHECK(h.membership == Membership::Voter);
  }
  CHECK(quorumProblem(before, p.facts).empty());
}

TEST_CASE("every mutant of replace-member is caught, its own rules by their names", "[sim][replace][mutants]") {
  // Two scenarios: two failed members of five (the order between replacements, the quorum), and a healthy member
  // of three replaced on purpose (its fence matters).
  const std::map<std::string, std::string> expected = {{"fence-other", kQuorumKept},
                                                       {"parallel-replacements", kOneChangeAtATime},
                                                       {"keep-old-data-in-place", kRemovedNeverRestarts}};
  std::set<std::string> kinds_seen;
  int fence_mutants_caught_when_running = 0;
  for (int scenario = 0; scenario < 2; ++scenario) {
    test::SimPlan p = scenario == 0 ? test::SimPlan(5, "replace-member", {"m4", "m5"})
                                    : test::SimPlan(3, "replace-member", {"m2"}, {"m2"});
    const auto mutants = builtinMutants(p.plan, p.facts);
    CHECK(mutants.size() >= 15);
    ExploreOptions options;
    options.random_orders = 20;
    for (const auto& m : mutants) {
      kinds_seen.insert(m.kind);
      Explorer explorer(m.plan, p.facts);
      auto want = expected.find(m.kind);
      options.stop_at_first = want == expected.end();
      const ExploreSummary s = explorer.explore(options);
      INFO("scenario " << scenario << ", " << m.kind << ": " << m.description << "\n" << violationsText(s));
      const bool about_fence = m.description.find("fence-member@") != std::string::npos &&
                               m.kind != "parallel-replacements" && m.kind != "fence-other";
      if (scenario == 0 && about_fence) {
        // The fence of a member that is already down changes nothing: harmless here, caught in scenario 1.
        continue;
      }
      CHECK_FALSE(s.ok());
      if (want != expected.end()) CHECK(hasViolation(s, want->second));
      if (scenario == 1 && about_fence && !s.ok()) ++fence_mutants_caught_when_running;
    }
  }
  CHECK(fence_mutants_caught_when_running >= 2);  // the fence dropped, and moved after the set-aside
  for (const auto& [kind, invariant] : expected) CHECK(kinds_seen.count(kind) == 1);
}

TEST_CASE("seeds encode every kind of scenario and refuse garbage", "[sim]") {
  Scenario order;
  order.order = {OrderKind::Random, 123456789};
  Scenario crash;
  crash.order = {OrderKind::Directed, 7};
  crash.crash = CrashSpec{17, CrashPhase::During};
  Scenario fault;
  fault.fault_step = 42;
  fault.fault_kind = FaultKind::Timeout;
  fault.follow = FollowUp::Rollback;
  for (const Scenario& s : {order, crash, fault}) {
    auto back = Scenario::fromSeed(s.seed());
    REQUIRE(back);
    CHECK(back->seed() == s.seed());
    auto parsed = parseSeed(formatSeed(s.seed()));
    REQUIRE(parsed);
    CHECK(*parsed == s.seed());
  }
  CHECK_FALSE(Scenario::fromSeed(std::uint64_t{3} << 62));
  CHECK_FALSE(parseSeed("banana"));
  CHECK_FALSE(parseSeed("12abc"));
}

TEST_CASE("the same seed gives the same trace hash, different seeds different traces", "[sim]") {
  test::SimPlan p(3);
  Explorer explorer(p.plan, p.facts);
  Scenario a, b;
  a.order = {OrderKind::Random, 1};
  b.order = {OrderKind::Random, 2};
  const auto first = explorer.run(a);
  CHECK(explorer.run(a).trace_hash == first.trace_hash);
  CHECK(explorer.run(b).trace_hash != first.trace_hash);
  CHECK(first.violations.empty());
}

TEST_CASE("a crash during a step leaves a torn journal record that resume reads past", "[sim]") {
  test::SimPlan p(3);
  Explorer explorer(p.plan, p.facts);
  Scenario s;
  s.crash = CrashSpec{10, CrashPhase::During};
  const auto result = explorer.run(s);
  CHECK(result.violations.empty());
  const auto crash_line = std::find_if(result.trace.begin(), result.trace.end(),
                                       [](const std::string& l) { return l.starts_with("!! crash while"); });
  REQUIRE(crash_line != result.trace.end());
  CHECK(std::find(crash_line, result.trace.end(), "-- resume") != result.trace.end());
  // The step in doubt is decided by its check on resume.
  CHECK(std::any_of(crash_line, result.trace.end(), [](const std::string& l) { return l.starts_with("check "); }));
}

TEST_CASE("the script reader finds moves, removals and every restore flag", "[sim]") {
  const std::string script = R"(set -e
if [ -e /d ] && [ ! -e '/d.before-x' ]; then mv /d /d.before-x; fi
echo rm -rf /not-a-removal
rm -rf "/r dir"
ETCDCTL_API=3 etcdctl snapshot restore /s/snapshot.db \
    --name m1 \
    --initial-cluster 'm1=http://a:2380,m2=http://b:2380' \
    --initial-cluster-token tok-1 \
    --initial-advertise-peer-urls http://a:2380 \
    --data-dir /d.restore-x
)";
  const auto ops = scriptOps(script);
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].kind == ScriptOp::Kind::Move);
  CHECK(ops[0].from == "/d");
  CHECK(ops[0].to == "/d.before-x");
  CHECK(ops[1].kind == ScriptOp::Kind::Remove);
  CHECK(ops[1].from == "/r dir");
  CHECK(ops[2].kind == ScriptOp::Kind::Restore);
  CHECK(ops[2].restore.snapshot_path == "/s/snapshot.db");
  CHECK(ops[2].restore.name == "m1");
  CHECK(ops[2].restore.initial_cluster == "m1=http://a:2380,m2=http://b:2380");
  CHECK(ops[2].restore.token == "tok-1");
  CHECK(ops[2].restore.peer_url == "http://a:2380");
  CHECK(ops[2].restore.data_dir == "/d.restore-x");
}

}  // namespace
}  // namespace dr::sim

namespace dr::sim {
namespace {

TEST_CASE("with controller managers, schedulers and kubelets, full-restore keeps every invariant and every mutant "
          "of theirs is caught by fresh-caches or the lock",
          "[sim][components][mutants]") {
  test::SimPlan p(3, "full-restore", {}, {}, true);
  REQUIRE(p.facts.components.size() == 9);
  {
    Explorer explorer(p.plan, p.facts);
    ExploreOptions options;
    options.random_orders = 15;
    const ExploreSummary s = explorer.explore(options);
    INFO(violationsText(s));
    CHECK(s.ok());
    CHECK(s.crash_points == 3 * p.plan.steps.size());
  }
  // Each mutant that moves or drops one of their steps or edges breaks a rule.
  int theirs = 0, fresh_caches = 0;
  ExploreOptions options;
  options.random_orders = 10;
  options.stop_at_first = true;
  for (const auto& m : builtinMutants(p.plan, p.facts)) {
    const bool about_components = m.description.find("component") != std::string::npos ||
                                  m.description.find("kubelet") != std::string::npos;
    if (!about_components) continue;
    ++theirs;
    Explorer explorer(m.plan, p.facts);
    const ExploreSummary s = explorer.explore(options);
    INFO(m.kind << ": " << m.description);
    CHECK_FALSE(s.ok());
    fresh_caches += hasViolation(s, kFreshCaches) ? 1 : 0;
  }
  UNSCOPED_INFO(theirs << " mutants about the components, " << fresh_caches << " caught by fresh-caches");
  CHECK(theirs >= 8);
  CHECK(fresh_caches >= 4);
}

}  // namespace
}  // namespace dr::sim
