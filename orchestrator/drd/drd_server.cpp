// The drd gRPC server and the Drd service's handlers (see drd_server.h).
#include "drd/drd_server.h"

#include "etcd/certificates.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace dr::drd {

namespace {

// Whether something accepts connections on the unix socket at `path`.
bool socketAnswers(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  const bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return answers;
}

}  // namespace

Result<ListenTarget> checkListenAddress(const ListenOptions& options) {
  const std::string& address = options.address;
  ListenTarget target;
  if (address.starts_with("unix://")) {
    const std::filesystem::path path = address.substr(7);
    if (!path.is_absolute())
      return fail("--listen {}: a unix socket needs an absolute path: unix:///dir/drd.sock", address);
    if (path.string().size() >= sizeof(sockaddr_un::sun_path)) {
      return fail("--listen {}: the socket path is longer than {} bytes", address, sizeof(sockaddr_un::sun_path) - 1);
    }
    struct stat parent {};
    if (::stat(path.parent_path().c_str(), &parent) != 0 || !S_ISDIR(parent.st_mode)) {
      return fail("--listen {}: the directory {} does not exist", address, path.parent_path().string());
    }
    if ((parent.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (parent.st_mode & S_ISVTX) == 0) {
      return fail(
          "--listen {}: the directory {} is writable by other users, who could replace the socket; use a "
          "directory only its owner can write",
          address, path.parent_path().string());
    }
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) == 0) {
      if (!S_ISSOCK(existing.st_mode))
        return fail("--listen {}: {} exists and is not a socket", address, path.string());
      if (socketAnswers(path)) return fail("--listen {}: another server is listening on {}", address, path.string());
      std::error_code ec;
      std::filesystem::remove(path, ec);  // a socket left by a drd that died
    }
    target.grpc_address = "unix://" + path.string();
    target.socket_path = path;
    return target;
  }
  if (address.starts_with("tcp://")) {
    const std::string host_port = address.substr(6);
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
      return fail("--listen {}: expected tcp://HOST:PORT", address);
    }
    if (options.tls_ca.empty() || options.tls_cert.empty() || options.tls_key.empty()) {
      return fail(
          "--listen {}: refusing to listen on TCP without mutual TLS: give the server certificate, its key "
          "and the CA that signs client certificates (--tls-cert, --tls-key, --tls-ca, or tls_cert, tls_key, "
          "tls_ca in --config); or listen on a unix socket (unix:///path)",
          address);
    }
    target.grpc_address = host_port;
    target.tcp = true;
    return target;
  }
  return fail("--listen {}: the address must be unix:///path or tcp://host:port", address);
}

