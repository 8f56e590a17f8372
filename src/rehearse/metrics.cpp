// The metrics registry, its Prometheus text rendering and the HTTP endpoint; see metrics.h.
#include "rehearse/metrics.h"

#include <fmt/format.h>
#include <httplib.h>

#include <thread>
#include <vector>

namespace dr {
namespace {

// Milliseconds as seconds with exactly three decimals, from integers: no float rounding artefacts in the text.
std::string secondsText(std::int64_t ms) {
  const char* sign = ms < 0 ? "-" : "";
  const std::int64_t magnitude = ms < 0 ? -ms : ms;
  return fmt::format("{}{}.{:03}", sign, magnitude / 1000, magnitude % 1000);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string escapePrometheusLabel(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::declareSchedule(const std::string& schedule, ScheduleMode mode) {
  std::lock_guard lock(mutex_);
  schedules_[schedule].mode = mode;
}

void Metrics::scheduleFinished(const std::string& schedule, ScheduleMode mode, bool ok,
                               std::chrono::milliseconds duration, std::optional<std::chrono::milliseconds> rto,
                               std::int64_t finished_unix_ms) {
  std::lock_guard lock(mutex_);
  ScheduleStats& stats = schedules_[schedule];
  stats.mode = mode;
  ++stats.runs;
  if (ok) {
    stats.last_success_unix_ms = finished_unix_ms;
  } else {
    ++stats.failures;
  }
  stats.last_ok = ok;
  stats.last_duration_ms = duration.count();
  if (rto) stats.last_rto_ms = rto->count();
}

void Metrics::setNewestGoodBackup(const std::string& schedule, std::optional<std::int64_t> saved_unix_ms) {
  std::lock_guard lock(mutex_);
  schedules_[schedule].newest_good_backup_unix_ms = saved_unix_ms;
}

void Metrics::setRunStates(const std::map<std::string, int>& count_by_state) {
  std::lock_guard lock(mutex_);
  run_states_ = count_by_state;
}

std::string Metrics::prometheusText() const {
  std::lock_guard lock(mutex_);
  std::string out;
  // One family at a time (the format wants a family's samples together), schedules in name order.
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::optional<std::string> (*value)(const ScheduleStats&);
  };
  const Family families[] = {
      {"drd_schedule_last_success_timestamp_seconds", "gauge",
       "Unix time at which the schedule last finished successfully.",
       [](const ScheduleStats& s) -> std::optional<std::string> {
         if (!s.last_success_unix_ms) return std::nullopt;
         return secondsText(*s.last_success_unix_ms);
       }},
      {"drd_schedule_last_duration_seconds", "gauge", "How long the schedule's last run took, successful or not.",
       [](const ScheduleStats& s) -> std::optional<std::string> {
         if (!s.last_duration_ms) return std::nullopt;
         return secondsText(*s.last_duration_ms);
       }},
      {"drd_schedule_last_rto_seconds", "gauge",
       "Restore time of the last test-restore: from restoring the snapshot to a serving etcd, teardown included.",
       [](const ScheduleStats& s) -> std::optional<std::string> {
         if (!s.last_rto_ms) return std::nullopt;
         return secondsText(*s.last_rto_ms);
       }},
      {"drd_schedule_last_run_success", "gauge", "1 when the schedule's last run succeeded, 0 when it failed.",
       [](const ScheduleStats& s) -> std::optional<std::string> {
         if (!s.last_ok) return std::nullopt;
         return std::string(*s.last_ok ? "1" : "0");
       }},
      {"drd_schedule_failures_total", "counter", "Runs of the schedule that failed.",
       [](const ScheduleStats& s) -> std::optional<std::string> { return std::to_string(s.failures); }},
      {"drd_schedule_runs_total", "counter", "Runs of the schedule, successful or not.",
       [](const ScheduleStats& s) -> std::optional<std::string> { return std::to_string(s.runs); }},
      {"drd_backup_newest_good_timestamp_seconds", "gauge",
       "Unix time at which the newest backup of the schedule's backup dir that passed its test-restore was saved.",
       [](const ScheduleStats& s) -> std::optional<std::string> {
         if (!s.newest_good_backup_unix_ms) return std::nullopt;
         return secondsText(*s.newest_good_backup_unix_ms);
       }},
  };
  for (const Family& g : families) {
    family(out, g.name, g.type, g.help);
    for (const auto& [name, stats] : schedules_) {
      if (auto value = g.value(stats)) {
        fmt::format_to(std::back_inserter(out), "{}{{schedule=\"{}\",mode=\"{}\"}} {}\n", g.name,
                       escapePrometheusLabel(name), scheduleModeName(stats.mode), *value);
      }
    }
  }
  family(out, "drd_runs", "gauge", "Runs kept by drd, by state.");
  for (const auto& [state, count] : run_states_) {
    fmt::format_to(std::back_inserter(out), "drd_runs{{state=\"{}\"}} {}\n", escapePrometheusLabel(state), count);
  }
  return out;
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsServer::port() const {
  return impl_->port;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen, const Metrics& metrics) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return fail("metrics listen address '{}': expected HOST:PORT", listen);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = listen.substr(colon + 1);
  int port = -1;
  if (!port_text.empty() && port_text.size() <= 5 && port_text.find_first_not_of("0123456789") == std::string::npos) {
    port = std::stoi(port_text);
  }
  if (port < 0 || port > 65535) {
    return fail("metrics listen address '{}': port '{}' is not a number in 0..65535", listen, port_text);
  }

  auto impl = std::make_unique<Impl>();
  // httplib's default also sets SO_REUSEPORT, which lets a second drd bind the same port and silently split the
  // scrapes between two processes. SO_REUSEADDR alone still allows a quick restart over TIME_WAIT.
  impl->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  impl->server.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics.prometheusText(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (port == 0) {
    impl->port = impl->server.bind_to_any_port(host);
    if (impl->port < 0) return fail("metrics: cannot listen on {}: no such local address?", listen);
  } else {
    if (!impl->server.bind_to_port(host, port)) {
      return fail("metrics: cannot listen on {}: address in use or not local", listen);
    }
    impl->port = port;
  }
  // The socket listens from here on: a scrape that arrives before the thread runs waits in the backlog.
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

}  // namespace dr
