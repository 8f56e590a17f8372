// drd's runs: planning, starting, resuming, rolling back, cancelling and listing them (see run_manager.h).
#include "drd/run_manager.h"

#include <fmt/format.h>

#include <thread>

#include "exec/clock.h"
#include "plan/plan_json.h"
#include "ops/apply.h"
#include "ops/bucket_snapshot.h"
#include "ops/input_paths.h"
#include "ops/preview.h"
#include "ops/resume.h"
#include "ops/rollback.h"

namespace dr::drd {

namespace {

std::int64_t nowMs() {
  return SystemClock().wallMs();
}

// An unknown run is the caller's mistake (NOT_FOUND, exit 2); a damaged one is not (exit 1).
grpc::Status openingError(const RunOpening& opening) {
  return serviceError(opening.not_found ? grpc::StatusCode::NOT_FOUND : grpc::StatusCode::FAILED_PRECONDITION,
                      opening.error, opening.not_found ? kExitBadInput : kExitFailed);
}

void fillDryRun(const DryRunReport& report, v1::RunStarted* out) {
  for (const auto& host : report.hosts) {
    auto* h = out->add_dry_run();
    h->set_host(host.host);
    h->set_connect_error(host.connect_error);
    for (const auto& item : host.steps) {
      auto* s = h->add_steps();
      s->set_step_id(item.step->id);
      s->set_verdict(dryRunVerdictName(item.verdict));
      s->set_has_check(item.has_check);
      if (item.exit_code) {
        s->set_has_exit_code(true);
        s->set_exit_code(*item.exit_code);
      }
      s->set_message(item.message);
    }
  }
  out->set_dry_run_ok(report.ok());
}

}  // namespace

// A run this process has run (or runs now): its event log and, while it runs, its executor.
struct RunManager::Live {
  std::shared_ptr<RunEventLog> events;
  std::mutex mutex;
  Executor* executor = nullptr;  // set while the executor exists
  bool running = false;
  std::string stop_reason;  // a stop asked for before the executor existed
  bool cancel_in_flight = false;
  std::thread thread;
};

RunManager::RunManager(std::filesystem::path state_dir, std::vector<std::filesystem::path> input_dirs,
                       ObjectStoreConfig object_store)
    : runs_dir_(state_dir / "runs"),
      input_dirs_(std::move(input_dirs)),
      object_store_(std::move(object_store)),
      downloads_dir_(state_dir / "downloads") {
  std::error_code ec;
  std::filesystem::create_directories(runs_dir_, ec);
}

RunManager::~RunManager() {
  stopAll("drd is stopping");
}

void RunManager::stopAll(const std::string& reason) {
  std::vector<std::shared_ptr<Live>> runs;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, live] : runs_) runs.push_back(live);
  }
  for (auto& live : runs) {
    std::lock_guard lock(live->mutex);
    if (!live->running) continue;
    if (live->stop_reason.empty()) live->stop_reason = reason;
    if (live->executor != nullptr) live->executor->requestStop(reason);
  }
  for (auto& live : runs) {
    if (live->thread.joinable()) live->thread.join();
  }
}

bool RunManager::isLive(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return false;
  std::lock_guard live_lock(it->second->mutex);
  return it->second->running;
}

grpc::Status RunManager::refuseLive(const std::string& run_id) {
  if (isLive(run_id)) {
    return serviceError(grpc::StatusCode::FAILED_PRECONDITION,
                        "run " + run_id + " is running now; watch it, or cancel it first", kExitFailed);
  }
  return grpc::Status::OK;
}

template <typename Request>
grpc::Status RunManager::localInputs(const Request& request, LocalInputs& out) {
  out.snapshot = request.snapshot();
  if (!isS3Url(out.snapshot)) {
    if (request.members_fetch()) {
      return serviceError(grpc::StatusCode::INVALID_ARGUMENT,
                          "members_fetch needs the snapshot in a bucket: s3://BUCKET/KEY", kExitBadInput);
    }
    if (auto outside = ops::checkInputPaths(request.inventory(), out.snapshot, request.plan_template(), input_dirs_)) {
      return statusFor(*outside);
    }
    return grpc::Status::OK;
  }
  // The object is downloaded into drd's own private directory: no input dir is involved for it.
  if (auto outside = ops::checkInputPaths(request.inventory(), "", request.plan_template(), input_dirs_)) {
    return statusFor(*outside);
  }
  auto store = openObjectStore(object_store_);
  if (!store) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, store.error().message, kExitBadInput);
  auto downloaded = ops::downloadSnapshot(*store, out.snapshot, downloads_dir_);
  if (!downloaded) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, downloaded.error().message, kExitFailed);
  out.note = ops::describeDownload(out.snapshot, *downloaded);
  if (request.members_fetch()) out.members_fetch = out.snapshot;
  out.snapshot = downloaded->path.string();
  return grpc::Status::OK;
}

