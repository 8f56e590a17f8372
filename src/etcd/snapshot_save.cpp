// drctl snapshot save, as a library function. See snapshot_save.h.
#include "etcd/snapshot_save.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>

#include "core/sha256.h"
#include "core/file_io.h"
#include "core/utf8.h"
#include "etcd/cluster_check.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"

namespace dr {

namespace {

constexpr std::size_t kTrailerSize = 32;

// Hashes a stream twice in one pass: everything (the file's SHA-256) and everything but the last 32 bytes (what
// etcd's trailer must equal), without knowing the length in advance: the last 32 bytes seen are held back.
class TrailerHasher {
 public:
  void update(std::string_view chunk) {
    whole_.update(chunk);
    if (chunk.size() >= kTrailerSize) {
      body_.update(tail_);
      body_.update(chunk.substr(0, chunk.size() - kTrailerSize));
      tail_.assign(chunk.substr(chunk.size() - kTrailerSize));
    } else {
      tail_.append(chunk);
      if (tail_.size() > kTrailerSize) {
        body_.update(std::string_view(tail_).substr(0, tail_.size() - kTrailerSize));
        tail_.erase(0, tail_.size() - kTrailerSize);
      }
    }
  }
  std::string wholeHex() { return whole_.finishHex(); }
  bool trailerMatches() { return tail_.size() == kTrailerSize && body_.finishRaw() == tail_; }

