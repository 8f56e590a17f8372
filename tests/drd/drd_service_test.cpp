// drd as a real process on a unix socket: round trips of every run RPC, the error codes a client can cause, one run
// per cluster (and two clusters at once), cancel/resume/rollback, SIGTERM, and drd killed with SIGKILL mid-run then
// restarted: the run is listed as interrupted and Resume through the API finishes it.
#include <signal.h>
#include <sys/stat.h>

#include "drd_test_support.h"
#include "fixtures/drd_fixture.h"

namespace fs = std::filesystem;
using namespace dr::test;

namespace {

// drd on STATE/drd.sock (the default address) in a sandbox.
struct UnixDrd {
  RunSandbox box;
  std::unique_ptr<DrdProcess> drd;
  std::string address;
  std::unique_ptr<v1::Drd::Stub> stub;

  UnixDrd() { start(); }
  void start() {
    drd = std::make_unique<DrdProcess>(kDrdBinary, std::vector<std::string>{"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir},
                                       box.root() / "drd.log");
    auto listening = drd->waitListening();
    INFO(drd->log());
    REQUIRE(listening);
    address = *listening;
    stub = drdStub(address);
  }
};

v1::Run getRun(v1::Drd::Stub& stub, const std::string& id, grpc::Status* status = nullptr) {
  v1::GetRunRequest request;
  request.set_run_id(id);
  v1::Run run;
  grpc::ClientContext context;
  withDeadline(context);
  grpc::Status got = stub.GetRun(&context, request, &run);
  if (status != nullptr) *status = got;
  return run;
}

}  // namespace

TEST_CASE("drd listens on an owner-only unix socket by default and answers Plan", "[drd]") {
  UnixDrd d;
  CHECK(d.address == "unix://" + (d.box.state() / "drd.sock").string());
  struct stat info {};
  REQUIRE(::stat((d.box.state() / "drd.sock").c_str(), &info) == 0);
  CHECK(S_ISSOCK(info.st_mode));
  CHECK((info.st_mode & 0777) == 0600);

  v1::PlanRequest request;
  request.set_inventory(d.box.inventory().string());
  request.set_snapshot(d.box.snapshot().string());
  request.set_plan_template(kLocalStepsPlan);
  request.set_format("json");
  v1::PlanResponse response;
  grpc::ClientContext context;
  withDeadline(context);
  const grpc::Status status = d.stub->Plan(&context, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK_THAT(response.rendered(), Catch::Contains("\"fingerprint\""));
  CHECK_THAT(response.plan_json(), Catch::Contains("one@m1"));
}

namespace {

grpc::Status planOf(v1::Drd::Stub& stub, const std::string& inventory, const std::string& snapshot,
                    const std::string& plan_template = "") {
  v1::PlanRequest request;
  request.set_inventory(inventory);
  request.set_snapshot(snapshot);
  request.set_plan_template(plan_template);
  v1::PlanResponse response;
  grpc::ClientContext context;
  withDeadline(context);
  return stub.Plan(&context, request, &response);
}

}  // namespace

TEST_CASE("drd reads client paths only under its input dirs, and never quotes a file it refused", "[drd]") {
  UnixDrd d;
  const std::string inventory = d.box.inventory().string(), snapshot = d.box.snapshot().string();
  REQUIRE(planOf(*d.stub, inventory, snapshot, kLocalStepsPlan).ok());  // inside: fine
  // A file of secrets, and a link inside an input dir that points to it: neither is read.
  const fs::path outside = d.box.root().parent_path() / (d.box.root().filename().string() + "-secret");
  writeText(outside, "root:$6$secretsalt$hash:19000:0:99999:7:::\n");
  const fs::path link = d.box.root() / "innocent.yaml";
  fs::create_symlink(outside, link);
  struct Case {
    std::string inventory, snapshot, plan_template, names;
  };
  for (const Case& c : {Case{"/etc/shadow", snapshot, "", "inventory /etc/shadow is outside"},
                        Case{outside.string(), snapshot, "", "is outside drd's input directories"},
                        Case{link.string(), snapshot, "", "inventory " + link.string() + " is outside"},
                        Case{inventory, "/etc/shadow", "", "snapshot /etc/shadow is outside"},
                        Case{inventory, snapshot, link.string(), "plan template " + link.string() + " is outside"},
                        Case{inventory, snapshot, d.box.root().string() + "/../x.yaml", "is outside"},
                        Case{"relative.yaml", snapshot, "", "a path sent to drd must be absolute"}}) {
    INFO(c.inventory << " " << c.snapshot << " " << c.plan_template);
    const grpc::Status status = planOf(*d.stub, c.inventory, c.snapshot, c.plan_template);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains(c.names) && !Catch::Contains("secretsalt") &&
                                           !Catch::Contains("root:"));
  }
  fs::remove(outside);
  // A FIFO inside an input dir is refused at once: no server thread blocks on it.
  const fs::path fifo = d.box.root() / "fifo.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = planOf(*d.stub, fifo.string(), snapshot);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("must be a regular file; this is a FIFO"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("drd without input dirs refuses every client path and says how to allow some", "[drd]") {
  RunSandbox box;
  DrdProcess drd(kDrdBinary, {"--state-dir", box.state().string()}, box.root() / "drd.log");
  auto listening = drd.waitListening();
  REQUIRE(listening);
  auto stub = drdStub(*listening);
  const grpc::Status status = planOf(*stub, box.inventory().string(), box.snapshot().string());
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("this drd accepts no input paths from clients") &&
                                         Catch::Contains("--input-dir"));
}

