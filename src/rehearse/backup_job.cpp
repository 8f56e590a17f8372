// One scheduled backup: save, test-restore, copy to the bucket, prune. See backup_job.h.
#include "rehearse/backup_job.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <map>

#include "core/file_io.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"
#include "etcd/snapshot_save.h"
#include "inventory/inventory_loader.h"

namespace dr {

namespace fs = std::filesystem;

namespace {

// The key lives as long as the job and is wiped after.
struct WipedKey {
  std::string bytes;
  ~WipedKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// NAME-20261208T020000Z.db; a second backup in the same second gets -2, -3...
fs::path backupPath(const BackupJob& job, std::int64_t now_ms) {
  const std::string stamp = formatUtcTime(now_ms);  // 2026-12-08T02:00:00Z
  std::string compact;
  for (char c : stamp) {
    if (c != '-' && c != ':') compact += c;
  }
  std::error_code ec;
  fs::path path = job.backup_dir / fmt::format("{}-{}.db", job.name, compact);
  for (int n = 2; fs::exists(fs::symlink_status(path, ec)); ++n) {
    path = job.backup_dir / fmt::format("{}-{}-{}.db", job.name, compact, n);
  }
  return path;
}

// The object `name` under the bucket's prefix.
S3Location objectIn(const S3Location& prefix, const std::string& name) {
  S3Location object = prefix;
  if (!object.key.empty() && !object.key.ends_with('/')) object.key += '/';
  object.key += name;
  return object;
}

std::string sidecarName(const std::string& backup, const char* suffix) { return backup + suffix; }

}  // namespace

Result<std::string> uploadBackup(S3Client& client, const S3Location& prefix, const fs::path& backup) {
  // The sidecars first and the backup after them, its verdict last: a listing that shows the backup shows its
  // checksum and sidecar too, and an interrupted copy leaves a backup without a verdict (not yet good), never the
  // reverse.
  std::error_code ec;
  for (const fs::path& file : {snapshotChecksumPath(backup), snapshotSidecarPath(backup)}) {
    if (!fs::exists(file, ec)) continue;
    auto put = client.putFile(file, objectIn(prefix, file.filename().string()));
    if (!put) return put.error();
  }
  const S3Location object = objectIn(prefix, backup.filename().string());
  // The save hashed the file as it wrote it (FILE.sha256): the upload need not read it once more to know it.
  S3PutOptions options;
  if (auto checksum = readRegularFile(snapshotChecksumPath(backup), kMaxSidecarFileBytes, "checksum file")) {
    options.sha256 = checksum->substr(0, checksum->find_first_of(" \t\r\n"));
    if (options.sha256.size() != 64) options.sha256.clear();
  }
  auto put = client.putFile(backup, object, options);
  if (!put) return put.error();
  if (fs::exists(verdictPath(backup), ec)) {
    auto verdict = client.putFile(verdictPath(backup), objectIn(prefix, verdictPath(backup).filename().string()));
    if (!verdict) return verdict.error();
  }
  return object.url();
}

Result<std::vector<BackupEntry>> listBucketBackups(S3Client& client, const S3Location& prefix) {
  auto objects = client.list(prefix);
  if (!objects) return objects.error();
  std::map<std::string, const S3Object*> by_key;
  for (const auto& object : *objects) by_key[object.key] = &object;
  // A small JSON object (a sidecar or a verdict), or nothing when it is absent or not JSON.
  auto json = [&](const std::string& key) -> std::optional<nlohmann::json> {
    if (!by_key.count(key)) return std::nullopt;
    auto text = client.getBytes(S3Location{prefix.bucket, key}, kMaxSidecarFileBytes);
    if (!text) return std::nullopt;
    auto parsed = nlohmann::json::parse(*text, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  };
  std::vector<BackupEntry> out;
  for (const auto& object : *objects) {
    const std::size_t slash = object.key.rfind('/');
    const std::string name = slash == std::string::npos ? object.key : object.key.substr(slash + 1);
    // Only the prefix's own level: a "folder" below it holds another schedule's backups.
    const std::string dir = slash == std::string::npos ? std::string() : object.key.substr(0, slash + 1);
    const std::string want = prefix.key.empty() || prefix.key.ends_with('/') ? prefix.key : prefix.key + '/';
    if (dir != want || !isBackupName(name)) continue;
    BackupEntry entry;
    entry.path = S3Location{prefix.bucket, object.key}.url();
    entry.size = object.size;
    entry.time_ms = object.last_modified_ms;
    entry.time_source = "object";
    applyBackupSidecars(entry, json(sidecarName(object.key, ".json")), json(sidecarName(object.key, ".verdict.json")));
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const BackupEntry& a, const BackupEntry& b) {
    return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.path.string() > b.path.string();
  });
  return out;
}

Status removeBucketBackup(S3Client& client, const S3Location& backup) {
  // The backup first, as removeBackup does on disk: sidecars of nothing are ignored by a listing.
  if (auto removed = client.remove(backup); !removed) return removed;
  for (const char* suffix : {".sha256", ".json", ".verdict.json"}) {
    if (auto removed = client.remove(S3Location{backup.bucket, sidecarName(backup.key, suffix)}); !removed) {
      return removed;
    }
  }
  return {};
}

BackupOutcome runBackup(const BackupJob& job, std::int64_t now_ms) {
  BackupOutcome out;
  auto failed = [&out](std::string stage, std::string why) {
    out.message = fmt::format("backup FAILED at {}: {}", stage, why);
    out.stages.push_back(fmt::format("{}: FAILED: {}", stage, why));
    return out;
  };

  // Everything it needs is checked before anything is written.
  WipedKey key;
  if (!job.encryption_key_file.empty()) {
    auto loaded = loadSnapshotKeyFile(job.encryption_key_file);
    if (!loaded) return failed("the encryption key", loaded.error().message);
    key.bytes = std::move(loaded).value();
  }
  std::optional<S3Client> store;
  std::optional<S3Location> bucket;
  if (!job.bucket.empty()) {
    auto parsed = parseS3Url(job.bucket);
    if (!parsed) return failed("the bucket", parsed.error().message);
    bucket = *parsed;
    auto opened = openObjectStore(job.object_store);
    if (!opened) return failed("the object store", opened.error().message);
    store.emplace(std::move(opened).value());
  }
  InventoryLoad load = loadInventory(job.inventory);
  if (!load.inventory) {
    std::string why = "does not load";
    for (const auto& d : load.diagnostics) {
      if (d.severity == Severity::Error) {
        why = d.str();
        break;
      }
    }
    return failed("the inventory", why);
  }

  // 1. Save.
  SnapshotSaveOptions save;
  save.client.tls = load.inventory->tls;
  save.encryption_key = key.bytes;
  save.time_ms = now_ms;
  auto saved = saveSnapshot(*load.inventory, backupPath(job, now_ms), save);
  if (!saved) return failed("save", saved.error().message);
  out.backup = saved->path;
  out.size = saved->size;
  out.revision = saved->revision;
  out.encrypted = saved->encrypted;
  out.stages.push_back(fmt::format("save: {} ({} bytes, revision {}{}) from {} in {:.2f} s", saved->path.string(),
                                   saved->size, saved->revision, saved->encrypted ? ", encrypted at save" : "",
                                   saved->member, saved->seconds));

  // 2. Test-restore: only a backup that passes counts as good.
  TestRestoreOptions restore = job.test_restore;
  restore.key = key.bytes;
  auto restored = testRestore(saved->path, restore);
  if (!restored) return failed("test-restore", restored.error().message);
  out.verified = restored->ok;
  out.test_restore_duration = restored->duration;
  if (auto recorded = recordVerdict(*restored, now_ms); !recorded) {
    return failed("test-restore", "the verdict could not be recorded: " + recorded.error().message);
  }
  if (!restored->ok) {
    return failed("test-restore", restored->message + " (the backup stays for inspection, marked FAILED; it is not "
                                                      "copied to the bucket and never offered as the newest)");
  }
  out.stages.push_back(fmt::format("test-restore: {} in {} ms", restored->message, restored->duration.count()));

  // 3. Copy to the bucket.
  if (store) {
    const auto began = std::chrono::steady_clock::now();
    auto copied = uploadBackup(*store, *bucket, saved->path);
    if (!copied) return failed("copy to " + bucket->url(), copied.error().message);
    out.uploaded_to = *copied;
    out.stages.push_back(fmt::format("copy: {} in {:.2f} s", out.uploaded_to,
                                     std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count()));
  }

  // 4. Retention, each place on its own listing.
  if (!job.retention.empty()) {
    auto local = listBackups(job.backup_dir);
    if (!local) return failed("retention", local.error().message);
    const auto referenced = job.runs_dir.empty() ? std::set<fs::path>{} : referencedSnapshots(job.runs_dir);
    int kept = 0;
    for (const auto& decision : planRetention(*local, job.retention, referenced)) {
      if (decision.keep) {
        ++kept;
        continue;
      }
      if (auto removed = removeBackup(decision.backup.path); !removed) {
        return failed("retention", removed.error().message);
      }
      out.pruned.push_back(decision.backup.path.string());
    }
    std::string line = fmt::format("retention: {} kept, {} pruned in {}", kept, out.pruned.size(), job.backup_dir.string());
    if (store) {
      auto remote = listBucketBackups(*store, *bucket);
      if (!remote) return failed("retention in " + bucket->url(), remote.error().message);
      int remote_kept = 0;
      std::size_t remote_pruned = 0;
      for (const auto& decision : planRetention(*remote, job.retention, {})) {
        if (decision.keep) {
          ++remote_kept;
          continue;
        }
        auto object = parseS3Url(decision.backup.path.string());
        if (!object) return failed("retention in " + bucket->url(), object.error().message);
        if (auto removed = removeBucketBackup(*store, *object); !removed) {
          return failed("retention in " + bucket->url(), removed.error().message);
        }
        out.pruned.push_back(decision.backup.path.string());
        ++remote_pruned;
      }
      line += fmt::format("; {} kept, {} pruned in {}", remote_kept, remote_pruned, bucket->url());
    }
    out.stages.push_back(line);
  }

  out.ok = true;
  out.message = fmt::format("backup saved and restorable: {} (revision {}){}{}", saved->path.filename().string(),
                            saved->revision, out.uploaded_to.empty() ? "" : ", copied to " + out.uploaded_to,
                            out.pruned.empty() ? "" : fmt::format(", {} pruned", out.pruned.size()));
  return out;
}

}  // namespace dr
