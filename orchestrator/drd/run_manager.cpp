// drd's runs: planning, starting, resuming, rolling back, cancelling and listing them (see run_manager.h).
#include "drd/run_manager.h"

#include <fmt/format.h>

#include <thread>

#include "exec/clock.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_json.h"
#include "plan/plan_render.h"

namespace dr::drd {

namespace {

std::int64_t nowMs() {
  return SystemClock().wallMs();
}

grpc::Status planningError(const PlanningOutcome& planned, const std::string& what) {
  std::vector<std::string> lines = planned.problemLines();
  lines.push_back(what);
  return serviceError(grpc::StatusCode::INVALID_ARGUMENT, joinLines(lines), kExitBadInput);
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

// Everything one session (apply, resume or rollback) needs, owned by its thread.
struct RunManager::Session {
  std::string run_id;
  std::string mode;
  Inventory inventory;
  Plan plan;
  std::map<std::string, StepDirective> directives;
  std::optional<RunDirectory> dir;
  std::optional<JournalWriter> journal;
  std::optional<RunLock> lock;
  ExecutorOptions options;
  bool accept_new_host_keys = false;
  std::vector<JournalRecord> earlier;  // the journal before this session, replayed to watchers
  std::vector<std::string> notes;
};

RunManager::RunManager(std::filesystem::path state_dir) : runs_dir_(std::move(state_dir) / "runs") {
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

grpc::Status RunManager::openIdleRun(const std::string& run_id, RunOpening& opening) {
  opening = openRunDirectory(runs_dir_, run_id);
  if (!opening.run) return openingError(opening);
  if (isLive(run_id)) {
    return serviceError(grpc::StatusCode::FAILED_PRECONDITION,
                        "run " + run_id + " is running now; watch it, or cancel it first", kExitFailed);
  }
  return grpc::Status::OK;
}

grpc::Status RunManager::plan(const v1::PlanRequest& request, v1::PlanResponse* response) {
  const std::string run_id = request.run_id().empty() ? "preview" : request.run_id();
  const std::string format = request.format().empty() ? "text" : request.format();
  if (format != "text" && format != "json" && format != "dot" && format != "mermaid") {
    return serviceError(grpc::StatusCode::INVALID_ARGUMENT,
                        "format must be text, json, dot or mermaid, not '" + format + "'", kExitBadInput);
  }
  if (Status valid = validateRunId(run_id); !valid) {
    return serviceError(grpc::StatusCode::INVALID_ARGUMENT, valid.error().message, kExitBadInput);
  }
  PlanningOutcome planned =
      planRun(request.inventory(), request.snapshot(), templateOrDefault(request.plan_template()), run_id, "");
  if (!planned.run) return planningError(planned, "nothing was planned");
  for (const auto& line : warningLines(planned)) response->add_warnings(line);
  const Plan& plan = planned.run->plan;
  PlanContext context;
  context.cluster = planned.run->inventory.cluster_name;
  context.inventory_path = request.inventory();
  context.template_source = planned.run->plan_template.source.string();
  context.run_id = run_id;
  context.snapshot = planned.run->snapshot;
  Result<std::string> rendered = std::string();
  if (format == "json") {
    rendered = planToJson(plan).dump(2) + "\n";
  } else if (format == "dot") {
    rendered = renderPlanDot(plan, context);
  } else if (format == "mermaid") {
    rendered = renderPlanMermaid(plan);
  } else {
    rendered = renderPlanText(plan, context, TextRenderOptions{.verbose = request.verbose()});
  }
  if (!rendered) return serviceError(grpc::StatusCode::INTERNAL, rendered.error().message, kExitFailed);
  response->set_rendered(*rendered);
  response->set_plan_json(planToJson(plan).dump());
  return grpc::Status::OK;
}

grpc::Status RunManager::apply(const v1::ApplyRequest& request, v1::RunStarted* response) {
  if (request.per_host() < 0) {
    return serviceError(grpc::StatusCode::INVALID_ARGUMENT, "per_host must be at least 1", kExitBadInput);
  }
  if (request.dry_run()) {
    DryRunOutcome outcome = dryRunInventory(request.inventory(), request.snapshot(), request.plan_template(),
                                            request.accept_new_host_keys());
    for (const auto& note : outcome.notes) response->add_notes(note);
    if (!outcome.planned) {
      return serviceError(grpc::StatusCode::INVALID_ARGUMENT, joinLines(outcome.problems), kExitBadInput);
    }
    if (!outcome.report) {
      return serviceError(grpc::StatusCode::FAILED_PRECONDITION, joinLines(outcome.problems), kExitFailed);
    }
    response->set_plan_json(planToJson(outcome.planned->plan).dump());
    fillDryRun(*outcome.report, response);
    return grpc::Status::OK;
  }

  auto session = std::make_unique<Session>();
  session->run_id = newRunId();
  session->mode = "apply";
  const std::string plan_template = templateOrDefault(request.plan_template());
  PlanningOutcome planned = planRun(request.inventory(), request.snapshot(), plan_template, session->run_id, "");
  if (!planned.run) return planningError(planned, "nothing was run");
  session->notes = warningLines(planned);
  if (grpc::Status gate = checkBeforeRestore(planned.run->inventory, request.force(), false, session->notes);
      !gate.ok()) {
    return gate;
  }
  const Plan& plan = planned.run->plan;
  auto lock = RunLock::acquire(runs_dir_, planned.run->inventory.cluster_name, session->run_id);
  if (!lock) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, lock.error().message, kExitFailed);
  const int per_host = std::max(1, request.per_host());
  RunInfo info;
  info.run_id = session->run_id;
  info.cluster = planned.run->inventory.cluster_name;
  info.inventory_path = request.inventory();
  info.snapshot_path = request.snapshot();
  info.plan_template = plan_template;
  info.fingerprint = plan.fingerprint;
  info.created_ms = nowMs();
  info.options = {{"per_host", std::to_string(per_host)},
                  {"accept_new_host_keys", request.accept_new_host_keys() ? "true" : "false"},
                  {"token", plan.inputs.count("run.token") ? plan.inputs.at("run.token") : ""},
                  {"started_by", "drd"}};
  auto created = createRun(runs_dir_, info, plan);
  if (!created) return serviceError(grpc::StatusCode::INTERNAL, created.error().message, kExitFailed);
  session->dir.emplace(std::move(created->dir));
  session->journal.emplace(std::move(created->journal));
  session->lock.emplace(std::move(lock).value());
  session->inventory = planned.run->inventory;
  session->plan = plan;
  session->options.per_host = per_host;
  session->accept_new_host_keys = request.accept_new_host_keys();
  return startSession(std::move(session), response);
}

grpc::Status RunManager::resume(const v1::ResumeRequest& request, v1::RunStarted* response) {
  RunOpening opening;
  if (grpc::Status idle = openIdleRun(request.run_id(), opening); !idle.ok()) return idle;
  OpenedRun& run = *opening.run;
  response->set_run_id(run.info.run_id);
  if (run.summary.phase == RunPhase::Finished) {
    response->add_notes("run " + run.info.run_id + " already finished; nothing to resume");
    response->set_nothing_to_do(true);
    return grpc::Status::OK;
  }
  if (run.summary.rollbackStarted()) {
    return serviceError(grpc::StatusCode::FAILED_PRECONDITION,
                        "run " + run.info.run_id + " was rolled back (or is rolling back); start a new run with Apply",
                        kExitFailed);
  }
  const auto token = run.info.options.count("token") ? run.info.options.at("token") : std::string();
  PlanningOutcome planned =
      planRun(run.info.inventory_path, run.info.snapshot_path, run.info.plan_template, run.info.run_id, token);
  if (!planned.run) return planningError(planned, "the run's inputs no longer load; nothing was run");
  auto session = std::make_unique<Session>();
  session->notes = warningLines(planned);
  const bool changed = planned.run->plan.fingerprint != run.plan.fingerprint;
  if (changed) {
    std::vector<std::string> lines{
        fmt::format("the plan changed since run {} started (fingerprint {} -> {}):", run.info.run_id,
                    run.plan.fingerprint.substr(0, 16), planned.run->plan.fingerprint.substr(0, 16))};
    for (const auto& line : describePlanChanges(run.plan, planned.run->plan)) lines.push_back("  " + line);
    if (!request.force()) {
      lines.push_back(
          "Refusing to resume a different plan. Restore the inputs, or resume with force to continue "
          "with the new plan.");
      return serviceError(grpc::StatusCode::FAILED_PRECONDITION, joinLines(lines), kExitBadInput);
    }
    lines.push_back("force: continuing with the new plan.");
    session->notes.insert(session->notes.end(), lines.begin(), lines.end());
  }
  int per_host = request.per_host();
  if (per_host <= 0) {
    auto it = run.info.options.find("per_host");
    per_host = it == run.info.options.end() ? 1 : std::max(1, std::atoi(it->second.c_str()));
  }
  std::string took_over;
  auto lock = lockClusterForRun(runs_dir_, run.info.cluster, run.info.run_id, &took_over);
  if (!lock) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, lock.error().message, kExitFailed);
  if (!took_over.empty()) session->notes.push_back(took_over);
  if (changed) {
    RunInfo info = run.info;
    info.fingerprint = planned.run->plan.fingerprint;
    Status written = run.dir.writeFileAtomically("plan.json", planToJson(planned.run->plan).dump(2) + "\n");
    if (written) written = run.dir.writeRunInfo(info);
    if (!written) return serviceError(grpc::StatusCode::INTERNAL, written.error().message, kExitFailed);
  }
  auto earlier = readJournal(run.dir.journalPath());
  if (!earlier) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, earlier.error().message, kExitFailed);
  const std::string mode = changed ? "resume --force" : "resume";
  auto journal = startJournalSession(run.dir, /*new_run=*/false, run.info, planned.run->plan.fingerprint, mode);
  if (!journal) return serviceError(grpc::StatusCode::INTERNAL, journal.error().message, kExitFailed);
  session->directives = resumeDirectives(run.summary);
  int done = 0;
  for (const auto& [id, d] : session->directives) done += d == StepDirective::AlreadyDone ? 1 : 0;
  session->notes.push_back(fmt::format("resuming run {}: {} of {} steps already done", run.info.run_id, done,
                                       planned.run->plan.steps.size()));
  session->run_id = run.info.run_id;
  session->mode = mode;
  session->earlier = std::move(earlier->records);
  session->dir.emplace(std::move(run.dir));
  session->journal.emplace(std::move(journal).value());
  session->lock.emplace(std::move(lock).value());
  session->inventory = planned.run->inventory;
  session->plan = planned.run->plan;
  session->options.per_host = per_host;
  session->accept_new_host_keys =
      run.info.options.count("accept_new_host_keys") && run.info.options.at("accept_new_host_keys") == "true";
  return startSession(std::move(session), response);
}

grpc::Status RunManager::rollback(const v1::RollbackRequest& request, v1::RunStarted* response) {
  RunOpening opening;
  if (grpc::Status idle = openIdleRun(request.run_id(), opening); !idle.ok()) return idle;
  OpenedRun& run = *opening.run;
  response->set_run_id(run.info.run_id);
  if (run.summary.phase == RunPhase::RolledBack) {
    response->add_notes("run " + run.info.run_id + " is already rolled back");
    response->set_nothing_to_do(true);
    return grpc::Status::OK;
  }
  auto inventory = loadInventory(run.info.inventory_path);
  if (!inventory.inventory) {
    std::vector<std::string> lines;
    for (const auto& d : inventory.diagnostics) lines.push_back(d.str());
    lines.push_back("the run's inventory " + run.info.inventory_path + " no longer loads; nothing was run");
    return serviceError(grpc::StatusCode::INVALID_ARGUMENT, joinLines(lines), kExitBadInput);
  }
  auto rollback_plan = buildRollbackPlan(run.plan, run.summary);
  auto session = std::make_unique<Session>();
  std::string took_over;
  auto lock = lockClusterForRun(runs_dir_, run.info.cluster, run.info.run_id, &took_over);
  if (!lock) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, lock.error().message, kExitFailed);
  if (!took_over.empty()) session->notes.push_back(took_over);
  auto earlier = readJournal(run.dir.journalPath());
  if (!earlier) return serviceError(grpc::StatusCode::FAILED_PRECONDITION, earlier.error().message, kExitFailed);
  auto journal = startJournalSession(run.dir, /*new_run=*/false, run.info, run.plan.fingerprint, "rollback");
  if (!journal) return serviceError(grpc::StatusCode::INTERNAL, journal.error().message, kExitFailed);
  session->notes.push_back(
      fmt::format("rolling back run {}: {} steps to undo", run.info.run_id, rollback_plan.to_undo));
  session->run_id = run.info.run_id;
  session->mode = "rollback";
  session->earlier = std::move(earlier->records);
  session->dir.emplace(std::move(run.dir));
  session->journal.emplace(std::move(journal).value());
  session->lock.emplace(std::move(lock).value());
  session->inventory = std::move(*inventory.inventory);
  session->plan = std::move(rollback_plan.plan);
  session->directives = std::move(rollback_plan.directives);
  session->options.per_host = 1;  // rollback is serial per host
  session->options.mode = ExecutionMode::Undo;
  session->accept_new_host_keys =
      run.info.options.count("accept_new_host_keys") && run.info.options.at("accept_new_host_keys") == "true";
  return startSession(std::move(session), response);
}

