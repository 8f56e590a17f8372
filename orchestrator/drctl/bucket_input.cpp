// See bucket_input.h.
#include "bucket_input.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "cli_support.h"
#include "commands.h"
#include "core/sha256.h"
#include "ops/snapshot_input.h"
#include "rehearse/backup_job.h"
#include "storage/s3_client.h"

namespace dr::cli {

namespace fs = std::filesystem;

int fetchSnapshotArgument(std::string& snapshot, const std::string& runs_root, const char* who) {
  if (!isS3Url(snapshot)) return 0;
  auto bad = [who](const std::string& message, int code) {
    std::fprintf(stderr, "%s: %s\n", who, message.c_str());
    return code;
  };
  auto object = parseS3Url(snapshot);
  if (!object) return bad(object.error().message, kExitBadInput);
  const std::size_t slash = object->key.rfind('/');
  const std::string name = slash == std::string::npos ? object->key : object->key.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return bad(snapshot + ": names a prefix, not a backup object (drctl snapshot list " + snapshot + ")", kExitBadInput);
  }
  const char* credentials = std::getenv("AWS_SHARED_CREDENTIALS_FILE");
  auto store = openObjectStore(ObjectStoreConfig{"", "", credentials != nullptr ? credentials : "", ""});
  if (!store) return bad(store.error().message, kExitBadInput);
  auto head = store->head(*object);
  if (!head) return bad(head.error().message, kExitFailed);
  if (!*head) return bad(snapshot + ": no such object in the bucket (drctl snapshot list s3://" + object->bucket + "/)",
                         kExitBadInput);

  const fs::path dir = fs::path(runs_root) / "downloads";
  if (Status made = ops::ensurePrivateDirectory(dir); !made) return bad(made.error().message, kExitFailed);
  const fs::path file = dir / name;
  std::error_code ec;
  const auto wanted = (*head)->metadata.find("sha256");
  if (wanted != (*head)->metadata.end() && fs::is_regular_file(fs::symlink_status(file, ec))) {
    if (auto have = sha256FileHex(file); have && *have == wanted->second) {
      std::fprintf(stderr, "%s: %s already downloaded to %s (sha256 %s)\n", who, snapshot.c_str(), file.c_str(),
                   have->substr(0, 16).c_str());
      snapshot = file.string();
      return 0;
    }
  }
  // The sidecars first (small; absent ones are fine), then the backup, checked against its SHA-256 metadata.
  for (const char* suffix : {".sha256", ".json"}) {
    const S3Location side{object->bucket, object->key + suffix};
    auto exists = store->head(side);
    if (!exists) return bad(exists.error().message, kExitFailed);
    fs::path local = file;
    local += suffix;
    fs::remove(local, ec);
    if (!*exists) continue;
    auto got = store->getFile(side, local);
    if (!got) return bad(got.error().message, kExitFailed);
  }
  const auto began = std::chrono::steady_clock::now();
  auto got = store->getFile(*object, file);
  if (!got) return bad(got.error().message, kExitFailed);
  std::fprintf(stderr, "%s: downloaded %s to %s (%llu bytes in %.1f s, sha256 %s, checked)\n", who, snapshot.c_str(),
               file.c_str(), static_cast<unsigned long long>((*head)->size),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(), got->substr(0, 16).c_str());
  snapshot = file.string();
  return 0;
}

std::function<Result<std::string>(const std::string& source)> bucketFetcher() {
  struct Store {
    std::mutex mutex;
    std::optional<S3Client> client;
  };
  auto store = std::make_shared<Store>();
  return [store](const std::string& source) -> Result<std::string> {
    auto object = parseS3Url(source);
    if (!object) return object.error();
    std::lock_guard lock(store->mutex);
    if (!store->client) {
      const char* credentials = std::getenv("AWS_SHARED_CREDENTIALS_FILE");
      auto opened = openObjectStore(ObjectStoreConfig{"", "", credentials != nullptr ? credentials : "", ""});
      if (!opened) return opened.error();
      store->client.emplace(std::move(opened).value());
    }
    return store->client->presignGet(*object, std::chrono::hours(2));
  };
}

}  // namespace dr::cli
