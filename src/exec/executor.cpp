// The executor's scheduling loop and the running of one step. See executor.h for the contract.
//
// Threads: the caller of run() is the coordinator: it owns the ready set and hands steps to host slots. Each host
// has `per_host` slot threads, each with its own lazily opened, reused Session. All bookkeeping is keyed by the
// step's index in plan order (stable, deterministic) and guarded by one mutex; a slot journals a step's end
// before it reports back, so a dependent step is dispatched only after its needs' records are durable.
// With a StepScheduler (the simulator) there are no slot threads: the caller's thread runs one step at a time.
#include "exec/executor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/sha256.h"
#include "core/utf8.h"
#include "exec/bucket_fetch.h"

namespace dr {

const char* stepStateName(StepState state) {
  switch (state) {
    case StepState::NotStarted: return "not-started";
    case StepState::Running: return "running";
    case StepState::Done: return "done";
    case StepState::AlreadyDone: return "already-done";
    case StepState::Failed: return "failed";
  }
  return "?";
}

const char* hostOutcomeName(HostOutcome outcome) {
  switch (outcome) {
    case HostOutcome::Finished: return "finished";
    case HostOutcome::Failed: return "failed";
    case HostOutcome::Stopped: return "stopped";
  }
  return "?";
}

const char* hostActivityName(HostActivity activity) {
  switch (activity) {
    case HostActivity::Connecting: return "connecting";
    case HostActivity::Running: return "running";
    case HostActivity::Idle: return "idle";
    case HostActivity::Finished: return "finished";
    case HostActivity::Failed: return "failed";
    case HostActivity::Stopped: return "stopped";
  }
  return "?";
}

const StepOutcome* ExecutionResult::find(const std::string& id) const {
  for (const auto& step : steps) {
    if (step.id == id) return &step;
  }
  return nullptr;
}

std::vector<HostSummary> summarizeHosts(const std::vector<StepOutcome>& steps) {
  std::map<std::string, HostSummary> by_host;
  for (const auto& step : steps) {
    HostSummary& host = by_host[step.host];
    host.host = step.host;
    ++host.total;
    switch (step.state) {
      case StepState::Done:
      case StepState::AlreadyDone: ++host.done; break;
      case StepState::Failed:
        ++host.failed;
        if (host.failed_step.empty()) host.failed_step = step.id;
        break;
      case StepState::NotStarted:
      case StepState::Running:
        ++host.not_started;
        if (host.next_step.empty()) host.next_step = step.id;
        break;
    }
  }
  std::vector<HostSummary> hosts;
  for (auto& [name, host] : by_host) {
    host.outcome = host.failed > 0 ? HostOutcome::Failed
                   : host.not_started > 0 ? HostOutcome::Stopped
                                          : HostOutcome::Finished;
    hosts.push_back(std::move(host));
  }
  return hosts;
}

namespace {

UploadRequest uploadRequestOf(const Step& step) {
  UploadRequest upload;
  upload.local_path = step.upload->local_path;
  upload.remote_path = step.upload->remote_path;
  upload.expected_sha256 = step.upload->sha256;
  upload.step_id = step.id;
  return upload;
}

// The record types a mode writes: a rollback journals Undo* records against the same step ids.
struct RecordKinds {
  RecordType started, finished, failed, skipped, run_ok;
};

RecordKinds kindsFor(ExecutionMode mode) {
  if (mode == ExecutionMode::Undo) {
    return {RecordType::UndoStarted, RecordType::UndoFinished, RecordType::UndoFailed, RecordType::UndoFinished,
            RecordType::RollbackFinished};
  }
  return {RecordType::StepStarted, RecordType::StepFinished, RecordType::StepFailed, RecordType::StepSkipped,
          RecordType::RunFinished};
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// The last non-empty line of a command's output, shortened: enough for a failure message to say why. The cut falls
// between characters, so output that was valid UTF-8 stays so.
std::string lastLine(std::string_view output) {
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r' || output.back() == ' ')) {
    output.remove_suffix(1);
  }
  const auto newline = output.find_last_of('\n');
  std::string_view line = newline == std::string_view::npos ? output : output.substr(newline + 1);
  return std::string(utf8Suffix(line, 200));
}

}  // namespace

struct Executor::Impl {
  // A host has two lanes: commands (per_host slots) and transfers (one slot, for steps with an upload). A
  // transfer only writes a file into its staging place, which no other step relies on until it is done, so it
  // runs beside the host's commands: a snapshot upload then overlaps the stops instead of delaying them.
  enum Lane : std::size_t { kCommandLane = 0, kTransferLane = 1 };
  struct Slot {
    std::unique_ptr<Session> session;
    std::thread thread;
    Lane lane = kCommandLane;
    bool connect_early = false;  // connect as soon as the slot starts, not when its first step comes
  };
  struct HostRuntime {
    std::string name;
    const HostEndpoint* endpoint = nullptr;
    std::deque<std::size_t> queue[2];  // by lane
    int running[2] = {0, 0};           // by lane
    std::vector<std::unique_ptr<Slot>> slots;
    std::condition_variable wake;
  };

