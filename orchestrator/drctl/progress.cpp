// drctl's progress observers (see progress.h).
#include "progress.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include "cli_support.h"
#include "core/utf8.h"
#include "exec/clock.h"

namespace dr::cli {

namespace {

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

Result<LogFormat> parseLogFormat(const std::string& text) {
  if (text == "text") return LogFormat::Text;
  if (text == "json") return LogFormat::Json;
  return fail("--log-format must be text or json, not '{}'", text);
}

void printJsonLine(const std::string& json_text) {
  std::fprintf(stdout, "%s\n", json_text.c_str());
  std::fflush(stdout);
}

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
    printJsonLine(jsonText(event));
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
        what = fmt::format("FAILED {}: {}", row.step, utf8Prefix(row.note, 80));
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

}  // namespace dr::cli
