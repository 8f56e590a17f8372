// drctl snapshot save|verify|status|encrypt|decrypt: taking backups and proving them before a recovery needs them.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "bucket_input.h"
#include "cli_support.h"
#include "commands.h"
#include "etcd/snapshot_crypto.h"
#include "etcd/snapshot_file.h"
#include "etcd/snapshot_save.h"
#include "core/file_io.h"
#include "core/utf8.h"
#include "etcd_cli_common.h"

namespace dr::cli {

namespace {

struct SnapshotArgs {
  std::string inventory;
  std::string output;
  std::string input;
  std::string file;
  std::string member;
  std::string timeout = "10s";
  std::string key_file;
  std::string key_env;
  bool json = false;
  bool survivor = false;
  bool skip_hash_check = false;
  std::string runs = kDefaultRunsDir;  // verify, status: an s3:// snapshot is downloaded into RUNS/downloads/
};

int runSave(const SnapshotArgs& args) {
  auto inventory = loadInventoryForCli(args.inventory);
  if (!inventory) return kExitBadInput;
  auto timeout = parseDurationArg(args.timeout, "--timeout");
  if (!timeout) return kExitBadInput;
  SnapshotSaveOptions options;
  options.client.tls = inventory->tls;
  options.client.timeout = *timeout;
  options.member = args.member;
  options.survivor = args.survivor;
  if (!args.member.empty() && inventory->findMember(args.member) == nullptr) {
    fmt::print(stderr, "drctl snapshot save: --member {}: no such member in {}\n", args.member, args.inventory);
    return kExitBadInput;
  }
  std::string key;
  if (!args.key_file.empty() || !args.key_env.empty()) {
    std::string warning;
    auto loaded =
        args.key_file.empty() ? loadSnapshotKeyEnv(args.key_env) : loadSnapshotKeyFile(args.key_file, &warning);
    if (!loaded) {
      fmt::print(stderr, "drctl snapshot save: {}\n", loaded.error().message);
      return kExitBadInput;
    }
    if (!warning.empty()) fmt::print(stderr, "drctl snapshot save: warning: {}\n", warning);
    key = std::move(loaded).value();
  }
  options.encryption_key = key;
  auto saved = saveSnapshot(*inventory, args.output, options);
  OPENSSL_cleanse(key.data(), key.size());
  if (!saved) {
    fmt::print(stderr, "drctl snapshot save: {}\n", saved.error().message);
    return kExitFailed;
  }
  if (args.json) {
    fmt::print("{}", sidecarJson(*saved));
  } else {
    fmt::print("saved {} ({} bytes, revision {}{}) from {} ({}) in {:.2f}s\nsha256 {}\n", saved->path.string(),
               saved->size, saved->revision,
               saved->key_count ? fmt::format(", {} keys", *saved->key_count) : std::string(), saved->member,
               saved->endpoint, saved->seconds, saved->sha256);
    if (saved->encrypted) {
      fmt::print("encrypted at save (the plaintext never touched the disk); its contents are proven by\n"
                 "  drctl snapshot test-restore {} --key-file KEY\n",
                 saved->path.string());
    }
  }
  return kExitOk;
}

nlohmann::ordered_json infoJson(const SnapshotInfo& info, std::optional<std::uint32_t> db_hash) {
  nlohmann::ordered_json j;
  j["path"] = info.path.string();
  j["size"] = info.size;
  j["sha256"] = info.sha256;
  j["has_trailer"] = info.has_trailer;
  j["encrypted"] = info.encrypted;
  j["revision"] = info.revision ? nlohmann::ordered_json(*info.revision) : nlohmann::ordered_json(nullptr);
  j["key_count"] = info.key_count ? nlohmann::ordered_json(*info.key_count) : nlohmann::ordered_json(nullptr);
  j["etcd_version"] = info.etcd_version ? nlohmann::ordered_json(*info.etcd_version) : nlohmann::ordered_json(nullptr);
  if (db_hash) j["hash"] = *db_hash;
  j["metadata_source"] = info.metadata_source;
  j["warning"] = info.warning;
  return j;
}

Result<std::string> loadKey(const SnapshotArgs& args) {
  std::string warning;
  auto key = args.key_file.empty() ? loadSnapshotKeyEnv(args.key_env) : loadSnapshotKeyFile(args.key_file, &warning);
  if (!warning.empty()) fmt::print(stderr, "warning: {}\n", warning);
  return key;
}

// verify: integrity (trailer, bbolt structure, checksum file, sidecar; an encrypted file's container, and every
// record's authentication with its key). status: the same plus revision, key count, version and etcdctl's hash.
int runInspect(SnapshotArgs args, bool with_metadata) {
  const char* who = with_metadata ? "drctl snapshot status" : "drctl snapshot verify";
  if (int code = fetchSnapshotArgument(args.file, args.runs, who); code != 0) return code;
  // A path that is not a regular file is the operator's mistake (exit 2); a damaged snapshot is a finding (exit 1).
  if (auto file = openRegularFile(args.file, "snapshot"); !file) {
    fmt::print(stderr, "drctl snapshot: {}\n", file.error().message);
    return kExitBadInput;
  }
  InspectOptions options;
  options.allow_no_trailer = args.skip_hash_check;
  options.with_db_hash = with_metadata;
  auto info = inspectSnapshot(args.file, options);
  if (!info) {
    fmt::print(stderr, "drctl snapshot: {}\n", info.error().message);
    return kExitFailed;
  }
  if (info->encrypted && (!args.key_file.empty() || !args.key_env.empty())) {
    auto key = loadKey(args);
    if (!key) {
      fmt::print(stderr, "drctl snapshot: {}\n", key.error().message);
      return kExitBadInput;
    }
    if (Status authentic = checkEncryptedSnapshot(args.file, std::string_view(*key)); !authentic) {
      fmt::print(stderr, "drctl snapshot: {}\n", authentic.error().message);
      return kExitFailed;
    }
    info->warning = "encrypted snapshot: every record authenticated with the key; decrypt it to check its contents";
  }
  std::optional<std::uint32_t> db_hash;
  if (with_metadata && !info->encrypted) {
    auto db = readSnapshotDb(args.file, true);
    if (db) db_hash = db->hash;
  }
  if (args.json) {
    fmt::print("{}\n", jsonText(infoJson(*info, db_hash), 2));
    return kExitOk;
  }
  if (!with_metadata) {
    fmt::print("{}: OK ({} bytes, sha256 {}, {})\n", args.file, info->size, info->sha256,
               info->encrypted      ? "encrypted"
               : info->has_trailer ? "etcd trailer verified, bbolt database sound"
                                   : "no etcd trailer (accepted with --skip-hash-check), bbolt database sound");
  } else {
    fmt::print("file       {}\nsize       {}\nsha256     {}\ntrailer    {}\nencrypted  {}\n", info->path.string(),
               info->size, info->sha256, info->has_trailer ? "present, verified" : "absent",
               info->encrypted ? "yes" : "no");
    if (info->revision) fmt::print("revision   {} (from {})\n", *info->revision, info->metadata_source);
    if (info->key_count) fmt::print("keys       {}\n", *info->key_count);
    if (info->etcd_version) fmt::print("etcd       {}\n", *info->etcd_version);
    if (db_hash) fmt::print("hash       {} (as etcdctl snapshot status)\n", *db_hash);
  }
  if (!info->warning.empty()) fmt::print(stderr, "warning: {}\n", info->warning);
  return kExitOk;
}

int runCrypt(const SnapshotArgs& args, bool encrypt) {
  if (args.key_file.empty() == args.key_env.empty()) {
    fmt::print(stderr, "drctl snapshot {}: give exactly one of --key-file or --key-env\n", encrypt ? "encrypt" : "decrypt");
    return kExitBadInput;
  }
  auto key = loadKey(args);
  if (!key) {
    fmt::print(stderr, "drctl snapshot: {}\n", key.error().message);
    return kExitBadInput;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(args.input, ec)) {
    fmt::print(stderr, "drctl snapshot: {}: no such file\n", args.input);
    return kExitBadInput;
  }
  if (std::filesystem::equivalent(args.input, args.output, ec)) {
    fmt::print(stderr, "drctl snapshot: input and output are the same file\n");
    return kExitBadInput;
  }
  const Status done = encrypt ? encryptSnapshotFile(args.input, args.output, *key)
                              : decryptSnapshotFile(args.input, args.output, *key);
  if (!done) {
    fmt::print(stderr, "drctl snapshot {}: {}\n", encrypt ? "encrypt" : "decrypt", done.error().message);
    return kExitFailed;
  }
  fmt::print("{} {} -> {}\n", encrypt ? "encrypted" : "decrypted and authenticated", args.input, args.output);
  return kExitOk;
}

}  // namespace

CommandRunner declareSnapshot(CLI::App& command) {
  auto args = std::make_shared<SnapshotArgs>();
  command.require_subcommand(1);
  auto* save = command.add_subcommand("save", "Stream a snapshot from a healthy member (a follower when there is one) "
                                              "into FILE, with FILE.sha256 and the sidecar FILE.json");
  save->add_option("-i,--inventory", args->inventory, "Inventory file")->required();
  save->add_option("-o,--output", args->output, "Snapshot file to write")->required();
  save->add_option("--member", args->member, "Take it from this member");
  save->add_flag("--survivor", args->survivor,
                 "The cluster lost its quorum: take it from --member's own data all the same (it must answer; etcd "
                 "serves its local database without a leader). Its writes newer than the last backup are kept: a "
                 "full restore from it loses less (drctl diagnose names the member with the newest data)");
  save->add_option("--timeout", args->timeout, "Deadline of each status call (e.g. 10s)");
  save->add_flag("--json", args->json, "Print the sidecar JSON");
  auto* save_key = save->add_option("--key-file", args->key_file,
                                    "Encrypt as it streams with this key (64 hex digits or 32 bytes): the plaintext "
                                    "never touches the disk");
  save->add_option("--key-env", args->key_env, "Encrypt as it streams with the key in this environment variable")
      ->excludes(save_key);

  auto* verify = command.add_subcommand("verify", "Prove a snapshot restorable before it is needed: etcd's SHA-256 "
                                                  "trailer, its bbolt database, FILE.sha256, the sidecar; exit 1 "
                                                  "when it is damaged");
  auto* status = command.add_subcommand("status", "Integrity plus revision, key count, etcd version and hash, read from "
                                                  "the file itself");
  for (auto* sub : {verify, status}) {
    sub->add_option("file", args->file, "Snapshot file, or s3://BUCKET/KEY (downloaded into runs/downloads/ first)")
        ->required();
    sub->add_flag("--json", args->json, "Print JSON");
    sub->add_option("--runs", args->runs, "Runs directory (a bucket's snapshot is downloaded into RUNS/downloads/)")
        ->capture_default_str();
    sub->add_flag("--skip-hash-check", args->skip_hash_check,
                  "Accept a file without etcd's trailer (a db copied from a data dir); its structure is still checked");
    auto* file = sub->add_option("--key-file", args->key_file, "An encrypted snapshot's key: authenticate every record");
    auto* env = sub->add_option("--key-env", args->key_env, "Environment variable holding an encrypted snapshot's key");
    file->excludes(env);
  }

  auto* encrypt = command.add_subcommand("encrypt", "Encrypt a snapshot (AES-256-GCM, authenticated, streaming)");
  auto* decrypt = command.add_subcommand("decrypt", "Decrypt and authenticate an encrypted snapshot; a tampered or "
                                                    "truncated file is refused and nothing is written");
  for (auto* sub : {encrypt, decrypt}) {
    sub->add_option("-i,--input", args->input, "Input file")->required();
    sub->add_option("-o,--output", args->output, "Output file (written whole or not at all)")->required();
    auto* file = sub->add_option("--key-file", args->key_file, "File holding the key: 64 hex digits or 32 bytes");
    auto* env = sub->add_option("--key-env", args->key_env, "Environment variable holding the key (64 hex digits)");
    file->excludes(env);
  }
  const auto catalog = declareSnapshotCatalog(command);
  return [=] {
    if (int code = catalog(); code >= 0) return code;
    if (save->parsed()) return runSave(*args);
    if (verify->parsed()) return runInspect(*args, false);
    if (status->parsed()) return runInspect(*args, true);
    if (encrypt->parsed()) return runCrypt(*args, true);
    if (decrypt->parsed()) return runCrypt(*args, false);
    return kExitBadInput;
  };
}

}  // namespace dr::cli