  const Plan& plan;
  ExecutorEnv env;
  ExecutorOptions options;
  RecordKinds kinds;

  std::mutex mutex;  // guards everything below except `cancel`
  std::condition_variable coordinator_wake;
  std::vector<StepOutcome> outcomes;
  std::vector<StepDirective> directives;
  std::vector<int> remaining_needs;
  std::vector<std::vector<std::size_t>> dependents;
  std::set<std::size_t> ready;  // ordered by plan index: deterministic dispatch order
  std::map<std::string, HostRuntime> hosts;
  bool shutdown = false;
  bool stop = false;
  std::string stop_reason;
  bool failed = false;
  std::string failure;
  int running_total = 0;
  std::atomic<bool> cancel{false};

  std::mutex observer_mutex;  // serializes observer calls; taken after `mutex`, never before it

  Impl(const Plan& p, ExecutorEnv e, ExecutorOptions o)
      : plan(p), env(std::move(e)), options(o), kinds(kindsFor(o.mode)) {}

  template <typename F>
  void notify(F&& call) {
    if (env.observer == nullptr) return;
    std::lock_guard lock(observer_mutex);
    call(*env.observer);
  }

  Status journal(const JournalRecord& record) {
    if (env.journal == nullptr) return {};
    return env.journal->append(record);
  }

  JournalRecord record(RecordType type, const Step& step, int attempt) {
    JournalRecord r;
    r.type = type;
    r.time_ms = env.clock->wallMs();
    r.step_id = step.id;
    r.host = step.host;
    r.attempt = attempt;
    return r;
  }

  Status validate() const;
  void slotLoop(HostRuntime& host, Slot& slot);
  Lane laneOf(std::size_t index) const { return plan.steps[index].upload ? kTransferLane : kCommandLane; }
  StepOutcome execute(HostRuntime& host, Slot& slot, std::size_t index);
  AttemptOutcome attemptOnce(HostRuntime& host, Slot& slot, const Step& step, int attempt);
  Result<CommandResult> runCheck(HostRuntime& host, Slot& slot, const Step& step);
  bool ensureSession(HostRuntime& host, Slot& slot, std::string& error);
  void finish(HostRuntime& host, std::size_t index, StepOutcome outcome);
  void dispatchThreaded();
  void dispatchInline();
};

Executor::Executor(const Plan& plan, ExecutorEnv env, ExecutorOptions options)
    : impl_(std::make_unique<Impl>(plan, std::move(env), options)) {}

Executor::~Executor() = default;

void Executor::requestStop(const std::string& reason) {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->stop) impl_->stop_reason = reason;
  impl_->stop = true;
  impl_->coordinator_wake.notify_all();
}

void Executor::cancelInFlight() {
  impl_->cancel = true;
  requestStop("cancelled: steps in flight were ended");
}

