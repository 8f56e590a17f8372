// The drd gRPC server: the Drd service over a RunManager and a Scheduler, listening on a unix socket (owner-only)
// or on TCP with mutual TLS only. A TCP address without TLS files is refused before anything listens: drd runs
// restores on production hosts, and anyone who can reach an unauthenticated port could start one.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "core/result.h"
#include "drd.grpc.pb.h"
#include "drd/run_manager.h"
#include "drd/scheduler.h"

namespace dr::drd {

struct ListenOptions {
  std::string address;  // unix:///path or tcp://host:port
  std::string tls_ca;   // client certificates must chain to this CA
  std::string tls_cert;
  std::string tls_key;
};

// What an address resolves to before listening: the gRPC address, and the socket path for unix sockets.
struct ListenTarget {
  std::string grpc_address;
  std::filesystem::path socket_path;  // empty for TCP
  bool tcp = false;
};
// Checks an address and, for TCP, that all three TLS files are given; for a unix socket, that its directory exists
// and is not writable by others (a socket in such a directory could be replaced), and that no live server uses it.
Result<ListenTarget> checkListenAddress(const ListenOptions& options);

class DrdService final : public v1::Drd::Service {
 public:
  // `scheduler` may be null (no config): Rehearse answers NOT_FOUND and ListSchedules is empty.
  DrdService(RunManager& runs, Scheduler* scheduler) : runs_(runs), scheduler_(scheduler) {}

  grpc::Status Plan(grpc::ServerContext*, const v1::PlanRequest*, v1::PlanResponse*) override;
  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRequest*, v1::RunStarted*) override;
  grpc::Status Resume(grpc::ServerContext*, const v1::ResumeRequest*, v1::RunStarted*) override;
  grpc::Status Cancel(grpc::ServerContext*, const v1::CancelRequest*, v1::CancelResponse*) override;
  grpc::Status Rollback(grpc::ServerContext*, const v1::RollbackRequest*, v1::RunStarted*) override;
  grpc::Status Watch(grpc::ServerContext*, const v1::WatchRequest*, grpc::ServerWriter<v1::RunEvent>*) override;
  grpc::Status ListRuns(grpc::ServerContext*, const v1::ListRunsRequest*, v1::ListRunsResponse*) override;
  grpc::Status GetRun(grpc::ServerContext*, const v1::GetRunRequest*, v1::Run*) override;
  grpc::Status Rehearse(grpc::ServerContext*, const v1::RehearseRequest*, v1::ScheduleResult*) override;
  grpc::Status ListSchedules(grpc::ServerContext*, const v1::ListSchedulesRequest*,
                             v1::ListSchedulesResponse*) override;

  // Ends every Watch stream (drd is stopping).
  void shutdown() { stopping_ = true; }

 private:
  RunManager& runs_;
  Scheduler* scheduler_;
  std::atomic<bool> stopping_{false};
};

class DrdServer {
 public:
  // Listens (after checkListenAddress) and serves `service`, which must outlive the server.
  static Result<std::unique_ptr<DrdServer>> start(const ListenOptions& options, DrdService& service);
  ~DrdServer();  // shutdown()
  DrdServer(const DrdServer&) = delete;
  DrdServer& operator=(const DrdServer&) = delete;

  // What clients dial: unix:///path, or 127.0.0.1:PORT with the port really bound (an address with port 0 picks
  // a free one).
  const std::string& dialAddress() const { return dial_; }
  void shutdown();

 private:
  DrdServer(std::unique_ptr<grpc::Server> server, std::string dial, DrdService& service, std::filesystem::path socket);
  std::unique_ptr<grpc::Server> server_;
  std::string dial_;
  DrdService& service_;
  std::filesystem::path socket_;
};

}  // namespace dr::drd