 private:
  Sha256 whole_;
  Sha256 body_;
  std::string tail_;
};

std::string utcTime(std::optional<std::int64_t> ms) {
  const std::time_t now = ms ? static_cast<std::time_t>(*ms / 1000) : std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// A healthy follower first (the leader is busy enough), then the healthy leader.
Result<const EndpointReport*> chooseSource(const ClusterReport& report, const std::string& wanted, bool survivor) {
  const EndpointReport* leader = nullptr;
  std::string problems;
  for (const auto& e : report.endpoints) {
    if (!wanted.empty() && e.member != wanted) continue;
    if (survivor && e.status) return &e;  // no quorum needed: its own data, as it is
    if (survivor) {
      problems += fmt::format("\n  {} ({}): {}", e.member, e.endpoint, e.status_error);
      continue;
    }
    if (!e.healthy()) {
      problems += fmt::format("\n  {} ({}): {}", e.member, e.endpoint, e.status ? e.read_error : e.status_error);
      continue;
    }
    if (!wanted.empty() || !e.status->isLeader()) return &e;
    leader = &e;
  }
  if (leader != nullptr) return leader;
  if (!wanted.empty() && problems.empty()) return fail("member {} is not in the inventory", wanted);
  if (survivor) return fail("member {} does not answer, so its data cannot be read:{}", wanted, problems);
  return fail("no healthy etcd member to take the snapshot from:{}", problems);
}

}  // namespace

Result<SavedSnapshot> saveSnapshot(const Inventory& inventory, const std::filesystem::path& out,
                                   const SnapshotSaveOptions& options) {
  const ClusterReport report = probeCluster(inventory, options.client);
  if (options.survivor && options.member.empty()) {
    return fail("a snapshot from a surviving member names that member (--member)");
  }
  auto source = chooseSource(report, options.member, options.survivor);
  if (!source) return source.error();
  const EndpointReport& from = **source;
  auto client = EtcdClient::open(from.endpoint, options.client);
  if (!client) return client.error();

  auto file = AtomicFile::create(out);
  if (!file) return file.error();
  const bool encrypt = !options.encryption_key.empty();
  Sha256 stored_hash;  // encrypted: of the file as written
  std::optional<SnapshotEncryptor> encryptor;
  if (encrypt) {
    auto started = SnapshotEncryptor::start(options.encryption_key, [&](std::string_view bytes) {
      stored_hash.update(bytes);
      return file->write(bytes);
    });
    if (!started) return started.error();
    encryptor.emplace(std::move(started).value());
  }
  TrailerHasher hasher;
  const auto started = std::chrono::steady_clock::now();
  auto stream = client->snapshot([&](std::string_view chunk) -> Status {
    hasher.update(chunk);
    return encrypt ? encryptor->write(chunk) : file->write(chunk);
  });
  if (!stream) return stream.error();
  if (encrypt) {
    if (auto finished = encryptor->finish(); !finished) return finished.error();
  }

  SavedSnapshot saved;
  saved.path = std::filesystem::absolute(out);
  saved.has_trailer = stream->bytes % 512 == kTrailerSize && hasher.trailerMatches();
  if (stream->bytes % 512 == kTrailerSize && !saved.has_trailer) {
    return fail("{}: snapshot stream from {} failed its integrity check (etcd's trailer does not match); nothing saved",
                out.string(), from.endpoint);
  }
  if (stream->bytes == 0) return fail("{}: empty snapshot stream; nothing saved", from.endpoint);
  if (encrypt) {
    saved.encrypted = true;
    saved.plaintext_sha256 = hasher.wholeHex();
    saved.sha256 = stored_hash.finishHex();
    saved.size = file->written();
    // The file cannot be read back without decrypting it: the revision the member reported just before the stream
    // (etcd 3.4's stream header carries none), a lower bound of the file's.
    saved.revision = std::max(stream->header.revision, from.status->header.revision);
    saved.revision_source = "stream";
  } else {
    saved.sha256 = hasher.wholeHex();
    saved.size = stream->bytes;
    // Read back before it gets its name: a file that is not a sound etcd database is never saved as a backup.
    auto db = readSnapshotDb(file->partPath(), false);
    if (!db) {
      return fail("the snapshot streamed from {} is not a sound etcd database; nothing saved: {}", from.endpoint,
                  db.error().message);
    }
    // Exact, from the file itself (the stream's header revision is only a lower bound).
    saved.revision = db->revision;
    saved.key_count = db->total_keys;
    saved.revision_source = "file";
  }
  if (auto committed = file->commit(); !committed) return committed.error();
  saved.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  saved.member = from.member;
  saved.endpoint = from.endpoint;
  saved.etcd_version = from.status->version;
  saved.cluster_id = stream->header.cluster_id != 0 ? stream->header.cluster_id : from.status->header.cluster_id;
  saved.member_id = stream->header.member_id != 0 ? stream->header.member_id : from.status->header.member_id;
  saved.time = utcTime(options.time_ms);
  saved.checksum_path = snapshotChecksumPath(saved.path);
  saved.sidecar_path = snapshotSidecarPath(saved.path);
  const std::string checksum = fmt::format("{}  {}\n", saved.sha256, saved.path.filename().string());
  if (auto written = writeFileAtomically(saved.checksum_path, checksum); !written) return written.error();
  if (auto written = writeFileAtomically(saved.sidecar_path, sidecarJson(saved)); !written) return written.error();
  return saved;
}

std::string sidecarJson(const SavedSnapshot& saved) {
  nlohmann::ordered_json json;
  json["file"] = saved.path.filename().string();
  json["size"] = saved.size;
  json["sha256"] = saved.sha256;
  json["has_trailer"] = saved.has_trailer;
  json["revision"] = saved.revision;
  json["revision_source"] = saved.revision_source;
  json["key_count"] = saved.key_count ? nlohmann::ordered_json(*saved.key_count) : nlohmann::ordered_json(nullptr);
  json["time"] = saved.time;
  json["cluster_id"] = memberIdHex(saved.cluster_id);
  json["member"] = saved.member;
  json["member_id"] = memberIdHex(saved.member_id);
  json["endpoint"] = saved.endpoint;
  json["etcd_version"] = saved.etcd_version;
  if (saved.encrypted) {
    json["encrypted"] = true;
    json["plaintext_sha256"] = saved.plaintext_sha256;
  }
  return jsonText(json, 2) + "\n";
}

}  // namespace dr