Status Executor::Impl::validate() const {
  if (env.clock == nullptr) return fail("executor: no clock");
  if (options.per_host < 1) return fail("executor: per-host concurrency must be at least 1, not {}", options.per_host);
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (!index.emplace(plan.steps[i].id, i).second) return fail("plan: step id '{}' appears twice", plan.steps[i].id);
  }
  for (const auto& step : plan.steps) {
    for (const auto& need : step.needs) {
      if (!index.count(need)) return fail("plan: step '{}' needs '{}', which is not in the plan", step.id, need);
    }
    auto endpoint = env.hosts.find(step.host);
    if (endpoint == env.hosts.end() || endpoint->second.transport == nullptr) {
      return fail("executor: no transport for host '{}' (step '{}')", step.host, step.id);
    }
  }
  // Kahn's count: a cycle would leave steps waiting forever.
  std::vector<int> indegree(plan.steps.size(), 0);
  std::vector<std::vector<std::size_t>> out(plan.steps.size());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    for (const auto& need : plan.steps[i].needs) {
      out[index.at(need)].push_back(i);
      ++indegree[i];
    }
  }
  std::vector<std::size_t> queue;
  for (std::size_t i = 0; i < indegree.size(); ++i) {
    if (indegree[i] == 0) queue.push_back(i);
  }
  std::size_t seen = 0;
  while (!queue.empty()) {
    const std::size_t i = queue.back();
    queue.pop_back();
    ++seen;
    for (std::size_t d : out[i]) {
      if (--indegree[d] == 0) queue.push_back(d);
    }
  }
  if (seen != plan.steps.size()) return fail("plan: the needs of its steps form a cycle");
  return {};
}

Result<ExecutionResult> Executor::run(const std::map<std::string, StepDirective>& directives) {
  Impl& s = *impl_;
  if (Status valid = s.validate(); !valid) return valid.error();

  const std::size_t n = s.plan.steps.size();
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index[s.plan.steps[i].id] = i;
  s.outcomes.assign(n, {});
  s.directives.assign(n, StepDirective::Run);
  s.remaining_needs.assign(n, 0);
  s.dependents.assign(n, {});
  for (std::size_t i = 0; i < n; ++i) {
    const Step& step = s.plan.steps[i];
    s.outcomes[i].id = step.id;
    s.outcomes[i].host = step.host;
    if (auto d = directives.find(step.id); d != directives.end()) s.directives[i] = d->second;
    s.remaining_needs[i] = static_cast<int>(step.needs.size());
    for (const auto& need : step.needs) s.dependents[index.at(need)].push_back(i);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (s.directives[i] != StepDirective::AlreadyDone) continue;
    s.outcomes[i].state = StepState::AlreadyDone;
    s.outcomes[i].message = "done before";
    for (std::size_t d : s.dependents[i]) --s.remaining_needs[d];
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (s.outcomes[i].state == StepState::NotStarted && s.remaining_needs[i] <= 0) s.ready.insert(i);
  }

  // One runtime per host that has steps; slot threads start now and wait for work.
  for (const auto& step : s.plan.steps) {
    auto [it, inserted] = s.hosts.try_emplace(step.host);
    if (!inserted) continue;
    it->second.name = step.host;
    it->second.endpoint = &s.env.hosts.at(step.host);
  }
  if (s.env.scheduler != nullptr) {
    s.dispatchInline();
  } else {
    s.dispatchThreaded();
  }

  ExecutionResult result;
  result.steps = s.outcomes;
  result.hosts = summarizeHosts(result.steps);
  const bool all_done = std::all_of(result.steps.begin(), result.steps.end(), [](const StepOutcome& o) {
    return o.state == StepState::Done || o.state == StepState::AlreadyDone;
  });
  if (s.failed) {
    result.outcome = RunOutcome::Failed;
    result.reason = s.failure;
  } else if (!all_done) {
    result.outcome = RunOutcome::Stopped;
    result.reason = s.stop_reason.empty() ? "stopped" : s.stop_reason;
  }
  if (s.options.journal_run_end) {
    JournalRecord end;
    end.time_ms = s.env.clock->wallMs();
    end.type = result.outcome == RunOutcome::Finished ? s.kinds.run_ok : RecordType::RunHalted;
    end.message = result.reason;
    if (Status written = s.journal(end); !written) {
      result.reason += (result.reason.empty() ? "" : "; ") + std::string("the journal could not record the end: ") +
                       written.error().message;
      if (result.outcome == RunOutcome::Finished) result.outcome = RunOutcome::Failed;
    }
  }
  for (const auto& host : result.hosts) {
    const HostActivity activity = host.outcome == HostOutcome::Finished ? HostActivity::Finished
                                  : host.outcome == HostOutcome::Failed ? HostActivity::Failed
                                                                        : HostActivity::Stopped;
    s.notify([&](ExecutionObserver& o) { o.onHostActivity(host.host, activity, ""); });
  }
  return result;
}

