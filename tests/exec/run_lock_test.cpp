// The per-cluster run lock, with real holder processes: a live child refuses others, a killed child (zombie,
// then reaped) leaves a stale lock that is reported with the command to break it, and breaking refuses the live.
#include "exec/run_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include "fixtures/temp_dir.h"

namespace fs = std::filesystem;
using namespace dr;

namespace {

using dr::test::TempDir;

std::string hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// A child process that takes the lock and then waits to be killed (or exits at once without releasing, when
// exit_at_once). Killed and reaped by the destructor if the test has not done so, so no child outlives a test.
class LockHolderChild {
 public:
  LockHolderChild(const fs::path& root, const std::string& cluster, const std::string& run_id, bool exit_at_once) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(fds[0]);
      auto lock = RunLock::acquire(root, cluster, run_id);
      char status = lock.ok() ? 'y' : 'n';
      (void)!::write(fds[1], &status, 1);
      if (exit_at_once) ::_exit(0);  // _exit: no destructors, so the lock file stays behind
      for (;;) ::pause();
    }
    ::close(fds[1]);
    char status = 0;
    REQUIRE(::read(fds[0], &status, 1) == 1);
    ::close(fds[0]);
    REQUIRE(status == 'y');
  }
  ~LockHolderChild() {
    kill9();
    reap();
  }
  int pid() const { return pid_; }
  void kill9() {
    if (pid_ > 0 && !reaped_) ::kill(pid_, SIGKILL);
  }
  // Waits for the child to be a zombie (dead, not reaped): /proc/PID/stat shows state Z.
  void waitZombie() {
    for (int i = 0; i < 500; ++i) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0) return;
    }
  }
  void reap() {
    if (pid_ > 0 && !reaped_) {
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
    }
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

void writeLockFile(const fs::path& root, const std::string& cluster, int pid, const std::string& host) {
  fs::path path = RunLock::lockPath(root, cluster);
  fs::create_directories(path.parent_path());
  nlohmann::json j = {{"pid", pid}, {"hostname", host}, {"run_id", "old-run"}, {"since", 1000}};
  std::ofstream(path) << j.dump();
}

}  // namespace

TEST_CASE("a held lock names its holder and refuses a second run", "[lock]") {
  TempDir tmp;
  auto lock = RunLock::acquire(tmp.path, "prod-east", "run-1");
  REQUIRE(lock.ok());
  CHECK(lock->held());
  CHECK(lock->path() == tmp.path / "locks" / "prod-east.lock");
  auto json = nlohmann::json::parse(std::ifstream(lock->path()));
  CHECK(json["pid"] == ::getpid());
  CHECK(json["hostname"] == hostname());
  CHECK(json["run_id"] == "run-1");
  CHECK(json["since"].get<std::int64_t>() > 0);

  auto holder = RunLock::inspect(tmp.path, "prod-east");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK((*holder)->pid == ::getpid());
  CHECK((*holder)->run_id == "run-1");
  CHECK((*holder)->same_host);
  CHECK_FALSE((*holder)->stale);

  auto second = RunLock::acquire(tmp.path, "prod-east", "run-2");
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error().message, Catch::Contains("cluster prod-east is locked by run run-1") &&
                                         Catch::Contains("pid " + std::to_string(::getpid())) &&
                                         Catch::Contains("host " + hostname()) &&
                                         Catch::Contains(", for "));  // the age; its value depends on load
  CHECK_THAT(second.error().message, !Catch::Contains("--break-stale"));

  // Another cluster is independent.
  CHECK(RunLock::acquire(tmp.path, "prod-west", "run-3").ok());
}

TEST_CASE("a lock held by a live process in another process is refused and cannot be broken", "[lock]") {
  TempDir tmp;
  LockHolderChild child(tmp.path, "c1", "child-run", false);
  auto refused = RunLock::acquire(tmp.path, "c1", "mine");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message,
             Catch::Contains("run child-run") && Catch::Contains("pid " + std::to_string(child.pid())));
  auto holder = RunLock::inspect(tmp.path, "c1");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK_FALSE((*holder)->stale);
  auto broken = RunLock::breakStale(tmp.path, "c1");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.error().message, Catch::Contains("refusing") && Catch::Contains("live"));
  CHECK(fs::exists(RunLock::lockPath(tmp.path, "c1")));
}

TEST_CASE("a holder killed with -9 leaves a stale lock: reported, never broken silently, broken on request", "[lock]") {
  TempDir tmp;
  LockHolderChild child(tmp.path, "prod", "dead-run", false);
  child.kill9();
  child.waitZombie();  // not reaped yet: kill -0 would still succeed, /proc/PID/stat says Z

  auto holder = RunLock::inspect(tmp.path, "prod");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK((*holder)->pid == child.pid());
  CHECK((*holder)->stale);
  CHECK_THAT((*holder)->stale_reason, Catch::Contains("zombie"));

  child.reap();  // now /proc/PID is gone altogether
  holder = RunLock::inspect(tmp.path, "prod");
  REQUIRE(holder.ok());
  CHECK((*holder)->stale);
  CHECK_THAT((*holder)->stale_reason, Catch::Contains("gone"));

  auto refused = RunLock::acquire(tmp.path, "prod", "new-run");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("run dead-run") && Catch::Contains("stale") &&
                                          Catch::Contains("drctl unlock --cluster prod --break-stale"));
  CHECK(fs::exists(RunLock::lockPath(tmp.path, "prod")));  // reporting did not break it

  REQUIRE(RunLock::breakStale(tmp.path, "prod").ok());
  holder = RunLock::inspect(tmp.path, "prod");
  REQUIRE(holder.ok());
  CHECK_FALSE(holder->has_value());
  CHECK(RunLock::acquire(tmp.path, "prod", "new-run").ok());
}

