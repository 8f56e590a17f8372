// Hostile inventory values cannot inject: the planner's commands are actually run by /bin/sh in a temp dir, and
// the value comes out literally while nothing it tries to run happens. Also runs the real swap-data-dir commands
// (run, run again, check, undo) on a temp dir whose path is hostile.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/shell.h"
#include "plan/planner.h"
#include "plan_test_support.h"
#include "fixtures/temp_dir.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {

using dr::test::TempDir;

struct ShellRun {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with /bin/sh -c in `dir`, capturing stdout and stderr.
ShellRun runShell(const std::string& command, const fs::path& dir) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (chdir(dir.c_str()) != 0) _exit(126);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  ShellRun run;
  std::array<char, 4096> buffer;
  ssize_t n;
  while ((n = read(fds[0], buffer.data(), buffer.size())) > 0) run.output.append(buffer.data(), static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

PlanTemplate echoTemplate() {
  auto load = parsePlanTemplate(R"YAML(name: echo
steps:
  - id: say
    foreach: etcd_members
    run: echo ${member.name} ${member.data_dir} ${cluster.initial_cluster}
  - id: restore
    foreach: etcd_members
    run: ${member.restore_command}
)YAML",
                                "echo.yaml");
  REQUIRE(load.plan_template);
  return *load.plan_template;
}

const std::vector<std::string> kHostile = {
    "x;touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    "a'b;touch pwned;'",
    "\"$(touch pwned)\"",
    "x\ntouch pwned",
    "x && touch pwned",
    "x | touch pwned",
    "$HOME*",
};

}  // namespace

TEST_CASE("hostile member names are echoed literally and never run", "[quoting]") {
  const PlanTemplate t = echoTemplate();
  for (const auto& hostile : kHostile) {
    DYNAMIC_SECTION("name " << hostile) {
      TempDir dir;
      Inventory inventory = test::makeInventory(1, 0);
      inventory.members[0].name = hostile;
      inventory.members[0].data_dir = "/var/lib/" + hostile;
      inventory.tooling.etcdctl = "echo";  // the restore command becomes an echo of all its arguments
      const Plan plan = test::buildPlan(inventory, test::makeSnapshot(), {}, t);

      const auto said = runShell(plan.steps[0].command, dir.path);
      CHECK(said.exit_code == 0);
      CHECK(said.output == hostile + " /var/lib/" + hostile + " " + hostile + "=https://10.0.0.1:2380\n");

      const auto restore = runShell(plan.steps[1].command, dir.path);
      CHECK(restore.exit_code == 0);
      CHECK(restore.output.find("--name " + hostile + " --initial-cluster") != std::string::npos);
      CHECK_FALSE(fs::exists(dir.path / "pwned"));
    }
  }
}

TEST_CASE("every command of full-restore parses with hostile values everywhere", "[quoting]") {
  Inventory inventory = test::makeInventory(3);
  inventory.cluster_name = "c;touch pwned";
  inventory.members[0].name = "$(touch pwned)";
  inventory.members[1].data_dir = "/var/lib/etcd 'x\"`touch pwned`";
  inventory.members[1].etcd_user = "u;touch pwned";
  inventory.members[2].service = {};
  inventory.members[2].service.kind = ServiceKind::StaticPod;
  inventory.members[2].service.manifest = "/m/$(touch pwned).yaml";
  inventory.members[2].service.parked_dir = "/p/a b";
  inventory.members[2].service.container_name = "e'tcd";
  inventory.api_servers[0].readyz_url = "https://x/readyz;touch pwned";
  SnapshotInfo snapshot = test::makeSnapshot();
  snapshot.path = "/backup/$(touch pwned).db";
  PlanOptions options;
  options.token = "t';touch pwned;'";
  const Plan plan = test::buildPlan(inventory, snapshot, options);
  TempDir dir;
  for (const auto& step : plan.steps) {
    for (const std::string* command : {&step.command, &step.check, &step.undo}) {
      if (command->empty()) continue;
      INFO(step.id << ":\n" << *command);
      const auto parsed = runShell("/bin/sh -n -c " + shellQuote(*command), dir.path);
      CHECK(parsed.exit_code == 0);
      CHECK(parsed.output.empty());
    }
  }
  CHECK_FALSE(fs::exists(dir.path / "pwned"));
}

