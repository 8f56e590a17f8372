// plan.json: the docs/design.md contract, the exact round trip, the canonical form, and the fingerprint: the same
// inputs always give the same fingerprint, and changing any input changes it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "plan/plan_json.h"
#include "plan_test_support.h"

using namespace dr;

TEST_CASE("planToJson follows the docs/design.md contract", "[json]") {
  const Plan plan = test::buildPlan(test::makeInventory(3));
  const auto json = planToJson(plan);
  CHECK(json.at("plan") == "full-restore");
  CHECK(json.at("fingerprint") == plan.fingerprint);
  REQUIRE(json.at("steps").size() == plan.steps.size());
  const auto& first = json.at("steps").at(0);
  for (const char* key : {"id", "action", "host", "member", "needs", "command", "check", "undo", "upload",
                          "timeout_seconds", "retries", "idempotent", "description", "template_id"}) {
    CHECK(first.contains(key));
  }
  CHECK(json.at("inputs").at("run.id") == "preview");
  CHECK(json.at("warnings").is_array());
  const auto upload = json.at("steps")[static_cast<std::size_t>(
      std::find_if(plan.steps.begin(), plan.steps.end(), [](const Step& s) { return s.upload.has_value(); }) -
      plan.steps.begin())]["upload"];
  CHECK(upload.at("local_path") == "/backup/snap.db");
}

TEST_CASE("planFromJson(planToJson(p)) == p", "[json]") {
  for (int n : {1, 3, 7}) {
    const Plan plan = test::buildPlan(test::makeInventory(n));
    auto back = planFromJson(planToJson(plan));
    REQUIRE(back.ok());
    CHECK(*back == plan);
    // Through text too, as a run directory stores it.
    auto reparsed = planFromJson(nlohmann::json::parse(planToJson(plan).dump(2)));
    REQUIRE(reparsed.ok());
    CHECK(*reparsed == plan);
    CHECK(computeFingerprint(*reparsed) == plan.fingerprint);
  }
}

TEST_CASE("planFromJson refuses malformed plans, saying which field", "[json]") {
  const auto good = planToJson(test::buildPlan(test::makeInventory(1)));
  auto broken = good;
  broken.erase("fingerprint");
  CHECK(planFromJson(broken).error().message == "plan.json: missing field \"fingerprint\"");
  broken = good;
  broken["steps"][2]["retries"] = "three";
  CHECK(planFromJson(broken).error().message == "plan.json: steps[2]: field \"retries\" has the wrong type (string)");
  broken = good;
  broken["steps"][0]["upload"] = 5;
  CHECK(planFromJson(broken).error().message ==
        "plan.json: steps[0]: field \"upload\" must be an object or null");
  broken = good;
  broken["steps"] = "none";
  CHECK(planFromJson(broken).error().message == "plan.json: field \"steps\" must be an array");
  CHECK_FALSE(planFromJson(nlohmann::json::array()).ok());
}

TEST_CASE("the canonical JSON has sorted keys, no whitespace, no fingerprint", "[json]") {
  Plan plan = test::buildPlan(test::makeInventory(1));
  const std::string canonical = canonicalPlanJson(plan);
  CHECK(canonical.find("\"fingerprint\"") == std::string::npos);
  CHECK(canonical.rfind("{\"inputs\":{", 0) == 0);
  CHECK(canonical.find("\n") == std::string::npos);
  CHECK(canonical.find("\": ") == std::string::npos);
  plan.fingerprint = "something else";
  CHECK(canonicalPlanJson(plan) == canonical);  // the fingerprint is not part of what it protects
}

namespace {

struct Inputs {
  Inventory inventory = test::makeInventory(3);
  SnapshotInfo snapshot = test::makeSnapshot();
  PlanOptions options;
  std::string template_text;
};

std::string fingerprintOf(const Inputs& inputs) {
  auto load = parsePlanTemplate(inputs.template_text, "t.yaml");
  REQUIRE(load.plan_template);
  return test::buildPlan(inputs.inventory, inputs.snapshot, inputs.options, *load.plan_template).fingerprint;
}

}  // namespace

TEST_CASE("the fingerprint: same inputs give the same fingerprint, each changed input a different one", "[json]") {
  const auto dir = std::filesystem::temp_directory_path() / "dr-plan-fingerprint-test";
  std::filesystem::create_directories(dir);
  const auto inventory_file = dir / "inventory.yaml";
  std::ofstream(inventory_file) << "cluster: prod\n";

  Inputs base;
  base.inventory.source = inventory_file;
  base.options.run_id = "r1";
  base.template_text = test::readText(std::string(DR_SOURCE_DIR) + "/plans/full-restore.yaml");
  const std::string reference = fingerprintOf(base);

  SECTION("same inputs, built again from copies, give the same fingerprint") {
    Inputs copy = base;
    CHECK(fingerprintOf(copy) == reference);
    CHECK(fingerprintOf(base) == reference);
  }
  SECTION("the inventory file's bytes") {
    std::ofstream(inventory_file) << "cluster: prod\n# a comment\n";
    CHECK(fingerprintOf(base) != reference);
  }
  SECTION("a member's address") {
    Inputs changed = base;
    changed.inventory.members[1].address = "10.0.0.99";
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the snapshot's hash") {
    Inputs changed = base;
    changed.snapshot.sha256 = std::string(64, 'b');
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the snapshot's size") {
    Inputs changed = base;
    changed.snapshot.size += 512;
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the snapshot's path") {
    Inputs changed = base;
    changed.snapshot.path = "/backup/other.db";
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the snapshot's revision") {
    Inputs changed = base;
    changed.snapshot.revision = 1235;
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the template, even a comment") {
    Inputs changed = base;
    changed.template_text += "# trailing comment\n";
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the run id") {
    Inputs changed = base;
    changed.options.run_id = "r2";
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the token") {
    Inputs changed = base;
    changed.options.token = "explicit";
    CHECK(fingerprintOf(changed) != reference);
  }
  SECTION("the tooling") {
    Inputs changed = base;
    changed.inventory.tooling.bump_revision = true;
    CHECK(fingerprintOf(changed) != reference);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("an inventory built in memory still changes the fingerprint when any field changes", "[json]") {
  Inputs base;
  base.template_text = test::readText(std::string(DR_SOURCE_DIR) + "/plans/full-restore.yaml");
  const std::string reference = fingerprintOf(base);
  CHECK(fingerprintOf(base) == reference);
  Inputs changed = base;
  changed.inventory.members[0].ssh.port = 2222;  // appears in no command, only in the inventory
  CHECK(fingerprintOf(changed) != reference);
}
