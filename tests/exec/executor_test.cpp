// Executor tests over a fake transport and a virtual clock: parallelism across hosts, the per-host limit, needs
// under random completion orders, fail fast, retries with backoff, the journal, resume directives, stop/cancel,
// dry-run and the rollback order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/sha256.h"
#include "core/utf8.h"
#include "exec/dry_run.h"
#include "exec/executor.h"
#include "exec/run_state.h"
#include "exec/fake_transport.h"

using namespace std::chrono_literals;
using dr::test::FakeBehavior;
using dr::test::FakeClock;
using dr::test::FakeTransport;

namespace {

template <typename F>
FakeBehavior behave(F&& set) {
  FakeBehavior b;
  set(b);
  return b;
}

dr::Step step(const std::string& id, const std::string& host, std::vector<std::string> needs = {}) {
  dr::Step s;
  s.id = id;
  s.template_id = id.substr(0, id.find('@'));
  s.action = "test";
  s.host = host;
  s.needs = std::move(needs);
  s.command = "run " + id;
  s.check = "check " + id;
  s.undo = "undo " + id;
  s.timeout = 30s;
  return s;
}

dr::Plan planOf(std::vector<dr::Step> steps) {
  dr::Plan plan;
  plan.name = "test";
  plan.fingerprint = "f00";
  plan.steps = std::move(steps);
  return plan;
}

struct Harness {
  FakeTransport transport;
  FakeClock clock;
  dr::MemoryJournal journal;

  dr::ExecutorEnv env(const dr::Plan& plan) {
    dr::ExecutorEnv e;
    for (const auto& s : plan.steps) {
      dr::HostEndpoint endpoint;
      endpoint.transport = &transport;
      endpoint.target.name = s.host;
      endpoint.target.address = s.host;
      e.hosts[s.host] = endpoint;
    }
    e.clock = &clock;
    e.journal = &journal;
    return e;
  }

  dr::ExecutionResult run(const dr::Plan& plan, dr::ExecutorOptions options = {},
                          const std::map<std::string, dr::StepDirective>& directives = {}) {
    dr::Executor executor(plan, env(plan), options);
    auto result = executor.run(directives);
    REQUIRE(result.ok());
    return std::move(result).value();
  }

  std::vector<std::string> recordsOf(dr::RecordType type) const {
    std::vector<std::string> ids;
    for (const auto& r : journal.records()) {
      if (r.type == type) ids.push_back(r.step_id);
    }
    return ids;
  }
};

dr::StepState stateOf(const dr::ExecutionResult& result, const std::string& id) {
  const auto* outcome = result.find(id);
  REQUIRE(outcome != nullptr);
  return outcome->state;
}

}  // namespace

TEST_CASE("steps on different hosts run in parallel, one at a time per host by default") {
  Harness h;
  auto plan = planOf({step("a@1", "h1"), step("b@1", "h1"), step("a@2", "h2"), step("b@2", "h2"),
                      step("a@3", "h3"), step("b@3", "h3")});
  for (const auto& s : plan.steps) h.transport.on(s.command, behave([&](FakeBehavior& b) { b.delay = 60ms; }));
  auto result = h.run(plan);
  CHECK(result.outcome == dr::RunOutcome::Finished);
  CHECK(h.transport.maxConcurrentOverall() == 3);
  for (const char* host : {"h1", "h2", "h3"}) {
    CHECK(h.transport.maxConcurrent(host) == 1);
    CHECK(h.transport.connects(host) == 1);  // one session per host, reused
  }
}

TEST_CASE("per_host raises the steps at a time on one host") {
  Harness h;
  auto plan = planOf({step("a", "h1"), step("b", "h1"), step("c", "h1"), step("d", "h1")});
  for (const auto& s : plan.steps) h.transport.on(s.command, behave([&](FakeBehavior& b) { b.delay = 60ms; }));
  dr::ExecutorOptions options;
  options.per_host = 2;
  auto result = h.run(plan, options);
  CHECK(result.outcome == dr::RunOutcome::Finished);
  CHECK(h.transport.maxConcurrent("h1") == 2);
  CHECK(h.transport.connects("h1") == 2);  // one session per slot, each opened once
}

