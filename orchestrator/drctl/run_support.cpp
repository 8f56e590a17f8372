// Shared machinery of the commands that run plans. See run_support.h.
#include "run_support.h"

#include "commands.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <vector>

#include "core/shell.h"
#include "exec/clock.h"
#include "exec/journal_sink.h"

namespace dr::cli {

bool stdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }
bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

namespace {

void printDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
}

std::string clockTime(std::int64_t wall_ms) {
  const std::time_t seconds = wall_ms / 1000;
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &tm);
  return text;
}

std::int64_t nowMs() { return SystemClock().wallMs(); }

}  // namespace

std::optional<PlannedRun> loadAndPlan(const std::string& inventory_path, const std::string& snapshot_path,
                                      const std::string& template_name, const std::string& run_id,
                                      const std::string& token) {
  PlanningOutcome planned = planRun(inventory_path, snapshot_path, template_name, run_id, token);
  printDiagnostics(planned.inventory_diagnostics);
  if (!planned.snapshot_error.empty()) std::fprintf(stderr, "drctl: %s\n", planned.snapshot_error.c_str());
  printDiagnostics(planned.template_diagnostics);
  printDiagnostics(planned.plan_diagnostics);
  return std::move(planned.run);
}

void putOwnDirectoryOnPath() { prependProgramDirectoryToPath(); }

Result<LogFormat> parseLogFormat(const std::string& text) {
  if (text == "text") return LogFormat::Text;
  if (text == "json") return LogFormat::Json;
  return fail("--log-format must be text or json, not '{}'", text);
}

std::string resumeCommand(const std::string& run_id, const std::string& runs_root) {
  return fmt::format("drctl resume {} --runs {}", shellQuote(run_id), shellQuote(runs_root));
}

std::string rollbackCommand(const std::string& run_id, const std::string& runs_root) {
  return fmt::format("drctl rollback {} --runs {}", shellQuote(run_id), shellQuote(runs_root));
}

Result<RunLock> acquireRunLock(const std::string& runs_root, const std::string& cluster, const std::string& run_id) {
  std::string took_over;
  auto lock = lockClusterForRun(runs_root, cluster, run_id, &took_over);
  if (!took_over.empty()) std::fprintf(stderr, "drctl: %s\n", took_over.c_str());
  return lock;
}

// ---- progress ---------------------------------------------------------------------------------------------------

namespace {

// Plain log lines on stderr: what a CI log or a `| tee` wants.
class LogLinesObserver final : public ExecutionObserver {
 public:
  void onStepStarted(const Step& step, int attempt) override {
    line(step.host, fmt::format("{} started{}", step.id, attempt > 1 ? fmt::format(" (attempt {})", attempt) : ""));
  }
  void onStepFinished(const Step& step, const AttemptOutcome& outcome) override {
    line(step.host, fmt::format("{} done in {:.1f}s", step.id, outcome.duration_ms / 1000.0));
  }
  void onStepFailed(const Step& step, const AttemptOutcome& outcome, bool will_retry) override {
    line(step.host, fmt::format("{} FAILED: {}{}", step.id, outcome.message, will_retry ? " (will retry)" : ""));
  }
  void onStepSkipped(const Step& step, std::string_view why) override {
    line(step.host, fmt::format("{} skipped: {}", step.id, why));
  }
  void onHostActivity(const std::string& host, HostActivity activity, const std::string&) override {
    if (activity == HostActivity::Connecting) line(host, "connecting");
  }