grpc::Status RunManager::plan(const v1::PlanRequest& request, v1::PlanResponse* response) {
  LocalInputs local;
  if (grpc::Status ok = localInputs(request, local); !ok.ok()) return ok;
  if (!local.note.empty()) response->add_warnings(local.note);
  ops::PreviewRequest preview;
  preview.inventory = request.inventory();
  preview.snapshot = local.snapshot;
  preview.members_fetch = local.members_fetch;
  preview.plan_template = request.plan_template();
  if (!request.run_id().empty()) preview.run_id = request.run_id();
  if (!request.format().empty()) preview.format = request.format();
  preview.verbose = request.verbose();
  preview.skip_hash_check = request.skip_hash_check();
  preview.replace_members.assign(request.replace_members().begin(), request.replace_members().end());
  preview.disarm_alarms = request.disarm_alarms();
  auto previewed = ops::previewPlan(preview);
  if (!previewed.ok()) return statusFor(*previewed.refusal);
  for (const auto& line : previewed.notes) response->add_warnings(line);
  response->set_rendered(previewed.value->rendered);
  response->set_plan_json(planJsonText(previewed.value->plan, -1));
  return grpc::Status::OK;
}

grpc::Status RunManager::apply(const v1::ApplyRequest& request, v1::RunStarted* response) {
  LocalInputs local;
  if (grpc::Status ok = localInputs(request, local); !ok.ok()) return ok;
  if (!local.note.empty()) response->add_notes(local.note);
  ops::ApplyRequest apply;
  apply.inventory = request.inventory();
  apply.snapshot = local.snapshot;
  apply.members_fetch = local.members_fetch;
  apply.plan_template = request.plan_template();
  apply.runs_root = runs_dir_;
  apply.per_host = request.per_host() == 0 ? 1 : request.per_host();
  apply.accept_new_host_keys = request.accept_new_host_keys();
  apply.force = request.force();
  apply.skip_hash_check = request.skip_hash_check();
  apply.dry_run = request.dry_run();
  apply.started_by = "drd";
  apply.replace_members.assign(request.replace_members().begin(), request.replace_members().end());
  apply.from_member = request.from_member();
  apply.disarm_alarms = request.disarm_alarms();
  if (!request.dry_run()) return startSession(ops::prepareApply(apply), response);

  DryRunOutcome outcome = dryRunInventory(apply);
  for (const auto& note : outcome.notes) response->add_notes(note);
  if (outcome.refusal) return statusFor(*outcome.refusal);
  response->set_plan_json(planJsonText(outcome.prepared->plan, -1));
  fillDryRun(*outcome.report, response);
  return grpc::Status::OK;
}

grpc::Status RunManager::resume(const v1::ResumeRequest& request, v1::RunStarted* response) {
  response->set_run_id(request.run_id());
  if (grpc::Status idle = refuseLive(request.run_id()); !idle.ok()) return idle;
  ops::ResumeRequest resume;
  resume.runs_root = runs_dir_;
  resume.run_id = request.run_id();
  resume.force = request.force();
  resume.per_host = request.per_host();
  return startSession(ops::prepareResume(resume), response);
}

grpc::Status RunManager::rollback(const v1::RollbackRequest& request, v1::RunStarted* response) {
  response->set_run_id(request.run_id());
  if (grpc::Status idle = refuseLive(request.run_id()); !idle.ok()) return idle;
  ops::RollbackRequest rollback;
  rollback.runs_root = runs_dir_;
  rollback.run_id = request.run_id();
  return startSession(ops::prepareRollback(rollback), response);
}