TEST_CASE("a step with an upload runs beside the host's commands, one transfer at a time") {
  Harness h;
  auto up1 = step("upload-1", "h1");
  up1.upload = dr::FileUpload{"/tmp/snap.db", "/var/tmp/snap-1.db", "abc"};
  auto up2 = step("upload-2", "h1");
  up2.upload = dr::FileUpload{"/tmp/snap.db", "/var/tmp/snap-2.db", "abc"};
  auto plan = planOf({up1, up2, step("stop-a", "h1"), step("stop-b", "h1", {"stop-a"})});
  for (const auto& s : plan.steps) h.transport.on(s.command, behave([&](FakeBehavior& b) { b.delay = 80ms; }));
  auto result = h.run(plan);  // per_host = 1
  CHECK(result.outcome == dr::RunOutcome::Finished);
  // One command and one transfer overlap; never two commands, never two transfers.
  CHECK(h.transport.maxConcurrent("h1") == 2);
  const auto& records = h.journal.records();
  auto at = [&](dr::RecordType type, const std::string& id) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].type == type && records[i].step_id == id) return i;
    }
    FAIL("no record for " << id);
    return records.size();
  };
  // The second upload waits for the first; stop-a starts while upload-1 runs.
  CHECK(at(dr::RecordType::StepFinished, "upload-1") < at(dr::RecordType::StepStarted, "upload-2"));
  CHECK(at(dr::RecordType::StepStarted, "stop-a") < at(dr::RecordType::StepFinished, "upload-1"));
}

TEST_CASE("a host's transfer lane connects while its preflight runs; not when its upload is already done") {
  auto preflight = step("preflight", "h1");
  auto up = step("upload", "h1", {"preflight"});
  up.upload = dr::FileUpload{"/tmp/snap.db", "/var/tmp/snap.db", "abc"};
  const auto plan = planOf({preflight, up});
  {
    Harness h;
    h.transport.on("run preflight", behave([&](FakeBehavior& b) { b.delay = 150ms; }));
    auto result = h.run(plan);
    CHECK(result.outcome == dr::RunOutcome::Finished);
    REQUIRE(h.transport.connectSeqs("h1").size() == 2);  // one per lane
    std::uint64_t preflight_end = 0;
    for (const auto& call : h.transport.calls()) {
      if (call.command == "run preflight") preflight_end = call.end_seq;
    }
    // Both connections were open before the preflight ended: the upload does not start with a handshake.
    CHECK(h.transport.connectSeqs("h1")[1] < preflight_end);
  }
  {
    Harness h;
    auto result = h.run(plan, {}, {{"upload", dr::StepDirective::AlreadyDone}});
    CHECK(result.outcome == dr::RunOutcome::Finished);
    CHECK(h.transport.connects("h1") == 1);  // nothing left to transfer: no second connection
  }
}

TEST_CASE("the transfer lane prepares the host's first pending upload; a failed preparation is dropped, not reported") {
  auto preflight = step("preflight", "h1");
  auto up = step("upload", "h1", {"preflight"});
  up.upload = dr::FileUpload{"/tmp/snap.db", "/var/tmp/r/h1/snap.db", "abc"};
  const auto plan = planOf({preflight, up});
  auto seqOf = [](const dr::test::FakeTransport& transport, const std::string& command) {
    for (const auto& call : transport.calls()) {
      if (call.command == command) return call.start_seq;
    }
    return std::uint64_t{0};
  };
  {
    Harness h;
    h.transport.on("run preflight", behave([&](FakeBehavior& b) { b.delay = 150ms; }));
    auto result = h.run(plan);
    CHECK(result.outcome == dr::RunOutcome::Finished);
    const auto prepared = seqOf(h.transport, "prepare /var/tmp/r/h1/snap.db");
    REQUIRE(prepared != 0);
    CHECK(prepared < seqOf(h.transport, "upload /var/tmp/r/h1/snap.db"));
    CHECK(h.transport.connects("h1") == 2);  // the prepared session served the upload
  }
  {
    // The preparation fails: its session is dropped, the upload connects again and succeeds, and the run never
    // hears of the failure.
    Harness h;
    h.transport.on("run preflight", behave([&](FakeBehavior& b) { b.delay = 150ms; }));
    h.transport.failPrepare("h1");
    auto result = h.run(plan);
    CHECK(result.outcome == dr::RunOutcome::Finished);
    CHECK(seqOf(h.transport, "prepare /var/tmp/r/h1/snap.db") != 0);
    CHECK(h.transport.connects("h1") == 3);
    CHECK(h.transport.uploads() == std::vector<std::string>{"h1:/var/tmp/r/h1/snap.db"});
  }
}

