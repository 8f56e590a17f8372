// drctl snapshot list|prune|test-restore|upload: the backups in a directory or under an s3:// prefix
// (rehearse/backup_catalog.h, rehearse/backup_job.h). list shows each with its age, size, revision, encryption and
// test-restore verdict; prune applies a retention policy (never the newest backup that passed its test-restore,
// never one a run refers to); test-restore proves one restorable in a throwaway etcd and records the verdict beside
// it; upload copies a backup with its sidecars to a bucket.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "bucket_input.h"
#include "cli_support.h"
#include "commands.h"
#include "core/utf8.h"
#include "exec/clock.h"
#include "exec/run_dir.h"
#include "etcd/snapshot_crypto.h"
#include "rehearse/backup_catalog.h"
#include "rehearse/backup_job.h"
#include "storage/s3_client.h"

namespace dr::cli {

namespace {

struct CatalogArgs {
  std::string dir;
  std::string file;
  std::string runs = kDefaultRunsDir;
  RetentionPolicy policy;
  bool dry_run = false;
  bool json = false;
  std::string etcd = "etcd";
  std::string etcdctl = "etcdctl";
  std::string key_file;  // test-restore: an encrypted backup's key
  std::string to;        // upload: s3://BUCKET/PREFIX/
};

Result<S3Client> environmentStore() { return openObjectStore(objectStoreFromEnvironment()); }

// The backups of a directory or of an s3:// prefix.
Result<std::vector<BackupEntry>> listAnywhere(const std::string& where, std::optional<S3Client>& store) {
  if (!isS3Url(where)) return listBackups(where);
  auto prefix = parseS3Url(where);
  if (!prefix) return prefix.error();
  auto opened = environmentStore();
  if (!opened) return opened.error();
  store.emplace(std::move(opened).value());
  return listBucketBackups(*store, *prefix);
}

std::string displayName(const BackupEntry& b) {
  const std::string path = b.path.string();
  return toValidUtf8(isS3Url(path) ? path.substr(path.rfind('/') + 1) : b.path.filename().string());
}

std::string age(std::int64_t ms) {
  if (ms < 0) return "future";
  const std::int64_t minutes = ms / 60'000;
  if (minutes < 60) return fmt::format("{}m", minutes);
  if (minutes < 48 * 60) return fmt::format("{}h {}m", minutes / 60, minutes % 60);
  return fmt::format("{}d {}h", minutes / (24 * 60), minutes / 60 % 24);
}

std::string verdictText(const BackupEntry& b) {
  if (!b.verified) return "not tested";
  return fmt::format("{} {}", *b.verified ? "passed" : "FAILED", formatUtcTime(b.verdict_time_ms));
}

nlohmann::ordered_json entryJson(const BackupEntry& b, std::int64_t now) {
  nlohmann::ordered_json j;
  j["path"] = toValidUtf8(b.path.string());
  j["time"] = formatUtcTime(b.time_ms);
  j["time_source"] = b.time_source;
  j["age_seconds"] = (now - b.time_ms) / 1000;
  j["size"] = b.size;
  j["revision"] = b.revision ? nlohmann::ordered_json(*b.revision) : nlohmann::ordered_json(nullptr);
  j["encrypted"] = b.encrypted;
  j["test_restore"] = !b.verified ? "none" : *b.verified ? "passed" : "failed";
  if (b.verified) j["test_restore_message"] = b.verdict_message;
  return j;
}

int runList(const CatalogArgs& args) {
  std::optional<S3Client> store;
  auto backups = listAnywhere(args.dir, store);
  if (!backups) {
    std::fprintf(stderr, "drctl snapshot list: %s\n", backups.error().message.c_str());
    return kExitBadInput;
  }
  const std::int64_t now = SystemClock().wallMs();
  if (args.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& b : *backups) out.push_back(entryJson(b, now));
    fmt::print("{}\n", jsonText(out, 2));
    return kExitOk;
  }
  if (backups->empty()) {
    fmt::print("{}: no backup (files ending in .part, .sha256 or .json are not backups)\n", args.dir);
    return kExitOk;
  }
  fmt::print("{:<40} {:>8} {:>12} {:>10} {:<9} {}\n", "BACKUP", "AGE", "SIZE", "REVISION", "ENCRYPTED", "TEST-RESTORE");
  for (const auto& b : *backups) {
    fmt::print("{:<40} {:>8} {:>12} {:>10} {:<9} {}\n", displayName(b), age(now - b.time_ms),
               b.size, b.revision ? std::to_string(*b.revision) : "?", b.encrypted ? "yes" : "no", verdictText(b));
  }
  for (const auto& b : *backups) {
    if (b.verified != false) {
      fmt::print("newest usable: {}{}\n", displayName(b),
                 b.verified ? "" : " (not test-restored yet: drctl snapshot test-restore FILE)");
      return kExitOk;
    }
  }
  fmt::print("newest usable: none: every backup here failed its test-restore\n");
  return kExitFailed;
}

int runPrune(const CatalogArgs& args) {
  if (args.policy.empty()) {
    std::fprintf(stderr, "drctl snapshot prune: give at least one of --keep-last, --keep-hourly, --keep-daily, "
                         "--keep-weekly (a policy that keeps nothing is not carried out)\n");
    return kExitBadInput;
  }
  for (int n : {args.policy.keep_last, args.policy.keep_hourly, args.policy.keep_daily, args.policy.keep_weekly}) {
    if (n < 0) {
      std::fprintf(stderr, "drctl snapshot prune: keep counts must not be negative\n");
      return kExitBadInput;
    }
  }
  std::optional<S3Client> store;
  auto backups = listAnywhere(args.dir, store);
  if (!backups) {
    std::fprintf(stderr, "drctl snapshot prune: %s\n", backups.error().message.c_str());
    return kExitBadInput;
  }
  // A bucket's backups are not what local runs refer to (a run refers to its downloaded copy).
  const auto decisions = planRetention(*backups, args.policy, store ? std::set<std::filesystem::path>{}
                                                                    : referencedSnapshots(args.runs));
  int pruned = 0, failed = 0;
  for (const auto& d : decisions) {
    const std::string name = displayName(d.backup);
    if (d.keep) {
      fmt::print("keep   {}  ({})\n", name, fmt::join(d.reasons, "; "));
      continue;
    }
    if (args.dry_run) {
      fmt::print("prune  {}  (would be deleted, with its sidecars)\n", name);
      ++pruned;
      continue;
    }
    Status removed = removeBackup(d.backup.path);
    if (store) {
      auto object = parseS3Url(d.backup.path.string());
      removed = object ? removeBucketBackup(*store, *object) : Status(object.error());
    }
    if (!removed) {
      fmt::print(stderr, "drctl snapshot prune: {}\n", removed.error().message);
      ++failed;
      continue;
    }
    fmt::print("pruned {}\n", name);
    ++pruned;
  }
  fmt::print("{} of {} backups {}{}\n", pruned, decisions.size(), args.dry_run ? "would be pruned (dry-run: nothing deleted)" : "pruned",
             failed ? fmt::format(", {} could not be deleted", failed) : "");
  return failed ? kExitFailed : kExitOk;
}

int runTestRestoreCli(CatalogArgs args) {
  // A backup in a bucket is downloaded first; its verdict is then copied back beside it, so that listing the bucket
  // shows it.
  const std::string bucket_url = isS3Url(args.file) ? args.file : std::string();
  if (int code = fetchSnapshotArgument(args.file, args.runs, "drctl snapshot test-restore"); code != 0) return code;
  TestRestoreOptions options;
  options.etcd = args.etcd;
  options.etcdctl = args.etcdctl;
  std::string key;
  if (!args.key_file.empty()) {
    auto loaded = loadSnapshotKeyFile(args.key_file);
    if (!loaded) {
      std::fprintf(stderr, "drctl snapshot test-restore: %s\n", loaded.error().message.c_str());
      return kExitBadInput;
    }
    key = std::move(loaded).value();
  }
  options.key = key;
  auto result = testRestore(args.file, options);
  OPENSSL_cleanse(key.data(), key.size());
  if (!result) {
    std::fprintf(stderr, "drctl snapshot test-restore: %s\n", result.error().message.c_str());
    return kExitBadInput;
  }
  fmt::print("{}: {} ({} ms)\n", toValidUtf8(args.file), toValidUtf8(result->message), result->duration.count());
  if (auto recorded = recordVerdict(*result, SystemClock().wallMs()); !recorded) {
    fmt::print(stderr, "drctl snapshot test-restore: the verdict was not recorded: {}\n", recorded.error().message);
    return kExitFailed;
  }
  fmt::print("verdict recorded in {}\n", toValidUtf8(verdictPath(result->snapshot).string()));
  if (!bucket_url.empty()) {
    auto store = environmentStore();
    const S3Location verdict = parseS3Url(bucket_url + ".verdict.json").value();
    auto copied = store ? store->putFile(verdictPath(result->snapshot), verdict) : Result<S3PutResult>(store.error());
    if (!copied) {
      fmt::print(stderr, "drctl snapshot test-restore: the verdict was not copied to {}: {}\n", verdict.url(),
                 copied.error().message);
      return kExitFailed;
    }
    fmt::print("verdict copied to {}\n", verdict.url());
  }
  return result->ok ? kExitOk : kExitFailed;
}

int runUpload(const CatalogArgs& args) {
  auto prefix = parseS3Url(args.to);
  if (!prefix) {
    std::fprintf(stderr, "drctl snapshot upload: %s\n", prefix.error().message.c_str());
    return kExitBadInput;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(args.file, ec)) {
    std::fprintf(stderr, "drctl snapshot upload: %s: no such snapshot file\n", args.file.c_str());
    return kExitBadInput;
  }
  auto store = environmentStore();
  if (!store) {
    std::fprintf(stderr, "drctl snapshot upload: %s\n", store.error().message.c_str());
    return kExitBadInput;
  }
  const auto began = std::chrono::steady_clock::now();
  auto url = uploadBackup(*store, *prefix, args.file);
  if (!url) {
    std::fprintf(stderr, "drctl snapshot upload: %s\n", url.error().message.c_str());
    return kExitFailed;
  }
  fmt::print("copied {} to {} with its sidecars in {:.1f} s (SHA-256 stored as the object's metadata, checked on "
             "every download)\n",
             toValidUtf8(args.file), toValidUtf8(*url),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  return kExitOk;
}

}  // namespace

CommandRunner declareSnapshotCatalog(CLI::App& command) {
  auto args = std::make_shared<CatalogArgs>();
  auto* list = command.add_subcommand(
      "list", "The backups in a directory, newest first: age, size, revision, encryption, test-restore verdict, and "
              "the newest usable one (never one that failed its test-restore); exit 1 when every one failed");
  list->add_option("dir", args->dir, "Backup directory, or s3://BUCKET/PREFIX/")->required();
  list->add_flag("--json", args->json, "Print JSON");

  auto* prune = command.add_subcommand(
      "prune", "Delete the backups a retention policy does not keep, with their sidecars. Always kept: the newest "
               "backup that passed its test-restore, and every backup a run refers to");
  prune->add_option("dir", args->dir, "Backup directory, or s3://BUCKET/PREFIX/")->required();
  prune->add_option("--keep-last", args->policy.keep_last, "Keep the N newest");
  prune->add_option("--keep-hourly", args->policy.keep_hourly, "Keep the newest of each of the N latest UTC hours");
  prune->add_option("--keep-daily", args->policy.keep_daily, "Keep the newest of each of the N latest UTC days");
  prune->add_option("--keep-weekly", args->policy.keep_weekly, "Keep the newest of each of the N latest ISO weeks");
  prune->add_option("--runs", args->runs, "Runs directory whose runs' snapshots are kept")->capture_default_str();
  prune->add_flag("--dry-run", args->dry_run, "Print what would be kept and pruned, and why; delete nothing");
  prune->footer(R"(Examples:
  drctl snapshot prune /backup/etcd --keep-last 3 --keep-hourly 24 --keep-daily 7 --keep-weekly 4 --dry-run
  drctl snapshot prune /backup/etcd --keep-last 3 --keep-daily 7
  drctl snapshot prune s3://etcd-backups/prod/ --keep-daily 7 --keep-weekly 4

A bucket's object store comes from the environment: DR_S3_ENDPOINT (an S3-compatible store; none: AWS),
AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_SHARED_CREDENTIALS_FILE).)");

