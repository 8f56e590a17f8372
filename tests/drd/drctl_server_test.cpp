// `drctl --server` against a real drd: plan, apply (with live progress), status, resume and rollback give the
// local command's output and exit codes; drd's runs are readable by the local `drctl status --runs` too.
#include <nlohmann/json.hpp>

#include <regex>

#include "core/utf8.h"
#include "drd_test_support.h"
#include "fixtures/drd_fixture.h"
#include "fixtures/etcd_fixture.h"

namespace fs = std::filesystem;
using namespace dr::test;

namespace {

struct Served {
  RunSandbox box;
  DrdProcess drd{kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir}, box.root() / "drd.log"};
  std::string address;
  Served() {
    auto listening = drd.waitListening();
    INFO(drd.log());
    REQUIRE(listening);
    address = *listening;
  }
  ProgramOutput drctl(std::vector<std::string> args) const {
    std::vector<std::string> argv{kDrctlBinary, "--server", address};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv);
  }
  std::vector<std::string> applyArgs(const std::string& cluster = "drd-test") const {
    return {"apply",         "-i",   box.inventory(cluster).string(), "-s", box.snapshot().string(), "-p",
            kLocalStepsPlan, "--yes"};
  }
};

// The run id in "run 20261123-120000-a1b2c3: 6 steps, journal ...".
std::string runIdIn(const std::string& output) {
  std::smatch match;
  REQUIRE(std::regex_search(output, match, std::regex("run ([0-9]{8}-[0-9]{6}-[0-9a-f]+): ")));
  return match[1];
}

}  // namespace

TEST_CASE("drctl --server apply shows live progress and ends like a local apply", "[drd][drctl]") {
  Served s;
  const auto applied = s.drctl(s.applyArgs());
  INFO(applied.output);
  REQUIRE(applied.exit_code == 0);
  const std::string id = runIdIn(applied.output);
  CHECK_THAT(applied.output, Catch::Contains("127.0.0.1: one@m1 started"));
  CHECK_THAT(applied.output, Catch::Contains("127.0.0.1: four@m1 done in"));
  CHECK_THAT(applied.output, Catch::Contains("run " + id + " finished: 6 steps"));

  const auto listed = s.drctl({"status"});
  CHECK(listed.exit_code == 0);
  CHECK_THAT(listed.output, Catch::Contains(id));
  CHECK_THAT(listed.output, Catch::Contains("6/6"));
  const auto shown = s.drctl({"status", id});
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.output, Catch::Contains("6 of 6 steps done"));
  CHECK_THAT(shown.output, Catch::Contains("state: finished"));

  // The same run directory layout as drctl's: the local command reads drd's runs.
  const auto local = runProgram({kDrctlBinary, "status", id, "--runs", s.box.runs().string()});
  CHECK(local.exit_code == 0);
  CHECK_THAT(local.output, Catch::Contains("6 of 6 steps done"));

  const auto json = s.drctl({"apply", "-i", s.box.inventory("json").string(), "-s", s.box.snapshot().string(), "-p",
                             kLocalStepsPlan, "--yes", "--log-format", "json"});
  CHECK(json.exit_code == 0);
  CHECK_THAT(json.output, Catch::Contains("\"event\":\"step-finished\""));
  CHECK_THAT(json.output, Catch::Contains("\"event\":\"run-ended\""));
}

TEST_CASE("drctl --server: a failed run exits 1 with the resume command; a changed plan refuses resume",
          "[drd][drctl]") {
  Served s;
  // `four` starts the service with `false`: the run fails there.
  const fs::path inventory = s.box.inventory("failing");
  std::string text = readText(inventory);
  const std::string touch = "start: touch";
  text.replace(text.find(touch), touch.size(), "start: false && touch");
  writeText(inventory, text);
  const auto failed =
      s.drctl({"apply", "-i", inventory.string(), "-s", s.box.snapshot().string(), "-p", kLocalStepsPlan, "--yes"});
  INFO(failed.output);
  REQUIRE(failed.exit_code == 1);
  const std::string id = runIdIn(failed.output);
  CHECK_THAT(failed.output, Catch::Contains("FAILED"));
  CHECK_THAT(failed.output, Catch::Contains("drctl --server " + s.address + " resume " + id));

  s.box.inventory("failing");  // the inventory as it was: the plan's `four` command changes
  const auto refused = s.drctl({"resume", id});
  INFO(refused.output);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.output, Catch::Contains("the plan changed since run " + id));
  const auto forced = s.drctl({"resume", id, "--force"});
  INFO(forced.output);
  CHECK(forced.exit_code == 0);
  CHECK_THAT(forced.output, Catch::Contains("resuming run " + id + ": 5 of 6 steps already done"));

  const auto rolled = s.drctl({"rollback", id, "--yes"});
  INFO(rolled.output);
  CHECK(rolled.exit_code == 0);
  CHECK_FALSE(fs::exists(s.box.memberDir("failing") / "one.moved"));
}