TEST_CASE("a holder that exited without releasing leaves a stale lock", "[lock]") {
  TempDir tmp;
  LockHolderChild child(tmp.path, "c", "exited-run", true);
  child.reap();
  auto holder = RunLock::inspect(tmp.path, "c");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK((*holder)->stale);
  REQUIRE(RunLock::breakStale(tmp.path, "c").ok());
  CHECK_FALSE(fs::exists(RunLock::lockPath(tmp.path, "c")));
}

TEST_CASE("a live pid without the flock is stale: the pid was reused", "[lock]") {
  TempDir tmp;
  writeLockFile(tmp.path, "c", ::getpid(), hostname());  // our pid is alive, but nobody holds the flock
  auto holder = RunLock::inspect(tmp.path, "c");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK((*holder)->stale);
  CHECK_THAT((*holder)->stale_reason, Catch::Contains("flock"));
}

TEST_CASE("a lock from another host is never judged stale", "[lock]") {
  TempDir tmp;
  writeLockFile(tmp.path, "c", 999999, "some-other-host.example");
  auto holder = RunLock::inspect(tmp.path, "c");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK_FALSE((*holder)->same_host);
  CHECK_FALSE((*holder)->stale);
  auto refused = RunLock::acquire(tmp.path, "c", "mine");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("some-other-host.example") && Catch::Contains("another host") &&
                                          Catch::Contains(RunLock::lockPath(tmp.path, "c").string()));
  auto broken = RunLock::breakStale(tmp.path, "c");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.error().message, Catch::Contains("refusing"));
  CHECK(fs::exists(RunLock::lockPath(tmp.path, "c")));
}

TEST_CASE("the lock is released on destruction and by a move's last owner only", "[lock]") {
  TempDir tmp;
  fs::path path = RunLock::lockPath(tmp.path, "c");
  {
    auto lock = RunLock::acquire(tmp.path, "c", "r1");
    REQUIRE(lock.ok());
    CHECK(fs::exists(path));
  }
  CHECK_FALSE(fs::exists(path));
  {
    auto lock = RunLock::acquire(tmp.path, "c", "r2");
    REQUIRE(lock.ok());
    std::optional<RunLock> moved;
    {
      RunLock first = std::move(*lock);
      CHECK_FALSE(lock->held());
      moved.emplace(std::move(first));
    }
    CHECK(fs::exists(path));  // the moved-from lock released nothing
    REQUIRE(moved->release().ok());
    CHECK_FALSE(fs::exists(path));
    CHECK(moved->release().ok());  // idempotent
  }
  CHECK(fs::is_empty(tmp.path / "locks"));  // no temp files left
}

TEST_CASE("releasing never removes a lock file that is no longer ours", "[lock]") {
  TempDir tmp;
  auto first = RunLock::acquire(tmp.path, "c", "r1");
  REQUIRE(first.ok());
  fs::remove(first->path());                            // someone removed it by hand...
  auto second = RunLock::acquire(tmp.path, "c", "r2");  // ...and a new run took it
  REQUIRE(second.ok());
  REQUIRE(first->release().ok());
  auto holder = RunLock::inspect(tmp.path, "c");
  REQUIRE(holder.ok());
  REQUIRE(holder->has_value());
  CHECK((*holder)->run_id == "r2");
}

TEST_CASE("user errors: nothing to break, an unreadable lock file, an empty cluster name", "[lock]") {
  TempDir tmp;
  auto nothing = RunLock::breakStale(tmp.path, "c");
  REQUIRE_FALSE(nothing.ok());
  CHECK_THAT(nothing.error().message, Catch::Contains("not locked"));

  fs::path path = RunLock::lockPath(tmp.path, "c");
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "not json";
  auto garbage = RunLock::inspect(tmp.path, "c");
  REQUIRE_FALSE(garbage.ok());
  CHECK_THAT(garbage.error().message, Catch::Contains(path.string()) && Catch::Contains("by hand"));
  CHECK_FALSE(RunLock::acquire(tmp.path, "c", "r").ok());
  CHECK_FALSE(RunLock::breakStale(tmp.path, "c").ok());

  auto empty = RunLock::acquire(tmp.path, "", "r");
  REQUIRE_FALSE(empty.ok());
  CHECK_THAT(empty.error().message, Catch::Contains("empty"));
}

TEST_CASE("cluster names with slashes stay inside locks/", "[lock]") {
  TempDir tmp;
  auto lock = RunLock::acquire(tmp.path, "../../evil/name", "r");
  REQUIRE(lock.ok());
  CHECK(lock->path().parent_path() == tmp.path / "locks");
  CHECK(breakStaleCommand("a b") == "drctl unlock --cluster 'a b' --break-stale");
}
