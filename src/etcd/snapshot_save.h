// Taking a backup: `drctl snapshot save`. Streams Maintenance.Snapshot from a healthy member (a follower when there
// is one, so the leader is spared the read) into FILE.part while hashing it, checks etcd's trailer, fsyncs and
// renames (only once the file reads back as a sound bbolt database); then writes FILE.sha256 (sha256sum format) and the sidecar FILE.json. The file is byte for byte what
// `etcdctl snapshot save` writes: etcd itself appends the SHA-256 trailer as the stream's last message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "etcd/etcd_client.h"
#include "inventory/inventory.h"

namespace dr {

struct SnapshotSaveOptions {
  ClientOptions client;
  std::string member;  // take it from this inventory member; empty: a healthy follower, else the healthy leader
  // The cluster has lost its quorum: take it from `member`'s own data all the same, as long as that member answers
  // (status). etcd serves a snapshot from its local database without a leader, so a surviving member's data, with
  // every write it applied, becomes a snapshot a full restore can use (restore from a surviving member).
  bool survivor = false;
};

struct SavedSnapshot {
  std::filesystem::path path;
  std::filesystem::path checksum_path;  // FILE.sha256
  std::filesystem::path sidecar_path;   // FILE.json
  std::uint64_t size = 0;
  std::string sha256;
  bool has_trailer = false;  // etcd's trailer was present and verified while streaming
  std::string member;        // inventory name of the member it came from
  std::string endpoint;
  std::string etcd_version;
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  std::int64_t revision = 0;
  std::string revision_source;  // "file": read from the saved file's bbolt database
  std::optional<std::int64_t> key_count;
  std::string time;  // UTC, ISO 8601
  double seconds = 0;  // how long the stream took
};

Result<SavedSnapshot> saveSnapshot(const Inventory& inventory, const std::filesystem::path& out,
                                   const SnapshotSaveOptions& options);

// The sidecar's JSON text (what FILE.json holds).
std::string sidecarJson(const SavedSnapshot& saved);

}  // namespace dr