TEST_CASE("needs are honoured under random completion orders") {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    std::mt19937 random(seed);
    std::vector<dr::Step> steps;
    const int count = 30;
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> needs;
      for (int j = 0; j < i; ++j) {
        if (random() % 6 == 0) needs.push_back("s" + std::to_string(j));
      }
      std::sort(needs.begin(), needs.end());
      steps.push_back(step("s" + std::to_string(i), "h" + std::to_string(random() % 4), needs));
    }
    Harness h;
    for (const auto& s : steps) h.transport.on(s.command, behave([&](FakeBehavior& b) { b.delay = std::chrono::milliseconds(random() % 4); }));
    auto plan = planOf(steps);
    auto result = h.run(plan);
    REQUIRE(result.outcome == dr::RunOutcome::Finished);
    std::map<std::string, dr::test::FakeCall> calls;
    for (const auto& c : h.transport.calls()) calls[c.command] = c;
    REQUIRE(calls.size() == steps.size());
    const auto records = h.journal.records();
    auto position = [&](dr::RecordType type, const std::string& id) {
      for (std::size_t k = 0; k < records.size(); ++k) {
        if (records[k].type == type && records[k].step_id == id) return k;
      }
      FAIL("no record " << dr::recordTypeName(type) << " for " << id);
      return records.size();
    };
    for (const auto& s : steps) {
      for (const auto& need : s.needs) {
        // The dependent's command starts after its need's command ended ...
        CHECK(calls.at("run " + need).end_seq < calls.at(s.command).start_seq);
        // ... and only after the need's StepFinished was journaled.
        CHECK(position(dr::RecordType::StepFinished, need) < position(dr::RecordType::StepStarted, s.id));
      }
    }
  }
}

TEST_CASE("fail fast: after a failure nothing new starts, in-flight steps finish, hosts are summarized") {
  Harness h;
  auto plan = planOf({step("bad", "h1"), step("slow", "h2"), step("after-bad", "h1", {"bad"}),
                      step("after-slow", "h2", {"slow"}), step("join", "h3", {"after-bad", "after-slow"})});
  h.transport.on("run bad", behave([&](FakeBehavior& b) { b.exit_code = 3; b.output = "line one\nno space left on device\n"; b.delay = 10ms; }));
  h.transport.on("run slow", behave([&](FakeBehavior& b) { b.delay = 150ms; }));
  auto result = h.run(plan);
  CHECK(result.outcome == dr::RunOutcome::Failed);
  CHECK_THAT(result.reason, Catch::Contains("bad") && Catch::Contains("exit code 3: no space left on device"));
  CHECK(stateOf(result, "bad") == dr::StepState::Failed);
  CHECK(stateOf(result, "slow") == dr::StepState::Done);  // in flight when bad failed: it finished
  CHECK(stateOf(result, "after-bad") == dr::StepState::NotStarted);
  CHECK(stateOf(result, "after-slow") == dr::StepState::NotStarted);  // its need finished after the failure
  CHECK(h.transport.count("run after-slow") == 0);
  REQUIRE(result.hosts.size() == 3);
  CHECK(result.hosts[0].host == "h1");
  CHECK(result.hosts[0].outcome == dr::HostOutcome::Failed);
  CHECK(result.hosts[0].failed_step == "bad");
  CHECK(result.hosts[1].outcome == dr::HostOutcome::Stopped);
  CHECK(result.hosts[1].done == 1);
  CHECK(result.hosts[1].next_step == "after-slow");
  const auto records = h.journal.records();
  REQUIRE(!records.empty());
  CHECK(records.back().type == dr::RecordType::RunHalted);
  CHECK_THAT(records.back().message, Catch::Contains("bad"));
}

