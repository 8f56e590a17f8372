// See bucket_input.h.
#include "bucket_input.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "cli_support.h"
#include "commands.h"
#include "ops/bucket_snapshot.h"
#include "storage/object_store.h"
#include "storage/s3_client.h"

namespace dr::cli {

int fetchSnapshotArgument(std::string& snapshot, const std::string& runs_root, const char* who) {
  if (!isS3Url(snapshot)) return 0;
  if (auto object = parseS3Url(snapshot); !object) {
    std::fprintf(stderr, "%s: %s\n", who, object.error().message.c_str());
    return kExitBadInput;
  }
  auto store = openObjectStore(objectStoreFromEnvironment());
  if (!store) {
    std::fprintf(stderr, "%s: %s\n", who, store.error().message.c_str());
    return kExitBadInput;
  }
  auto downloaded = ops::downloadSnapshot(*store, snapshot, std::filesystem::path(runs_root) / "downloads");
  if (!downloaded) {
    std::fprintf(stderr, "%s: %s\n", who, downloaded.error().message.c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "%s: %s\n", who, ops::describeDownload(snapshot, *downloaded).c_str());
  snapshot = downloaded->path.string();
  return 0;
}

std::function<Result<std::string>(const std::string& source)> bucketFetcher() {
  return presignerFor(objectStoreFromEnvironment());
}

}  // namespace dr::cli
