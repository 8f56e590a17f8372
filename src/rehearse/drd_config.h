// drd's YAML configuration: the schedules (dry-runs against the real hosts, test-restores of the newest backup into
// a throwaway etcd, backups: save, test-restore, copy to a bucket, prune), the object store, the Prometheus endpoint, the server's TLS files and the etcd binaries. The keys
// are documented in docs/rehearsals.md. Like the inventory, every problem is reported at once with its place.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "rehearse/backup_catalog.h"
#include "rehearse/cron.h"
#include "storage/object_store.h"

namespace dr {

enum class ScheduleMode { DryRun, TestRestore, Backup };
const char* scheduleModeName(ScheduleMode mode);  // "dry-run" / "test-restore" / "backup"

struct ScheduleConfig {
  std::string name;       // unique, required; letters, digits, '-', '_', '.' (used in labels and paths)
  std::string cron;       // as written, required
  CronSchedule schedule;  // parsed
  ScheduleMode mode = ScheduleMode::DryRun;
  std::string inventory;   // path (relative paths resolved against the config file's dir); required for dry-run
  std::string snapshot;    // dry-run: the snapshot to plan with (or newest of backup_dir when empty)
  std::string backup_dir;  // test-restore: required; dry-run: optional source of the newest snapshot
  std::string plan = "full-restore";  // template name or path (a value with '/' or ending in .yaml is a path)
  // backup: saves into backup_dir from a healthy follower of `inventory`'s cluster, encrypted with this key when
  // given (test-restore: the key of encrypted backups), test-restores each new backup, copies it with its sidecars
  // to `bucket` ("s3://BUCKET/PREFIX/") when given, then prunes backup_dir and the bucket by `retention`.
  std::string encryption_key_file;
  std::string bucket;
  RetentionPolicy retention;  // empty: nothing is pruned
};


struct DrdConfig {
  std::vector<ScheduleConfig> schedules;
  std::string metrics_listen;                      // "HOST:PORT" for the Prometheus endpoint; empty: none
  std::string tls_ca, tls_cert, tls_key;           // server mTLS for tcp:// listening (paths, resolved like inventory)
  std::string etcd = "etcd", etcdctl = "etcdctl";  // binaries for test-restores
  // The only directories a client's Plan or Apply may name inventories, templates and snapshots in (drd reads them
  // as its own user, usually root). Absolute, existing; none configured: every client path is refused.
  std::vector<std::string> input_dirs;
  // Where backup schedules' buckets live, and the s3:// snapshots clients name (storage/object_store.h).
  ObjectStoreConfig object_store;
};

// Every problem is reported, one line each, "FILE:LINE:COLUMN: message" (yaml-cpp Mark()), unknown keys with a
// did-you-mean (core/suggest.h closestMatch), bad cron with the field, duplicate names, missing required keys.
// Files the config names (inventory, snapshot, backup_dir, TLS files) must exist when it is loaded: a typo is
// reported at start-up rather than at 3 a.m. when the schedule fires. An empty file is a valid config with nothing
// scheduled.
Result<DrdConfig> loadDrdConfig(const std::filesystem::path& file);

// The same from text; `file` names it in messages and anchors relative paths.
Result<DrdConfig> parseDrdConfig(const std::string& yaml_text, const std::filesystem::path& file);

}  // namespace dr