 private:
  static void line(const std::string& host, const std::string& text) {
    std::fprintf(stderr, "%s %s: %s\n", clockTime(nowMs()).c_str(), host.c_str(), text.c_str());
  }
};

// One JSON object per event on stdout, for machines.
class JsonEventsObserver final : public ExecutionObserver {
 public:
  void onStepStarted(const Step& step, int attempt) override {
    emit({{"event", "step-started"}, {"step", step.id}, {"host", step.host}, {"attempt", attempt}});
  }
  void onStepFinished(const Step& step, const AttemptOutcome& o) override {
    emit({{"event", "step-finished"}, {"step", step.id}, {"host", step.host}, {"attempt", o.attempt},
          {"exit_code", o.exit_code ? nlohmann::json(*o.exit_code) : nlohmann::json()},
          {"duration_ms", o.duration_ms}, {"output_sha256", o.output_sha256}});
  }
  void onStepFailed(const Step& step, const AttemptOutcome& o, bool will_retry) override {
    emit({{"event", "step-failed"}, {"step", step.id}, {"host", step.host}, {"attempt", o.attempt},
          {"exit_code", o.exit_code ? nlohmann::json(*o.exit_code) : nlohmann::json()},
          {"duration_ms", o.duration_ms}, {"message", o.message}, {"will_retry", will_retry}});
  }
  void onStepSkipped(const Step& step, std::string_view why) override {
    emit({{"event", "step-skipped"}, {"step", step.id}, {"host", step.host}, {"why", std::string(why)}});
  }
  void onHostActivity(const std::string& host, HostActivity activity, const std::string& step_id) override {
    emit({{"event", "host"}, {"host", host}, {"activity", hostActivityName(activity)}, {"step", step_id}});
  }

 private:
  static void emit(nlohmann::json event) {
    event["time_ms"] = nowMs();
    std::fprintf(stdout, "%s\n", event.dump().c_str());
    std::fflush(stdout);
  }
};

// A live view on a terminal: one line per host (current step, elapsed, done/total), redrawn in place.
class LiveViewObserver final : public ExecutionObserver {
 public:
  explicit LiveViewObserver(const Plan& plan) {
    for (const auto& step : plan.steps) ++hosts_[step.host].total;
    ticker_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      while (!stopping_) {
        wake_.wait_for(lock, std::chrono::milliseconds(500));
        drawLocked();
      }
    });
  }
  ~LiveViewObserver() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      drawLocked();
    }
    wake_.notify_all();
    ticker_.join();
  }
  void onStepStarted(const Step& step, int attempt) override {
    std::lock_guard lock(mutex_);
    Row& row = hosts_[step.host];
    row.step = attempt > 1 ? fmt::format("{} (attempt {})", step.id, attempt) : step.id;
    row.since = std::chrono::steady_clock::now();
    row.state = "running";
    drawLocked();
  }
  void onStepFinished(const Step& step, const AttemptOutcome&) override { ended(step, "idle", true); }
  void onStepSkipped(const Step& step, std::string_view) override { ended(step, "idle", true); }
  void onStepFailed(const Step& step, const AttemptOutcome& o, bool will_retry) override {
    std::lock_guard lock(mutex_);
    Row& row = hosts_[step.host];
    row.state = will_retry ? "retrying" : "FAILED";
    row.note = o.message;
    drawLocked();
  }
  void onHostActivity(const std::string& host, HostActivity activity, const std::string&) override {
    std::lock_guard lock(mutex_);
    Row& row = hosts_[host];
    if (activity == HostActivity::Connecting) row.state = "connecting";
    if (activity == HostActivity::Finished) row.state = "finished";
    if (activity == HostActivity::Stopped && row.state != "FAILED") row.state = "stopped";
    drawLocked();
  }

 private:
  struct Row {
    int total = 0;
    int done = 0;
    std::string state = "waiting";
    std::string step;
    std::string note;
    std::chrono::steady_clock::time_point since;
  };
  void ended(const Step& step, const char* state, bool done) {
    std::lock_guard lock(mutex_);
    Row& row = hosts_[step.host];
    if (done) ++row.done;
    row.state = state;
    drawLocked();
  }
  void drawLocked() {
    std::string frame;
    if (lines_ > 0) frame += fmt::format("\x1b[{}A", lines_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [host, row] : hosts_) {
      std::string what = row.state;
      if (row.state == "running" || row.state == "retrying") {
        const double elapsed = std::chrono::duration<double>(now - row.since).count();
        what = fmt::format("{} {} ({:.0f}s)", row.state, row.step, elapsed);
      } else if (row.state == "FAILED") {
        what = fmt::format("FAILED {}: {}", row.step, row.note.substr(0, 80));
      }
      frame += fmt::format("\r\x1b[K  {:<22} {:>3}/{:<3} {}\n", host, row.done, row.total, what);
    }
    lines_ = static_cast<int>(hosts_.size());
    std::fputs(frame.c_str(), stderr);
    std::fflush(stderr);
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Row> hosts_;
  int lines_ = 0;
  bool stopping_ = false;
  std::thread ticker_;
};

}  // namespace