// Slot threads per host (per_host command slots, one transfer slot where the host has uploads); this thread hands
// them ready steps and waits until nothing runs.
void Executor::Impl::dispatchThreaded() {
  std::set<std::string> hosts_with_uploads, hosts_with_pending_uploads;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (!plan.steps[i].upload) continue;
    hosts_with_uploads.insert(plan.steps[i].host);
    if (outcomes[i].state == StepState::NotStarted) hosts_with_pending_uploads.insert(plan.steps[i].host);
  }
  for (auto& [name, host] : hosts) {
    const int transfer_slots = hosts_with_uploads.count(name) ? 1 : 0;
    for (int k = 0; k < options.per_host + transfer_slots; ++k) {
      auto slot = std::make_unique<Slot>();
      slot->lane = k < options.per_host ? kCommandLane : kTransferLane;
      // An upload waits for its host's preflight; its connection is made meanwhile instead of after it.
      slot->connect_early = slot->lane == kTransferLane && hosts_with_pending_uploads.count(name) > 0;
      Slot& ref = *slot;
      HostRuntime& host_ref = host;
      slot->thread = std::thread([this, &host_ref, &ref] { slotLoop(host_ref, ref); });
      host.slots.push_back(std::move(slot));
    }
  }

  {
    std::unique_lock lock(mutex);
    while (true) {
      if (!stop && !failed) {
        for (auto it = ready.begin(); it != ready.end();) {
          const std::size_t i = *it;
          HostRuntime& host = hosts.at(plan.steps[i].host);
          const Lane lane = laneOf(i);
          if (host.running[lane] >= (lane == kCommandLane ? options.per_host : 1)) {
            ++it;
            continue;
          }
          it = ready.erase(it);
          outcomes[i].state = StepState::Running;
          ++host.running[lane];
          ++running_total;
          host.queue[lane].push_back(i);
          host.wake.notify_all();
        }
      }
      if (running_total == 0) break;
      coordinator_wake.wait(lock);
    }
    shutdown = true;
    for (auto& [name, host] : hosts) host.wake.notify_all();
  }
  for (auto& [name, host] : hosts) {
    for (auto& slot : host.slots) slot->thread.join();
  }
}

// One step at a time on this thread, in the order the scheduler picks. Each host keeps one session per lane, as
// the threaded dispatch does, so sessions are opened and reused the same way.
void Executor::Impl::dispatchInline() {
  for (auto& [name, host] : hosts) {
    for (Lane lane : {kCommandLane, kTransferLane}) {
      auto slot = std::make_unique<Slot>();
      slot->lane = lane;
      host.slots.push_back(std::move(slot));
    }
  }
  std::unique_lock lock(mutex);
  while (!stop && !failed && !ready.empty()) {
    const std::vector<std::size_t> candidates(ready.begin(), ready.end());
    lock.unlock();
    const std::optional<std::size_t> pick = env.scheduler->pick(candidates);
    lock.lock();
    if (!pick || *pick >= candidates.size()) {
      if (!stop) stop_reason = "stopped by the scheduler";
      stop = true;
      break;
    }
    const std::size_t i = candidates[*pick];
    ready.erase(i);
    HostRuntime& host = hosts.at(plan.steps[i].host);
    const Lane lane = laneOf(i);
    outcomes[i].state = StepState::Running;
    ++host.running[lane];
    ++running_total;
    lock.unlock();
    StepOutcome outcome = execute(host, *host.slots[lane], i);
    lock.lock();
    finish(host, i, std::move(outcome));
  }
}

