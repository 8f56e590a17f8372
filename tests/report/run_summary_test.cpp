// summarizeRun over hand-written journals: finished, failed, halted-then-resumed, killed, rolled back and empty
// runs, with every state, duration and RTO known exactly; and the log-tail and sanitizing helpers.
#include <catch2/catch.hpp>

#include "report/run_summary.h"
#include "report_test_support.h"

using namespace dr;
using namespace dr::test;

TEST_CASE("a finished run: every step done, offsets, durations, RTO from the first stop to verify-apiserver",
          "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, plan.steps.size());
  script.end(RecordType::RunFinished, 11300);

  const RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.outcome == "succeeded");
  CHECK(s.plan_name == "full-restore");
  CHECK(s.fingerprint == plan.fingerprint);
  CHECK_FALSE(s.fingerprint_mismatch);
  CHECK(s.start_ms == kT0);
  CHECK(s.end_ms == kT0 + 11300);
  REQUIRE(s.steps.size() == plan.steps.size());
  CHECK(s.count(ReportStepState::Done) == 11);
  const StepSummary* restore = s.find("restore@m2");
  REQUIRE(restore != nullptr);
  CHECK(restore->state == ReportStepState::Done);
  CHECK(restore->attempts.size() == 1);
  CHECK(*restore->start_ms == kT0 + 100 + 5 * 1010);
  CHECK(*restore->end_ms == kT0 + 100 + 5 * 1010 + 1000);
  CHECK(restore->duration_ms == 1000);
  CHECK(restore->exit_code == 0);
  CHECK(restore->output_sha256 == std::string(64, 'a'));

  REQUIRE(s.rto.has_value());
  CHECK(s.rto->complete);
  CHECK(s.rto->start_step == "stop-apiserver@10.0.0.1");
  CHECK(s.rto->end_step == "verify-apiserver@10.0.0.1");
  CHECK(s.rto->ms == (100 + 10 * 1010 + 1000) - (100 + 1010));

  // Hosts in order of their first step in the plan, each with its steps in plan order.
  REQUIRE(s.hosts.size() == 3);
  CHECK(s.hosts[0].host == "controller");
  CHECK(s.hosts[1].host == "10.0.0.1");
  CHECK(s.hosts[2].host == "10.0.0.2");
  CHECK(s.hosts[1].steps == std::vector<std::size_t>{1, 2, 4, 6, 9, 10});
  CHECK(s.hosts[2].done == 3);
  CHECK(*s.hosts[2].start_ms == kT0 + 100 + 3 * 1010);
  REQUIRE(s.sessions.size() == 1);
  CHECK(s.sessions[0].end == "finished");
}

TEST_CASE("a failed run: the failed step, the steps never started, and an RTO that is still open",
          "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 5);  // up to restore@m1
  script.started("restore@m2", 5200).failedStep("restore@m2", 5900, 700, 2, "exit code 2: restore refused");
  script.end(RecordType::RunHalted, 6000, "step restore@m2 on 10.0.0.2 failed: exit code 2: restore refused");

  const RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.outcome == "failed");
  CHECK(s.reason == "step restore@m2 on 10.0.0.2 failed: exit code 2: restore refused");
  const StepSummary* failed = s.find("restore@m2");
  REQUIRE(failed != nullptr);
  CHECK(failed->state == ReportStepState::Failed);
  CHECK(failed->exit_code == 2);
  CHECK(failed->duration_ms == 700);
  CHECK(failed->message == "exit code 2: restore refused");
  CHECK(s.count(ReportStepState::NotStarted) == 5);
  CHECK(s.find("verify-apiserver@10.0.0.1")->state == ReportStepState::NotStarted);
  CHECK_FALSE(s.find("verify-apiserver@10.0.0.1")->start_ms.has_value());
  REQUIRE(s.rto.has_value());
  CHECK_FALSE(s.rto->complete);
  CHECK(s.rto->ms == 6000 - 1110);  // down from stop-apiserver's start to the last record
  CHECK(s.hosts[2].failed == 1);
  CHECK(s.hosts[2].not_started == 1);
}

