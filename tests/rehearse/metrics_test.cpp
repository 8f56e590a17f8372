// Metrics: the exact Prometheus text, label escaping, and a real HTTP GET of /metrics on 127.0.0.1.
#include "rehearse/metrics.h"

#include <httplib.h>

#include <catch2/catch.hpp>

namespace dr {
namespace {

using namespace std::chrono_literals;

constexpr const char* kEmptyFamilies =
    "# HELP drd_schedule_last_success_timestamp_seconds Unix time at which the schedule last finished "
    "successfully.\n"
    "# TYPE drd_schedule_last_success_timestamp_seconds gauge\n"
    "# HELP drd_schedule_last_duration_seconds How long the schedule's last run took, successful or not.\n"
    "# TYPE drd_schedule_last_duration_seconds gauge\n"
    "# HELP drd_schedule_last_rto_seconds Restore time of the last test-restore: from restoring the snapshot to a "
    "serving etcd, teardown included.\n"
    "# TYPE drd_schedule_last_rto_seconds gauge\n"
    "# HELP drd_schedule_last_run_success 1 when the schedule's last run succeeded, 0 when it failed.\n"
    "# TYPE drd_schedule_last_run_success gauge\n"
    "# HELP drd_schedule_failures_total Runs of the schedule that failed.\n"
    "# TYPE drd_schedule_failures_total counter\n"
    "# HELP drd_schedule_runs_total Runs of the schedule, successful or not.\n"
    "# TYPE drd_schedule_runs_total counter\n"
    "# HELP drd_backup_newest_good_timestamp_seconds Unix time at which the newest backup of the schedule's backup "
    "dir that passed its test-restore was saved.\n"
    "# TYPE drd_backup_newest_good_timestamp_seconds gauge\n"
    "# HELP drd_runs Runs kept by drd, by state.\n"
    "# TYPE drd_runs gauge\n";

TEST_CASE("metrics: nothing recorded yet is only HELP and TYPE lines", "[metrics]") {
  Metrics metrics;
  CHECK(metrics.prometheusText() == kEmptyFamilies);
}

TEST_CASE("metrics: the exact text after runs of two schedules", "[metrics]") {
  Metrics metrics;
  metrics.declareSchedule("weekly", ScheduleMode::DryRun);  // declared, never run: counters only
  // prove-backups: a success, then a failure (its last success and last RTO stay; duration is the last run's).
  metrics.scheduleFinished("prove-backups", ScheduleMode::TestRestore, true, 2345ms, 2345ms, 1700000000123);
  metrics.scheduleFinished("prove-backups", ScheduleMode::TestRestore, false, 250ms, std::nullopt, 1700000600000);
  metrics.scheduleFinished("nightly", ScheduleMode::DryRun, true, 61005ms, std::nullopt, 1700003600007);
  metrics.setNewestGoodBackup("prove-backups", 1699999000000);
  metrics.setRunStates({{"succeeded", 12}, {"failed", 2}, {"running", 1}});
  CHECK(metrics.prometheusText() ==
        "# HELP drd_schedule_last_success_timestamp_seconds Unix time at which the schedule last finished "
        "successfully.\n"
        "# TYPE drd_schedule_last_success_timestamp_seconds gauge\n"
        "drd_schedule_last_success_timestamp_seconds{schedule=\"nightly\",mode=\"dry-run\"} 1700003600.007\n"
        "drd_schedule_last_success_timestamp_seconds{schedule=\"prove-backups\",mode=\"test-restore\"} "
        "1700000000.123\n"
        "# HELP drd_schedule_last_duration_seconds How long the schedule's last run took, successful or not.\n"
        "# TYPE drd_schedule_last_duration_seconds gauge\n"
        "drd_schedule_last_duration_seconds{schedule=\"nightly\",mode=\"dry-run\"} 61.005\n"
        "drd_schedule_last_duration_seconds{schedule=\"prove-backups\",mode=\"test-restore\"} 0.250\n"
        "# HELP drd_schedule_last_rto_seconds Restore time of the last test-restore: from restoring the snapshot to "
        "a serving etcd, teardown included.\n"
        "# TYPE drd_schedule_last_rto_seconds gauge\n"
        "drd_schedule_last_rto_seconds{schedule=\"prove-backups\",mode=\"test-restore\"} 2.345\n"
        "# HELP drd_schedule_last_run_success 1 when the schedule's last run succeeded, 0 when it failed.\n"
        "# TYPE drd_schedule_last_run_success gauge\n"
        "drd_schedule_last_run_success{schedule=\"nightly\",mode=\"dry-run\"} 1\n"
        "drd_schedule_last_run_success{schedule=\"prove-backups\",mode=\"test-restore\"} 0\n"
        "# HELP drd_schedule_failures_total Runs of the schedule that failed.\n"
        "# TYPE drd_schedule_failures_total counter\n"
        "drd_schedule_failures_total{schedule=\"nightly\",mode=\"dry-run\"} 0\n"
        "drd_schedule_failures_total{schedule=\"prove-backups\",mode=\"test-restore\"} 1\n"
        "drd_schedule_failures_total{schedule=\"weekly\",mode=\"dry-run\"} 0\n"
        "# HELP drd_schedule_runs_total Runs of the schedule, successful or not.\n"
        "# TYPE drd_schedule_runs_total counter\n"
        "drd_schedule_runs_total{schedule=\"nightly\",mode=\"dry-run\"} 1\n"
        "drd_schedule_runs_total{schedule=\"prove-backups\",mode=\"test-restore\"} 2\n"
        "drd_schedule_runs_total{schedule=\"weekly\",mode=\"dry-run\"} 0\n"
        "# HELP drd_backup_newest_good_timestamp_seconds Unix time at which the newest backup of the schedule's "
        "backup dir that passed its test-restore was saved.\n"
        "# TYPE drd_backup_newest_good_timestamp_seconds gauge\n"
        "drd_backup_newest_good_timestamp_seconds{schedule=\"prove-backups\",mode=\"test-restore\"} "
        "1699999000.000\n"
        "# HELP drd_runs Runs kept by drd, by state.\n"
        "# TYPE drd_runs gauge\n"
        "drd_runs{state=\"failed\"} 2\n"
        "drd_runs{state=\"running\"} 1\n"
        "drd_runs{state=\"succeeded\"} 12\n");
  // Replaced, not merged.
  metrics.setRunStates({{"running", 0}});
  const std::string text = metrics.prometheusText();
  CHECK(text.find("drd_runs{state=\"running\"} 0\n") != std::string::npos);
  CHECK(text.find("drd_runs{state=\"failed\"}") == std::string::npos);
}

TEST_CASE("metrics: label values are escaped", "[metrics]") {
  CHECK(escapePrometheusLabel("plain-name") == "plain-name");
  CHECK(escapePrometheusLabel("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  Metrics metrics;
  metrics.setRunStates({{"odd \"state\"\n", 3}});
  CHECK(metrics.prometheusText().find("drd_runs{state=\"odd \\\"state\\\"\\n\"} 3\n") != std::string::npos);
}

TEST_CASE("metrics: GET /metrics over real HTTP on 127.0.0.1, port 0", "[metrics]") {
  Metrics metrics;
  metrics.scheduleFinished("nightly", ScheduleMode::DryRun, true, 1500ms, std::nullopt, 1700000000000);
  auto server = MetricsServer::start("127.0.0.1:0", metrics);
  REQUIRE(server.ok());
  const int port = (*server)->port();
  CHECK(port > 0);

  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  auto response = client.Get("/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(response->body == metrics.prometheusText());
  CHECK(response->body.find("drd_schedule_runs_total{schedule=\"nightly\",mode=\"dry-run\"} 1\n") != std::string::npos);

  // Live: a later run shows in the next scrape.
  metrics.scheduleFinished("nightly", ScheduleMode::DryRun, false, 10ms, std::nullopt, 1700000100000);
  auto again = client.Get("/metrics");
  REQUIRE(again);
  CHECK(again->body.find("drd_schedule_runs_total{schedule=\"nightly\",mode=\"dry-run\"} 2\n") != std::string::npos);

  auto other = client.Get("/other");
  REQUIRE(other);
  CHECK(other->status == 404);

  // The port is busy while the server lives, and free once it is destroyed.
  auto busy = MetricsServer::start("127.0.0.1:" + std::to_string(port), metrics);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().message ==
        "metrics: cannot listen on 127.0.0.1:" + std::to_string(port) + ": address in use or not local");
  server->reset();
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1);
  CHECK_FALSE(after.Get("/metrics"));
}

TEST_CASE("metrics server: bad listen addresses", "[metrics]") {
  Metrics metrics;
  auto no_port = MetricsServer::start("localhost", metrics);
  REQUIRE_FALSE(no_port.ok());
  CHECK(no_port.error().message == "metrics listen address 'localhost': expected HOST:PORT");
  auto bad_port = MetricsServer::start("127.0.0.1:http", metrics);
  REQUIRE_FALSE(bad_port.ok());
  CHECK(bad_port.error().message == "metrics listen address '127.0.0.1:http': port 'http' is not a number in 0..65535");
  auto too_big = MetricsServer::start("127.0.0.1:70000", metrics);
  REQUIRE_FALSE(too_big.ok());
  auto not_local = MetricsServer::start("192.0.2.1:0", metrics);  // TEST-NET-1: not an address of this host
  REQUIRE_FALSE(not_local.ok());
  CHECK(not_local.error().message == "metrics: cannot listen on 192.0.2.1:0: no such local address?");
}

}  // namespace
}  // namespace dr