grpc::Status RunManager::startSession(ops::Outcome<ops::PreparedSession> prepared, v1::RunStarted* response) {
  for (const auto& note : prepared.notes) response->add_notes(note);
  if (!prepared.ok()) {
    if (prepared.refusal->kind != ops::RefusalKind::NothingToDo) return statusFor(*prepared.refusal);
    for (const auto& line : prepared.refusal->lines()) response->add_notes(line);
    response->set_nothing_to_do(true);
    return grpc::Status::OK;
  }
  std::lock_guard lock(mutex_);
  if (stopping_) return serviceError(grpc::StatusCode::UNAVAILABLE, "drd is stopping", kExitFailed);
  auto started = ops::startSession(std::move(*prepared.value));
  for (const auto& note : started.notes) response->add_notes(note);
  if (!started.ok()) return statusFor(*started.refusal);
  auto session = std::make_unique<ops::RunSession>(std::move(*started.value));
  auto& slot = runs_[session->runId()];
  if (!slot) slot = std::make_shared<Live>();
  std::shared_ptr<Live> live = slot;
  if (live->thread.joinable()) live->thread.join();  // the previous session of this run has ended
  // Each session gets a fresh log holding the whole history: the journal's earlier sessions, then this one.
  auto events = std::make_shared<RunEventLog>();
  for (auto& event : eventsFromJournal(session->earlierRecords())) events->append(std::move(event));
  v1::RunEvent begun;
  begun.set_kind(v1::RunEvent::SESSION_STARTED);
  begun.set_time_ms(nowMs());
  begun.set_message(session->mode());
  const std::int64_t first_seq = events->nextSeq();
  events->append(std::move(begun));
  {
    std::lock_guard live_lock(live->mutex);
    live->events = events;
    live->running = true;
    live->stop_reason.clear();
    live->cancel_in_flight = false;
  }
  response->set_run_id(session->runId());
  response->set_plan_json(planJsonText(session->plan(), -1));
  response->set_first_seq(first_seq);
  response->set_run_dir(session->dir().path().string());
  live->thread = std::thread([this, live, s = session.release()] { runSession(live, std::unique_ptr<ops::RunSession>(s)); });
  return grpc::Status::OK;
}

void RunManager::runSession(std::shared_ptr<Live> live, std::unique_ptr<ops::RunSession> session) {
  RunEventLog& events = *live->events;
  EventLogObserver observer(events);
  ops::RunSession::Hooks hooks;
  hooks.observer = &observer;
  if (!session->info().options.members_fetch.empty()) hooks.fetch_url = presignerFor(object_store_);
  hooks.attach = [live](Executor* executor) {
    std::lock_guard lock(live->mutex);
    live->executor = executor;
    if (executor == nullptr || live->stop_reason.empty()) return;
    executor->requestStop(live->stop_reason);
    if (live->cancel_in_flight) executor->cancelInFlight();
  };
  // execute() releases the lock before returning, so a client that sees the end can resume or roll back at once.
  auto result = session->execute(hooks);
  const bool undo = session->undo();
  v1::RunEvent end;
  if (result) {
    end = runEndedFromResult(*result, undo, nowMs());
  } else {
    end.set_kind(v1::RunEvent::RUN_ENDED);
    end.set_time_ms(nowMs());
    end.set_outcome("failed");
    end.set_reason(result.error().message);
    end.set_undo(undo);
  }
  session.reset();
  {
    std::lock_guard lock(live->mutex);
    live->running = false;
  }
  events.append(std::move(end));
  events.close();
}

grpc::Status RunManager::cancel(const v1::CancelRequest& request, v1::CancelResponse* response) {
  if (Status valid = validateRunId(request.run_id()); !valid) {
    return serviceError(grpc::StatusCode::INVALID_ARGUMENT, valid.error().message, kExitBadInput);
  }
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(request.run_id());
    if (it != runs_.end()) live = it->second;
  }
  if (!live) {
    if (!openRunDirectory(runs_dir_, request.run_id()).not_found) {
      return serviceError(grpc::StatusCode::FAILED_PRECONDITION,
                          "run " + request.run_id() + " is not running in drd; nothing to cancel", kExitFailed);
    }
    return serviceError(grpc::StatusCode::NOT_FOUND, "no run " + request.run_id() + " in " + runs_dir_.string(),
                        kExitBadInput);
  }
  std::lock_guard lock(live->mutex);
  if (!live->running) {
    return serviceError(grpc::StatusCode::FAILED_PRECONDITION,
                        "run " + request.run_id() + " is not running; nothing to cancel", kExitFailed);
  }
  const std::string reason = "cancelled through drd";
  if (live->stop_reason.empty()) live->stop_reason = reason;
  live->cancel_in_flight = live->cancel_in_flight || request.cancel_in_flight();
  if (live->executor != nullptr) {
    live->executor->requestStop(reason);
    if (request.cancel_in_flight()) live->executor->cancelInFlight();
  }
  response->set_message(request.cancel_in_flight() ? "stopping: no new steps, steps in flight are being ended"
                                                   : "stopping: no new steps start; steps in flight finish");
  return grpc::Status::OK;
}