Result<std::unique_ptr<DrdServer>> DrdServer::start(const ListenOptions& options, DrdService& service) {
  auto target = checkListenAddress(options);
  if (!target) return target.error();
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (target->tcp) {
    auto ca = readPemFile(options.tls_ca, "CA certificate");
    auto cert = readPemFile(options.tls_cert, "server certificate");
    auto key = readPemFile(options.tls_key, "server key");
    for (const auto* r : {&ca, &cert, &key}) {
      if (!*r) return r->error();
    }
    // The client must present a certificate signed by the CA: no certificate, no connection.
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = *ca;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(target->grpc_address, credentials, &port);
  builder.RegisterService(&service);
  // The socket is created owner-only from the start (no window with wider permissions), then checked.
  std::optional<mode_t> old_mask;
  if (!target->tcp) old_mask = ::umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (old_mask) ::umask(*old_mask);
  if (server == nullptr || (target->tcp && port == 0)) {
    return fail("cannot listen on {} (address in use, or a bad certificate or key?)", options.address);
  }
  std::string dial = options.address;
  if (target->tcp) {
    const std::string host = target->grpc_address.substr(0, target->grpc_address.rfind(':'));
    dial = host + ":" + std::to_string(port);
  } else if (::chmod(target->socket_path.c_str(), 0600) != 0) {
    server->Shutdown();
    return fail("cannot make {} owner-only", target->socket_path.string());
  }
  return std::unique_ptr<DrdServer>(new DrdServer(std::move(server), dial, service, target->socket_path));
}

DrdServer::DrdServer(std::unique_ptr<grpc::Server> server, std::string dial, DrdService& service,
                     std::filesystem::path socket)
    : server_(std::move(server)), dial_(std::move(dial)), service_(service), socket_(std::move(socket)) {}

DrdServer::~DrdServer() {
  shutdown();
}

void DrdServer::shutdown() {
  if (!server_) return;
  service_.shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
  std::error_code ec;
  if (!socket_.empty()) std::filesystem::remove(socket_, ec);
}

// ---- the service ----------------------------------------------------------------------------------------------

namespace {

// An error status carries no response: the notes found before the refusal go as trailing metadata instead.
template <typename Notes>
grpc::Status withNotes(grpc::ServerContext* context, const Notes& notes, grpc::Status status) {
  if (!status.ok()) {
    for (const auto& note : notes) context->AddTrailingMetadata(kNotesMetadataKey, note);
  }
  return status;
}

// Every unary answer leaves through here, its strings made valid UTF-8 (see repairUtf8); Watch's events are
// repaired as they enter the event log.
grpc::Status answer(google::protobuf::Message& response, grpc::Status status) {
  repairUtf8(response);
  return status;
}

}  // namespace

grpc::Status DrdService::Plan(grpc::ServerContext*, const v1::PlanRequest* request, v1::PlanResponse* response) {
  return answer(*response, runs_.plan(*request, response));
}

grpc::Status DrdService::Apply(grpc::ServerContext* context, const v1::ApplyRequest* request,
                               v1::RunStarted* response) {
  return withNotes(context, response->notes(), answer(*response, runs_.apply(*request, response)));
}

grpc::Status DrdService::Resume(grpc::ServerContext* context, const v1::ResumeRequest* request,
                                v1::RunStarted* response) {
  return withNotes(context, response->notes(), answer(*response, runs_.resume(*request, response)));
}

grpc::Status DrdService::Cancel(grpc::ServerContext*, const v1::CancelRequest* request, v1::CancelResponse* response) {
  return answer(*response, runs_.cancel(*request, response));
}

grpc::Status DrdService::Rollback(grpc::ServerContext* context, const v1::RollbackRequest* request,
                                  v1::RunStarted* response) {
  return withNotes(context, response->notes(), answer(*response, runs_.rollback(*request, response)));
}

grpc::Status DrdService::Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                               grpc::ServerWriter<v1::RunEvent>* writer) {
  std::shared_ptr<RunEventLog> log;
  std::int64_t from = 1;
  if (grpc::Status found = runs_.watchLog(*request, log, from); !found.ok()) return found;
  while (!stopping_ && !context->IsCancelled()) {
    bool closed = false;
    auto events = log->read(from, std::chrono::milliseconds(250), closed);
    for (const auto& event : events) {
      if (!writer->Write(event)) return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      from = event.seq() + 1;
    }
    if (events.empty() && closed) return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "drd is stopping; watch again once it is back");
}

grpc::Status DrdService::ListRuns(grpc::ServerContext*, const v1::ListRunsRequest*, v1::ListRunsResponse* response) {
  return answer(*response, runs_.listRuns(response));
}

grpc::Status DrdService::GetRun(grpc::ServerContext*, const v1::GetRunRequest* request, v1::Run* response) {
  return answer(*response, runs_.getRun(*request, response));
}

grpc::Status DrdService::Rehearse(grpc::ServerContext*, const v1::RehearseRequest* request,
                                  v1::ScheduleResult* response) {
  if (scheduler_ == nullptr) {
    return serviceError(grpc::StatusCode::NOT_FOUND,
                        "no schedule named '" + request->schedule() + "': drd runs without --config", 2);
  }
  return answer(*response, scheduler_->rehearse(request->schedule(), response));
}

grpc::Status DrdService::ListSchedules(grpc::ServerContext*, const v1::ListSchedulesRequest* request,
                                       v1::ListSchedulesResponse* response) {
  if (scheduler_ != nullptr) scheduler_->listSchedules(response, request->history());
  return answer(*response, grpc::Status::OK);
}

}  // namespace dr::drd
