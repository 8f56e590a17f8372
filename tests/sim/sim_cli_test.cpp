// `drctl sim` run as a program: the summary, exit 1 with the invariant, seed and trace for a wrong plan, the
// replay of that seed with its self-check, `--mutate` ending in "mutants caught: K/N", and bad input exiting 2.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "fixtures/etcd_fixture.h"
#include "sim_support.h"

namespace dr::sim {
namespace {

test::ProgramOutput drctl(std::vector<std::string> args) {
  args.insert(args.begin(), std::string(DR_BINARY_DIR) + "/orchestrator/drctl");
  return test::runProgram(args);
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("drctl sim passes full-restore and prints what it explored", "[sim][cli]") {
  test::SimPlan p(3);
  const auto out = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "--orders", "20"});
  INFO(out.output);
  CHECK(out.exit_code == 0);
  CHECK_THAT(out.output, Catch::Contains("orders explored:") && Catch::Contains("crash points:       120") &&
                          Catch::Contains("faults:             240") && Catch::Contains("invariants checked: 20") &&
                          Catch::Contains("violations:         0") && Catch::Contains("states/s"));
}

TEST_CASE("drctl sim catches a plan that starts the API servers before etcd is verified, and replays it", "[sim][cli]") {
  test::SimPlan p(3);
  // The built-in plan with start-apiserver waiting for the members' start instead of the verification.
  std::string yaml = slurp(std::string(DR_SOURCE_DIR) + "/plans/full-restore.yaml");
  const std::string needs = "    needs: [verify-etcd, all:stop-component, all:restart-kubelet]\n";
  const auto at = yaml.find(needs);
  REQUIRE(at != std::string::npos);
  yaml.replace(at, needs.size(), "    needs: [all:start-etcd]\n");
  const auto bad = p.dir.path / "bad-plan.yaml";
  std::ofstream(bad) << yaml;

  const auto out = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "-p", bad.string(), "--orders", "10"});
  INFO(out.output);
  CHECK(out.exit_code == 1);
  CHECK_THAT(out.output, Catch::Contains("VIOLATION verified-before-api: API servers start only after etcd is verified healthy"));
  CHECK_THAT(out.output, Catch::Contains("trace (the shortest found"));
  std::smatch seed;
  REQUIRE(std::regex_search(out.output, seed, std::regex("--replay (0x[0-9a-f]{16})")));

  const auto replay = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "-p", bad.string(), "--replay", seed[1].str()});
  INFO(replay.output);
  CHECK(replay.exit_code == 1);
  CHECK_THAT(replay.output, Catch::Contains("VIOLATION verified-before-api") &&
                             Catch::Contains("self-check: a second run of the same seed gave the same trace hash"));
  // The unmodified plan replays the same seed cleanly.
  const auto good = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "--replay", seed[1].str()});
  CHECK(good.exit_code == 0);
  CHECK_THAT(good.output, Catch::Contains("no violation"));
}

TEST_CASE("drctl sim --mutate catches every built-in mutant", "[sim][cli][mutants]") {
  test::SimPlan p(3);
  const auto out = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "--orders", "20", "--mutate"});
  INFO(out.output);
  CHECK(out.exit_code == 0);
  std::smatch caught;
  REQUIRE(std::regex_search(out.output, caught, std::regex("mutants caught: (\\d+)/(\\d+)")));
  CHECK(caught[1] == caught[2]);
  CHECK(std::stoi(caught[2]) >= 25);
  CHECK(out.output.find("SURVIVED") == std::string::npos);
}

TEST_CASE("drctl sim refuses bad input with exit 2", "[sim][cli]") {
  test::SimPlan p(1);
  auto missing = drctl({"sim", "-i", (p.dir.path / "nope.yaml").string(), "-s", p.snapshot_path.string()});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::Contains("nope.yaml"));
  auto seed = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "--replay", "banana"});
  CHECK(seed.exit_code == 2);
  CHECK_THAT(seed.output, Catch::Contains("'banana' is not a seed"));
  auto kind = drctl({"sim", "-i", p.inventory_path.string(), "-s", p.snapshot_path.string(), "--replay", "0xc000000000000000"});
  CHECK(kind.exit_code == 2);
  CHECK_THAT(kind.output, Catch::Contains("unknown scenario kind"));
}

}  // namespace
}  // namespace dr::sim