void Executor::Impl::slotLoop(HostRuntime& host, Slot& slot) {
  if (slot.connect_early) {
    // A failure here is not reported: the slot's first step connects again and reports it as that step's.
    std::string ignored;
    if (ensureSession(host, slot, ignored) && options.mode == ExecutionMode::Apply) {
      // And what the host's first pending upload needs is started too (the transport changes nothing for it).
      std::optional<UploadRequest> first;
      {
        std::lock_guard guard(mutex);
        for (std::size_t i = 0; i < plan.steps.size() && !first; ++i) {
          const Step& step = plan.steps[i];
          if (step.upload && step.host == host.name && outcomes[i].state == StepState::NotStarted) {
            first = uploadRequestOf(step);
          }
        }
      }
      // Not reported either: the session may be broken, so the upload step connects again and meets any lasting
      // failure itself.
      // A fetch from the bucket needs no SFTP: nothing to start ahead.
      if (first && !isBucketSource(first->local_path) && !slot.session->prepare(*first)) slot.session.reset();
    }
  }
  std::unique_lock lock(mutex);
  while (true) {
    std::deque<std::size_t>& queue = host.queue[slot.lane];
    host.wake.wait(lock, [&] { return shutdown || !queue.empty(); });
    if (queue.empty()) return;
    const std::size_t index = queue.front();
    queue.pop_front();
    lock.unlock();
    StepOutcome outcome = execute(host, slot, index);
    const bool idle = outcome.state != StepState::Failed;
    lock.lock();
    finish(host, index, std::move(outcome));
    const bool host_idle = host.queue[kCommandLane].empty() && host.queue[kTransferLane].empty() &&
                           host.running[kCommandLane] == 0 && host.running[kTransferLane] == 0;
    lock.unlock();
    if (idle && host_idle) notify([&](ExecutionObserver& o) { o.onHostActivity(host.name, HostActivity::Idle, ""); });
    lock.lock();
  }
}

// Called with `mutex` held.
void Executor::Impl::finish(HostRuntime& host, std::size_t index, StepOutcome outcome) {
  --host.running[laneOf(index)];
  --running_total;
  const bool done = outcome.state == StepState::Done || outcome.state == StepState::AlreadyDone;
  // A step ended by cancelInFlight() is journaled as failed (resume checks it) but the run is interrupted, not
  // failed: the operator stopped it.
  if (!done && !failed && !cancel) {
    failed = true;
    failure = fmt::format("step {} on {} failed: {}", outcome.id, outcome.host, outcome.message);
  }
  outcomes[index] = std::move(outcome);
  if (done) {
    for (std::size_t d : dependents[index]) {
      if (--remaining_needs[d] == 0 && outcomes[d].state == StepState::NotStarted) ready.insert(d);
    }
  }
  coordinator_wake.notify_one();
}

bool Executor::Impl::ensureSession(HostRuntime& host, Slot& slot, std::string& error) {
  if (slot.session) return true;
  notify([&](ExecutionObserver& o) { o.onHostActivity(host.name, HostActivity::Connecting, ""); });
  auto session = host.endpoint->transport->connect(host.endpoint->target);
  if (!session) {
    error = fmt::format("cannot connect to {}: {}", host.name, session.error().message);
    return false;
  }
  slot.session = std::move(session).value();
  return true;
}

Result<CommandResult> Executor::Impl::runCheck(HostRuntime& host, Slot& slot, const Step& step) {
  std::string error;
  if (!ensureSession(host, slot, error)) return Error{error};
  CommandRequest request;
  request.command = step.check;
  request.step_id = step.id;
  request.purpose = CommandPurpose::Check;
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(step.timeout);
  request.cancelled = [this] { return cancel.load(); };
  auto result = slot.session->run(request);
  if (!result) {
    slot.session.reset();
    return fail("check of {} on {}: {}", step.id, host.name, result.error().message);
  }
  return result;
}

