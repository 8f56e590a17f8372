// What drd's tests share: a sandbox with a one-member loopback inventory whose steps run on the local transport
// (tests/exec/plans/local-steps.yaml leaves files under the member's data dir, so a run's effect is observable), a
// state dir for drd, and gRPC helpers (a stub on an address, reading a Watch stream to its end).
#pragma once

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "drd.grpc.pb.h"
#include "drd/scheduler.h"
#include "fixtures/temp_dir.h"
#include "fixtures/tiny_snapshot.h"

namespace dr::test {

namespace v1 = dr::drd::v1;

// The scheduler's clock in tests: a schedule fires when the test moves it.
class ManualClock final : public dr::drd::WallClock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point t) { set(t); }
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
  }
  void set(std::chrono::system_clock::time_point t) {
    ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }

 private:
  std::atomic<std::int64_t> ms_{0};
};

inline const std::string kDrdBinary = DR_BINARY_DIR "/orchestrator/drd";
inline const std::string kDrctlBinary = DR_BINARY_DIR "/orchestrator/drctl";
inline const std::string kTestPlansDir = DR_SOURCE_DIR "/tests/exec/plans";
inline const std::string kLocalStepsPlan = kTestPlansDir + "/local-steps.yaml";

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A temp dir holding inventories of one loopback member each (cluster name -> member dir), a snapshot, and drd's
// state dir. Removed at the end, whatever happened.
class RunSandbox {
 public:
  RunSandbox() : dir_("dr-drd") {
    writeTinySnapshot(root() / "snap.db");
    std::filesystem::create_directories(state());
  }
  const std::filesystem::path& root() const { return dir_.path; }
  std::filesystem::path state() const { return root() / "state"; }
  std::filesystem::path runs() const { return state() / "runs"; }
  std::filesystem::path snapshot() const { return root() / "snap.db"; }
  std::filesystem::path memberDir(const std::string& cluster) const { return root() / cluster / "m1"; }
  // An inventory of cluster `cluster` with one member on 127.0.0.1 whose data dir is memberDir(cluster).
  std::filesystem::path inventory(const std::string& cluster = "drd-test") const {
    const std::string dir = (root() / cluster).string();
    std::filesystem::create_directories(memberDir(cluster));
    const auto path = root() / (cluster + ".yaml");
    writeText(path, "cluster: " + cluster +
                        "\n"
                        "defaults:\n  ssh: {user: root, become: none}\n  etcd_user: root\n  etcd_group: root\n"
                        "members:\n  - name: m1\n    address: 127.0.0.1\n"
                        "    peer_url: http://127.0.0.1:12380\n    client_url: http://127.0.0.1:12379\n"
                        "    data_dir: " +
                        dir +
                        "/m1\n"
                        "    service:\n      kind: command\n"
                        "      start: touch " +
                        dir +
                        "/m1/started\n"
                        "      stop: rm -f " +
                        dir +
                        "/m1/started\n"
                        "      status: test -f " +
                        dir + "/m1/started\n");
    return path;
  }
  // The `slow` step of cluster `cluster` sleeps this long.
  void slowSeconds(const std::string& cluster, int seconds) const {
    std::filesystem::create_directories(root() / cluster);
    writeText(root() / cluster / "slow-seconds", std::to_string(seconds) + "\n");
  }

 private:
  TempDir dir_;
};

inline std::unique_ptr<v1::Drd::Stub> drdStub(const std::string& address,
                                              std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr) {
  if (!credentials) credentials = grpc::InsecureChannelCredentials();
  return v1::Drd::NewStub(grpc::CreateChannel(address, credentials));
}

inline void withDeadline(grpc::ClientContext& context, std::chrono::seconds seconds = std::chrono::seconds(30)) {
  context.set_deadline(std::chrono::system_clock::now() + seconds);
}

// Every event of a Watch until the stream ends (a RUN_ENDED closes it).
inline std::vector<v1::RunEvent> watchAll(v1::Drd::Stub& stub, const std::string& run_id, bool from_start = true,
                                          std::int64_t from_seq = 0, grpc::Status* status = nullptr) {
  grpc::ClientContext context;
  withDeadline(context, std::chrono::seconds(60));
  v1::WatchRequest request;
  request.set_run_id(run_id);
  request.set_from_start(from_start);
  request.set_from_seq(from_seq);
  auto reader = stub.Watch(&context, request);
  std::vector<v1::RunEvent> events;
  v1::RunEvent event;
  while (reader->Read(&event)) events.push_back(event);
  grpc::Status finished = reader->Finish();
  if (status != nullptr) *status = finished;
  return events;
}

inline const v1::RunEvent* runEnded(const std::vector<v1::RunEvent>& events) {
  for (const auto& e : events) {
    if (e.kind() == v1::RunEvent::RUN_ENDED) return &e;
  }
  return nullptr;
}

inline v1::RunStarted applyOk(v1::Drd::Stub& stub, const std::filesystem::path& inventory,
                              const std::filesystem::path& snapshot) {
  v1::ApplyRequest request;
  request.set_inventory(inventory.string());
  request.set_snapshot(snapshot.string());
  request.set_plan_template(kLocalStepsPlan);
  v1::RunStarted started;
  grpc::ClientContext context;
  withDeadline(context);
  const grpc::Status status = stub.Apply(&context, request, &started);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return started;
}

// Polls until `done()` or the timeout.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return done();
}

}  // namespace dr::test
