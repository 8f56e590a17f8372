// A run read back from its directory (openRunDirectory, what status, resume and rollback start from): a journal that
// does not hold exactly one run's history is refused with a message naming the file, never read as "interrupted"
// or as a run to start over; and everything a run writes is owner-only.
#include "exec/run_session.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include "exec/journal.h"
#include "fixtures/temp_dir.h"

namespace fs = std::filesystem;
using namespace dr;

namespace {

using dr::test::TempDir;

Plan onePlan() {
  Plan plan;
  plan.name = "t";
  Step step;
  step.id = "s1";
  step.host = "local";
  step.command = "true";
  plan.steps.push_back(step);
  plan.fingerprint = "f";
  return plan;
}

RunInfo infoFor(const std::string& id) {
  RunInfo info;
  info.run_id = id;
  info.cluster = "c";
  info.fingerprint = "f";
  return info;
}

// A fresh run, then its journal replaced by `records` (or by whatever `damage` does to it).
fs::path makeRun(const fs::path& runs, const std::string& id) {
  auto made = createRun(runs, infoFor(id), onePlan());
  REQUIRE(made.ok());
  return made->dir.journalPath();
}

void rewriteJournal(const fs::path& journal, const std::vector<JournalRecord>& records) {
  fs::remove(journal);
  auto writer = JournalWriter::create(journal);
  REQUIRE(writer.ok());
  for (const auto& r : records) REQUIRE(writer->append(r).ok());
}

JournalRecord started(const std::string& run_id, const std::string& mode) {
  JournalRecord r;
  r.type = RecordType::RunStarted;
  r.run_id = run_id;
  r.mode = mode;
  r.fingerprint = "f";
  return r;
}

mode_t modeOf(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a run's journal must hold one run's history: damaged states are refused, naming the journal",
          "[runsession]") {
  TempDir tmp;
  const fs::path runs = tmp.path / "runs";
  const fs::path journal = makeRun(runs, "r1");
  REQUIRE(openRunDirectory(runs, "r1").run.has_value());  // as created: fine

  std::string expected;
  SECTION("a directory in place of the journal") {
    fs::remove(journal);
    fs::create_directory(journal);
    expected = "must be a regular file; this is a directory";
  }
  SECTION("a 0-byte journal") {
    std::ofstream(journal, std::ios::trunc).close();
    expected = "the journal is empty";
  }
  SECTION("a journal that does not start with RunStarted") {
    JournalRecord step;
    step.type = RecordType::StepStarted;
    step.step_id = "s1";
    rewriteJournal(journal, {step});
    expected = "record 1 is StepStarted, not RunStarted";
  }
  SECTION("a journal with two apply sessions") {
    rewriteJournal(journal, {started("r1", "apply"), started("r1", "apply")});
    expected = "record 2 is a second RunStarted of an apply";
  }
  SECTION("a journal of another run") {
    rewriteJournal(journal, {started("r1", "apply"), started("r9", "resume")});
    expected = "starts a session of run r9, but this is run r1";
  }
  SECTION("a journal that starts with a resume") {
    rewriteJournal(journal, {started("r1", "resume")});
    expected = "record 1 starts a 'resume' session";
  }
  const RunOpening opened = openRunDirectory(runs, "r1");
  CHECK_FALSE(opened.run.has_value());
  CHECK_FALSE(opened.not_found);  // a damaged run, not the caller's typo
  CHECK_THAT(opened.error, Catch::Contains(journal.string()) && Catch::Contains(expected));
}

TEST_CASE("an apply then a resume then a rollback session is one run's history", "[runsession]") {
  TempDir tmp;
  const fs::path runs = tmp.path / "runs";
  const fs::path journal = makeRun(runs, "r1");
  rewriteJournal(journal, {started("r1", "apply"), started("r1", "resume"), started("r1", "rollback")});
  const RunOpening opened = openRunDirectory(runs, "r1");
  CHECK(opened.error.empty());
  REQUIRE(opened.run.has_value());
  CHECK(opened.run->records.size() == 3);
}

TEST_CASE("a run directory and everything in it are owner-only", "[runsession]") {
  TempDir tmp;
  const fs::path runs = tmp.path / "runs";
  const fs::path journal = makeRun(runs, "r1");
  CHECK(modeOf(runs) == 0700);
  CHECK(modeOf(runs / "r1") == 0700);
  CHECK(modeOf(runs / "r1" / "logs") == 0700);
  CHECK(modeOf(runs / "r1" / "report") == 0700);
  CHECK(modeOf(journal) == 0600);
  CHECK(modeOf(runs / "r1" / "plan.json") == 0600);
  CHECK(modeOf(runs / "r1" / "run.json") == 0600);
}

TEST_CASE("listRuns does not list the plaintext or the old decrypted directory as runs", "[runsession]") {
  TempDir tmp;
  const fs::path runs = tmp.path / "runs";
  makeRun(runs, "r1");
  fs::create_directory(runs / "decrypted");
  fs::create_directory(runs / ".plaintext");
  auto listed = listRuns(runs);
  REQUIRE(listed.ok());
  CHECK(*listed == std::vector<std::string>{"r1"});
}

TEST_CASE("host routing: a component's host that is no member's or API server's takes the component's SSH settings",
          "[runsession][components]") {
  Inventory inventory;
  EtcdMember member;
  member.name = "cp-1";
  member.address = "10.0.0.11";
  member.ssh.user = "member-user";
  inventory.members.push_back(member);
  KubeComponent kubelet;
  kubelet.role = KubeRole::Kubelet;
  kubelet.host = kubelet.address = "worker-1.example.com";
  kubelet.ssh.user = "worker-user";
  kubelet.ssh.port = 2222;
  inventory.kubelets.push_back(kubelet);
  KubeComponent scheduler;
  scheduler.role = KubeRole::Scheduler;
  scheduler.host = "cp-1";
  scheduler.address = "10.0.0.11";
  scheduler.ssh.user = "other";
  inventory.components.push_back(scheduler);

  HostRouting routing(inventory, false);
  const HostEndpoint worker = routing.endpointFor("worker-1.example.com");
  CHECK(worker.target.ssh.user == "worker-user");
  CHECK(worker.target.ssh.port == 2222);
  // One session per host: on a member's host, the member's settings.
  CHECK(routing.endpointFor("10.0.0.11").target.ssh.user == "member-user");
}
