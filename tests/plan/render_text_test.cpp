// The text plan and the phase computation, on a hand-built plan (render_sample.h).
#include <catch2/catch.hpp>

#include <sstream>

#include "plan/plan_render.h"
#include "render_sample.h"

using namespace dr;

namespace {

PlanContext sampleContext() {
  PlanContext context;
  context.cluster = "prod-east";
  context.inventory_path = "inventory/lab-3.yaml";
  context.template_source = "builtin:full-restore";
  context.run_id = "run-42";
  SnapshotInfo snapshot;
  snapshot.path = "/backup/snap.db";
  snapshot.size = 5 * 1024 * 1024 + 32;
  snapshot.sha256 = std::string(64, 'a');
  snapshot.has_trailer = true;
  context.snapshot = snapshot;
  return context;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t lineIndex(const std::vector<std::string>& all, const std::string& needle) {
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].find(needle) != std::string::npos) return i;
  }
  FAIL("no line contains: " << needle);
  return 0;
}

}  // namespace

TEST_CASE("phases are the DAG's longest-path levels, in plan order", "[plan][render]") {
  const Plan plan = test::samplePlan();
  auto phases = planPhases(plan);
  REQUIRE(phases.ok());
  REQUIRE(phases->size() == 9);
  // The uploads need only the preflight, so they share phase 2 with the API-server stops.
  std::vector<std::string> second;
  for (const auto i : (*phases)[1]) second.push_back(plan.steps[i].action);
  CHECK(std::count(second.begin(), second.end(), "stop-apiserver") == 3);
  CHECK(std::count(second.begin(), second.end(), "upload-snapshot") == 3);
  CHECK(plan.steps[(*phases)[0].front()].id == "preflight");
  CHECK(plan.steps[(*phases)[8].front()].id == "verify-apiserver");
  // Every step appears once, and after everything it needs.
  std::map<std::string, std::size_t> phase_of;
  for (std::size_t p = 0; p < phases->size(); ++p) {
    for (const auto i : (*phases)[p]) phase_of[plan.steps[i].id] = p;
  }
  REQUIRE(phase_of.size() == plan.steps.size());
  for (const auto& step : plan.steps) {
    for (const auto& need : step.needs) CHECK(phase_of.at(need) < phase_of.at(step.id));
  }
}

TEST_CASE("a dangling need or a cycle is an error that names the steps", "[plan][render]") {
  Plan dangling = test::samplePlan();
  dangling.steps[1].needs.push_back("no-such-step");
  auto bad = planPhases(dangling);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("no-such-step") && Catch::Contains(dangling.steps[1].id));
  CHECK_FALSE(renderPlanText(dangling, {}).ok());
  CHECK_FALSE(renderPlanDot(dangling).ok());
  CHECK_FALSE(renderPlanMermaid(dangling).ok());

  Plan cycle = test::samplePlan();
  cycle.steps[0].needs.push_back("verify-apiserver");  // preflight now waits for the very end
  auto cyclic = planPhases(cycle);
  REQUIRE_FALSE(cyclic.ok());
  CHECK_THAT(cyclic.error().message, Catch::Contains("cycle") && Catch::Contains("preflight"));
}

TEST_CASE("the text header says which cluster, snapshot and run this is", "[plan][render]") {
  auto text = renderPlanText(test::samplePlan(), sampleContext());
  REQUIRE(text.ok());
  const auto all = lines(*text);
  CHECK(all[0] == "RECOVERY PLAN  full-restore");
  CHECK_THAT(*text, Catch::Contains("  cluster      prod-east\n"));
  CHECK_THAT(*text, Catch::Contains("  run id       run-42\n"));
  CHECK_THAT(*text, Catch::Contains("  inventory    inventory/lab-3.yaml\n"));
  CHECK_THAT(*text, Catch::Contains("  snapshot     /backup/snap.db\n"));
  CHECK_THAT(*text, Catch::Contains("  size         5.0 MiB (5242912 bytes)\n"));
  CHECK_THAT(*text, Catch::Contains("  sha256       " + std::string(64, 'a') + "\n"));
  CHECK_THAT(*text, Catch::Contains("etcd trailer present and verified"));
  CHECK_THAT(*text, Catch::Contains("  fingerprint  " + std::string(64, 'f') + "\n"));
  CHECK_THAT(*text, Catch::Contains("WARNINGS  (1)\n  ! etcdctl 3.4 cannot bump the revision\n"));
  // The header comes before the phases.
  CHECK(lineIndex(all, "fingerprint") < lineIndex(all, "PHASES"));
}

TEST_CASE("a snapshot without etcd's trailer is flagged, and no warnings says so", "[plan][render]") {
  auto context = sampleContext();
  context.snapshot->has_trailer = false;
  Plan plan = test::samplePlan();
  plan.warnings.clear();
  auto text = renderPlanText(plan, context);
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("no etcd trailer"));
  CHECK_THAT(*text, Catch::Contains("WARNINGS  none\n"));
}