grpc::Status RunManager::startSession(std::unique_ptr<Session> session, v1::RunStarted* response) {
  std::lock_guard lock(mutex_);
  if (stopping_) return serviceError(grpc::StatusCode::UNAVAILABLE, "drd is stopping", kExitFailed);
  auto& slot = runs_[session->run_id];
  if (!slot) slot = std::make_shared<Live>();
  std::shared_ptr<Live> live = slot;
  if (live->thread.joinable()) live->thread.join();  // the previous session of this run has ended
  // Each session gets a fresh log holding the whole history: the journal's earlier sessions, then this one.
  auto events = std::make_shared<RunEventLog>();
  for (auto& event : eventsFromJournal(session->earlier)) events->append(std::move(event));
  v1::RunEvent started;
  started.set_kind(v1::RunEvent::SESSION_STARTED);
  started.set_time_ms(nowMs());
  started.set_message(session->mode);
  const std::int64_t first_seq = events->nextSeq();
  events->append(std::move(started));
  {
    std::lock_guard live_lock(live->mutex);
    live->events = events;
    live->running = true;
    live->stop_reason.clear();
    live->cancel_in_flight = false;
  }
  response->set_run_id(session->run_id);
  response->set_plan_json(planToJson(session->plan).dump());
  for (const auto& note : session->notes) response->add_notes(note);
  response->set_first_seq(first_seq);
  response->set_run_dir(session->dir->path().string());
  live->thread = std::thread([this, live, s = session.release()] { runSession(live, std::unique_ptr<Session>(s)); });
  return grpc::Status::OK;
}

void RunManager::runSession(std::shared_ptr<Live> live, std::unique_ptr<Session> session) {
  RunEventLog& events = *live->events;
  EventLogObserver observer(events);
  JournalWriterSink sink(*session->journal);
  HostRouting routing(session->inventory, session->accept_new_host_keys);
  RunExecution execution;
  execution.plan = &session->plan;
  execution.directives = session->directives;
  execution.run_dir = &*session->dir;
  execution.journal = &sink;
  execution.endpoints = routing.endpoints(session->plan);
  execution.options = session->options;
  execution.observer = &observer;
  execution.attach = [live](Executor* executor) {
    std::lock_guard lock(live->mutex);
    live->executor = executor;
    if (executor == nullptr || live->stop_reason.empty()) return;
    executor->requestStop(live->stop_reason);
    if (live->cancel_in_flight) executor->cancelInFlight();
  };
  auto result = executeRun(execution);
  const bool undo = session->options.mode == ExecutionMode::Undo;
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
  // The lock goes before the end is announced, so a client that sees the end can resume or roll back at once.
  session->journal.reset();
  if (session->lock) (void)session->lock->release();
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
  if (with_steps) out->set_plan_json(planToJson(run.plan).dump());
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
