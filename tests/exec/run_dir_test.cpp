// The run directory: creation and opening, atomic writes, run info, run ids, step log names, listing runs.
#include "exec/run_dir.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include "fixtures/temp_dir.h"

namespace fs = std::filesystem;
using namespace dr;

namespace {

using dr::test::TempDir;

std::set<std::string> namesIn(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

}  // namespace

TEST_CASE("create makes the run's layout and refuses an existing run", "[rundir]") {
  TempDir tmp;
  fs::path root = tmp.path / "runs";  // created on demand
  auto run = RunDirectory::create(root, "20261123-091500-a1b2c3");
  REQUIRE(run.ok());
  CHECK(run->path() == root / "20261123-091500-a1b2c3");
  CHECK(run->runId() == "20261123-091500-a1b2c3");
  CHECK(fs::is_directory(run->path() / "logs"));
  CHECK(fs::is_directory(run->reportDir()));
  CHECK(run->journalPath() == run->path() / "journal");
  CHECK(run->planPath() == run->path() / "plan.json");
  CHECK(run->runInfoPath() == run->path() / "run.json");

  auto again = RunDirectory::create(root, "20261123-091500-a1b2c3");
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains("exists already") && Catch::Contains(run->path().string()));
}

TEST_CASE("open finds an existing run and names the path it looked for when missing", "[rundir]") {
  TempDir tmp;
  REQUIRE(RunDirectory::create(tmp.path, "run-a").ok());
  auto opened = RunDirectory::open(tmp.path, "run-a");
  REQUIRE(opened.ok());
  CHECK(opened->path() == tmp.path / "run-a");

  auto missing = RunDirectory::open(tmp.path, "run-b");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains((tmp.path / "run-b").string()) &&
                                          Catch::Contains("no such run") && Catch::Contains("run-a"));
  auto no_root = RunDirectory::open(tmp.path / "nowhere", "run-a");
  REQUIRE_FALSE(no_root.ok());
  CHECK_THAT(no_root.error().message, Catch::Contains((tmp.path / "nowhere" / "run-a").string()));
}

TEST_CASE("run ids that could escape the runs root are refused", "[rundir]") {
  TempDir tmp;
  for (const std::string& bad :
       std::vector<std::string>{"", "..", "../etc", "a/b", ".hidden", "with space", std::string(129, 'x')}) {
    INFO("id '" << bad << "'");
    CHECK_FALSE(validateRunId(bad).ok());
    CHECK_FALSE(RunDirectory::create(tmp.path, bad).ok());
    CHECK_FALSE(RunDirectory::open(tmp.path, bad).ok());
  }
  CHECK(validateRunId("20261123-091500-a1b2c3").ok());
  CHECK(validateRunId("game_day.1").ok());
  CHECK(namesIn(tmp.path).empty());
}

TEST_CASE("atomic writes replace whole files and leave no temp files behind", "[rundir]") {
  TempDir tmp;
  auto run = RunDirectory::create(tmp.path, "r");
  REQUIRE(run.ok());
  REQUIRE(run->writeFileAtomically("plan.json", "{\"v\":1}").ok());
  CHECK(run->readFile("plan.json").value() == "{\"v\":1}");
  REQUIRE(run->writeFileAtomically("plan.json", "{\"v\":2}").ok());
  CHECK(run->readFile("plan.json").value() == "{\"v\":2}");
  REQUIRE(run->writeFileAtomically("report/summary.md", "# done\n").ok());
  CHECK(run->readFile("report/summary.md").value() == "# done\n");
  REQUIRE(run->writeFileAtomically("empty", "").ok());
  CHECK(run->readFile("empty").value().empty());
  CHECK(namesIn(run->path()) == std::set<std::string>{"empty", "logs", "plan.json", "report"});
  CHECK(namesIn(run->reportDir()) == std::set<std::string>{"summary.md"});

  // A write that cannot happen fails with the path and leaves nothing behind.
  auto no_dir = run->writeFileAtomically("missing-dir/file", "x");
  REQUIRE_FALSE(no_dir.ok());
  CHECK_THAT(no_dir.error().message, Catch::Contains("missing-dir"));
  CHECK(namesIn(run->path()).size() == 4);
}

