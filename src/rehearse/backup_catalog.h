// The backups in a directory, as `drctl snapshot list` shows them and retention decides about them. A backup is a
// snapshot file with its sidecars (FILE.sha256 and FILE.json of `drctl snapshot save`, and FILE.verdict.json once a
// test-restore judged it). Retention is a pure decision over that list: which backups a policy keeps and why, which
// it prunes; `drctl snapshot prune` carries it out (or, with --dry-run, only prints it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "rehearse/test_restore.h"

namespace dr {

struct BackupEntry {
  std::filesystem::path path;
  std::uint64_t size = 0;
  std::int64_t time_ms = 0;       // when it was saved: the sidecar's time, else the file's modification time
  std::string time_source;        // "sidecar" or "file"
  std::optional<std::int64_t> revision;  // the sidecar's
  bool encrypted = false;
  // The last test-restore's verdict (FILE.verdict.json): none yet, passed, or failed with its message.
  std::optional<bool> verified;
  std::string verdict_message;
  std::int64_t verdict_time_ms = 0;
};

// Every backup in `dir`, newest first (equal times: the larger name first). Hidden files, the sidecars, `.part`
// files, links and anything that is not a regular file are not backups. A sidecar that does not parse is ignored
// (the file's own time is used); a directory that cannot be listed is an error.
Result<std::vector<BackupEntry>> listBackups(const std::filesystem::path& dir);

// Whether a file name in a backup dir names a backup: not hidden (editors' and tools' temp files), not a save in
// progress (.part), not a sidecar (.sha256, .json, .verdict.json).
bool isBackupName(const std::string& name);

// What a backup's sidecar (FILE.json: time, revision, encrypted) and verdict (FILE.verdict.json) say, onto its
// entry; either may be absent. Shared by the directory listing and the bucket's (rehearse/backup_job.h).
void applyBackupSidecars(BackupEntry& entry, const std::optional<nlohmann::json>& sidecar,
                         const std::optional<nlohmann::json>& verdict);

// FILE.verdict.json
std::filesystem::path verdictPath(const std::filesystem::path& snapshot);
// Records a test-restore's verdict beside the snapshot (atomically, 0600).
Status recordVerdict(const TestRestoreResult& result, std::int64_t now_ms);
// The recorded verdict: none yet, passed or failed.
std::optional<bool> recordedVerdict(const std::filesystem::path& snapshot);

// Keep rules, all optional; at least one must be given (a policy that keeps nothing is refused, not carried out).
struct RetentionPolicy {
  int keep_last = 0;    // the N newest
  int keep_hourly = 0;  // the newest of each of the N most recent UTC hours that have a backup
  int keep_daily = 0;   // ... days
  int keep_weekly = 0;  // ... ISO weeks (Monday to Sunday, UTC)
  bool empty() const { return keep_last <= 0 && keep_hourly <= 0 && keep_daily <= 0 && keep_weekly <= 0; }
};

struct RetentionDecision {
  BackupEntry backup;
  bool keep = false;
  std::vector<std::string> reasons;  // why it is kept ("one of the 3 newest", "newest of day 2026-12-07", ...)
};

// One decision per backup, in the list's order (newest first). Besides the rules, two backups are always kept:
// the newest that passed its test-restore, and any a run refers to (`referenced`, absolute paths).
std::vector<RetentionDecision> planRetention(const std::vector<BackupEntry>& backups, const RetentionPolicy& policy,
                                             const std::set<std::filesystem::path>& referenced);

// The snapshots the runs under `runs_dir` refer to (a resume or rollback may need them), absolute.
std::set<std::filesystem::path> referencedSnapshots(const std::filesystem::path& runs_dir);

// When the newest backup in `dir` that passed its test-restore was saved; nullopt when none has (or no dir).
std::optional<std::int64_t> newestVerifiedBackupMs(const std::filesystem::path& dir);

// Deletes a pruned backup: the file, then its sidecars (what is absent is skipped).
Status removeBackup(const std::filesystem::path& snapshot);

// "2026-12-07T10:00:00Z" (and "...+00:00", fractions of a second ignored) to milliseconds since the epoch.
std::optional<std::int64_t> parseUtcTime(const std::string& text);
std::string formatUtcTime(std::int64_t ms);

}  // namespace dr