TEST_CASE("the text phases group parallel steps per host with their exact commands", "[plan][render]") {
  const Plan plan = test::samplePlan();
  auto text = renderPlanText(plan, sampleContext());
  REQUIRE(text.ok());
  const auto all = lines(*text);
  CHECK_THAT(*text, Catch::Contains("PHASES  (9)\n"));
  CHECK_THAT(*text, Catch::Contains("== Phase 1/9: preflight  (1 step on 1 host)\n"));
  CHECK_THAT(*text, Catch::Contains("== Phase 2/9: stop-apiserver, upload-snapshot  (6 steps on 3 hosts)\n"));
  CHECK_THAT(*text, Catch::Contains("== Phase 9/9: verify-apiserver  (1 step on 1 host)\n"));

  // In phase 2, host 10.0.0.2's heading is followed by its two steps, before host 10.0.0.3's heading.
  const auto phase2 = lineIndex(all, "== Phase 2/9");
  const auto phase3 = lineIndex(all, "== Phase 3/9");
  const auto host2 = lineIndex(all, "  10.0.0.2  (member etcd-b)");
  const auto host3 = lineIndex(all, "  10.0.0.3  (member etcd-c)");
  CHECK((phase2 < host2 && host2 < host3 && host3 < phase3));
  const auto stop_b = lineIndex(all, "    stop-apiserver@10.0.0.2: Do stop-apiserver");
  const auto upload_b = lineIndex(all, "    upload-snapshot@etcd-b: Do upload-snapshot");
  CHECK((host2 < stop_b && stop_b < host3 && host2 < upload_b && upload_b < host3));

  // Commands are shown exactly, multi-line ones aligned under their first line; uploads say what they verify.
  CHECK_THAT(*text, Catch::Contains("        $ mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/parked/\n"));
  CHECK_THAT(*text, Catch::Contains("        $ etcdctl snapshot restore /var/tmp/etcd-dr/run/snapshot.db \\\n"
                                    "            --name etcd-a \\\n"
                                    "            --data-dir /var/lib/etcd.restored\n"));
  CHECK_THAT(*text, Catch::Contains("        upload /backup/snap.db -> /var/tmp/etcd-dr/run/snapshot.db  (then verify "
                                    "sha256 " + std::string(64, 'a') + ")\n"));
  CHECK_THAT(*text, Catch::Contains("  controller (this machine)\n    preflight: Do preflight\n        $ drctl-preflight --all\n"));
  // Every step is listed exactly once.
  for (const auto& step : plan.steps) {
    const std::string heading = "    " + step.id + ": ";
    std::size_t count = 0;
    for (const auto& line : all) count += line.rfind(heading, 0) == 0 ? 1 : 0;
    CHECK(count == 1);
  }
  CHECK(all.back() == "TOTAL  24 steps in 9 phases on 4 hosts: 3 with etcd members (3 members), the controller");
}

TEST_CASE("check, undo and needs appear only with --verbose", "[plan][render]") {
  const Plan plan = test::samplePlan();
  auto brief = renderPlanText(plan, sampleContext());
  auto verbose = renderPlanText(plan, sampleContext(), TextRenderOptions{.verbose = true});
  REQUIRE(brief.ok());
  REQUIRE(verbose.ok());
  CHECK_THAT(*brief, !Catch::Contains("check-restore@etcd-a"));
  CHECK_THAT(*brief, Catch::Contains("--verbose adds"));
  CHECK_THAT(*verbose, Catch::Contains("        check   $ check-restore@etcd-a\n"));
  CHECK_THAT(*verbose, Catch::Contains("        undo    $ undo-restore@etcd-a\n"));
  CHECK_THAT(*verbose, Catch::Contains("        needs   stop-etcd@etcd-a, upload-snapshot@etcd-a\n"));
  CHECK_THAT(*verbose, Catch::Contains("        timeout 5m, retries 0\n"));
}

TEST_CASE("control characters in inventory values never reach the terminal raw", "[plan][render]") {
  // An ESC sequence in a member name could repaint the operator's terminal; a newline could forge a line.
  const Plan plan = test::samplePlan({"etcd-a\x1b[2J", "etcd-b\nFAKE LINE", "etcd-c"});
  auto text = renderPlanText(plan, sampleContext());
  REQUIRE(text.ok());
  CHECK(text->find('\x1b') == std::string::npos);
  CHECK_THAT(*text, Catch::Contains("etcd-a\\x1b[2J"));
  for (const auto& line : lines(*text)) CHECK(line.rfind("FAKE LINE", 0) != 0);
}

TEST_CASE("human sizes use binary units", "[plan][render]") {
  CHECK(humanBytes(0) == "0 B");
  CHECK(humanBytes(1023) == "1023 B");
  CHECK(humanBytes(1536) == "1.5 KiB");
  CHECK(humanBytes(20ull * 1024 * 1024) == "20 MiB");
  CHECK(humanBytes(3ull * 1024 * 1024 * 1024) == "3.0 GiB");
}
