// Executor overhead per step on the local transport: a plan of 500 trivial steps (`true`, a chain on one host)
// through the executor with its journal (fsync'd appends, on tmpfs when /dev/shm exists) and step logs, against
// the same 500 commands run directly through one LocalTransport session in a loop. Prints the per-step overhead
// in microseconds (target < 1 ms) and the ratio, both measured in this run.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "exec/clock.h"
#include "exec/executor.h"
#include "exec/journal.h"
#include "exec/journal_sink.h"
#include "transport/local_transport.h"

namespace fs = std::filesystem;

namespace {

// Commands that cost nothing: what is left of a run through it is the executor's own work (scheduling, threads,
// fsync'd journal appends, log files, hashing).
class InstantSession final : public dr::Session {
 public:
  dr::Result<dr::CommandResult> run(const dr::CommandRequest&) override { return dr::CommandResult{0, false, "", {}}; }
  dr::Status upload(const dr::UploadRequest&) override { return {}; }
  dr::Result<std::string> readFile(const std::string&, std::size_t) override { return std::string(); }
};
class InstantTransport final : public dr::Transport {
 public:
  dr::Result<std::unique_ptr<dr::Session>> connect(const dr::HostTarget&) override {
    return std::unique_ptr<dr::Session>(std::make_unique<InstantSession>());
  }
};

// Runs the plan through an executor over `transport`, journal and logs in `dir`; seconds, or a negative on failure.
double timeExecutor(const dr::Plan& plan, dr::Transport& transport, const dr::HostTarget& target, const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir / "logs");
  auto journal = dr::JournalWriter::create(dir / "journal");
  if (!journal) return -1;
  dr::JournalWriterSink sink(*journal);
  dr::SystemClock clock;
  dr::ExecutorEnv env;
  env.hosts[dr::kControllerHost] = dr::HostEndpoint{&transport, target};
  env.clock = &clock;
  env.journal = &sink;
  env.step_log_path = [&](const std::string& id) { return dir / "logs" / (id + ".log"); };
  dr::Executor executor(plan, env);
  const auto start = std::chrono::steady_clock::now();
  auto result = executor.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove_all(dir);
  if (!result || result->outcome != dr::RunOutcome::Finished) return -1;
  return seconds;
}

}  // namespace

int main() {
  constexpr int kSteps = 500;
  const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path dir = base / ("dr-bench-executor-" + std::to_string(::getpid()));

  dr::Plan plan;
  plan.name = "bench";
  for (int i = 0; i < kSteps; ++i) {
    dr::Step step;
    step.id = "s" + std::to_string(i);
    step.host = dr::kControllerHost;
    step.command = "true";
    if (i > 0) step.needs = {"s" + std::to_string(i - 1)};
    plan.steps.push_back(step);
  }
  dr::LocalTransport transport;
  dr::HostTarget target;
  target.name = dr::kControllerHost;

  // Direct: one session, 500 commands.
  auto session = transport.connect(target);
  if (!session) {
    std::fprintf(stderr, "bench_executor: %s\n", session.error().message.c_str());
    return 1;
  }
  const auto direct_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kSteps; ++i) {
    dr::CommandRequest request;
    request.command = "true";
    auto result = (*session)->run(request);
    if (!result || result->exit_code != 0) {
      std::fprintf(stderr, "bench_executor: direct run failed\n");
      return 1;
    }
  }
  const double direct_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - direct_start).count();

  // Through the executor, journal and logs included; then the executor alone over instant commands.
  const double exec_s = timeExecutor(plan, transport, target, dir);
  InstantTransport instant;
  const double pure_s = timeExecutor(plan, instant, target, dir);
  if (exec_s < 0 || pure_s < 0) {
    std::fprintf(stderr, "bench_executor: an executor run did not finish\n");
    return 1;
  }

  const double overhead_us = (exec_s - direct_s) / kSteps * 1e6;
  std::printf("executor: %d steps of `true` on the local transport (journal fsync'd on %s)\n", kSteps,
              base.c_str());
  std::printf("  direct LocalTransport loop : %8.1f ms  (%6.1f us/step)\n", direct_s * 1e3, direct_s / kSteps * 1e6);
  std::printf("  through the executor       : %8.1f ms  (%6.1f us/step)\n", exec_s * 1e3, exec_s / kSteps * 1e6);
  std::printf("  executor over instant cmds : %8.1f ms  (%6.1f us/step: the executor's own cost, journal incl.)\n",
              pure_s * 1e3, pure_s / kSteps * 1e6);
  std::printf("  executor overhead per step : %8.1f us  (executor - direct; target < 1000 us: %s)\n", overhead_us,
              overhead_us < 1000 ? "met" : "NOT met");
  std::printf("  ratio executor/direct      : %8.2fx\n", exec_s / direct_s);
  return 0;
}
