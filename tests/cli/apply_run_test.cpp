// drctl apply / resume / rollback / status on the real binary with the local transport: an inventory of one
// loopback member whose service is `command` kind and a small plan (tests/exec/plans/local-steps.yaml) whose steps
// leave files in a temp dir. Covers: a straight run, kill -9 after every journal record then resume, dry-run
// changing nothing, the lock refusing a second apply, SIGINT (exit 3, resumable), a changed inventory refusing
// resume (and --force proceeding), rollback restoring the tree.
#include <catch2/catch.hpp>

#include "fixtures/tiny_snapshot.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/sha256.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kDrctl = DR_BINARY_DIR "/orchestrator/drctl";
const std::string kPlan = DR_SOURCE_DIR "/tests/exec/plans/local-steps.yaml";

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeText(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A temp dir with an inventory, a snapshot and the member's data dir; removed at the end even when a check fails.
struct Sandbox {
  fs::path root;
  Sandbox() {
    root = fs::temp_directory_path() / ("dr-apply-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(root);
    fs::create_directories(root / "m1");
    dr::test::writeTinySnapshot(root / "snap.db");
    writeInventory("touch");
  }
  ~Sandbox() { fs::remove_all(root); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  void writeInventory(const std::string& start_verb) {
    const std::string dir = root.string();
    writeText(root / "inv.yaml", "cluster: apply-test\n"
                                 "defaults:\n  ssh: {user: root, become: none}\n  etcd_user: root\n  etcd_group: root\n"
                                 "members:\n  - name: m1\n    address: 127.0.0.1\n"
                                 "    peer_url: http://127.0.0.1:12380\n    client_url: http://127.0.0.1:12379\n"
                                 "    data_dir: " + dir + "/m1\n"
                                 "    service:\n      kind: command\n"
                                 "      start: " + start_verb + " " + dir + "/m1/started\n"
                                 "      stop: rm -f " + dir + "/m1/started\n"
                                 "      status: test -f " + dir + "/m1/started\n");
  }
  void slowSeconds(const std::string& seconds) { writeText(root / "slow-seconds", seconds + "\n"); }
  fs::path runs() const { return root / "runs"; }
  // path -> sha256 of every file (and "dir" for directories) under the member's data dir.
  std::map<std::string, std::string> memberTree() const { return tree(root / "m1"); }
  static std::map<std::string, std::string> tree(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      const auto rel = fs::relative(entry.path(), dir).string();
      out[rel] = entry.is_directory() ? "dir" : dr::sha256Hex(readText(entry.path()));
    }
    return out;
  }
  std::vector<std::string> runIds() const {
    std::vector<std::string> ids;
    if (!fs::exists(runs())) return ids;
    for (const auto& entry : fs::directory_iterator(runs())) {
      if (entry.path().filename() != "locks") ids.push_back(entry.path().filename().string());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
};

struct Child {
  pid_t pid = -1;
  fs::path out;
  fs::path err;
};

Child spawnDrctl(const Sandbox& box, const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  static int n = 0;
  Child child;
  child.out = box.root / ("out-" + std::to_string(++n));
  child.err = box.root / ("err-" + std::to_string(n));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, child.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, child.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, box.root.c_str());
  std::vector<std::string> argv_s{kDrctl};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  REQUIRE(posix_spawn(&child.pid, kDrctl.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);
  return child;
}

struct Finished {
  int code = -1;  // exit code, or -signal
  std::string out;
  std::string err;
};

Finished wait(const Child& child) {
  int status = 0;
  REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
  Finished f;
  f.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  f.out = readText(child.out);
  f.err = readText(child.err);
  return f;
}

Finished drctl(const Sandbox& box, const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  return wait(spawnDrctl(box, args, env));
}

// box/snap.enc: the sandbox's snapshot encrypted with box/key, an owner-only key file of 64 hex digits `digit`.
void encryptSnapshot(const Sandbox& box, char digit) {
  writeText(box.root / "key", std::string(64, digit) + "\n");
  ::chmod((box.root / "key").c_str(), 0600);
  const auto sealed = drctl(box, {"snapshot", "encrypt", "--key-file", (box.root / "key").string(), "-i",
                                  (box.root / "snap.db").string(), "-o", (box.root / "snap.enc").string()});
  INFO(sealed.err);
  REQUIRE(sealed.code == 0);
}

std::vector<std::string> applyArgs(const Sandbox& box) {
  return {"apply", "-i", (box.root / "inv.yaml").string(), "-s", (box.root / "snap.db").string(), "-p", kPlan,
          "--runs", box.runs().string(), "--yes"};
}

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// The member tree after a straight, uninterrupted run.
const std::map<std::string, std::string>& straightRunTree() {
  static const auto tree = [] {
    Sandbox box;
    auto run = drctl(box, applyArgs(box));
    INFO(run.err);
    REQUIRE(run.code == 0);
    return box.memberTree();
  }();
  return tree;
}

}  // namespace

TEST_CASE("apply runs the plan to the end; status shows it; rollback restores the tree", "[cli][apply]") {
  Sandbox box;
  const auto before = box.memberTree();
  auto run = drctl(box, applyArgs(box));
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(fs::exists(box.root / "m1/one.moved"));
  CHECK(fs::exists(box.root / "m1/started"));
  CHECK(box.memberTree() == straightRunTree());
  REQUIRE(box.runIds().size() == 1);
  const std::string id = box.runIds()[0];
  CHECK(fs::exists(box.runs() / id / "plan.json"));
  CHECK(fs::exists(box.runs() / id / "run.json"));
  CHECK_THAT(readText(box.runs() / id / "logs" / "look%40m1.log"), Catch::Contains("attempt 1"));

  auto status = drctl(box, {"status", id, "--runs", box.runs().string()});
  CHECK(status.code == 0);
  CHECK_THAT(status.out, Catch::Contains("state: finished") && Catch::Contains("three@m1") &&
                             Catch::Contains("6 of 6 steps done"));
  auto list = drctl(box, {"status", "--runs", box.runs().string()});
  CHECK_THAT(list.out, Catch::Contains(id) && Catch::Contains("6/6"));

  auto rollback = drctl(box, {"rollback", id, "--runs", box.runs().string(), "--yes"});
  INFO(rollback.err);
  CHECK(rollback.code == 0);
  CHECK(box.memberTree() == before);
  auto after = drctl(box, {"status", id, "--runs", box.runs().string()});
  CHECK_THAT(after.out, Catch::Contains("rolled back") && Catch::Contains("undone"));
}

TEST_CASE("kill -9 after every journal record, then resume, ends in the straight run's state", "[cli][apply]") {
  const auto expected = straightRunTree();
  // 6 steps: 12 step records and RunFinished.
  for (int k = 1; k <= 12; ++k) {
    CAPTURE(k);
    Sandbox box;
    auto crashed = drctl(box, applyArgs(box), {"DRCTL_TEST_CRASH_AFTER_RECORDS=" + std::to_string(k)});
    REQUIRE(crashed.code == -SIGKILL);
    REQUIRE(box.runIds().size() == 1);
    auto resumed = drctl(box, {"resume", box.runIds()[0], "--runs", box.runs().string()});
    INFO(resumed.err);
    CHECK(resumed.code == 0);
    CHECK(box.memberTree() == expected);
  }
}

TEST_CASE("dry-run changes nothing anywhere and creates no run directory", "[cli][apply]") {
  Sandbox box;
  const auto before = Sandbox::tree(box.root);
  auto args = applyArgs(box);
  args.push_back("--dry-run");
  auto dry = drctl(box, args);
  INFO(dry.err);
  CHECK(dry.code == 0);
  CHECK_THAT(dry.out, Catch::Contains("look@m1") && Catch::Contains("preflight ok") &&
                          Catch::Contains("three@m1") && Catch::Contains("would run"));
  auto after = Sandbox::tree(box.root);
  after.erase("out-" + std::to_string(0));
  for (auto it = after.begin(); it != after.end();) {
    it = it->first.rfind("out-", 0) == 0 || it->first.rfind("err-", 0) == 0 ? after.erase(it) : std::next(it);
  }
  CHECK(after == before);
  CHECK_FALSE(fs::exists(box.runs()));
}

TEST_CASE("bad input exits 2 and touches nothing; no terminal without --yes is refused", "[cli][apply]") {
  Sandbox box;
  auto args = applyArgs(box);
  args[2] = (box.root / "missing.yaml").string();
  auto bad = drctl(box, args);
  CHECK(bad.code == 2);
  CHECK_FALSE(fs::exists(box.runs()));
  auto no_yes = applyArgs(box);
  no_yes.pop_back();
  auto refused = drctl(box, no_yes);
  CHECK(refused.code == 2);
  CHECK_THAT(refused.err, Catch::Contains("--yes"));
  CHECK_FALSE(fs::exists(box.runs()));
  auto unknown = drctl(box, {"resume", "no-such-run", "--runs", box.runs().string()});
  CHECK(unknown.code == 2);
  auto evil = drctl(box, {"status", "../etc", "--runs", box.runs().string()});
  CHECK(evil.code == 2);
}

TEST_CASE("a second concurrent apply is refused by the cluster lock", "[cli][apply]") {
  Sandbox box;
  box.slowSeconds("2");
  auto first = spawnDrctl(box, applyArgs(box));
  REQUIRE(waitFor([&] { return fs::exists(box.root / "m1/two"); }));
  auto second = drctl(box, applyArgs(box));
  CHECK(second.code == 1);
  CHECK_THAT(second.err, Catch::Contains("pid " + std::to_string(first.pid)));
  auto done = wait(first);
  CHECK(done.code == 0);
  CHECK(box.runIds().size() == 1);
}

TEST_CASE("SIGINT stops scheduling, exits 3 with the resume command, and the run resumes", "[cli][apply]") {
  Sandbox box;
  box.slowSeconds("1");
  auto child = spawnDrctl(box, applyArgs(box));
  REQUIRE(waitFor([&] { return fs::exists(box.root / "m1/two"); }));
  std::this_thread::sleep_for(200ms);  // slow@m1 is in flight
  ::kill(child.pid, SIGINT);
  auto interrupted = wait(child);
  INFO(interrupted.err);
  CHECK(interrupted.code == 3);
  CHECK(fs::exists(box.root / "m1/slow"));  // the step in flight finished
  CHECK_FALSE(fs::exists(box.root / "m1/one.moved"));  // nothing new started
  const std::string id = box.runIds().at(0);
  CHECK_THAT(interrupted.err, Catch::Contains("drctl resume " + id + " --runs"));
  auto status = drctl(box, {"status", id, "--runs", box.runs().string()});
  CHECK_THAT(status.out, Catch::Contains("state: halted"));
  box.slowSeconds("0");
  auto resumed = drctl(box, {"resume", id, "--runs", box.runs().string()});
  INFO(resumed.err);
  CHECK(resumed.code == 0);
  CHECK(box.memberTree() == straightRunTree());
}

TEST_CASE("resume refuses a changed inventory saying what changed; --force proceeds", "[cli][apply]") {
  Sandbox box;
  auto crashed = drctl(box, applyArgs(box), {"DRCTL_TEST_CRASH_AFTER_RECORDS=4"});
  REQUIRE(crashed.code == -SIGKILL);
  const std::string id = box.runIds().at(0);
  box.writeInventory("touch -c");
  auto refused = drctl(box, {"resume", id, "--runs", box.runs().string()});
  CHECK(refused.code == 2);
  CHECK_THAT(refused.err, Catch::Contains("inventory.sha256") && Catch::Contains("step four@m1: command changed"));
  auto forced = drctl(box, {"resume", id, "--runs", box.runs().string(), "--force"});
  INFO(forced.err);
  CHECK(forced.code == 0);
  CHECK_THAT(forced.err, Catch::Contains("--force"));
  CHECK(fs::exists(box.root / "m1/one.moved"));
}

TEST_CASE("a failed step exits 1 with a per-host summary and the resume and rollback commands", "[cli][apply]") {
  Sandbox box;
  fs::create_directories(box.root / "m1/two");  // `echo two > m1/two` cannot write into a directory
  const auto before = box.memberTree();
  auto args = applyArgs(box);
  auto failed = drctl(box, args);
  CHECK(failed.code == 1);
  const std::string id = box.runIds().at(0);
  CHECK_THAT(failed.err, Catch::Contains("FAILED") && Catch::Contains("failed at two@m1") &&
                             Catch::Contains("drctl resume " + id) && Catch::Contains("drctl rollback " + id));
  CHECK_FALSE(fs::exists(box.root / "m1/slow"));  // nothing after the failure started
  auto status = drctl(box, {"status", id, "--runs", box.runs().string()});
  CHECK_THAT(status.out, Catch::Contains("state: failed"));
  auto rollback = drctl(box, {"rollback", id, "--runs", box.runs().string(), "--yes"});
  INFO(rollback.err);
  CHECK(rollback.code == 0);
  CHECK(box.memberTree() == before);  // `one` undone; the failed `two` was checked: its effect is absent
}

TEST_CASE("apply --log-format json prints one JSON object per event and a final run-ended", "[cli][apply]") {
  Sandbox box;
  auto args = applyArgs(box);
  args.push_back("--log-format");
  args.push_back("json");
  auto run = drctl(box, args);
  CHECK(run.code == 0);
  std::istringstream lines(run.out);
  std::string line;
  int started = 0;
  std::string last;
  while (std::getline(lines, line)) {
    REQUIRE(line.front() == '{');
    if (line.find("\"event\":\"step-started\"") != std::string::npos) ++started;
    last = line;
  }
  CHECK(started == 6);
  CHECK_THAT(last, Catch::Contains("\"event\":\"run-ended\"") && Catch::Contains("\"exit_code\":0"));
  args.back() = "yaml";
  CHECK(drctl(box, args).code == 2);
}

TEST_CASE("apply --log-format json stays valid JSON when a step's output is not UTF-8 and is cut", "[cli][apply]") {
  Sandbox box;
  // `four` starts the service: a line of 100 three-byte characters and two bytes that are not UTF-8, then a failure
  // whose message quotes the line's last 200 bytes, a count that falls inside a character.
  box.writeInventory("printf '\\342\\202\\254%.0s' $(seq 100) && printf ' \\377\\376\\n' && false && touch");
  auto args = applyArgs(box);
  args.push_back("--log-format");
  args.push_back("json");
  auto run = drctl(box, args);
  INFO(run.err);
  CHECK(run.code == 1);
  std::istringstream lines(run.out);
  std::string line;
  nlohmann::json failed, end;
  while (std::getline(lines, line)) {
    INFO(line);
    nlohmann::json event;
    REQUIRE_NOTHROW(event = nlohmann::json::parse(line));  // parse() throws on invalid UTF-8
    if (event.at("event") == "step-failed") failed = event;
    if (event.at("event") == "run-ended") end = event;
  }
  std::string euros;
  for (int i = 0; i < 65; ++i) euros += "\u20AC";
  // Whole characters only, then the two bytes replaced: no replacement character where the cut fell.
  const std::string message = "exit code 1: " + euros + " \uFFFD\uFFFD";
  REQUIRE(failed.is_object());
  CHECK(failed.at("message") == message);
  REQUIRE(end.is_object());
  CHECK_THAT(end.at("reason").get<std::string>(), Catch::EndsWith(message));
}

TEST_CASE("unlock breaks only a stale lock, and only when asked", "[cli][apply]") {
  Sandbox box;
  const std::string runs = box.runs().string();
  auto none = drctl(box, {"unlock", "--cluster", "apply-test", "--runs", runs, "--break-stale"});
  CHECK(none.code == 2);
  auto crashed = drctl(box, applyArgs(box), {"DRCTL_TEST_CRASH_AFTER_RECORDS=2"});
  REQUIRE(crashed.code == -SIGKILL);
  auto second = drctl(box, applyArgs(box));  // the dead run's lock still refuses a new run
  CHECK(second.code == 1);
  CHECK_THAT(second.err, Catch::Contains("stale"));
  auto ask = drctl(box, {"unlock", "--cluster", "apply-test", "--runs", runs});
  CHECK(ask.code == 2);
  CHECK_THAT(ask.err, Catch::Contains("--break-stale"));
  auto broken = drctl(box, {"unlock", "--cluster", "apply-test", "--runs", runs, "--break-stale"});
  CHECK(broken.code == 0);
  CHECK_FALSE(fs::exists(box.runs() / "locks" / "apply-test.lock"));
}

TEST_CASE("a second SIGINT ends the step in flight; the run stays resumable", "[cli][apply]") {
  Sandbox box;
  box.slowSeconds("30");
  auto child = spawnDrctl(box, applyArgs(box));
  REQUIRE(waitFor([&] { return fs::exists(box.root / "m1/two"); }));
  std::this_thread::sleep_for(200ms);
  const auto sent = std::chrono::steady_clock::now();
  ::kill(child.pid, SIGINT);
  std::this_thread::sleep_for(200ms);
  ::kill(child.pid, SIGINT);
  auto interrupted = wait(child);
  INFO(interrupted.err);
  CHECK(interrupted.code == 3);
  CHECK(std::chrono::steady_clock::now() - sent < 15s);  // did not wait out the 30 s step
  CHECK_FALSE(fs::exists(box.root / "m1/slow"));
  box.slowSeconds("0");
  const std::string id = box.runIds().at(0);
  auto resumed = drctl(box, {"resume", id, "--runs", box.runs().string()});
  INFO(resumed.err);
  CHECK(resumed.code == 0);
  CHECK(box.memberTree() == straightRunTree());
}

TEST_CASE("an encrypted snapshot's key variable never reaches a step, and its plaintext does not outlive the run",
          "[cli][apply]") {
  Sandbox box;
  encryptSnapshot(box, 'd');
  // One local step that records its environment.
  writeText(box.root / "env-plan.yaml", "name: env\nsteps:\n  - id: env\n    action: preflight\n    foreach: once\n"
                                        "    run: env > " + (box.root / "step-env").string() + "\n");
  const auto run = drctl(box,
                         {"apply", "-i", (box.root / "inv.yaml").string(), "-s", (box.root / "snap.enc").string(),
                          "-p", (box.root / "env-plan.yaml").string(), "--key-env", "DR_TEST_SNAPSHOT_KEY", "--runs",
                          box.runs().string(), "--yes"},
                         {"DR_TEST_SNAPSHOT_KEY=" + std::string(64, 'd')});
  INFO(run.out << run.err);
  REQUIRE(run.code == 0);
  const std::string env = readText(box.root / "step-env");
  REQUIRE_FALSE(env.empty());                             // the step ran and wrote its environment
  CHECK(env.find("DR_TEST_SNAPSHOT_KEY") == std::string::npos);  // the variable is gone
  CHECK(env.find(std::string(64, 'd')) == std::string::npos);    // and so is the key
  // The decrypted copy lived in the runs dir's private place, and only for the run.
  const fs::path plaintext = box.runs() / ".plaintext";
  REQUIRE(fs::is_directory(plaintext));
  CHECK((fs::status(plaintext).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  CHECK(fs::is_empty(plaintext));
}

TEST_CASE("SIGTERM during a run with an encrypted snapshot leaves no plaintext behind", "[cli][apply]") {
  Sandbox box;
  encryptSnapshot(box, 'e');
  // A local step that says it started, then takes 2 s (the signal lands while the plaintext is in use), and one after.
  writeText(box.root / "slow-plan.yaml", "name: slow\nsteps:\n  - id: slow\n    action: preflight\n    foreach: once\n"
                                         "    run: touch " + (box.root / "started").string() + "; sleep 2\n"
                                         "  - id: after\n    action: preflight\n    foreach: once\n    needs: [slow]\n"
                                         "    run: 'true'\n");
  auto child = spawnDrctl(box, {"apply", "-i", (box.root / "inv.yaml").string(), "-s", (box.root / "snap.enc").string(),
                                "-p", (box.root / "slow-plan.yaml").string(), "--key-file",
                                (box.root / "key").string(), "--runs", box.runs().string(), "--yes"});
  REQUIRE(waitFor([&] { return fs::exists(box.root / "started"); }));
  const fs::path plaintext = box.runs() / ".plaintext";
  CHECK_FALSE(fs::is_empty(plaintext));  // the decrypted copy is there while the run uses it
  ::kill(child.pid, SIGTERM);
  auto stopped = wait(child);
  INFO(stopped.out << stopped.err);
  CHECK(stopped.code == 3);  // halted, resumable
  CHECK_THAT(stopped.err, Catch::Contains("drctl resume "));
  CHECK(fs::is_empty(plaintext));  // and gone with the run's end, signal or not
}

TEST_CASE("a dry-run decrypts into a private temp dir of its own, gone when it ends", "[cli][apply]") {
  Sandbox box;
  encryptSnapshot(box, 'f');
  const fs::path tmp = box.root / "tmp";
  fs::create_directories(tmp);
  // Before: the plaintext went to a predictable /tmp/drctl-dry-run-PID.db.part, opened without O_EXCL or O_NOFOLLOW,
  // that another local user could plant a link or a hard link at. Now: a mkdtemp dir (random name, 0700).
  // A dry run runs preflight steps (they change nothing): this one records the temp dir's and the plaintext's modes
  // while they exist.
  const std::string record = (box.root / "modes").string();
  writeText(box.root / "probe-plan.yaml",
            "name: probe\nsteps:\n  - id: probe\n    action: preflight\n    foreach: once\n"
            "    run: stat -c '%a %n' " + tmp.string() + "/drctl-dry-run-*/ " + tmp.string() +
                "/drctl-dry-run-*/snapshot.db > " + record + "\n");
  const auto dry = drctl(box, {"apply", "--dry-run", "-i", (box.root / "inv.yaml").string(), "-s",
                               (box.root / "snap.enc").string(), "-p", (box.root / "probe-plan.yaml").string(),
                               "--key-file", (box.root / "key").string(), "--runs", box.runs().string()},
                         {"TMPDIR=" + tmp.string()});
  INFO(dry.out << dry.err);
  REQUIRE(dry.code == 0);
  const std::string modes = readText(record);
  INFO(modes);
  CHECK_THAT(modes, Catch::Matches("700 " + tmp.string() + "/drctl-dry-run-[A-Za-z0-9]{6}/\n600 " + tmp.string() +
                                   "/drctl-dry-run-[A-Za-z0-9]{6}/snapshot.db\n"));
  CHECK(fs::is_empty(tmp));  // the private dir and its plaintext went with the dry run
}