std::unique_ptr<ExecutionObserver> makeProgressObserver(LogFormat format, const Plan& plan) {
  if (format == LogFormat::Json) return std::make_unique<JsonEventsObserver>();
  if (stderrIsTerminal()) return std::make_unique<LiveViewObserver>(plan);
  return std::make_unique<LogLinesObserver>();
}

// ---- signals ----------------------------------------------------------------------------------------------------

namespace {

std::atomic<int> g_signal_pipe{-1};

extern "C" void onStopSignal(int signal_number) {
  const int fd = g_signal_pipe.load();
  if (fd < 0) return;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const auto written = ::write(fd, &byte, 1);
}

int g_pipe_read = -1;
struct sigaction g_old_int {};
struct sigaction g_old_term {};

}  // namespace

SignalGuard::SignalGuard() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  g_pipe_read = fds[0];
  g_signal_pipe = fds[1];
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
  watcher_ = std::thread([this] { watch(); });
}

SignalGuard::~SignalGuard() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  const int fd = g_signal_pipe.exchange(-1);
  if (fd >= 0) {
    const unsigned char quit = 0;
    [[maybe_unused]] const auto written = ::write(fd, &quit, 1);
  }
  if (watcher_.joinable()) watcher_.join();
  if (fd >= 0) ::close(fd);
  if (g_pipe_read >= 0) ::close(g_pipe_read);
  g_pipe_read = -1;
}

void SignalGuard::attach(Executor* executor) {
  executor_ = executor;
  // A signal that arrived before the executor existed still counts.
  if (executor != nullptr && seen_ > 0) executor->requestStop("interrupted by " + first_signal_);
  if (executor != nullptr && seen_ > 1) executor->cancelInFlight();
}

void SignalGuard::watch() {
  while (true) {
    unsigned char byte = 0;
    const auto got = ::read(g_pipe_read, &byte, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0 || byte == 0) return;
    const int count = ++seen_;
    const std::string name = byte == SIGINT ? "SIGINT" : byte == SIGTERM ? "SIGTERM" : fmt::format("signal {}", byte);
    if (count == 1) first_signal_ = name;
    Executor* executor = executor_.load();
    if (count == 1) {
      std::fprintf(stderr, "\ndrctl: %s: no new steps will start; steps in flight finish (again to end them)\n",
                   name.c_str());
      if (executor != nullptr) executor->requestStop("interrupted by " + name);
    } else {
      std::fprintf(stderr, "\ndrctl: %s again: ending the steps in flight\n", name.c_str());
      if (executor != nullptr) executor->cancelInFlight();
    }
  }
}

// ---- running ----------------------------------------------------------------------------------------------------

namespace {

// Test hook for the crash tests (tests/cli/apply_test.cpp): with DRCTL_TEST_CRASH_AFTER_RECORDS=K in the
// environment, drctl kills itself with SIGKILL right after the executor's K-th journal record is durable, which is
// the "kill -9 at any moment" of the resume contract made deterministic.
class CrashAfterRecordsSink final : public JournalSink {
 public:
  CrashAfterRecordsSink(JournalSink& inner, long limit) : inner_(inner), limit_(limit) {}
  Status append(const JournalRecord& record) override {
    Status written = inner_.append(record);
    if (++count_ >= limit_) ::kill(::getpid(), SIGKILL);
    return written;
  }

 private:
  JournalSink& inner_;
  long limit_;
  std::atomic<long> count_{0};
};

}  // namespace

