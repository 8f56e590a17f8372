// Test-restores: proving a backup restorable without touching production. The snapshot is restored into a
// throwaway one-member etcd on loopback, started, read through our own gRPC client, compared with what its sidecar
// recorded when it was saved, and torn down. drd runs this on a schedule (mode: test-restore) and exports the
// outcome and duration as metrics; see docs/rehearsals.md for what a pass proves and what it does not.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dr {

struct TestRestoreOptions {
  std::string etcd = "etcd", etcdctl = "etcdctl";
  std::filesystem::path work_parent;  // where the throwaway dir is made; empty: the system temp dir
  std::chrono::seconds timeout{120};
  // An encrypted backup's key (not owned): it is decrypted into the throwaway dir (owner-only, removed with it), its
  // plaintext checked against the sidecar's plaintext_sha256, then restored. Empty: an encrypted backup fails.
  std::string_view key;
};

struct TestRestoreResult {
  bool ok = false;
  std::filesystem::path snapshot;
  std::string sha256;  // of the file
  std::optional<std::int64_t> expected_revision, restored_revision;
  // Key counts as `etcdctl snapshot status` counts them (what the sidecar's key_count holds): every entry of the
  // bbolt file, i.e. each key revision not yet compacted plus etcd's own bookkeeping. expected: the sidecar's;
  // restored: the restored member's database, read after `snapshot restore` wrote it.
  std::optional<std::int64_t> expected_keys, restored_keys;
  std::string message;                    // "restorable: ..." or what failed, precisely
  std::chrono::milliseconds duration{0};  // the whole test restore: the RTO figure for metrics

  // Added for drd's reports and for tests:
  std::optional<std::int64_t> served_keys;  // live keys the restored etcd serves (a linearizable count-only Range)
  std::string expected_source;              // "file": read natively from the snapshot (a disagreeing sidecar refuses it)
  std::filesystem::path work_dir;           // the throwaway dir (removed before testRestore returns)
};

// The newest snapshot in a backup directory (by the sidecar's/file's modification time; ignores .part/.sha256/.json
// and a snapshot whose recorded test-restore failed, FILE.verdict.json).
Result<std::filesystem::path> newestSnapshot(const std::filesystem::path& backup_dir);

// Restores the snapshot into a throwaway one-member etcd (temp dir, free loopback ports found by binding port 0),
// starts it, reads revision and key count through the project's EtcdClient (src/etcd/etcd_client.h), compares them
// and the file's SHA-256 with the sidecar FILE.json (src/etcd/snapshot_file.h / snapshot_save.h), and tears it
// all down (process killed and reaped, dir removed) whatever happens. Error (Result) only for bad input (no such
// file); a snapshot that does not restore or does not match is ok=false with the reason.
Result<TestRestoreResult> testRestore(const std::filesystem::path& snapshot, const TestRestoreOptions& options);

}  // namespace dr
