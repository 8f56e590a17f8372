// A Transport for executor tests: commands are looked up in a script (exit code, output, delay, failures of the
// first N calls), every call is recorded with a global sequence number for its start and end, and the highest
// concurrency seen per host and overall is kept. A FakeClock gives virtual time for retry backoff.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exec/clock.h"
#include "transport/transport.h"

namespace dr::test {

struct FakeBehavior {
  int exit_code = 0;
  std::string output;
  std::chrono::milliseconds delay{0};
  int fail_first = 0;         // the first N calls exit 1 (then exit_code)
  bool transport_error = false;
  bool time_out = false;      // returns timed_out after `delay`
  bool wait_for_cancel = false;  // runs until CommandRequest::cancelled() says stop
};

struct FakeCall {
  std::string host;
  std::string command;
  std::uint64_t start_seq = 0;
  std::uint64_t end_seq = 0;
};

class FakeTransport final : public Transport {
 public:
  void on(const std::string& command, FakeBehavior behavior) {
    std::lock_guard lock(mutex_);
    script_[command] = std::move(behavior);
  }
  void refuseConnect(const std::string& host, const std::string& message) {
    std::lock_guard lock(mutex_);
    refuse_[host] = message;
  }
  // Session::prepare on this host fails (as a broken session's would).
  void failPrepare(const std::string& host) {
    std::lock_guard lock(mutex_);
    fail_prepare_.push_back(host);
  }

  Result<std::unique_ptr<Session>> connect(const HostTarget& target) override;

  std::vector<FakeCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<std::string> commandsOn(const std::string& host) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& c : calls_) {
      if (c.host == host) out.push_back(c.command);
    }
    return out;
  }
  std::vector<std::string> commands() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& c : calls_) out.push_back(c.command);
    return out;
  }
  int count(const std::string& command) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(calls_.begin(), calls_.end(),
                                          [&](const FakeCall& c) { return c.command == command; }));
  }
  int maxConcurrent(const std::string& host) const {
    std::lock_guard lock(mutex_);
    auto it = max_running_.find(host);
    return it == max_running_.end() ? 0 : it->second;
  }
  int maxConcurrentOverall() const {
    std::lock_guard lock(mutex_);
    return max_overall_;
  }
  int connects(const std::string& host) const {
    std::lock_guard lock(mutex_);
    auto it = connects_.find(host);
    return it == connects_.end() ? 0 : it->second;
  }
  std::vector<std::string> uploads() const {
    std::lock_guard lock(mutex_);
    return uploads_;
  }
  // The sequence number (shared with FakeCall's) at which each connect to `host` was made.
  std::vector<std::uint64_t> connectSeqs(const std::string& host) const {
    std::lock_guard lock(mutex_);
    auto it = connect_seqs_.find(host);
    return it == connect_seqs_.end() ? std::vector<std::uint64_t>{} : it->second;
  }

 private:
  class FakeSession;
  friend class FakeSession;

  Result<CommandResult> run(const std::string& host, const CommandRequest& request) {
    FakeBehavior behavior;
    int call_number = 0;
    std::size_t slot = 0;
    {
      std::lock_guard lock(mutex_);
      if (auto it = script_.find(request.command); it != script_.end()) behavior = it->second;
      call_number = ++call_counts_[request.command];
      calls_.push_back({host, request.command, ++seq_, 0});
      slot = calls_.size() - 1;
      max_running_[host] = std::max(max_running_[host], ++running_[host]);
      max_overall_ = std::max(max_overall_, ++running_overall_);
    }
    const auto start = std::chrono::steady_clock::now();
    bool cancelled = false;
    if (behavior.wait_for_cancel) {
      while (!(request.cancelled && request.cancelled())) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      cancelled = true;
    } else if (behavior.delay.count() > 0) {
      std::this_thread::sleep_for(behavior.delay);
    }
    CommandResult result;
    result.exit_code = call_number <= behavior.fail_first ? 1 : behavior.exit_code;
    result.output = behavior.output;
    result.timed_out = behavior.time_out || cancelled;
    if (result.timed_out) result.exit_code = 137;
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (request.on_output && !result.output.empty()) request.on_output(result.output);
    std::lock_guard lock(mutex_);
    calls_[slot].end_seq = ++seq_;
    --running_[host];
    --running_overall_;
    if (behavior.transport_error) return fail("connection reset by peer");
    return result;
  }

  mutable std::mutex mutex_;
  std::map<std::string, FakeBehavior> script_;
  std::map<std::string, std::string> refuse_;
  std::vector<std::string> fail_prepare_;
  std::map<std::string, int> call_counts_;
  std::vector<FakeCall> calls_;
  std::uint64_t seq_ = 0;
  std::map<std::string, int> running_;
  std::map<std::string, int> max_running_;
  std::map<std::string, int> connects_;
  std::map<std::string, std::vector<std::uint64_t>> connect_seqs_;
  int running_overall_ = 0;
  int max_overall_ = 0;
  std::vector<std::string> uploads_;
};

class FakeTransport::FakeSession final : public Session {
 public:
  FakeSession(FakeTransport& owner, std::string host) : owner_(owner), host_(std::move(host)) {}
  Result<CommandResult> run(const CommandRequest& request) override { return owner_.run(host_, request); }
  Status upload(const UploadRequest& request) override {
    std::lock_guard lock(owner_.mutex_);
    owner_.uploads_.push_back(host_ + ":" + request.remote_path);
    owner_.calls_.push_back({host_, "upload " + request.remote_path, ++owner_.seq_, ++owner_.seq_});
    return {};
  }
  // Recorded as a call "prepare PATH"; fails where failPrepare(host) says so.
  Status prepare(const UploadRequest& request) override {
    std::lock_guard lock(owner_.mutex_);
    owner_.calls_.push_back({host_, "prepare " + request.remote_path, ++owner_.seq_, ++owner_.seq_});
    const auto& failing = owner_.fail_prepare_;
    if (std::find(failing.begin(), failing.end(), host_) != failing.end()) return fail("fake: prepare failed");
    return {};
  }
  Result<std::string> readFile(const std::string& remote_path, std::size_t) override {
    return fail("fake: no file {}", remote_path);
  }

 private:
  FakeTransport& owner_;
  std::string host_;
};

inline Result<std::unique_ptr<Session>> FakeTransport::connect(const HostTarget& target) {
  std::lock_guard lock(mutex_);
  ++connects_[target.name];
  connect_seqs_[target.name].push_back(++seq_);
  if (auto it = refuse_.find(target.name); it != refuse_.end()) return Error{it->second};
  return std::unique_ptr<Session>(std::make_unique<FakeSession>(*this, target.name));
}

// Virtual time: sleeping advances the clock and is recorded, nothing waits.
class FakeClock final : public Clock {
 public:
  std::int64_t wallMs() override { return 1'700'000'000'000 + offset_ms_.load(); }
  std::chrono::steady_clock::time_point now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(offset_ms_.load()));
  }
  void sleepFor(std::chrono::milliseconds duration) override {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(duration);
    offset_ms_ += duration.count();
  }
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

 private:
  mutable std::mutex mutex_;
  std::atomic<std::int64_t> offset_ms_{0};
  std::vector<std::chrono::milliseconds> sleeps_;
};

}  // namespace dr::test