TEST_CASE("swap-data-dir swaps, resumes, checks and undoes on a real dir, never deleting", "[quoting]") {
  TempDir dir;
  const fs::path data = dir.path / "data $(touch pwned) 'q'";
  Inventory inventory = test::makeInventory(1, 0);
  inventory.members[0].data_dir = data.string();
  inventory.members[0].etcd_user = runShell("id -un", dir.path).output;
  inventory.members[0].etcd_user.pop_back();
  inventory.members[0].etcd_group = runShell("id -gn", dir.path).output;
  inventory.members[0].etcd_group.pop_back();
  PlanOptions options;
  options.run_id = "r7";
  const Plan plan = test::buildPlan(inventory, test::makeSnapshot(), options);
  const Step* swap = plan.find("swap-data-dir@etcd-1");
  REQUIRE(swap);
  INFO(swap->command);

  const fs::path restored = data.string() + ".restore-r7";
  const fs::path old = data.string() + ".before-r7";
  fs::create_directories(data / "member/snap");
  std::ofstream(data / "member/snap/db") << "old";
  // What the restore step leaves: the restored dir, marked with the run that restored it.
  auto restoreDone = [&] {
    fs::create_directories(restored / "member/snap");
    std::ofstream(restored / "member/snap/db") << "new";
    std::ofstream(restored / "member/etcd-dr-run") << "r7\n";
  };
  restoreDone();

  CHECK(runShell(swap->check, dir.path).exit_code != 0);  // not swapped yet, though the old dir holds a db too
  auto first = runShell(swap->command, dir.path);
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  auto readDb = [](const fs::path& d) {
    std::ifstream in(d / "member/snap/db");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  CHECK(readDb(data) == "new");
  CHECK(readDb(old) == "old");
  CHECK_FALSE(fs::exists(restored));
  CHECK(runShell(swap->check, dir.path).exit_code == 0);

  // Run again (a retry or a resume): nothing moves, still fine.
  CHECK(runShell(swap->command, dir.path).exit_code == 0);
  CHECK(readDb(data) == "new");
  CHECK(readDb(old) == "old");

  // Undo puts the old data back where etcd expects it, and the restored data back in its own dir.
  auto undo = runShell(swap->undo, dir.path);
  INFO(undo.output);
  CHECK(undo.exit_code == 0);
  CHECK(readDb(data) == "old");
  CHECK(readDb(restored) == "new");
  CHECK_FALSE(fs::exists(old));

  // A resume that finds the swap half done (old moved aside, restored not yet in place) completes it.
  fs::rename(data, old);
  CHECK(runShell(swap->command, dir.path).exit_code == 0);
  CHECK(readDb(data) == "new");
  CHECK(readDb(old) == "old");

  // Undone again, then once more with the restore gone: the second undo finds in place a data dir without the run's
  // mark (the old one) and leaves it there.
  CHECK(runShell(swap->undo, dir.path).exit_code == 0);
  CHECK(readDb(data) == "old");
  fs::remove_all(restored);
  CHECK(runShell(swap->undo, dir.path).exit_code == 0);
  CHECK(readDb(data) == "old");
  CHECK_FALSE(fs::exists(restored));

  // A new host (no data dir at all): the restore is put in place with nothing set aside, the check knows it by the
  // run's mark, and the undo leaves the host without a data dir, as it was.
  fs::remove_all(data);
  fs::remove_all(old);
  restoreDone();
  CHECK(runShell(swap->check, dir.path).exit_code != 0);
  auto fresh = runShell(swap->command, dir.path);
  INFO(fresh.output);
  REQUIRE(fresh.exit_code == 0);
  CHECK_THAT(fresh.output, Catch::Contains("no old data dir on etcd-1: a new host"));
  CHECK(readDb(data) == "new");
  CHECK_FALSE(fs::exists(old));
  CHECK(runShell(swap->check, dir.path).exit_code == 0);
  CHECK(runShell(swap->undo, dir.path).exit_code == 0);
  CHECK_FALSE(fs::exists(data));
  CHECK(readDb(restored) == "new");  // the restore step's undo removes it
  CHECK_FALSE(fs::exists(dir.path / "pwned"));
}

TEST_CASE("an unexpected layout makes swap-data-dir fail without moving or deleting anything", "[quoting]") {
  TempDir dir;
  const fs::path data = dir.path / "etcd";
  Inventory inventory = test::makeInventory(1, 0);
  inventory.members[0].data_dir = data.string();
  inventory.members[0].etcd_user = "root";
  inventory.members[0].etcd_group = "root";
  PlanOptions options;
  options.run_id = "r8";
  const Plan plan = test::buildPlan(inventory, test::makeSnapshot(), options);
  const Step* swap = plan.find("swap-data-dir@etcd-1");
  // A leftover .before-r8 from someone else: the current data must stay where it is.
  fs::create_directories(data / "member/snap");
  fs::create_directories(data.string() + ".before-r8");
  fs::create_directories(data.string() + ".restore-r8/member/snap");
  CHECK(runShell(swap->command, dir.path).exit_code != 0);
  CHECK(fs::exists(data / "member/snap"));
  CHECK(fs::exists(data.string() + ".restore-r8/member/snap"));
  CHECK(fs::is_empty(data.string() + ".before-r8"));
}

TEST_CASE("the snapshot's SHA-256 is verified on the host by the upload check and again by the restore", "[quoting]") {
  TempDir dir;
  Inventory inventory = test::makeInventory(1, 0);
  inventory.members[0].data_dir = (dir.path / "data").string();
  PlanOptions options;
  options.remote_snapshot_dir = (dir.path / "staging").string();
  options.run_id = "r9";
  SnapshotInfo snapshot = test::makeSnapshot();
  snapshot.sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";  // sha256("hello\n")
  const Plan plan = test::buildPlan(inventory, snapshot, options);
  const Step* upload = plan.find("upload-snapshot@etcd-1");
  const Step* restore = plan.find("restore@etcd-1");
  REQUIRE(upload);
  REQUIRE(restore);
  // The transfer itself is verified by the transport (staged, hashed on the host, renamed only on a match); the
  // step runs no command that would read the file once more.
  CHECK(upload->upload.has_value());
  CHECK(upload->command.empty());
  fs::create_directories(dir.path / "staging/r9/etcd-1");
  std::ofstream(dir.path / "staging/r9/etcd-1/snapshot.db") << "hello\n";
  CHECK(runShell(upload->check, dir.path).exit_code == 0);
  std::ofstream(dir.path / "staging/r9/etcd-1/snapshot.db") << "hellO\n";
  CHECK(runShell(upload->check, dir.path).exit_code != 0);
  // A file changed after the upload is refused by the restore before it touches anything.
  CHECK(runShell(restore->command, dir.path).exit_code != 0);
  CHECK(restore->command.find("sha256sum") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "data.restore-r9"));
  CHECK_FALSE(fs::exists(dir.path / "data.restore-r9.partial"));
}