TEST_CASE("drd reports bad input with gRPC codes and FILE:LINE:COLUMN lines", "[drd]") {
  UnixDrd d;
  const fs::path bad = d.box.root() / "bad.yaml";
  writeText(bad, "cluster: x\nmembers:\n  - name: m1\n    adress: 127.0.0.1\n");
  {
    v1::PlanRequest request;
    request.set_inventory(bad.string());
    request.set_snapshot(d.box.snapshot().string());
    v1::PlanResponse response;
    grpc::ClientContext context;
    withDeadline(context);
    const grpc::Status status = d.stub->Plan(&context, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains(bad.string() + ":4:"));
    CHECK(status.error_details() == "2");
  }
  {
    v1::ApplyRequest request;
    request.set_inventory(bad.string());
    request.set_snapshot(d.box.snapshot().string());
    v1::RunStarted started;
    grpc::ClientContext context;
    withDeadline(context);
    const grpc::Status status = d.stub->Apply(&context, request, &started);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains(bad.string() + ":4:"));
    CHECK_FALSE(fs::exists(d.box.runs() / "locks"));  // nothing was run, nothing locked
  }
  {
    v1::PlanRequest request;
    request.set_inventory(d.box.inventory().string());
    request.set_snapshot((d.box.root() / "missing.db").string());
    v1::PlanResponse response;
    grpc::ClientContext context;
    withDeadline(context);
    const grpc::Status status = d.stub->Plan(&context, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains("missing.db"));
  }
  grpc::Status status;
  getRun(*d.stub, "20990101-000000-abcdef", &status);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  getRun(*d.stub, "../etc", &status);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  watchAll(*d.stub, "no-such-run", true, 0, &status);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  {
    v1::ResumeRequest request;
    request.set_run_id("no-such-run");
    v1::RunStarted started;
    grpc::ClientContext context;
    withDeadline(context);
    CHECK(d.stub->Resume(&context, request, &started).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::CancelRequest request;
    request.set_run_id("no-such-run");
    v1::CancelResponse response;
    grpc::ClientContext context;
    withDeadline(context);
    CHECK(d.stub->Cancel(&context, request, &response).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::RehearseRequest request;
    request.set_schedule("nightly");
    v1::ScheduleResult result;
    grpc::ClientContext context;
    withDeadline(context);
    const grpc::Status rehearse = d.stub->Rehearse(&context, request, &result);
    CHECK(rehearse.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK_THAT(rehearse.error_message(), Catch::Contains("nightly"));
  }
}

TEST_CASE("drd runs a plan: Apply, Watch from the start, GetRun and ListRuns", "[drd]") {
  UnixDrd d;
  const auto started = applyOk(*d.stub, d.box.inventory(), d.box.snapshot());
  REQUIRE_FALSE(started.run_id().empty());
  CHECK(started.first_seq() >= 1);
  const auto events = watchAll(*d.stub, started.run_id());
  const auto* end = runEnded(events);
  REQUIRE(end != nullptr);
  CHECK(end->outcome() == "finished");
  int finished = 0;
  for (const auto& e : events) finished += e.kind() == v1::RunEvent::STEP_FINISHED ? 1 : 0;
  CHECK(finished == 6);  // look, one, two, slow, three, four on the one member
  CHECK(events.front().kind() == v1::RunEvent::SESSION_STARTED);
  CHECK(fs::exists(d.box.memberDir("drd-test") / "one.moved"));
  CHECK(fs::exists(d.box.memberDir("drd-test") / "started"));

  // The same run directory layout as drctl's: the journal, plan.json, run.json, logs.
  const fs::path run_dir = d.box.runs() / started.run_id();
  CHECK(fs::exists(run_dir / "journal"));
  CHECK(fs::exists(run_dir / "plan.json"));
  CHECK(fs::exists(run_dir / "run.json"));

  const v1::Run run = getRun(*d.stub, started.run_id());
  CHECK(run.phase() == "finished");
  CHECK(run.done() == 6);
  CHECK(run.steps_size() == 6);
  CHECK_FALSE(run.live());

  v1::ListRunsResponse list;
  grpc::ClientContext context;
  withDeadline(context);
  REQUIRE(d.stub->ListRuns(&context, {}, &list).ok());
  REQUIRE(list.runs_size() == 1);
  CHECK(list.runs(0).run_id() == started.run_id());
  CHECK(list.runs(0).state_text() == "finished");

  // A watch of an ended run replays it from the journal and ends; from now it gives only the end.
  const auto replay = watchAll(*d.stub, started.run_id());
  REQUIRE(runEnded(replay) != nullptr);
  const auto now = watchAll(*d.stub, started.run_id(), false);
  REQUIRE(now.size() == 1);
  CHECK(now[0].kind() == v1::RunEvent::RUN_ENDED);

  // Resuming a finished run does nothing.
  v1::ResumeRequest resume;
  resume.set_run_id(started.run_id());
  v1::RunStarted again;
  grpc::ClientContext resume_context;
  withDeadline(resume_context);
  REQUIRE(d.stub->Resume(&resume_context, resume, &again).ok());
  CHECK(again.nothing_to_do());
}

TEST_CASE("drd keeps one run per cluster, runs two clusters at once, and cancels, resumes and rolls back", "[drd]") {
  UnixDrd d;
  d.box.slowSeconds("alpha", 30);
  const auto first = applyOk(*d.stub, d.box.inventory("alpha"), d.box.snapshot());
  {
    v1::ApplyRequest request;
    request.set_inventory(d.box.inventory("alpha").string());
    request.set_snapshot(d.box.snapshot().string());
    request.set_plan_template(kLocalStepsPlan);
    v1::RunStarted second;
    grpc::ClientContext context;
    withDeadline(context);
    const grpc::Status refused = d.stub->Apply(&context, request, &second);
    CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(refused.error_message(), Catch::Contains(first.run_id()));
  }
  // Another cluster runs beside it.
  const auto other = applyOk(*d.stub, d.box.inventory("beta"), d.box.snapshot());
  const auto other_events = watchAll(*d.stub, other.run_id());
  REQUIRE(runEnded(other_events) != nullptr);
  CHECK(runEnded(other_events)->outcome() == "finished");
  CHECK(getRun(*d.stub, first.run_id()).live());

  // Cancel: the slow step is ended, the run is interrupted (resumable).
  REQUIRE(eventually([&] { return fs::exists(d.box.memberDir("alpha") / "two"); }));
  v1::CancelRequest cancel;
  cancel.set_run_id(first.run_id());
  cancel.set_cancel_in_flight(true);
  v1::CancelResponse cancelled;
  grpc::ClientContext cancel_context;
  withDeadline(cancel_context);
  REQUIRE(d.stub->Cancel(&cancel_context, cancel, &cancelled).ok());
  const auto events = watchAll(*d.stub, first.run_id());
  REQUIRE(runEnded(events) != nullptr);
  CHECK(runEnded(events)->outcome() == "interrupted");
  CHECK_FALSE(fs::exists(d.box.memberDir("alpha") / "slow"));

  // Resume finishes it.
  d.box.slowSeconds("alpha", 0);
  v1::ResumeRequest resume;
  resume.set_run_id(first.run_id());
  v1::RunStarted resumed;
  grpc::ClientContext resume_context;
  withDeadline(resume_context);
  const grpc::Status resume_status = d.stub->Resume(&resume_context, resume, &resumed);
  INFO(resume_status.error_message());
  REQUIRE(resume_status.ok());
  const auto resumed_events = watchAll(*d.stub, first.run_id(), false, resumed.first_seq());
  REQUIRE(runEnded(resumed_events) != nullptr);
  CHECK(runEnded(resumed_events)->outcome() == "finished");
  CHECK(resumed_events.front().kind() == v1::RunEvent::SESSION_STARTED);
  CHECK(resumed_events.front().message() == "resume");
  CHECK(fs::exists(d.box.memberDir("alpha") / "one.moved"));

  // Rollback undoes every step: the member dir is as before the run.
  v1::RollbackRequest rollback;
  rollback.set_run_id(first.run_id());
  v1::RunStarted rolling;
  grpc::ClientContext rollback_context;
  withDeadline(rollback_context);
  REQUIRE(d.stub->Rollback(&rollback_context, rollback, &rolling).ok());
  const auto undo_events = watchAll(*d.stub, first.run_id(), false, rolling.first_seq());
  REQUIRE(runEnded(undo_events) != nullptr);
  CHECK(runEnded(undo_events)->undo());
  CHECK(runEnded(undo_events)->outcome() == "finished");
  CHECK(getRun(*d.stub, first.run_id()).phase() == "rolled back");
  CHECK_FALSE(fs::exists(d.box.memberDir("alpha") / "one.moved"));
  CHECK_FALSE(fs::exists(d.box.memberDir("alpha") / "started"));
}

TEST_CASE("drd killed mid-run lists the run as interrupted after a restart and resumes it", "[drd]") {
  UnixDrd d;
  d.box.slowSeconds("drd-test", 30);
  const auto started = applyOk(*d.stub, d.box.inventory(), d.box.snapshot());
  REQUIRE(eventually([&] { return fs::exists(d.box.memberDir("drd-test") / "two"); }));
  d.drd->signal(SIGKILL);
  CHECK(d.drd->waitExit() == 128 + SIGKILL);

  d.box.slowSeconds("drd-test", 0);
  d.start();  // the stale socket is replaced, the runs are read back from the state dir
  const v1::Run interrupted = getRun(*d.stub, started.run_id());
  CHECK(interrupted.interrupted());
  CHECK_THAT(interrupted.state_text(), Catch::Contains("interrupted"));
  const auto replay = watchAll(*d.stub, started.run_id());
  REQUIRE(runEnded(replay) != nullptr);
  CHECK(runEnded(replay)->outcome() == "interrupted");

  v1::ResumeRequest resume;
  resume.set_run_id(started.run_id());
  v1::RunStarted resumed;
  grpc::ClientContext context;
  withDeadline(context);
  const grpc::Status status = d.stub->Resume(&context, resume, &resumed);
  INFO(status.error_message());
  REQUIRE(status.ok());
  bool took_over = false;
  for (const auto& note : resumed.notes()) took_over = took_over || note.find("stale lock") != std::string::npos;
  CHECK(took_over);  // the dead drd's lock on the cluster was its own run's
  const auto events = watchAll(*d.stub, started.run_id(), false, resumed.first_seq());
  REQUIRE(runEnded(events) != nullptr);
  CHECK(runEnded(events)->outcome() == "finished");
  CHECK(getRun(*d.stub, started.run_id()).phase() == "finished");
  CHECK(fs::exists(d.box.memberDir("drd-test") / "slow"));
  CHECK(fs::exists(d.box.memberDir("drd-test") / "started"));
}

TEST_CASE("drd stops its runs cleanly on SIGTERM: halted, resumable, exit 0", "[drd]") {
  UnixDrd d;
  d.box.slowSeconds("drd-test", 2);
  const auto started = applyOk(*d.stub, d.box.inventory(), d.box.snapshot());
  // SIGTERM while `slow` runs (started, not ended: in doubt).
  REQUIRE(eventually([&] {
    const v1::Run run = getRun(*d.stub, started.run_id());
    for (const auto& step : run.steps()) {
      if (step.step_id() == "slow@m1") return step.state() == "in-doubt";
    }
    return false;
  }));
  d.drd->signal(SIGTERM);
  CHECK(d.drd->waitExit() == 0);
  CHECK_THAT(d.drd->log(), Catch::Contains("SIGTERM"));
  CHECK_FALSE(fs::exists(d.box.state() / "drd.sock"));

  d.start();
  const v1::Run run = getRun(*d.stub, started.run_id());
  CHECK(run.phase() == "halted");
  CHECK_THAT(run.reason(), Catch::Contains("SIGTERM"));
  CHECK(run.done() == 4);  // look, one, two, and the slow step that was in flight: allowed to finish
  CHECK(fs::exists(d.box.memberDir("drd-test") / "slow"));
}
