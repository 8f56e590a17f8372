// What the planner needs to know about a snapshot file, read before any host is touched: its size, its SHA-256,
// and whether etcd's integrity trailer (a 32-byte SHA-256 of everything before it, present on files written by
// `etcdctl snapshot save`; such a file's size % 512 == 32) is present and matches.
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
};

// Reads the file once. A trailer-sized file whose trailer does not match is refused (corrupt or truncated).
Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path);

}  // namespace dr