TEST_CASE("file names outside the run directory are refused", "[rundir]") {
  TempDir tmp;
  auto run = RunDirectory::create(tmp.path, "r");
  REQUIRE(run.ok());
  for (const char* bad : {"../escape", "/etc/passwd", "report/../../x", "", "./plan.json"}) {
    INFO(bad);
    CHECK_FALSE(run->writeFileAtomically(bad, "x").ok());
    CHECK_FALSE(run->readFile(bad).ok());
  }
  CHECK_FALSE(fs::exists(tmp.path / "escape"));
  auto missing = run->readFile("nope.json");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains((run->path() / "nope.json").string()));
}

TEST_CASE("run info round trips through run.json; a damaged run.json is an error", "[rundir]") {
  TempDir tmp;
  auto run = RunDirectory::create(tmp.path, "r");
  REQUIRE(run.ok());
  RunInfo info;
  info.run_id = "r";
  info.cluster = "prod-east";
  info.inventory_path = "/etc/dr/inventory.yaml";
  info.snapshot_path = "/backups/snap \"1\".db";
  info.plan_template = "full-restore";
  info.fingerprint = "deadbeef";
  info.created_ms = 1795000000123;
  info.options.per_host = 3;
  info.options.accept_new_host_keys = true;
  info.options.token = "prod-east-r-0a1b2c3d";
  info.options.started_by = "drd";
  REQUIRE(run->writeRunInfo(info).ok());
  auto back = run->readRunInfo();
  REQUIRE(back.ok());
  CHECK(*back == info);

  REQUIRE(run->writeFileAtomically("run.json", "{\"cluster\": 5").ok());
  auto damaged = run->readRunInfo();
  REQUIRE_FALSE(damaged.ok());
  CHECK_THAT(damaged.error().message, Catch::Contains("run.json"));
  REQUIRE(run->writeFileAtomically("run.json", "{\"cluster\": \"c\"}").ok());
  auto no_id = run->readRunInfo();
  REQUIRE_FALSE(no_id.ok());
  CHECK_THAT(no_id.error().message, Catch::Contains("run_id"));
}

TEST_CASE("step ids become safe, distinct file names", "[rundir]") {
  TempDir tmp;
  auto run = RunDirectory::create(tmp.path, "r");
  REQUIRE(run.ok());
  std::vector<std::string> ids = {"restore@etcd-1",
                                  "restore/etcd-1",
                                  "restore etcd-1",
                                  "restore%40etcd-1",
                                  "restore_etcd-1",
                                  "..",
                                  ".",
                                  "",
                                  "a.b",
                                  "\xff\x01",
                                  "start-etcd@10.0.0.1:2379",
                                  std::string(300, 'a'),
                                  std::string(300, 'a') + "b",
                                  std::string(100, '/'),
                                  std::string(100, '@')};
  std::set<std::string> names;
  for (const auto& id : ids) {
    std::string name = stepFileName(id);
    INFO("id '" << id << "' -> '" << name << "'");
    CHECK(name.size() <= 200);
    CHECK(name.find('/') == std::string::npos);
    CHECK(name != ".");
    CHECK(name != "..");
    CHECK_FALSE(name.empty());
    CHECK(std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._-%~").find(c) != std::string_view::npos;
    }));
    names.insert(name);
    fs::path log = run->stepLogPath(id);
    CHECK(log.parent_path() == run->path() / "logs");
    std::ofstream(log) << id;
  }
  CHECK(names.size() == ids.size());
  CHECK(namesIn(run->path() / "logs").size() == ids.size());  // really distinct files, all inside logs/
  CHECK(stepFileName("restore@etcd-1") == "restore%40etcd-1");
  CHECK(stepFileName("stop-etcd") == "stop-etcd");
}

TEST_CASE("new run ids are UTC timestamps with a random suffix", "[rundir]") {
  std::string a = newRunId();
  std::string b = newRunId();
  CHECK(std::regex_match(a, std::regex(R"(\d{8}-\d{6}-[0-9a-f]{6})")));
  CHECK(a != b);
  CHECK(validateRunId(a).ok());
}