TEST_CASE("idempotent steps are retried with doubling backoff; others are not") {
  Harness h;
  auto flaky = step("flaky", "h1");
  flaky.idempotent = true;
  flaky.retries = 3;
  h.transport.on("run flaky", behave([&](FakeBehavior& b) { b.fail_first = 2; }));
  dr::ExecutorOptions options;
  options.retry_backoff = 500ms;
  auto result = h.run(planOf({flaky}), options);
  CHECK(result.outcome == dr::RunOutcome::Finished);
  CHECK(result.find("flaky")->attempts == 3);
  CHECK(h.clock.sleeps() == std::vector<std::chrono::milliseconds>{500ms, 1000ms});
  CHECK(h.recordsOf(dr::RecordType::StepStarted).size() == 3);
  CHECK(h.recordsOf(dr::RecordType::StepFailed).size() == 2);

  Harness g;
  auto once = step("once", "h1");
  once.retries = 3;  // not idempotent: never retried
  g.transport.on("run once", behave([&](FakeBehavior& b) { b.fail_first = 1; }));
  auto failed = g.run(planOf({once}));
  CHECK(failed.outcome == dr::RunOutcome::Failed);
  CHECK(g.transport.count("run once") == 1);
  CHECK(g.clock.sleeps().empty());

  Harness k;
  auto stubborn = step("stubborn", "h1");
  stubborn.idempotent = true;
  stubborn.retries = 2;
  k.transport.on("run stubborn", behave([&](FakeBehavior& b) { b.exit_code = 1; }));
  auto exhausted = k.run(planOf({stubborn}));
  CHECK(exhausted.outcome == dr::RunOutcome::Failed);
  CHECK(k.transport.count("run stubborn") == 3);
  CHECK(k.clock.sleeps() == std::vector<std::chrono::milliseconds>{1000ms, 2000ms});
}

