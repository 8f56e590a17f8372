// drd: the orchestrator as a gRPC service. `drd --listen ADDRESS --state-dir DIR [--config FILE]`. It runs plans
// with the same executor and journal as drctl, keeps runs in STATE_DIR/runs, runs the config's rehearsal
// schedules and serves their metrics. SIGTERM or SIGINT stops the runs cleanly (no new steps; they stay
// resumable) and exits. See docs/drd.md.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "drd/drd_server.h"
#include "drd/run_manager.h"
#include "drd/schedule_history.h"
#include "drd/scheduler.h"
#include "exec/run_session.h"
#include "rehearse/drd_config.h"
#include "rehearse/backup_catalog.h"
#include "rehearse/metrics.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitBadInput = 2;

// SIGTERM/SIGINT reach the main thread through a pipe written by the handler. (Blocking them and calling sigwait
// would be simpler, but the blocked mask would be inherited by every step's process, which then could not be ended
// by the executor's SIGTERM on timeout.)
int g_signal_pipe[2] = {-1, -1};

extern "C" void onStopSignal(int signal_number) {
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const auto written = ::write(g_signal_pipe[1], &byte, 1);
}

int waitForStopSignal() {
  while (true) {
    unsigned char byte = 0;
    const auto got = ::read(g_signal_pipe[0], &byte, 1);
    if (got == 1) return byte;
    if (got < 0 && errno == EINTR) continue;
    return SIGTERM;
  }
}

struct Options {
  std::string listen;
  std::string state_dir;
  std::string config;
  std::string tls_ca, tls_cert, tls_key;
  std::vector<std::string> input_dirs;
};

