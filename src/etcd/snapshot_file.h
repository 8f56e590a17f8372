// What the planner needs to know about a snapshot file, read before any host is touched: its size, its SHA-256,
// and whether etcd's integrity trailer (a 32-byte SHA-256 of everything before it, present on files written by
// `etcdctl snapshot save` and `drctl snapshot save`; such a file's size % 512 == 32) is present and matches.
//
// Revision and key count come from the sidecar FILE.json that `drctl snapshot save` writes, or else, when asked,
// from `etcdctl snapshot status FILE -w json` (reading bbolt's `key` bucket by hand is not worth its weight here).
// A sidecar or FILE.sha256 that disagrees with the file's hash refuses the file. An encrypted snapshot (see
// snapshot_crypto.h) is recognised by its magic and reported as such: it must be decrypted before use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace dr {

struct SnapshotInfo {
  std::filesystem::path path;  // absolute
  std::uint64_t size = 0;
  std::string sha256;           // lowercase hex of the whole file
  bool has_trailer = false;     // etcd's appended SHA-256 was found and verified
  std::optional<std::int64_t> revision;  // when known (read from the file or its sidecar)
  std::optional<std::int64_t> key_count;
  bool encrypted = false;        // our AES-256-GCM format: decrypt (decryptSnapshotFile) before anything else
  std::string metadata_source;   // where revision/key_count came from: "sidecar", "etcdctl" or empty
  std::string warning;           // e.g. no trailer (a db copied from a data dir): accepted, but say so
};

struct InspectOptions {
  // etcdctl binary used to read revision and key count when no sidecar gives them; empty: do not run it.
  std::string etcdctl;
};

// What `etcdctl snapshot status -w json` says about a snapshot's bbolt database.
struct SnapshotDbStatus {
  std::int64_t revision = 0;
  std::int64_t total_keys = 0;
  std::int64_t total_size = 0;
  std::uint64_t hash = 0;
};
Result<SnapshotDbStatus> etcdctlSnapshotStatus(const std::filesystem::path& path, const std::string& etcdctl);

// Reads the file once. A trailer-sized file whose trailer does not match is refused (corrupt or truncated).
Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path);
Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path, const InspectOptions& options);

// The sidecar files next to a snapshot.
std::filesystem::path snapshotSidecarPath(const std::filesystem::path& snapshot);   // FILE.json
std::filesystem::path snapshotChecksumPath(const std::filesystem::path& snapshot);  // FILE.sha256

}  // namespace dr