TEST_CASE("the journal records starts, ends, output digests and the run's end; output goes to the step log") {
  Harness h;
  const auto dir = std::filesystem::temp_directory_path() / ("dr-exec-log-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto plan = planOf({step("one", "h1"), step("two", "h1", {"one"})});
  h.transport.on("run one", behave([&](FakeBehavior& b) { b.output = "hello from one\n"; }));
  h.transport.on("run two", behave([&](FakeBehavior& b) { b.exit_code = 0; b.output = "two says hi\n"; }));
  auto env = h.env(plan);
  env.step_log_path = [&](const std::string& id) { return dir / (id + ".log"); };
  dr::Executor executor(plan, env);
  auto result = executor.run();
  REQUIRE(result.ok());
  CHECK(result->outcome == dr::RunOutcome::Finished);
  const auto records = h.journal.records();
  REQUIRE(records.size() == 5);
  CHECK(records[0].type == dr::RecordType::StepStarted);
  CHECK(records[0].step_id == "one");
  CHECK(records[0].attempt == 1);
  CHECK(records[0].host == "h1");
  CHECK(records[1].type == dr::RecordType::StepFinished);
  CHECK(records[1].exit_code == 0);
  CHECK(records[1].output_sha256 == dr::sha256Hex("hello from one\n"));
  CHECK(records[3].output_sha256 == dr::sha256Hex("two says hi\n"));
  CHECK(records[4].type == dr::RecordType::RunFinished);
  std::ifstream log(dir / "one.log");
  std::stringstream text;
  text << log.rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("hello from one"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a step's upload is performed before its command; a failed connect fails the step") {
  Harness h;
  auto up = step("upload", "h1");
  up.upload = dr::FileUpload{"/tmp/snap.db", "/var/tmp/snap.db", "abc"};
  auto plan = planOf({up});
  auto result = h.run(plan);
  CHECK(result.outcome == dr::RunOutcome::Finished);
  CHECK(h.transport.commands() == std::vector<std::string>{"upload /var/tmp/snap.db", "run upload"});

  Harness g;
  g.transport.refuseConnect("h2", "host key for h2 changed");
  auto result2 = g.run(planOf({step("x", "h2"), step("y", "h1")}));
  CHECK(result2.outcome == dr::RunOutcome::Failed);
  CHECK_THAT(result2.find("x")->message, Catch::Contains("cannot connect to h2: host key for h2 changed"));
}

TEST_CASE("timeouts and transport errors fail the step with a message saying which") {
  Harness h;
  h.transport.on("run t", behave([&](FakeBehavior& b) { b.time_out = true; }));
  auto result = h.run(planOf({step("t", "h1")}));
  CHECK(result.outcome == dr::RunOutcome::Failed);
  CHECK_THAT(result.find("t")->message, Catch::Contains("timed out after 30s"));

  Harness g;
  g.transport.on("run e", behave([&](FakeBehavior& b) { b.transport_error = true; }));
  auto result2 = g.run(planOf({step("e", "h1")}));
  CHECK_THAT(result2.find("e")->message, Catch::Contains("transport error on h1: connection reset by peer"));
}

TEST_CASE("a failure message quotes the output's last line cut between characters, never inside one") {
  Harness h;
  // 100 three-byte characters: cutting the line to its last 200 bytes by count would start inside one.
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\u20AC";
  h.transport.on("run m", behave([&](FakeBehavior& b) {
    b.exit_code = 1;
    b.output = "first line\n" + euros + "\n";
  }));
  auto result = h.run(planOf({step("m", "h1")}));
  CHECK(result.outcome == dr::RunOutcome::Failed);
  const std::string message = result.find("m")->message;
  CHECK(dr::isValidUtf8(message));
  CHECK(message == "exit code 1: " + euros.substr(euros.size() - 198));  // 66 whole characters
  CHECK(dr::isValidUtf8(result.reason));
  const auto records = h.journal.records();
  const auto failed = std::find_if(records.begin(), records.end(),
                                   [](const dr::JournalRecord& r) { return r.type == dr::RecordType::StepFailed; });
  REQUIRE(failed != records.end());
  CHECK(failed->message == message);
}

TEST_CASE("resume directives: done steps are skipped, an in-doubt step runs its check first") {
  Harness h;
  auto plan = planOf({step("a", "h1"), step("b", "h1", {"a"}), step("c", "h1", {"b"}), step("d", "h2", {"c"})});
  h.transport.on("check b", behave([&](FakeBehavior& b) { b.exit_code = 0; }));   // b took effect before the crash
  h.transport.on("check c", behave([&](FakeBehavior& b) { b.exit_code = 1; }));   // c did not
  auto result = h.run(plan, {},
                      {{"a", dr::StepDirective::AlreadyDone},
                       {"b", dr::StepDirective::CheckFirst},
                       {"c", dr::StepDirective::CheckFirst}});
  CHECK(result.outcome == dr::RunOutcome::Finished);
  CHECK(h.transport.commands() == std::vector<std::string>{"check b", "check c", "run c", "run d"});
  CHECK(stateOf(result, "a") == dr::StepState::AlreadyDone);
  CHECK(stateOf(result, "b") == dr::StepState::AlreadyDone);
  CHECK(h.recordsOf(dr::RecordType::StepSkipped) == std::vector<std::string>{"b"});
  CHECK(h.recordsOf(dr::RecordType::StepFinished) == std::vector<std::string>{"c", "d"});
}

TEST_CASE("a journal folds into a summary and resume directives") {
  auto plan = planOf({step("a", "h1"), step("b", "h1", {"a"}), step("c", "h1", {"b"}), step("d", "h1", {"c"})});
  std::vector<dr::JournalRecord> records;
  auto rec = [&](dr::RecordType type, const std::string& id, std::optional<int> exit = {}) {
    dr::JournalRecord r;
    r.type = type;
    r.step_id = id;
    r.exit_code = exit;
    records.push_back(r);
  };
  rec(dr::RecordType::RunStarted, "");
  records.back().fingerprint = "f00";
  records.back().run_id = "r1";
  rec(dr::RecordType::StepStarted, "a");
  rec(dr::RecordType::StepFinished, "a", 0);
  rec(dr::RecordType::StepStarted, "b");
  rec(dr::RecordType::StepFailed, "b", 2);
  rec(dr::RecordType::StepStarted, "b");
  rec(dr::RecordType::StepFailed, "b", 2);
  rec(dr::RecordType::StepStarted, "c");
  auto summary = dr::summarizeJournal(records, &plan);
  CHECK(summary.run_id == "r1");
  CHECK(summary.phase == dr::RunPhase::Running);
  CHECK(summary.find("a")->state == dr::StepRecordState::Finished);
  CHECK(summary.find("b")->state == dr::StepRecordState::Failed);
  CHECK(summary.find("b")->attempts == 2);
  CHECK(summary.find("b")->exit_code == 2);
  CHECK(summary.find("c")->state == dr::StepRecordState::InDoubt);
  CHECK(summary.find("d")->state == dr::StepRecordState::NotStarted);
  auto directives = dr::resumeDirectives(summary);
  CHECK(directives.at("a") == dr::StepDirective::AlreadyDone);
  CHECK(directives.at("b") == dr::StepDirective::CheckFirst);
  CHECK(directives.at("c") == dr::StepDirective::CheckFirst);
  CHECK(directives.at("d") == dr::StepDirective::Run);
  rec(dr::RecordType::RunHalted, "");
  records.back().message = "step b on h1 failed: exit code 2";
  summary = dr::summarizeJournal(records, &plan);
  CHECK(summary.phase == dr::RunPhase::Failed);
  CHECK(summary.reason == "step b on h1 failed: exit code 2");
  // A resume that finishes: the old halt is history, not the run's state (drctl status quoted it as the reason).
  rec(dr::RecordType::RunStarted, "");
  CHECK(dr::summarizeJournal(records, &plan).phase == dr::RunPhase::Running);
  CHECK(dr::summarizeJournal(records, &plan).reason.empty());
  for (const char* id : {"b", "c", "d"}) {
    rec(dr::RecordType::StepStarted, id);
    rec(dr::RecordType::StepFinished, id, 0);
  }
  rec(dr::RecordType::RunFinished, "");
  summary = dr::summarizeJournal(records, &plan);
  CHECK(summary.phase == dr::RunPhase::Finished);
  CHECK(summary.reason.empty());
  CHECK(summary.sessions == 2);
}

TEST_CASE("rollback undoes done steps in reverse order, serial per host, and in-doubt ones only if their check passes") {
  // Two hosts: stop api (h1), stop etcd on both (needs api), swap on both (needs own stop), start on both (needs
  // every swap). The run died while start@h2 was in flight.
  auto plan = planOf({step("api", "h1"), step("stop@1", "h1", {"api"}), step("stop@2", "h2", {"api"}),
                      step("swap@1", "h1", {"stop@1"}), step("swap@2", "h2", {"stop@2"}),
                      step("start@1", "h1", {"swap@1", "swap@2"}), step("start@2", "h2", {"swap@1", "swap@2"}),
                      step("verify", "h1", {"start@1", "start@2"})});
  plan.steps[4].undo.clear();  // swap@2 has nothing to undo: ordering still flows through it
  std::vector<dr::JournalRecord> records;
  for (const char* id : {"api", "stop@1", "stop@2", "swap@1", "swap@2", "start@1"}) {
    dr::JournalRecord r;
    r.type = dr::RecordType::StepStarted;
    r.step_id = id;
    records.push_back(r);
    r.type = dr::RecordType::StepFinished;
    records.push_back(r);
  }
  dr::JournalRecord inflight;
  inflight.type = dr::RecordType::StepStarted;
  inflight.step_id = "start@2";
  records.push_back(inflight);
  auto rollback = dr::buildRollbackPlan(plan, dr::summarizeJournal(records, &plan));
  CHECK(rollback.plan.find("verify") == nullptr);  // never started: nothing to undo
  CHECK(rollback.directives.at("start@2") == dr::StepDirective::RunIfCheckPasses);
  CHECK(rollback.directives.at("swap@2") == dr::StepDirective::AlreadyDone);
  CHECK(rollback.plan.find("stop@1")->needs == std::vector<std::string>{"swap@1"});
  CHECK(rollback.to_undo == 6);

  Harness h;
  h.transport.on("check start@2", behave([&](FakeBehavior& b) { b.exit_code = 0; }));
  for (const auto& s : rollback.plan.steps) h.transport.on(s.command, behave([&](FakeBehavior& b) { b.delay = 5ms; }));
  dr::ExecutorOptions options;
  options.mode = dr::ExecutionMode::Undo;
  auto result = h.run(rollback.plan, options, rollback.directives);
  CHECK(result.outcome == dr::RunOutcome::Finished);
  CHECK(h.transport.commandsOn("h1") == std::vector<std::string>{"undo start@1", "undo swap@1", "undo stop@1",
                                                                  "undo api"});
  CHECK(h.transport.commandsOn("h2") == std::vector<std::string>{"check start@2", "undo start@2", "undo stop@2"});
  std::map<std::string, dr::test::FakeCall> calls;
  for (const auto& c : h.transport.calls()) calls[c.command] = c;
  // Reverse topological order across hosts: swaps are undone only after both starts are, api after both stops.
  CHECK(calls.at("undo start@2").end_seq < calls.at("undo swap@1").start_seq);
  CHECK(calls.at("undo stop@2").end_seq < calls.at("undo api").start_seq);
  CHECK(h.transport.maxConcurrent("h1") == 1);
  CHECK(h.recordsOf(dr::RecordType::UndoStarted).size() == 6);
  CHECK(h.journal.records().back().type == dr::RecordType::RollbackFinished);

  // An in-doubt step whose check fails never took effect: its undo is not run.
  Harness g;
  g.transport.on("check start@2", behave([&](FakeBehavior& b) { b.exit_code = 1; }));
  auto result2 = g.run(rollback.plan, options, rollback.directives);
  CHECK(result2.outcome == dr::RunOutcome::Finished);
  CHECK(g.transport.count("undo start@2") == 0);
}

TEST_CASE("a stop request lets in-flight steps finish and starts nothing new; cancel ends them") {
  Harness h;
  auto plan = planOf({step("long", "h1"), step("next", "h1", {"long"})});
  h.transport.on("run long", behave([&](FakeBehavior& b) { b.delay = 150ms; }));
  dr::Executor executor(plan, h.env(plan));
  std::thread stopper([&] {
    std::this_thread::sleep_for(40ms);
    executor.requestStop("interrupted by SIGINT");
  });
  auto result = executor.run();
  stopper.join();
  REQUIRE(result.ok());
  CHECK(result->outcome == dr::RunOutcome::Stopped);
  CHECK(result->reason == "interrupted by SIGINT");
  CHECK(result->find("long")->state == dr::StepState::Done);
  CHECK(result->find("next")->state == dr::StepState::NotStarted);
  CHECK(h.journal.records().back().type == dr::RecordType::RunHalted);

  Harness g;
  g.transport.on("run long", behave([&](FakeBehavior& b) { b.wait_for_cancel = true; }));
  dr::Executor executor2(plan, g.env(plan));
  std::thread canceller([&] {
    std::this_thread::sleep_for(40ms);
    executor2.requestStop("interrupted by SIGINT");
    std::this_thread::sleep_for(20ms);
    executor2.cancelInFlight();
  });
  auto result2 = executor2.run();
  canceller.join();
  REQUIRE(result2.ok());
  CHECK(result2->outcome == dr::RunOutcome::Stopped);  // interrupted by the operator, not failed
  CHECK(result2->find("long")->state == dr::StepState::Failed);
  CHECK_THAT(result2->find("long")->message, Catch::Contains("cancelled"));
  CHECK(result2->find("next")->state == dr::StepState::NotStarted);
}

TEST_CASE("a plan the executor cannot run is refused before anything runs") {
  Harness h;
  auto plan = planOf({step("a", "h1"), step("b", "h1", {"nope"})});
  dr::Executor executor(plan, h.env(plan));
  auto result = executor.run();
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().message, Catch::Contains("needs 'nope'"));
  auto cyclic = planOf({step("a", "h1", {"b"}), step("b", "h1", {"a"})});
  dr::Executor executor2(cyclic, h.env(cyclic));
  auto result2 = executor2.run();
  REQUIRE_FALSE(result2.ok());
  CHECK_THAT(result2.error().message, Catch::Contains("cycle"));
  auto env = h.env(plan);
  env.hosts.clear();
  auto single = planOf({step("a", "h1")});
  dr::Executor executor3(single, env);
  auto result3 = executor3.run();
  REQUIRE_FALSE(result3.ok());
  CHECK_THAT(result3.error().message, Catch::Contains("no transport for host 'h1'"));
  CHECK(h.transport.calls().empty());
}

TEST_CASE("dry-run runs preflight commands and checks only, and reports unreachable hosts") {
  Harness h;
  auto pre = step("preflight@1", "h1");
  pre.action = "preflight";
  pre.check.clear();
  auto up = step("upload@1", "h1", {"preflight@1"});
  up.upload = dr::FileUpload{"/tmp/s", "/var/tmp/s", "abc"};
  auto plan = planOf({pre, up, step("restore@1", "h1", {"upload@1"}), step("other", "h2")});
  h.transport.on("check upload@1", behave([&](FakeBehavior& b) { b.exit_code = 0; }));
  h.transport.on("check restore@1", behave([&](FakeBehavior& b) { b.exit_code = 1; }));
  h.transport.refuseConnect("h2", "connection refused");
  auto env = h.env(plan);
  auto report = dr::dryRun(plan, env.hosts);
  CHECK_FALSE(report.ok());
  CHECK(h.transport.commands() == std::vector<std::string>{"run preflight@1", "check upload@1", "check restore@1"});
  CHECK(h.transport.uploads().empty());
  REQUIRE(report.hosts.size() == 2);
  CHECK(report.hosts[0].steps[0].verdict == dr::DryRunVerdict::PreflightOk);
  CHECK(report.hosts[0].steps[1].verdict == dr::DryRunVerdict::AlreadyDone);
  CHECK(report.hosts[0].steps[2].verdict == dr::DryRunVerdict::WouldRun);
  CHECK(report.hosts[1].connect_error == "connection refused");
  CHECK(report.hosts[1].steps[0].verdict == dr::DryRunVerdict::Unreachable);
  CHECK(h.journal.records().empty());
}

TEST_CASE("dry-run shows what a passed preflight notes (a new host), and only its note lines") {
  Harness h;
  auto pre = step("preflight@1", "h1");
  pre.action = "preflight";
  pre.check.clear();
  const auto plan = planOf({pre});
  h.transport.on("run preflight@1", behave([&](FakeBehavior& b) {
    b.output = "checking\nnote: no data dir /d on m1: a new host\nnote:not this\npreflight ok on m1\n";
  }));
  auto report = dr::dryRun(plan, h.env(plan).hosts);
  REQUIRE(report.hosts.size() == 1);
  CHECK(report.hosts[0].steps[0].verdict == dr::DryRunVerdict::PreflightOk);
  CHECK(report.hosts[0].steps[0].message == "no data dir /d on m1: a new host");
}
