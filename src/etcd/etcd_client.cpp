// The gRPC side of EtcdClient: channel and credentials, one stub per etcd service, deadlines, and the translation
// of protobuf messages and gRPC statuses into our plain structs and Errors.
#include "etcd/etcd_client.h"

#include "etcd/certificates.h"

#include <grpcpp/grpcpp.h>

#include <grpc/support/log.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "etcd_rpc.grpc.pb.h"

namespace dr {

namespace {

ResponseInfo toInfo(const etcdserverpb::ResponseHeader& header) {
  return ResponseInfo{header.cluster_id(), header.member_id(), header.revision(), header.raft_term()};
}

// "UNAVAILABLE: failed to connect to all addresses" reads better than a bare code number.
std::string describe(const grpc::Status& status) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const auto code = static_cast<std::size_t>(status.error_code());
  const std::string name = code < std::size(kNames) ? kNames[code] : std::to_string(code);
  return status.error_message().empty() ? name : name + ": " + status.error_message();
}

}  // namespace

std::string memberIdHex(std::uint64_t id) { return fmt::format("{:x}", id); }

Result<std::string> grpcTarget(std::string_view client_url) {
  std::string_view rest;
  if (client_url.starts_with("https://")) {
    rest = client_url.substr(8);
  } else if (client_url.starts_with("http://")) {
    rest = client_url.substr(7);
  } else {
    return fail("{}: not an http:// or https:// URL", client_url);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos || rest.rfind(':') == std::string_view::npos) {
    return fail("{}: expected SCHEME://HOST:PORT", client_url);
  }
  return std::string(rest);
}

struct EtcdClient::Impl {
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;

  void deadline(grpc::ClientContext& context, std::chrono::milliseconds timeout) const {
    context.set_deadline(std::chrono::system_clock::now() + timeout);
  }
};

EtcdClient::EtcdClient(std::string endpoint, std::unique_ptr<Impl> impl)
    : endpoint_(std::move(endpoint)), impl_(std::move(impl)) {}
EtcdClient::EtcdClient(EtcdClient&&) noexcept = default;
EtcdClient& EtcdClient::operator=(EtcdClient&&) noexcept = default;
EtcdClient::~EtcdClient() = default;

// gRPC logs transport errors (refused connections, TLS alerts) straight to stderr. The library never prints: those
// failures reach the caller as the failed call's Error instead.
static void silenceGrpcLogging() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function([](gpr_log_func_args*) {}); });
}

Result<EtcdClient> EtcdClient::open(const std::string& client_url, const ClientOptions& options) {
  silenceGrpcLogging();
  auto target = grpcTarget(client_url);
  if (!target) return target.error();
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (client_url.starts_with("https://")) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls.ca.empty()) {
      auto ca = readPemFile(options.tls.ca, "TLS CA");
      if (!ca) return ca.error();
      ssl.pem_root_certs = std::move(*ca);
    }
    if (!options.tls.cert.empty() || !options.tls.key.empty()) {
      if (options.tls.cert.empty() || options.tls.key.empty()) {
        return fail("{}: a TLS client certificate needs both cert and key", client_url);
      }
      auto cert = readPemFile(options.tls.cert, "TLS certificate");
      if (!cert) return cert.error();
      auto key = readPemFile(options.tls.key, "TLS key");
      if (!key) return key.error();
      ssl.pem_cert_chain = std::move(*cert);
      ssl.pem_private_key = std::move(*key);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // Each client gets its own connection: a shared subchannel would let one member's failure colour another's.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  // Reconnect quickly: a freshly restarted member should be seen as soon as it listens.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->channel = grpc::CreateCustomChannel(*target, credentials, args);
  impl->kv = etcdserverpb::KV::NewStub(impl->channel);
  impl->maintenance = etcdserverpb::Maintenance::NewStub(impl->channel);
  impl->cluster = etcdserverpb::Cluster::NewStub(impl->channel);
  return EtcdClient(client_url, std::move(impl));
}

Result<EndpointStatus> EtcdClient::status() {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::StatusResponse response;
  const auto rpc = impl_->maintenance->Status(&context, etcdserverpb::StatusRequest{}, &response);
  if (!rpc.ok()) return fail("{}: status: {}", endpoint_, describe(rpc));
  EndpointStatus status;
  status.header = toInfo(response.header());
  status.version = response.version();
  status.db_size = response.dbsize();
  status.db_size_in_use = response.dbsizeinuse();
  status.leader = response.leader();
  status.raft_index = response.raftindex();
  status.raft_term = response.raftterm();
  status.raft_applied_index = response.raftappliedindex();
  status.errors.assign(response.errors().begin(), response.errors().end());
  status.is_learner = response.islearner();
  return status;
}

namespace {

MemberInfo toMember(const etcdserverpb::Member& m) {
  MemberInfo info;
  info.id = m.id();
  info.name = m.name();
  info.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
  info.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
  info.is_learner = m.islearner();
  return info;
}

template <typename Members>
std::vector<MemberInfo> toMembers(const Members& from) {
  std::vector<MemberInfo> members;
  for (const auto& m : from) members.push_back(toMember(m));
  return members;
}

}  // namespace

Result<std::vector<MemberInfo>> EtcdClient::memberList() {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::MemberListResponse response;
  const auto rpc = impl_->cluster->MemberList(&context, etcdserverpb::MemberListRequest{}, &response);
  if (!rpc.ok()) return fail("{}: member list: {}", endpoint_, describe(rpc));
  return toMembers(response.members());
}

