// What the planner needs to know about a snapshot file, read before any host is touched, so that a file etcd would
// refuse at the restore (after every API server and member was stopped) is refused here instead:
// - its size and SHA-256, and etcd's integrity trailer (a 32-byte SHA-256 of everything before it, which
//   `etcdctl snapshot save` and `drctl snapshot save` files end with; such a file's size % 512 == 32). A file
//   without one (truncated, appended to, not a snapshot, or a db copied from a data dir) is refused unless the
//   operator says so (InspectOptions::allow_no_trailer, `--skip-hash-check`; the restore then skips etcd's check);
// - the bbolt database inside it, read natively (etcd/bbolt_file.h): its structure, revision, key count and the
//   cluster version it was written by. A file that is not a sound bbolt database is refused;
// - the sidecars FILE.sha256 and FILE.json of `drctl snapshot save`: a hash or revision that disagrees refuses the
//   file; the sidecar's etcd version is taken over.
// An encrypted snapshot (snapshot_crypto.h) is recognised by its magic and its container checked (every record's
// length and flag, the final record last); its contents can be checked only once decrypted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "etcd/bbolt_file.h"

namespace dr {

struct SnapshotInfo {
  std::filesystem::path path;  // absolute
  std::uint64_t size = 0;
  std::string sha256;           // lowercase hex of the whole file
  bool has_trailer = false;     // etcd's appended SHA-256 was found and verified
  std::optional<std::int64_t> revision;  // read from the file (or, encrypted, from its sidecar)
  std::optional<std::int64_t> key_count;
  std::optional<std::string> etcd_version;  // the sidecar's server version ("3.4.23") or the db's cluster version
  bool encrypted = false;        // our AES-256-GCM format: decrypt (decryptSnapshotFile) before anything else
  std::string metadata_source;   // where revision/key_count came from: "file", "sidecar" or empty
  // Encrypted at save (drctl snapshot save --key-file, drd's backups): the sidecar's SHA-256 of the plaintext, and
  // its revision is the stream's, a lower bound of the file's.
  std::string plaintext_sha256;
  std::string warning;           // e.g. no trailer but accepted on the operator's word: say so
};

struct InspectOptions {
  // Accept a file without etcd's trailer (a db copied from a data dir): the operator said so explicitly. Its
  // bbolt structure is still checked, and the restore is told to skip the hash check it cannot do.
  bool allow_no_trailer = false;
  // Compute etcdctl's CRC over the db too (drctl snapshot status shows it); planning does not need it.
  bool with_db_hash = false;
};

// Reads the file: one pass for the hashes, one walk of its bbolt tree.
Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path, const InspectOptions& options = {});

// The bbolt database of a snapshot file or a data dir's member/snap/db, read natively: revision, key count and
// (with `with_hash`) the hash as `etcdctl snapshot status` reports them. A trailer, when the file has one that
// matches its size, is left out.
Result<BoltDbSummary> readSnapshotDb(const std::filesystem::path& path, bool with_hash);

// "--skip-hash-check" where the restore needs it: the snapshot has no trailer for etcd to check.
inline constexpr const char* kSkipHashCheckFlag = "--skip-hash-check";

// The sidecar files next to a snapshot.
std::filesystem::path snapshotSidecarPath(const std::filesystem::path& snapshot);   // FILE.json
std::filesystem::path snapshotChecksumPath(const std::filesystem::path& snapshot);  // FILE.sha256

}  // namespace dr