int serve(const Options& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.state_dir, ec);
  if (ec) {
    std::fprintf(stderr, "drd: cannot create the state directory %s: %s\n", o.state_dir.c_str(), ec.message().c_str());
    return kExitBadInput;
  }
  const fs::path state_dir = fs::absolute(o.state_dir).lexically_normal();
  dr::DrdConfig config;
  if (!o.config.empty()) {
    auto loaded = dr::loadDrdConfig(o.config);
    if (!loaded) {
      std::fprintf(stderr, "%s\ndrd: the config %s has errors; not started\n", loaded.error().message.c_str(),
                   o.config.c_str());
      return kExitBadInput;
    }
    config = std::move(loaded).value();
  }
  dr::drd::ListenOptions listen;
  listen.address = o.listen.empty() ? "unix://" + (state_dir / "drd.sock").string() : o.listen;
  listen.tls_ca = o.tls_ca.empty() ? config.tls_ca : o.tls_ca;
  listen.tls_cert = o.tls_cert.empty() ? config.tls_cert : o.tls_cert;
  listen.tls_key = o.tls_key.empty() ? config.tls_key : o.tls_key;
  if (auto checked = dr::drd::checkListenAddress(listen); !checked) {
    std::fprintf(stderr, "drd: %s\n", checked.error().message.c_str());
    return kExitBadInput;
  }
  dr::prependProgramDirectoryToPath();  // steps call drctl, which sits beside drd

  std::vector<fs::path> input_dirs;
  for (const auto& dir : o.input_dirs) {
    if (!fs::path(dir).is_absolute() || !fs::is_directory(dir, ec)) {
      std::fprintf(stderr, "drd: --input-dir %s: not the absolute path of an existing directory\n", dir.c_str());
      return kExitBadInput;
    }
    input_dirs.push_back(fs::path(dir).lexically_normal());
  }
  for (const auto& dir : config.input_dirs) input_dirs.push_back(dir);
  dr::drd::RunManager runs(state_dir, input_dirs, config.object_store);
  dr::drd::SystemWallClock clock;
  dr::Metrics metrics;
  auto history = dr::drd::ScheduleHistory::open(state_dir / "schedules" / "history.jsonl");
  if (!history) {
    std::fprintf(stderr, "drd: the schedule history: %s\n", history.error().message.c_str());
    return kExitBadInput;
  }
  for (const auto& warning : (*history)->warnings()) std::fprintf(stderr, "drd: warning: %s\n", warning.c_str());
  // The verdicts are on disk beside the backups: the newest good backup is known again at once after a restart.
  auto newest_good = [&metrics](const dr::ScheduleConfig& schedule) {
    if (schedule.mode != dr::ScheduleMode::DryRun && !schedule.backup_dir.empty()) {
      metrics.setNewestGoodBackup(schedule.name, dr::newestVerifiedBackupMs(schedule.backup_dir));
    }
  };
  for (const auto& schedule : config.schedules) {
    metrics.declareSchedule(schedule.name, schedule.mode);
    newest_good(schedule);
  }
  // The metrics derive from the history: runs, failures, last success and RTO are as they were before a restart.
  for (const auto& result : (*history)->results()) {
    for (const auto& schedule : config.schedules) {
      if (schedule.name != result.schedule()) continue;
      std::optional<std::chrono::milliseconds> rto;
      if (result.rto_ms() > 0) rto = std::chrono::milliseconds(result.rto_ms());
      metrics.scheduleFinished(schedule.name, schedule.mode, result.ok(), std::chrono::milliseconds(result.duration_ms()),
                               rto, result.finished_ms());
    }
  }
  dr::drd::SchedulerSinks sinks;
  sinks.schedule_finished = [&metrics, newest_good](const dr::ScheduleConfig& schedule, bool ok,
                                                    std::chrono::milliseconds duration,
                                                    std::optional<std::chrono::milliseconds> rto,
                                                    std::int64_t finished_ms) {
    metrics.scheduleFinished(schedule.name, schedule.mode, ok, duration, rto, finished_ms);
    newest_good(schedule);
  };
  sinks.run_states = [&metrics](const std::map<std::string, int>& states) { metrics.setRunStates(states); };
  dr::drd::Scheduler scheduler(config, clock, runs, sinks, state_dir / "test-restores", history->get());
  std::unique_ptr<dr::MetricsServer> metrics_server;
  if (!config.metrics_listen.empty()) {
    auto started = dr::MetricsServer::start(config.metrics_listen, metrics);
    if (!started) {
      std::fprintf(stderr, "drd: metrics on %s: %s\n", config.metrics_listen.c_str(), started.error().message.c_str());
      return kExitBadInput;
    }
    metrics_server = std::move(started).value();
  }
  const std::string metrics_note =
      metrics_server ? ", metrics on port " + std::to_string(metrics_server->port()) : std::string();
  dr::drd::DrdService service(runs, &scheduler);
  auto server = dr::drd::DrdServer::start(listen, service);
  if (!server) {
    std::fprintf(stderr, "drd: %s\n", server.error().message.c_str());
    return kExitFailed;
  }
  scheduler.start();
  std::fprintf(stderr, "drd: listening on %s; runs in %s; %zu schedules%s\n", (*server)->dialAddress().c_str(),
               runs.runsDir().c_str(), config.schedules.size(), metrics_note.c_str());
  std::fflush(stderr);

  const int signal_number = waitForStopSignal();
  const std::string name = signal_number == SIGINT ? "SIGINT" : "SIGTERM";
  std::fprintf(stderr, "drd: %s: stopping; live runs start no new steps and stay resumable\n", name.c_str());
  std::fflush(stderr);
  scheduler.stop();
  service.shutdown();
  runs.stopAll("drd stopped by " + name);
  (*server)->shutdown();
  std::fprintf(stderr, "drd: stopped\n");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    std::perror("drd: pipe");
    return kExitFailed;
  }
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);

  Options o;
  CLI::App app{
      "drd: the disaster-recovery orchestrator as a gRPC service: plans, runs, resumes and rolls back\n"
      "restores with drctl's executor and journal, streams their progress, and runs scheduled rehearsals.",
      "drd"};
  app.set_version_flag("--version", std::string(DR_VERSION));
  app.footer(
      R"(Listening: unix:///path (default: unix://STATE_DIR/drd.sock; the socket is owner-only) or tcp://host:port,
which needs mutual TLS: the server certificate and key and the CA that signs client certificates.

Examples:
  drd --state-dir /var/lib/drd
  drd --state-dir /var/lib/drd --config /etc/drd/drd.yaml --listen tcp://0.0.0.0:7443 \
      --tls-cert server.pem --tls-key server.key --tls-ca clients-ca.pem
  drctl --server unix:///var/lib/drd/drd.sock status)");
  app.add_option("--listen", o.listen, "unix:///path or tcp://host:port (TCP needs the --tls-* files)");
  app.add_option("--state-dir", o.state_dir, "Where runs (STATE_DIR/runs) and test-restores live")->required();
  app.add_option("--input-dir", o.input_dirs,
                 "A directory clients may name inventories, templates and snapshots in (repeatable; also input_dirs "
                 "in the config). drd reads them as its own user: any other path is refused")
      ->type_name("DIR");
  app.add_option("--config", o.config, "YAML config: schedules, metrics_listen, TLS files, etcd binaries");
  app.add_option("--tls-ca", o.tls_ca, "CA that signs the client certificates (TCP)");
  app.add_option("--tls-cert", o.tls_cert, "The server's certificate (TCP)");
  app.add_option("--tls-key", o.tls_key, "The server's private key (TCP)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitBadInput;
  }
  try {
    return serve(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "drd: internal error: %s\n", e.what());
    return kExitFailed;
  }
}