int executePlan(ExecutionRequest request) {
  const bool undo = request.options.mode == ExecutionMode::Undo;
  const std::string run_id = request.run_dir->runId();
  SignalGuard signals;  // before the executor's threads exist, so they never see a default SIGINT
  JournalWriterSink file_sink(*request.journal);
  const char* crash_after = std::getenv("DRCTL_TEST_CRASH_AFTER_RECORDS");
  CrashAfterRecordsSink crashing(file_sink, crash_after != nullptr ? std::atol(crash_after) : 0);
  JournalSink& sink = crash_after != nullptr ? static_cast<JournalSink&>(crashing) : file_sink;
  std::optional<ExecutionResult> outcome;
  std::string error;
  {
    auto observer = makeProgressObserver(request.log_format, *request.plan);
    RunExecution execution;
    execution.plan = request.plan;
    execution.directives = request.directives;
    execution.run_dir = request.run_dir;
    execution.journal = &sink;
    execution.endpoints = request.endpoints;
    execution.options = request.options;
    execution.observer = observer.get();
    execution.attach = [&signals](Executor* executor) { signals.attach(executor); };
    auto result = executeRun(execution);
    if (result) {
      outcome = std::move(result).value();
    } else {
      error = result.error().message;
    }
  }
  if (!outcome) {
    std::fprintf(stderr, "drctl: %s\n", error.c_str());
    return kExitFailed;
  }
  RunEndReport report;
  report.run_id = run_id;
  report.undo = undo;
  report.log_format = request.log_format;
  report.logs_dir = request.run_dir->path() / "logs";
  report.resume_command = resumeCommand(run_id, request.runs_root);
  report.rollback_command = rollbackCommand(run_id, request.runs_root);
  return reportRunEnd(*outcome, report);
}

int reportRunEnd(const ExecutionResult& result, const RunEndReport& report) {
  const std::string& run_id = report.run_id;
  const bool undo = report.undo;
  const std::string& resume = report.resume_command;
  const std::string& rollback = report.rollback_command;
  const int code = result.outcome == RunOutcome::Finished  ? kExitOk
                   : result.outcome == RunOutcome::Stopped ? kExitInterrupted
                                                           : kExitFailed;
  if (report.log_format == LogFormat::Json) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : result.hosts) {
      hosts.push_back({{"host", h.host}, {"state", hostOutcomeName(h.outcome)}, {"done", h.done}, {"total", h.total},
                       {"failed_step", h.failed_step}, {"next_step", h.next_step}});
    }
    nlohmann::json end = {{"event", "run-ended"}, {"run_id", run_id}, {"exit_code", code},
                          {"outcome", code == 0 ? "finished" : code == 3 ? "interrupted" : "failed"},
                          {"reason", result.reason}, {"hosts", hosts}};
    if (code != 0) {
      end["resume_command"] = resume;
      end["rollback_command"] = rollback;
    }
    std::fprintf(stdout, "%s\n", end.dump().c_str());
    return code;
  }
  const char* what = undo ? "rollback of run" : "run";
  if (code == kExitOk) {
    std::fprintf(stderr, "%s %s finished: %zu steps\n", what, run_id.c_str(), result.steps.size());
    return code;
  }
  std::fprintf(stderr, "\n%s %s %s: %s\n", what, run_id.c_str(), code == kExitInterrupted ? "interrupted" : "FAILED",
               result.reason.c_str());
  for (const auto& h : result.hosts) {
    std::string detail;
    if (!h.failed_step.empty()) {
      const auto* step = result.find(h.failed_step);
      detail = fmt::format("failed at {}: {}", h.failed_step, step != nullptr ? step->message : "");
    } else if (!h.next_step.empty()) {
      detail = "next: " + h.next_step;
    }
    std::fprintf(stderr, "  %-22s %-9s %d/%d done  %s\n", h.host.c_str(), hostOutcomeName(h.outcome), h.done, h.total,
                 detail.c_str());
  }
  std::fprintf(stderr, "Step logs: %s\n", report.logs_dir.c_str());
  std::fprintf(stderr, "Resume with:    %s\n", undo ? rollback.c_str() : resume.c_str());
  if (!undo) std::fprintf(stderr, "Roll back with: %s\n", rollback.c_str());
  return code;
}

}  // namespace dr::cli