TEST_CASE("listRuns lists run directories sorted and nothing else", "[rundir]") {
  TempDir tmp;
  auto none = listRuns(tmp.path / "absent");
  REQUIRE(none.ok());
  CHECK(none->empty());
  for (const char* id : {"20261123-100000-bbbbbb", "20261123-090000-aaaaaa", "20261124-000000-cccccc"}) {
    REQUIRE(RunDirectory::create(tmp.path, id).ok());
  }
  fs::create_directories(tmp.path / "locks");
  fs::create_directories(tmp.path / ".tmp-thing");
  std::ofstream(tmp.path / "stray-file") << "x";
  auto runs = listRuns(tmp.path);
  REQUIRE(runs.ok());
  CHECK(*runs ==
        std::vector<std::string>{"20261123-090000-aaaaaa", "20261123-100000-bbbbbb", "20261124-000000-cccccc"});
  auto not_dir = listRuns(tmp.path / "stray-file");
  REQUIRE_FALSE(not_dir.ok());
  CHECK_THAT(not_dir.error().message, Catch::Contains("not a directory"));
}

TEST_CASE("run.json's options are typed; an older run.json's string options still read; bad ones are refused",
          "[rundir]") {
  TempDir tmp;
  auto run = RunDirectory::create(tmp.path, "r");
  REQUIRE(run.ok());
  const std::string written = runInfoToJson([] {
    RunInfo info;
    info.run_id = "r";
    info.options.per_host = 4;
    info.options.accept_new_host_keys = true;
    return info;
  }());
  CHECK_THAT(written, Catch::Contains("\"per_host\": 4"));
  CHECK_THAT(written, Catch::Contains("\"accept_new_host_keys\": true"));
  CHECK_THAT(written, !Catch::Contains("replace_members"));  // only a replacement's run.json names members

  // A replacement's members come back as they were written: a resume re-plans with them.
  RunInfo replacing;
  replacing.run_id = "r";
  replacing.options.replace_members = {"lab-2", "lab-3"};
  REQUIRE(run->writeRunInfo(replacing).ok());
  auto read_back = run->readRunInfo();
  REQUIRE(read_back.ok());
  CHECK(read_back->options.replace_members == std::vector<std::string>{"lab-2", "lab-3"});
  CHECK(*read_back == replacing);
  CHECK_FALSE(read_back->options.disarm_alarms);

  // So does the operator's --disarm-alarms (the plan's verify-etcd differs with it).
  RunInfo disarming;
  disarming.run_id = "r";
  disarming.options.disarm_alarms = true;
  REQUIRE(run->writeRunInfo(disarming).ok());
  read_back = run->readRunInfo();
  REQUIRE(read_back.ok());
  CHECK(read_back->options.disarm_alarms);
  CHECK(read_back->options.members_fetch.empty());

  // And --members-fetch's bucket URL (the members fetch from it again on a resume).
  RunInfo fetching;
  fetching.run_id = "r";
  fetching.options.members_fetch = "s3://etcd-backups/prod/nightly.db";
  REQUIRE(run->writeRunInfo(fetching).ok());
  read_back = run->readRunInfo();
  REQUIRE(read_back.ok());
  CHECK(*read_back == fetching);

  REQUIRE(run->writeFileAtomically("run.json", R"({"run_id": "r", "options": {"per_host": "3",
      "accept_new_host_keys": "true", "token": "c-r-01234567"}})")
              .ok());
  auto legacy = run->readRunInfo();
  REQUIRE(legacy.ok());
  CHECK(legacy->options.per_host == 3);
  CHECK(legacy->options.accept_new_host_keys);
  CHECK(legacy->options.token == "c-r-01234567");

  for (const char* bad : {R"({"run_id": "r", "options": {"per_host": "3x"}})",
                          R"({"run_id": "r", "options": {"per_host": 0}})",
                          R"({"run_id": "r", "options": {"accept_new_host_keys": "yes"}})",
                          R"({"run_id": "r", "options": {"token": 5}})",
                          R"({"run_id": "r", "options": {"replace_members": "lab-2"}})",
                          R"({"run_id": "r", "options": {"replace_members": ["lab-2", 3]}})",
                          R"({"run_id": "r", "options": {"disarm_alarms": "yes"}})",
                          R"({"run_id": "r", "options": {"members_fetch": 1}})"}) {
    INFO(bad);
    REQUIRE(run->writeFileAtomically("run.json", bad).ok());
    auto refused = run->readRunInfo();
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("options."));
  }
}
