// A native, read-only reader of the bbolt database inside an etcd v3 snapshot (the file `etcdctl snapshot save`
// writes, minus its 32-byte SHA-256 trailer) or a member/snap/db copied from a data dir. It tells the planner a
// snapshot's revision, and whether the file is a structurally sound bbolt database, without running etcdctl.
//
// Revision, total_keys and hash are computed exactly as etcd 3.4's `etcdctl snapshot status` does
// (clientv3/snapshot/v3_snapshot.go), so the figures can be compared with it. The structural check follows bbolt's
// own tx.Check: every page below the high-water mark is reached once from the tree or listed once on the freelist,
// page types are right, keys are ordered within each bucket and within their branch ranges.
//
// The file is read page by page with pread: memory stays at about 1 MiB per tree level whatever the file size (long
// values on overflow pages are streamed, not loaded), and nothing read from the file is trusted before it is
// bounds-checked, so garbage gives an Error, never a crash, a hang or a huge allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dr {

struct BoltDbSummary {
  std::uint32_t page_size = 0;
  std::uint64_t txid = 0;              // of the meta page used
  std::uint64_t high_water_pages = 0;  // meta.pgid: pages in use; db bytes = high_water_pages * page_size
  std::int64_t revision = 0;    // as `etcdctl snapshot status` reports it: main revision of the last key of bucket
                                // "key" (0 when the bucket is empty)
  std::int64_t total_keys = 0;  // as etcdctl counts: every entry (key/value and nested-bucket entries) of every
                                // top-level bucket
  std::uint32_t hash = 0;  // as etcdctl computes: CRC-32C (Castagnoli) over, per top-level bucket in key order, the
                           // bucket name then each entry's key and value (a nested bucket's value counts as empty)
  std::optional<std::string> cluster_version;     // bucket "cluster", key "clusterVersion", when present ("3.4.0")
  std::optional<std::uint64_t> consistent_index;  // bucket "meta", key "consistent_index" (8-byte big-endian)
};

// Reads the bbolt database in the first `db_size` bytes of the open file `fd` (a regular file; the caller passes the
// size without etcd's trailer). `source` names the file in error messages. Every page read is bounds-checked:
// a truncated file, a text file, garbage, a bad meta checksum, a page id beyond the high-water mark or the db size,
// a cycle or an absurd depth in the tree, a key/value running past its page, wrong page flags: each is an Error
// saying what is wrong and at which page/offset ("SOURCE: not a bbolt database: ...", "SOURCE: bbolt page 17: ...").
// One valid meta page is enough (bbolt's rule: the valid one with the higher txid wins).
// Without `with_hash`, `hash` stays 0 and values are not read (their bounds are still checked): planning needs the
// revision and the structure, not etcdctl's CRC, and skipping it is most of the time on a large snapshot.
Result<BoltDbSummary> readBoltDb(int fd, std::uint64_t db_size, std::string_view source, bool with_hash = true);

}  // namespace dr
