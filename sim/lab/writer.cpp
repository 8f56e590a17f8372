// drlab-writer: the game day's steady writer, standing in for an API server while members are replaced. It writes
// one key every --interval-ms through etcd's JSON gateway, moving to the next endpoint when one refuses or times
// out (as etcd's client does), until --stop-file appears. Its report says how many writes were acknowledged and the
// longest time the cluster refused writes: the longest gap between two acknowledged writes.
//
//   drlab-writer --etcd http://10.213.0.11:2379,http://10.213.0.13:2379 --prefix /gameday/writer/
//     --interval-ms 20 --stop-file /tmp/stop --report /tmp/writer.report
#include "etcd_gateway.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char** argv) {
  CLI::App app{"drlab-writer: write steadily to etcd and report the longest refusal"};
  std::string endpoints, prefix = "/gameday/writer/", stop_file, report;
  int interval_ms = 20;
  int timeout_ms = 1000;
  app.add_option("--etcd", endpoints, "etcd client URLs (http), comma-separated")->required();
  app.add_option("--prefix", prefix, "key prefix");
  app.add_option("--interval-ms", interval_ms, "pause between writes");
  app.add_option("--timeout-ms", timeout_ms, "deadline of one write");
  app.add_option("--stop-file", stop_file, "stop once this file exists")->required();
  app.add_option("--report", report, "where to write the report")->required();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> urls;
  for (std::size_t start = 0; start <= endpoints.size();) {
    const std::size_t end = std::min(endpoints.find(',', start), endpoints.size());
    if (end > start) urls.push_back(endpoints.substr(start, end - start));
    start = end + 1;
  }
  using Clock = std::chrono::steady_clock;
  const auto begin = Clock::now();
  auto last_ack = begin;
  double longest_ms = 0;
  double longest_at_s = 0;
  long acked = 0, refused = 0;
  std::size_t current = 0;
  while (!std::filesystem::exists(stop_file)) {
    const std::string key = fmt::format("{}{:08}", prefix, acked);
    httplib::Client client(urls[current]);
    client.set_connection_timeout(std::chrono::milliseconds(timeout_ms));
    client.set_read_timeout(std::chrono::milliseconds(timeout_ms));
    auto res = drlab::put(client, key, fmt::format("w{}", acked));
    const auto now = Clock::now();
    if (res && res->status == 200) {
      const double gap = std::chrono::duration<double, std::milli>(now - last_ack).count();
      if (acked > 0 && gap > longest_ms) {
        longest_ms = gap;
        longest_at_s = std::chrono::duration<double>(now - begin).count();
      }
      last_ack = now;
      ++acked;
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    } else {
      ++refused;
      current = (current + 1) % urls.size();  // the next endpoint, at once: the same key again
    }
  }
  std::ofstream out(report);
  out << fmt::format("acked {}\nrefused_attempts {}\nlongest_refusal_ms {:.0f}\nlongest_refusal_at_s {:.1f}\n"
                     "seconds {:.1f}\n",
                     acked, refused, longest_ms, longest_at_s,
                     std::chrono::duration<double>(Clock::now() - begin).count());
  return out ? 0 : 1;
}
