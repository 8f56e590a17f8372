// The shipped example inventories (inventory/*.yaml, read by the real loader) plan with full-restore, and every
// command, check and undo of every plan is valid POSIX sh (`sh -n`).
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/shell.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_json.h"
#include "plan_test_support.h"

using namespace dr;

TEST_CASE("every example inventory plans, and every command parses with sh -n", "[planner][examples]") {
  const auto dir = std::filesystem::path(DR_SOURCE_DIR) / "inventory";
  int planned = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    DYNAMIC_SECTION(entry.path().filename().string()) {
      auto load = loadInventory(entry.path());
      INFO(test::joined(load.diagnostics));
      REQUIRE(load.inventory);
      PlanOptions options;
      options.run_id = "r1";
      const Plan plan = test::buildPlan(*load.inventory, test::makeSnapshot(), options);
      CHECK(plan.fingerprint == test::buildPlan(*load.inventory, test::makeSnapshot(), options).fingerprint);
      std::string script;
      for (const auto& step : plan.steps) {
        for (const std::string* command : {&step.command, &step.check, &step.undo}) {
          if (!command->empty()) script += "( " + *command + "\n)\n";
        }
      }
      // One sh -n over all of them: each command is wrapped in its own subshell so they cannot run together.
      const std::string check = "/bin/sh -n -c " + shellQuote(script) + " 2>&1";
      FILE* pipe = popen(check.c_str(), "r");
      REQUIRE(pipe);
      std::string output;
      char buffer[512];
      while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
      const int status = pclose(pipe);
      INFO(output);
      CHECK(status == 0);
      CHECK(output.empty());
    }
    ++planned;
  }
  CHECK(planned >= 3);
}