AttemptOutcome Executor::Impl::attemptOnce(HostRuntime& host, Slot& slot, const Step& step, int attempt) {
  AttemptOutcome out;
  out.attempt = attempt;
  const auto started = env.clock->now();
  Sha256 hash;
  FilePtr log;
  if (env.step_log_path) {
    const auto path = env.step_log_path(step.id);
    // Owner-only, appended across attempts, never through a link someone put in the logs dir.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      log.reset(::fdopen(fd, "a"));
      if (!log) ::close(fd);
    }
    if (log) std::fprintf(log.get(), "--- %s attempt %d on %s ---\n", step.id.c_str(), attempt, step.host.c_str());
  }
  auto finishOutcome = [&] {
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(env.clock->now() - started).count();
    out.output_sha256 = hash.finishHex();
    if (log && !out.message.empty()) std::fprintf(log.get(), "--- failed: %s ---\n", out.message.c_str());
    return out;
  };

  if (!ensureSession(host, slot, out.message)) return finishOutcome();
  notify([&](ExecutionObserver& o) { o.onHostActivity(host.name, HostActivity::Running, step.id); });

  if (step.upload && options.mode == ExecutionMode::Apply && isBucketSource(step.upload->local_path)) {
    const UploadRequest upload = uploadRequestOf(step);
    auto url = env.fetch_url ? env.fetch_url(upload.local_path.string())
                             : Result<std::string>(fail("this session has no access to the object store"));
    if (!url) {
      out.message = fmt::format("{} cannot be fetched by {}: {}", upload.local_path.string(), host.name,
                                url.error().message);
      return finishOutcome();
    }
    CommandRequest fetch;
    fetch.command = bucketFetchCommand(upload, *url);
    fetch.step_id = step.id;
    fetch.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(step.timeout);
    fetch.cancelled = [this] { return cancel.load(); };
    auto fetched = slot.session->run(fetch);
    if (!fetched || fetched->exit_code != 0 || fetched->timed_out) {
      if (!fetched) slot.session.reset();
      const std::string why = !fetched            ? fetched.error().message
                              : fetched->timed_out ? fmt::format("timed out after {}s", step.timeout.count())
                                                   : lastLine(fetched->output);
      out.message = fmt::format("fetch of {} to {}:{} failed: {}", upload.local_path.string(), host.name,
                                upload.remote_path, why);
      if (fetched) out.exit_code = fetched->exit_code;
      return finishOutcome();
    }
    if (log) std::fprintf(log.get(), "fetched %s to %s on the host (sha256 %s verified there)\n",
                          upload.local_path.c_str(), upload.remote_path.c_str(), upload.expected_sha256.c_str());
  } else if (step.upload && options.mode == ExecutionMode::Apply) {
    const UploadRequest upload = uploadRequestOf(step);
    if (Status sent = slot.session->upload(upload); !sent) {
      slot.session.reset();  // the connection may be broken; a retry reconnects
      out.message = fmt::format("upload of {} to {}:{} failed: {}", upload.local_path.string(), host.name,
                                upload.remote_path, sent.error().message);
      return finishOutcome();
    }
    if (log) std::fprintf(log.get(), "uploaded %s to %s (sha256 %s verified)\n", upload.local_path.c_str(),
                          upload.remote_path.c_str(), upload.expected_sha256.c_str());
  }
  if (step.command.empty()) return finishOutcome();

  bool streamed = false;
  auto consume = [&](std::string_view chunk) {
    hash.update(chunk);
    if (log) {
      std::fwrite(chunk.data(), 1, chunk.size(), log.get());
      std::fflush(log.get());
    }
    notify([&](ExecutionObserver& o) { o.onStepOutput(step, chunk); });
  };
  CommandRequest request;
  request.command = step.command;
  request.step_id = step.id;
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(step.timeout);
  request.on_output = [&](std::string_view chunk) {
    streamed = true;
    consume(chunk);
  };
  request.cancelled = [this] { return cancel.load(); };
  auto result = slot.session->run(request);
  if (!result) {
    slot.session.reset();
    out.message = fmt::format("transport error on {}: {}", host.name, result.error().message);
    return finishOutcome();
  }
  if (!streamed && !result->output.empty()) consume(result->output);
  out.exit_code = result->exit_code;
  out.timed_out = result->timed_out;
  if (result->timed_out) {
    out.message = cancel ? std::string("cancelled by the operator")
                         : fmt::format("timed out after {}s", step.timeout.count());
  } else if (result->exit_code != 0) {
    const std::string line = lastLine(result->output);
    out.message = line.empty() ? fmt::format("exit code {}", result->exit_code)
                               : fmt::format("exit code {}: {}", result->exit_code, line);
  }
  return finishOutcome();
}

