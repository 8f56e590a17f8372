// `drctl report RUN_ID [--runs DIR] [-o DIR]` end to end: the real binary over a hand-built run directory.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include "report_test_support.h"

using namespace dr;
using namespace dr::test;
namespace fs = std::filesystem;

namespace {

struct Ran {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Ran drctl(const std::string& arguments) {
  const fs::path binary = fs::path(DR_BINARY_DIR) / "orchestrator" / "drctl";
  REQUIRE(fs::exists(binary));  // built by the default target: `ninja -C BUILD drctl`
  const std::string command = "'" + binary.string() + "' " + arguments + " 2>&1";
  Ran ran;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) ran.output.append(buffer, n);
  const int status = ::pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

}  // namespace

TEST_CASE("drctl report writes the four files into the run's report dir or into -o", "[report][cli]") {
  TempDir tmp;
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, plan.steps.size());
  script.end(RecordType::RunFinished, 11300);
  const fs::path runs = tmp.path() / "runs";
  const auto run = writeRun(runs, "run-7", plan, script.records);

  Ran ran = drctl("report run-7 --runs '" + runs.string() + "'");
  INFO(ran.output);
  CHECK(ran.exit_code == 0);
  CHECK(ran.output.find("run run-7: succeeded, RTO 10.090 s") != std::string::npos);
  for (const char* name : {"report.md", "report.json", "junit.xml", "timeline.svg"}) {
    CHECK(fs::exists(run.reportDir() / name));
  }

  const fs::path out = tmp.path() / "ci-artifacts" / "game-day";
  ran = drctl("report run-7 --runs '" + runs.string() + "' -o '" + out.string() + "'");
  CHECK(ran.exit_code == 0);
  CHECK(readText(out / "report.json") == readText(run.reportDir() / "report.json"));
  CHECK(xmlProblems(out / "junit.xml").empty());
}

TEST_CASE("drctl report: an unknown or malformed run id is bad input (exit 2); an unreadable run fails (exit 1)",
          "[report][cli][errors]") {
  TempDir tmp;
  const fs::path runs = tmp.path() / "runs";
  const Plan plan = samplePlan();
  writeRun(runs, "run-1", plan, {});

  Ran ran = drctl("report run-2 --runs '" + runs.string() + "'");
  CHECK(ran.exit_code == 2);
  CHECK(ran.output.find("no such run") != std::string::npos);
  CHECK(ran.output.find("run-1") != std::string::npos);  // it names the runs that do exist

  ran = drctl("report ../etc --runs '" + runs.string() + "'");
  CHECK(ran.exit_code == 2);

  ran = drctl("report --runs '" + runs.string() + "'");
  CHECK(ran.exit_code == 2);  // the run id is required

  fs::remove(runs / "run-1" / "plan.json");
  ran = drctl("report run-1 --runs '" + runs.string() + "'");
  CHECK(ran.exit_code == 1);
  CHECK(ran.output.find("plan.json") != std::string::npos);
}
