// One scheduled backup, start to finish: drd's `mode: backup` schedule runs it, and it is a library function so
// that its stages can be tested on real parts without drd. In order, each stage only after the one before passed:
//   1. save: a new snapshot from a healthy follower (etcd/snapshot_save.h), encrypted as it streams when a key is
//      configured (the plaintext never touches the disk), with its sidecars;
//   2. test-restore: into a throwaway etcd, checked against its sidecar; the verdict is recorded beside it. A backup
//      that fails here is kept for inspection but never counts as good and is not copied to the bucket;
//   3. copy to the bucket (when configured): the sidecars, the backup, then its verdict, each checked end to end;
//   4. retention (when configured): the backup dir, then the bucket, each decided on its own listing (the newest
//      backup that passed its test-restore and every backup a run refers to are always kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "rehearse/backup_catalog.h"
#include "rehearse/drd_config.h"
#include "rehearse/test_restore.h"
#include "storage/object_store.h"
#include "storage/s3_client.h"

namespace dr {

struct BackupJob {
  std::string name;  // the backups' file names start with it: NAME-20261208T020000Z.db
  std::filesystem::path inventory;
  std::filesystem::path backup_dir;
  std::filesystem::path encryption_key_file;  // empty: saved in plaintext
  std::string bucket;                         // s3://BUCKET/PREFIX/; empty: none
  ObjectStoreConfig object_store;
  RetentionPolicy retention;  // empty: nothing is pruned
  TestRestoreOptions test_restore;
  std::filesystem::path runs_dir;  // the snapshots its runs refer to are never pruned; empty: none
};

struct BackupOutcome {
  bool ok = false;
  std::string message;              // one line: what happened, or the first stage that failed and why
  std::vector<std::string> stages;  // one line per stage that ran
  std::filesystem::path backup;     // set once saved
  std::uint64_t size = 0;
  std::int64_t revision = 0;
  bool encrypted = false;
  std::optional<bool> verified;  // the test-restore's verdict, once it ran
  std::chrono::milliseconds test_restore_duration{0};
  std::string uploaded_to;          // the backup's s3:// URL, once copied
  std::vector<std::string> pruned;  // deleted backups: paths, then s3:// URLs
};

// `now_ms`: the job's time (names the backup, dates its sidecar and verdict): drd's clock.
BackupOutcome runBackup(const BackupJob& job, std::int64_t now_ms);

// The backups under an s3:// prefix, as listBackups sees a directory: each backup object with the time and
// revision of its sidecar object (NAME.json) and the verdict of NAME.verdict.json; `path` holds the s3:// URL.
Result<std::vector<BackupEntry>> listBucketBackups(S3Client& client, const S3Location& prefix);
// Copies a backup and its sidecars (FILE.sha256, FILE.json, FILE.verdict.json when present) under the prefix: the
// sidecars first, the backup after them, its verdict last. Returns the backup's s3:// URL.
Result<std::string> uploadBackup(S3Client& client, const S3Location& prefix, const std::filesystem::path& backup);
// Deletes a backup object and its sidecar objects.
Status removeBucketBackup(S3Client& client, const S3Location& backup);

}  // namespace dr