TEST_CASE("a run halted by a failure and then resumed: attempts over sessions, skips, an RTO over both",
          "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 4);  // preflight, stop-apiserver, both stop-etcd
  script.started("restore@m1", 4140);
  script.started("restore@m2", 4140).failedStep("restore@m2", 4500, 360, 1, "exit code 1: no space left");
  script.failedStep("restore@m1", 4800, 660, 143, "cancelled by the operator");
  script.end(RecordType::RunHalted, 4900, "step restore@m2 on 10.0.0.2 failed");
  // The operator frees space and resumes 60 s later.
  script.runStarted(65000, "resume");
  script.skipped("restore@m1", 65100, "its check passed: already done");
  script.ran("restore@m2", 65100, 900);
  script.started("start-etcd@m1", 66100, 1).failedStep("start-etcd@m1", 66300, 200, 1, "exit code 1: busy", 1);
  script.started("start-etcd@m1", 67300, 2).finished("start-etcd@m1", 67800, 500, 2);
  script.ran("start-etcd@m2", 66100, 800);
  script.ran("verify-etcd", 67900, 1000);
  script.ran("start-apiserver@10.0.0.1", 69000, 500);
  script.ran("verify-apiserver@10.0.0.1", 69600, 400);
  script.end(RecordType::RunFinished, 70100);

  const RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.outcome == "succeeded");
  REQUIRE(s.sessions.size() == 2);
  CHECK(s.sessions[0].mode == "apply");
  CHECK(s.sessions[0].end == "halted");
  CHECK(s.sessions[1].mode == "resume");
  CHECK(s.sessions[1].end == "finished");

  const StepSummary* m2 = s.find("restore@m2");
  CHECK(m2->state == ReportStepState::Done);
  REQUIRE(m2->attempts.size() == 2);
  CHECK(m2->attempts[0].session == 0);
  CHECK_FALSE(m2->attempts[0].ok);
  CHECK(m2->attempts[1].session == 1);
  CHECK(m2->total_ms == 360 + 900);
  CHECK(m2->duration_ms == 900);
  CHECK(*m2->start_ms == kT0 + 4140);

  const StepSummary* m1 = s.find("restore@m1");
  CHECK(m1->state == ReportStepState::Skipped);
  CHECK(m1->message == "its check passed: already done");

  const StepSummary* retried = s.find("start-etcd@m1");
  CHECK(retried->state == ReportStepState::Done);
  CHECK(retried->attempts.size() == 2);
  CHECK(retried->total_ms == 700);
  CHECK(retried->duration_ms == 500);

  REQUIRE(s.rto.has_value());
  CHECK(s.rto->complete);
  CHECK(s.rto->ms == 70000 - 1110);  // the outage includes the time the run stood halted
}

TEST_CASE("a run whose drctl was killed mid-step: in doubt, incomplete; the resume's check settles it",
          "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 2);
  script.started("stop-etcd@m1", 2200);
  RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.outcome == "incomplete");
  CHECK(s.find("stop-etcd@m1")->state == ReportStepState::InDoubt);
  CHECK(s.count(ReportStepState::InDoubt) == 1);
  CHECK(s.sessions.back().end == "none");
  CHECK_FALSE(s.rto->complete);

  script.runStarted(9000, "resume").skipped("stop-etcd@m1", 9100, "its check passed: already done");
  s = summarizeRun(plan, script.contents());
  CHECK(s.find("stop-etcd@m1")->state == ReportStepState::Skipped);
  CHECK(s.find("stop-etcd@m1")->attempts.size() == 1);  // the interrupted attempt stays on record
  CHECK(s.outcome == "incomplete");
}

