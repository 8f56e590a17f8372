// EtcdClient: a native gRPC client for one etcd endpoint, over our own minimal copy of etcd's v3 API
// (proto/etcd_rpc.proto). Plain or TLS (CA, client certificate and key, as the inventory gives them), and a
// deadline on every call, so a dead or partitioned member costs a bounded wait, never a hang.
//
// The generated gRPC types stay inside etcd_client.cpp: this header exposes plain structs, so code that checks a
// cluster does not compile against protobuf.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "inventory/inventory.h"

namespace dr {

struct ClientOptions {
  TlsFiles tls;                                      // used for https:// endpoints
  std::chrono::milliseconds timeout{5000};           // deadline of every unary call
  std::chrono::milliseconds stream_timeout{3600000};  // deadline of a whole snapshot stream
};

// What ResponseHeader carries: which cluster and member answered, at which revision and raft term.
struct ResponseInfo {
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  std::int64_t revision = 0;
  std::uint64_t raft_term = 0;
};

struct EndpointStatus {
  ResponseInfo header;
  std::string version;
  std::int64_t db_size = 0;
  std::int64_t db_size_in_use = 0;
  std::uint64_t leader = 0;  // the member id this endpoint believes leads; 0 when it knows of no leader
  std::uint64_t raft_index = 0;
  std::uint64_t raft_term = 0;
  std::uint64_t raft_applied_index = 0;
  std::vector<std::string> errors;
  bool is_learner = false;
  bool isLeader() const { return leader != 0 && leader == header.member_id; }
};

struct MemberInfo {
  std::uint64_t id = 0;
  std::string name;  // empty for a member that was added but never started
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct AlarmInfo {
  std::uint64_t member_id = 0;
  std::string alarm;  // "NOSPACE", "CORRUPT", or the number etcd sent
};

struct RangeResult {
  ResponseInfo header;
  std::int64_t count = 0;
  std::vector<std::pair<std::string, std::string>> kvs;  // key, value
};

// The first message of a snapshot stream tells which member sends it.
struct SnapshotStreamInfo {
  ResponseInfo header;
  std::uint64_t bytes = 0;  // everything received, the trailer included
};

// Hex as etcdctl prints member ids: lowercase, no leading zeros.
std::string memberIdHex(std::uint64_t id);

// "https://10.0.0.1:2379" -> "10.0.0.1:2379"; an error for anything that is not http(s)://HOST:PORT.
Result<std::string> grpcTarget(std::string_view client_url);

class EtcdClient {
 public:
  // Reads the TLS files (when the URL is https) and creates the channel; no connection is made until a call.
  static Result<EtcdClient> open(const std::string& client_url, const ClientOptions& options);

  EtcdClient(EtcdClient&&) noexcept;
  EtcdClient& operator=(EtcdClient&&) noexcept;
  ~EtcdClient();

  const std::string& endpoint() const { return endpoint_; }

  Result<EndpointStatus> status();
  Result<std::vector<MemberInfo>> memberList();
  // Membership changes (replace-member): a new member by its peer URL (as a learner: it does not vote, so adding
  // it never changes the quorum), a member removed or a caught-up learner promoted to a voter, by id.
  Result<MemberInfo> memberAdd(const std::string& peer_url, bool learner);
  Status memberRemove(std::uint64_t id);
  Status memberPromote(std::uint64_t id);
  Result<std::vector<AlarmInfo>> alarms();
  // linearizable=true goes through the leader and needs a quorum: it is the proof that the cluster serves reads.
  Result<RangeResult> range(const std::string& key, const std::string& range_end, bool linearizable,
                            bool count_only = false);
  Status put(const std::string& key, const std::string& value);
  // Raises an alarm ("NOSPACE" or "CORRUPT") on a member, as etcd would itself: for tests and game-day drills.
  Status activateAlarm(std::uint64_t member_id, const std::string& alarm);
  // Disarms an alarm of a member (etcdctl alarm disarm does this for every alarm listed). etcd raises NOSPACE again
  // at once while the database is still over its quota.
  Status deactivateAlarm(std::uint64_t member_id, const std::string& alarm);
  // Streams the backend database, handing each chunk to `sink` in order; a sink error cancels the stream.
  Result<SnapshotStreamInfo> snapshot(const std::function<Status(std::string_view chunk)>& sink);

 private:
  struct Impl;
  EtcdClient(std::string endpoint, std::unique_ptr<Impl> impl);
  Status changeAlarm(bool activate, std::uint64_t member_id, const std::string& alarm);
  std::string endpoint_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dr
