// Taking a backup: `drctl snapshot save`. Streams Maintenance.Snapshot from a healthy member (a follower when there
// is one, so the leader is spared the read) into FILE.part while hashing it, checks etcd's trailer, fsyncs and
// renames (only once the file reads back as a sound bbolt database); then writes FILE.sha256 (sha256sum format) and the sidecar FILE.json. The file is byte for byte what
// `etcdctl snapshot save` writes: etcd itself appends the SHA-256 trailer as the stream's last message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

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
  // Encrypt as it streams (etcd/snapshot_crypto.h): the plaintext never touches a disk. Such a file cannot be read
  // back as a database without decrypting it, so its sidecar's revision is the stream's (a lower bound) and it
  // records the plaintext's SHA-256, which a test-restore checks end to end on the decrypted bytes. Empty: plain.
  std::string_view encryption_key;
  // When it was taken, milliseconds since the epoch (drd's clock, so a test's manual clock names its backups);
  // nullopt: now.
  std::optional<std::int64_t> time_ms;
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
  std::string revision_source;  // "file": read from the saved file's bbolt database; "stream": encrypted (above)
  bool encrypted = false;
  std::string plaintext_sha256;  // encrypted: of the snapshot before encryption (sha256 is of the file as stored)
  std::optional<std::int64_t> key_count;
  std::string time;  // UTC, ISO 8601
  double seconds = 0;  // how long the stream took
};

Result<SavedSnapshot> saveSnapshot(const Inventory& inventory, const std::filesystem::path& out,
                                   const SnapshotSaveOptions& options);

// The sidecar's JSON text (what FILE.json holds).
std::string sidecarJson(const SavedSnapshot& saved);

}  // namespace dr