void RunManager::fillRun(const OpenedRun& run, bool with_steps, v1::Run* out) {
  const JournalSummary& s = run.summary;
  const bool open_phase = s.phase == RunPhase::Running || s.phase == RunPhase::RollingBack;
  bool live = isLive(run.info.run_id);
  if (!live && open_phase) {
    // drctl may be running it from the same runs directory: its lock says so.
    auto holder = RunLock::inspect(runs_dir_, run.info.cluster);
    live = holder && holder->has_value() && (*holder)->run_id == run.info.run_id && !(*holder)->stale;
  }
  out->set_run_id(run.info.run_id);
  out->set_cluster(run.info.cluster);
  out->set_plan_name(run.plan.name);
  out->set_fingerprint(run.plan.fingerprint);
  out->set_phase(runPhaseName(s.phase));
  out->set_live(live);
  out->set_interrupted(open_phase && !live);
  out->set_state_text(open_phase && !live ? std::string(runPhaseName(s.phase)) + ", but nothing runs it: interrupted"
                                          : runPhaseName(s.phase));
  out->set_reason(s.reason);
  if (run.torn_tail) out->set_tail_note(run.tail_note);
  out->set_created_ms(run.info.created_ms);
  int done = 0;
  for (const auto& step : s.steps) {
    const bool is_done = step.state == StepRecordState::Finished || step.state == StepRecordState::Skipped;
    done += is_done ? 1 : 0;
    if (!with_steps) continue;
    auto* h = out->add_steps();
    h->set_step_id(step.id);
    h->set_host(step.host);
    h->set_state(step.undo != UndoRecordState::None ? undoRecordStateName(step.undo) : stepRecordStateName(step.state));
    h->set_attempts(step.attempts);
    if (step.exit_code) {
      h->set_has_exit_code(true);
      h->set_exit_code(*step.exit_code);
    }
    h->set_duration_ms(step.duration_ms);
    h->set_message(step.message);
    h->set_done(is_done);
  }
  out->set_done(done);
  out->set_total(static_cast<int>(run.plan.steps.size()));
  if (with_steps) out->set_plan_json(planJsonText(run.plan, -1));
}

grpc::Status RunManager::listRuns(v1::ListRunsResponse* response) {
  response->set_runs_dir(runs_dir_.string());
  auto ids = dr::listRuns(runs_dir_);
  if (!ids) return serviceError(grpc::StatusCode::INTERNAL, ids.error().message, kExitFailed);
  for (const auto& id : *ids) {
    RunOpening opening = openRunDirectory(runs_dir_, id);
    auto* run = response->add_runs();
    if (!opening.run) {
      run->set_run_id(id);
      run->set_error(opening.error);
      continue;
    }
    fillRun(*opening.run, false, run);
  }
  return grpc::Status::OK;
}

grpc::Status RunManager::getRun(const v1::GetRunRequest& request, v1::Run* response) {
  RunOpening opening = openRunDirectory(runs_dir_, request.run_id());
  if (!opening.run) {
    return openingError(opening);
  }
  fillRun(*opening.run, true, response);
  return grpc::Status::OK;
}

grpc::Status RunManager::watchLog(const v1::WatchRequest& request, std::shared_ptr<RunEventLog>& log,
                                  std::int64_t& from) {
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(request.run_id());
    if (it != runs_.end()) {
      std::lock_guard live_lock(it->second->mutex);
      log = it->second->events;
    }
  }
  if (!log) {
    RunOpening opening = openRunDirectory(runs_dir_, request.run_id());
    if (!opening.run) {
      return openingError(opening);
    }
    auto journal = readJournal(opening.run->dir.journalPath());
    if (!journal) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, journal.error().message, kExitFailed);
    log = std::make_shared<RunEventLog>();
    for (auto& event : eventsFromJournal(journal->records)) log->append(std::move(event));
    log->append(runEndedFromSummary(opening.run->summary, nowMs()));
    log->close();
  }
  bool closed = false;
  const std::int64_t next = log->nextSeq();
  (void)log->read(next, std::chrono::milliseconds(0), closed);
  if (request.from_start()) {
    from = 1;
  } else if (request.from_seq() > 0) {
    from = request.from_seq();
  } else {
    from = closed ? next - 1 : next;  // "from now" on an ended run: just its end
  }
  return grpc::Status::OK;
}

std::map<std::string, int> RunManager::runStateCounts() {
  std::map<std::string, int> counts;
  auto ids = dr::listRuns(runs_dir_);
  if (!ids) return counts;
  for (const auto& id : *ids) {
    RunOpening opening = openRunDirectory(runs_dir_, id);
    if (!opening.run) {
      ++counts["unreadable"];
      continue;
    }
    v1::Run run;
    fillRun(*opening.run, false, &run);
    ++counts[run.interrupted() ? "interrupted" : run.phase()];
  }
  return counts;
}

}  // namespace dr::drd