  auto* test = command.add_subcommand(
      "test-restore", "Prove one backup restorable: restore it into a throwaway one-member etcd on loopback, compare "
                      "revision and keys with its sidecar, tear it down, and record the verdict (FILE.verdict.json) "
                      "that list and prune read; exit 1 when it fails");
  test->add_option("file", args->file, "Snapshot file, or s3://BUCKET/KEY (downloaded first; the verdict is copied "
                                       "back beside it)")->required();
  test->add_option("--runs", args->runs, "Runs directory (a bucket's backup is downloaded into RUNS/downloads/)")
      ->capture_default_str();
  test->add_option("--etcd", args->etcd, "The etcd binary")->capture_default_str();
  test->add_option("--etcdctl", args->etcdctl, "The etcdctl binary")->capture_default_str();
  test->add_option("--key-file", args->key_file,
                   "An encrypted backup's key: it is decrypted into the throwaway dir only, and its plaintext checked "
                   "against the SHA-256 recorded when it was saved");

  auto* upload = command.add_subcommand(
      "upload", "Copy a backup with its sidecars to an S3-compatible bucket (multipart for large files; every part's "
                "MD5 checked by the store, the SHA-256 stored and checked on every download)");
  upload->add_option("file", args->file, "Snapshot file")->required();
  upload->add_option("to", args->to, "s3://BUCKET/PREFIX/")->required();
  upload->footer(R"(Examples:
  drctl snapshot upload /backup/etcd/nightly-20261208T020000Z.db s3://etcd-backups/prod/
  drctl apply -i inventory.yaml -s s3://etcd-backups/prod/nightly-20261208T020000Z.db --dry-run

The object store comes from the environment: DR_S3_ENDPOINT (an S3-compatible store; none: AWS), AWS_REGION,
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_SHARED_CREDENTIALS_FILE). Credentials are never printed.)");
  return [args, list, prune, test, upload]() -> int {
    if (list->parsed()) return runList(*args);
    if (prune->parsed()) return runPrune(*args);
    if (test->parsed()) return runTestRestoreCli(*args);
    if (upload->parsed()) return runUpload(*args);
    return -1;
  };
}

}  // namespace dr::cli