TEST_CASE("drctl --server reports bad input as the local command does", "[drd][drctl]") {
  Served s;
  const fs::path bad = s.box.root() / "bad.yaml";
  writeText(bad, "cluster: x\nmembers:\n  - name: m1\n    adress: 127.0.0.1\n");
  const auto plan = s.drctl({"plan", "-i", bad.string(), "-s", s.box.snapshot().string()});
  CHECK(plan.exit_code == 2);
  CHECK_THAT(plan.output, Catch::Contains(bad.string() + ":4:"));
  const auto apply = s.drctl({"apply", "-i", bad.string(), "-s", s.box.snapshot().string(), "--yes"});
  CHECK(apply.exit_code == 2);
  CHECK_THAT(apply.output, Catch::Contains(bad.string() + ":4:"));
  const auto unknown = s.drctl({"status", "20990101-000000-abcdef"});
  CHECK(unknown.exit_code == 2);
  const auto no_terminal = s.drctl({"apply", "-i", s.box.inventory().string(), "-s", s.box.snapshot().string()});
  CHECK(no_terminal.exit_code == 2);
  CHECK_THAT(no_terminal.output, Catch::Contains("pass --yes"));
  const auto validate = s.drctl({"validate", "-i", bad.string()});
  CHECK(validate.exit_code == 2);
  CHECK_THAT(validate.output, Catch::Contains("--server works with plan, apply, resume, rollback and status"));
  const auto json = s.drctl(
      {"plan", "-i", s.box.inventory().string(), "-s", s.box.snapshot().string(), "-p", kLocalStepsPlan, "-o", "json"});
  CHECK(json.exit_code == 0);
  CHECK_THAT(json.output, Catch::Contains("\"fingerprint\""));
  const auto tcp = runProgram({kDrctlBinary, "--server", "tcp://127.0.0.1:1", "status"});
  CHECK(tcp.exit_code == 2);
  CHECK_THAT(tcp.output, Catch::Contains("requires mutual TLS"));
  const auto dead = runProgram({kDrctlBinary, "--server", "unix://" + (s.box.root() / "none.sock").string(), "status"});
  CHECK(dead.exit_code == 1);
  CHECK_THAT(dead.output, Catch::Contains("cannot reach drd"));
}

TEST_CASE("drctl --server apply --dry-run prints the dry-run report and writes nothing", "[drd][drctl]") {
  Served s;
  const auto dry = s.drctl(
      {"apply", "-i", s.box.inventory().string(), "-s", s.box.snapshot().string(), "-p", kLocalStepsPlan, "--dry-run"});
  INFO(dry.output);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.output, Catch::Contains("Dry run passed"));
  CHECK_FALSE(fs::exists(s.box.memberDir("drd-test") / "one"));
  int runs = 0;
  for (const auto& entry : fs::directory_iterator(s.box.runs())) runs += entry.path().filename() != "locks" ? 1 : 0;
  CHECK(runs == 0);
}

TEST_CASE("drctl --server: a path and a step's output that are not UTF-8 get a whole answer, in valid UTF-8",
          "[drd][drctl]") {
  Served s;
  // A proto3 string must be UTF-8: a request with this path, or an event quoting that output, would not parse.
  const fs::path snapshot = s.box.root() / "snap\xff.db";
  fs::copy_file(s.box.snapshot(), snapshot);
  const fs::path inventory = s.box.inventory("utf8");
  std::string text = readText(inventory);
  const std::string touch = "start: touch";
  text.replace(text.find(touch), touch.size(), "start: printf 'bad \\377\\376 bytes\\n' && false && touch");
  writeText(inventory, text);

  const auto plan = s.drctl({"plan", "-i", inventory.string(), "-s", snapshot.string(), "-p", kLocalStepsPlan});
  INFO(plan.output);
  CHECK(plan.exit_code == 0);
  CHECK(dr::isValidUtf8(plan.output));
  CHECK_THAT(plan.output, Catch::Contains("snap\uFFFD.db"));

  // Under `timeout`: drctl used to wait forever for the end of a run whose events it could not parse.
  const auto applied = runProgram({"/usr/bin/timeout", "20", kDrctlBinary, "--server", s.address, "apply", "-i",
                                   inventory.string(), "-s", snapshot.string(), "-p", kLocalStepsPlan, "--yes",
                                   "--log-format", "json"});
  INFO(applied.output);
  CHECK(applied.exit_code == 1);  // `four` failed, and drctl followed the run to its end
  CHECK(dr::isValidUtf8(applied.output));
  std::istringstream lines(applied.output);
  std::string line;
  nlohmann::json end;
  while (std::getline(lines, line)) {
    if (!line.starts_with('{')) continue;  // stderr's notes
    const auto event = nlohmann::json::parse(line);
    if (event.at("event") == "run-ended") end = event;
  }
  REQUIRE(end.is_object());
  CHECK_THAT(end.at("reason").get<std::string>(), Catch::Contains("exit code 1: bad \uFFFD\uFFFD bytes"));

  const auto status = s.drctl({"status", end.at("run_id").get<std::string>()});
  INFO(status.output);
  CHECK(status.exit_code == 0);
  CHECK(dr::isValidUtf8(status.output));
  CHECK_THAT(status.output, Catch::Contains("bad \uFFFD\uFFFD bytes"));
}