StepOutcome Executor::Impl::execute(HostRuntime& host, Slot& slot, std::size_t index) {
  const Step& step = plan.steps[index];
  StepOutcome out;
  out.id = step.id;
  out.host = step.host;
  const StepDirective directive = directives[index];

  auto journalOrFail = [&](const JournalRecord& r) {
    if (Status written = journal(r); !written) {
      out.state = StepState::Failed;
      out.message = "the journal could not record it: " + written.error().message;
      return false;
    }
    return true;
  };

  if ((directive == StepDirective::CheckFirst || directive == StepDirective::RunIfCheckPasses) && !step.check.empty()) {
    notify([&](ExecutionObserver& o) { o.onHostActivity(host.name, HostActivity::Running, step.id); });
    auto check = runCheck(host, slot, step);
    if (!check) {
      JournalRecord r = record(kinds.failed, step, 0);
      r.message = check.error().message;
      out.state = StepState::Failed;
      out.message = check.error().message;
      if (journalOrFail(r)) out.message = check.error().message;
      return out;
    }
    const bool passed = check->exit_code == 0 && !check->timed_out;
    const bool skip = directive == StepDirective::CheckFirst ? passed : !passed;
    if (skip) {
      JournalRecord r = record(kinds.skipped, step, 0);
      r.exit_code = check->exit_code;
      r.message = directive == StepDirective::CheckFirst
                      ? "its check passed: already done"
                      : "its check failed: the step never took effect, nothing to undo";
      if (!journalOrFail(r)) return out;
      out.state = StepState::AlreadyDone;
      out.exit_code = check->exit_code;
      out.message = r.message;
      notify([&](ExecutionObserver& o) { o.onStepSkipped(step, r.message); });
      return out;
    }
  }

  const int max_attempts = step.idempotent ? 1 + std::max(0, step.retries) : 1;
  auto backoff = options.retry_backoff;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (!journalOrFail(record(kinds.started, step, attempt))) return out;
    notify([&](ExecutionObserver& o) { o.onStepStarted(step, attempt); });
    AttemptOutcome a = attemptOnce(host, slot, step, attempt);
    out.attempts = attempt;
    out.exit_code = a.exit_code;
    out.duration_ms = a.duration_ms;
    out.message = a.message;
    const bool ok = a.message.empty();
    const bool will_retry = !ok && attempt < max_attempts && !cancel;
    JournalRecord r = record(ok ? kinds.finished : kinds.failed, step, attempt);
    r.exit_code = a.exit_code;
    r.duration_ms = a.duration_ms;
    r.output_sha256 = a.output_sha256;
    r.message = a.message;
    if (!journalOrFail(r)) return out;
    if (ok) {
      out.state = StepState::Done;
      notify([&](ExecutionObserver& o) { o.onStepFinished(step, a); });
      return out;
    }
    notify([&](ExecutionObserver& o) { o.onStepFailed(step, a, will_retry); });
    if (!will_retry) break;
    env.clock->sleepFor(backoff);
    backoff = std::min(backoff * 2, options.retry_backoff_max);
  }
  out.state = StepState::Failed;
  return out;
}

}  // namespace dr