TEST_CASE("a rolled-back run: undo states per step; a failed undo makes the rollback failed", "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 4);
  script.started("restore@m1", 4200).failedStep("restore@m1", 4300, 100, 1, "exit code 1");
  script.end(RecordType::RunHalted, 4400, "failed");
  script.runStarted(5000, "rollback");
  script.undo(RecordType::UndoStarted, "stop-etcd@m2", 5100).undo(RecordType::UndoFinished, "stop-etcd@m2", 5600, 500);
  script.undo(RecordType::UndoFinished, "stop-etcd@m1", 5100, 0, 0);  // its check showed nothing to undo
  script.undo(RecordType::UndoStarted, "stop-apiserver@10.0.0.1", 5700)
      .undo(RecordType::UndoFinished, "stop-apiserver@10.0.0.1", 5900, 200);
  script.end(RecordType::RollbackFinished, 6000);

  RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.outcome == "rolled-back");
  REQUIRE(s.find("stop-etcd@m2")->undo.has_value());
  CHECK(s.find("stop-etcd@m2")->undo->state == "done");
  CHECK(s.find("stop-etcd@m2")->undo->duration_ms == 500);
  CHECK(s.find("stop-etcd@m1")->undo->state == "skipped");
  CHECK_FALSE(s.find("preflight")->undo.has_value());
  // Undo records leave the step's own state and times alone.
  CHECK(s.find("stop-etcd@m2")->state == ReportStepState::Done);
  CHECK(*s.find("stop-etcd@m2")->end_ms == kT0 + 100 + 3 * 1010 + 1000);

  JournalScript failing(plan);
  failing.runStarted(0);
  runSequentially(failing, plan, 2);
  failing.end(RecordType::RunHalted, 3000, "stopped");
  failing.runStarted(5000, "rollback");
  failing.undo(RecordType::UndoStarted, "stop-apiserver@10.0.0.1", 5100)
      .undo(RecordType::UndoFailed, "stop-apiserver@10.0.0.1", 5300, 200);
  failing.end(RecordType::RunHalted, 5400, "undo failed");
  s = summarizeRun(plan, failing.contents());
  CHECK(s.outcome == "rollback-failed");
  CHECK(s.find("stop-apiserver@10.0.0.1")->undo->state == "failed");
}

TEST_CASE("a halt without a failed step is 'halted'; an empty journal is 'not-started' with no RTO",
          "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 1);
  script.end(RecordType::RunHalted, 1500, "interrupted by SIGINT");
  RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.outcome == "halted");
  CHECK(s.reason == "interrupted by SIGINT");
  CHECK_FALSE(s.rto.has_value());  // nothing was taken down yet

  s = summarizeRun(plan, JournalContents{});
  CHECK(s.outcome == "not-started");
  CHECK(s.count(ReportStepState::NotStarted) == 11);
  CHECK_FALSE(s.rto.has_value());
}

TEST_CASE("records of steps the plan does not have are listed, not applied; fingerprint mismatch is flagged",
          "[report][summary]") {
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  script.records.front().fingerprint = std::string(64, 'f');
  script.ran("no-such-step", 100, 10).ran("another@x", 200, 10).ran("no-such-step", 300, 10);
  const RunSummary s = summarizeRun(plan, script.contents());
  CHECK(s.unknown_steps == std::vector<std::string>{"another@x", "no-such-step"});
  CHECK(s.fingerprint_mismatch);
  CHECK(s.count(ReportStepState::NotStarted) == 11);
}

TEST_CASE("logTail keeps the last attempt's section, its last lines, within the byte budget", "[report][text]") {
  const std::string log =
      "--- restore@m1 attempt 1 on h1 ---\nold line\n--- failed: exit code 1 ---\n"
      "--- restore@m1 attempt 2 on h1 ---\nline 1\nline 2\nline 3\nline 4\n\n";
  CHECK(logTail(log, "restore@m1") == "line 1\nline 2\nline 3\nline 4");
  CHECK(logTail(log, "restore@m1", 2) == "line 3\nline 4");
  CHECK(logTail(log, "restore@m1", 20, 8) == "\xE2\x80\xA6" "3\nline 4");
  // A log without the executor's headers is taken whole.
  CHECK(logTail("a\nb\n", "x") == "a\nb");
  // A header for a step whose id is a prefix of another's does not match mid-line.
  CHECK(logTail("x--- s attempt 1 on h\nkept\n", "s") == "x--- s attempt 1 on h\nkept");
  // Never cuts a multi-byte character.
  const std::string tail = logTail("\xC3\xA9\xC3\xA9\xC3\xA9", "s", 20, 3);
  CHECK(tail == "\xE2\x80\xA6\xC3\xA9");
}

TEST_CASE("sanitizeText makes valid UTF-8 without control characters", "[report][text]") {
  CHECK(sanitizeText("plain\ttext\n") == "plain\ttext\n");
  CHECK(sanitizeText("crlf\r\nprogress\r50%") == "crlf\nprogress\n50%");
  CHECK(sanitizeText(std::string("nul\0x", 5)) == "nul\xEF\xBF\xBDx");
  CHECK(sanitizeText("\x1b[31m") == "\xEF\xBF\xBD[31m");
  CHECK(sanitizeText("\xff") == "\xEF\xBF\xBD");
  CHECK(sanitizeText("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(sanitizeText("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(sanitizeText("caf\xC3\xA9 \xF0\x9F\x99\x82") == "caf\xC3\xA9 \xF0\x9F\x99\x82");
  CHECK(sanitizeText("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
}