Result<MemberInfo> EtcdClient::memberAdd(const std::string& peer_url, bool learner) {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::MemberAddRequest request;
  request.add_peerurls(peer_url);
  request.set_islearner(learner);
  etcdserverpb::MemberAddResponse response;
  const auto rpc = impl_->cluster->MemberAdd(&context, request, &response);
  if (!rpc.ok()) return fail("{}: member add {}: {}", endpoint_, peer_url, describe(rpc));
  return toMember(response.member());
}

Status EtcdClient::memberRemove(std::uint64_t id) {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  etcdserverpb::MemberRemoveResponse response;
  const auto rpc = impl_->cluster->MemberRemove(&context, request, &response);
  if (!rpc.ok()) return fail("{}: member remove {}: {}", endpoint_, memberIdHex(id), describe(rpc));
  return {};
}

Status EtcdClient::memberPromote(std::uint64_t id) {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::MemberPromoteRequest request;
  request.set_id(id);
  etcdserverpb::MemberPromoteResponse response;
  const auto rpc = impl_->cluster->MemberPromote(&context, request, &response);
  if (!rpc.ok()) return fail("{}: member promote {}: {}", endpoint_, memberIdHex(id), describe(rpc));
  return {};
}

Result<std::vector<AlarmInfo>> EtcdClient::alarms() {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::AlarmRequest request;
  request.set_action(etcdserverpb::AlarmRequest::GET);
  etcdserverpb::AlarmResponse response;
  const auto rpc = impl_->maintenance->Alarm(&context, request, &response);
  if (!rpc.ok()) return fail("{}: alarm list: {}", endpoint_, describe(rpc));
  std::vector<AlarmInfo> alarms;
  for (const auto& a : response.alarms()) {
    if (a.alarm() == etcdserverpb::NONE) continue;
    const std::string name = etcdserverpb::AlarmType_IsValid(a.alarm()) ? etcdserverpb::AlarmType_Name(a.alarm())
                                                                        : std::to_string(a.alarm());
    alarms.push_back(AlarmInfo{a.memberid(), name});
  }
  return alarms;
}

Result<RangeResult> EtcdClient::range(const std::string& key, const std::string& range_end, bool linearizable,
                                      bool count_only) {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  request.set_serializable(!linearizable);
  request.set_count_only(count_only);
  etcdserverpb::RangeResponse response;
  const auto rpc = impl_->kv->Range(&context, request, &response);
  if (!rpc.ok()) {
    return fail("{}: {} read: {}", endpoint_, linearizable ? "linearizable" : "serializable", describe(rpc));
  }
  RangeResult result;
  result.header = toInfo(response.header());
  result.count = response.count();
  for (const auto& kv : response.kvs()) result.kvs.emplace_back(kv.key(), kv.value());
  return result;
}

Status EtcdClient::put(const std::string& key, const std::string& value) {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  const auto rpc = impl_->kv->Put(&context, request, &response);
  if (!rpc.ok()) return fail("{}: put: {}", endpoint_, describe(rpc));
  return {};
}

Status EtcdClient::activateAlarm(std::uint64_t member_id, const std::string& alarm) {
  return changeAlarm(true, member_id, alarm);
}

Status EtcdClient::deactivateAlarm(std::uint64_t member_id, const std::string& alarm) {
  return changeAlarm(false, member_id, alarm);
}

Status EtcdClient::changeAlarm(bool activate, std::uint64_t member_id, const std::string& alarm) {
  etcdserverpb::AlarmType type = etcdserverpb::NONE;
  if (!etcdserverpb::AlarmType_Parse(alarm, &type) || type == etcdserverpb::NONE) {
    return fail("unknown alarm {}: expected NOSPACE or CORRUPT", alarm);
  }
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.timeout);
  etcdserverpb::AlarmRequest request;
  request.set_action(activate ? etcdserverpb::AlarmRequest::ACTIVATE : etcdserverpb::AlarmRequest::DEACTIVATE);
  request.set_memberid(member_id);
  request.set_alarm(type);
  etcdserverpb::AlarmResponse response;
  const auto rpc = impl_->maintenance->Alarm(&context, request, &response);
  if (!rpc.ok()) return fail("{}: {} alarm: {}", endpoint_, activate ? "activate" : "disarm", describe(rpc));
  return {};
}

Result<SnapshotStreamInfo> EtcdClient::snapshot(const std::function<Status(std::string_view chunk)>& sink) {
  grpc::ClientContext context;
  impl_->deadline(context, impl_->options.stream_timeout);
  auto reader = impl_->maintenance->Snapshot(&context, etcdserverpb::SnapshotRequest{});
  SnapshotStreamInfo info;
  etcdserverpb::SnapshotResponse response;
  bool first = true;
  while (reader->Read(&response)) {
    if (first && response.has_header()) info.header = toInfo(response.header());
    first = false;
    const std::string& blob = response.blob();
    if (auto written = sink(blob); !written) {
      context.TryCancel();
      reader->Finish();
      return written.error();
    }
    info.bytes += blob.size();
  }
  const auto rpc = reader->Finish();
  if (!rpc.ok()) return fail("{}: snapshot stream: {}", endpoint_, describe(rpc));
  return info;
}

}  // namespace dr
