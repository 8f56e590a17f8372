// drlab-apiserver: the game-day lab's stand-in for kube-apiserver. Like the real one it is etcd's writer: it
// writes a sequenced key every few milliseconds (through etcd's JSON gateway, /v3/kv/put) and serves /readyz,
// which answers 200 only while its writes succeed. Its log records when it started and every failure, so a
// game day can prove it was started only after etcd was verified, and which writes a restore discarded.
//
//   drlab-apiserver --name lab-1 --listen 10.213.0.11:6443 --etcd http://127.0.0.1:2379 --log FILE [--interval-ms 5]
#include "etcd_gateway.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace {

std::atomic<bool> g_stop{false};


std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Log {
 public:
  explicit Log(const std::string& path) : out_(path, std::ios::app) {}
  void line(const std::string& text) {
    std::lock_guard lock(mutex_);
    out_ << nowMs() << ' ' << text << '\n';
    out_.flush();
  }

 private:
  std::mutex mutex_;
  std::ofstream out_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"drlab-apiserver: the lab's API-server stand-in (etcd's writer, serves /readyz)"};
  std::string name, listen, etcd, log_path;
  int interval_ms = 5;
  app.add_option("--name", name, "host name, used in the keys written")->required();
  app.add_option("--listen", listen, "ADDRESS:PORT for /readyz")->required();
  app.add_option("--etcd", etcd, "etcd client URL (http)")->required();
  app.add_option("--log", log_path, "log file")->required();
  app.add_option("--interval-ms", interval_ms, "pause between writes");
  CLI11_PARSE(app, argc, argv);

  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "drlab-apiserver: --listen must be ADDRESS:PORT\n");
    return 2;
  }
  Log log(log_path);
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });

  std::atomic<std::int64_t> last_ok_ms{0};
  std::atomic<std::int64_t> written{0};
  httplib::Server server;
  server.Get("/readyz", [&](const httplib::Request&, httplib::Response& res) {
    const bool ready = nowMs() - last_ok_ms.load() < 2000;
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ok\n" : "etcd writes failing\n", "text/plain");
  });
  server.Get("/stats", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(fmt::format("{{\"written\":{},\"last_ok_ms\":{}}}\n", written.load(), last_ok_ms.load()),
                    "application/json");
  });
  std::thread http([&] { server.listen(listen.substr(0, colon), std::stoi(listen.substr(colon + 1))); });

  // Keys carry this process's start time, so a restarted stand-in never overwrites what an earlier one wrote:
  // a game day can tell exactly which writes a restore kept and which it discarded.
  const std::int64_t epoch = nowMs();
  log.line(fmt::format("started name={} epoch={} etcd={} listen={}", name, epoch, etcd, listen));
  httplib::Client client(etcd);
  client.set_connection_timeout(std::chrono::milliseconds(500));
  client.set_read_timeout(std::chrono::seconds(2));
  std::int64_t seq = 0;
  std::int64_t failures = 0;
  while (!g_stop) {
    const std::string key = fmt::format("/registry/standin/{}/{}/{:010}", name, epoch, seq + 1);
    const std::string value = fmt::format("seq={} host={} at={}", seq + 1, name, nowMs());
    auto res = drlab::put(client, key, value);
    if (res && res->status == 200) {
      ++seq;
      written = seq;
      last_ok_ms = nowMs();
      if (seq == 1 || seq % 1000 == 0) log.line(fmt::format("wrote seq={}", seq));
      failures = 0;
    } else if (failures++ % 200 == 0) {
      log.line(fmt::format("write failed seq={} error={}", seq + 1,
                           res ? fmt::format("http {}", res->status) : httplib::to_string(res.error())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  server.stop();
  http.join();
  log.line(fmt::format("stopped after seq={}", seq));
  return 0;
}
