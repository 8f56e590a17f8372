// See bucket_snapshot.h.
#include "ops/bucket_snapshot.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "core/sha256.h"
#include "ops/snapshot_input.h"

namespace dr::ops {

namespace fs = std::filesystem;

Result<DownloadedSnapshot> downloadSnapshot(S3Client& store, const std::string& url, const fs::path& dir) {
  auto object = parseS3Url(url);
  if (!object) return object.error();
  const std::size_t slash = object->key.rfind('/');
  const std::string name = slash == std::string::npos ? object->key : object->key.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return fail("{}: names a prefix, not a backup object (drctl snapshot list {})", url, url);
  }
  auto head = store.head(*object);
  if (!head) return head.error();
  if (!*head) return fail("{}: no such object in the bucket (drctl snapshot list s3://{}/)", url, object->bucket);
  if (Status made = ensurePrivateDirectory(dir); !made) return made.error();

  DownloadedSnapshot out;
  out.path = dir / name;
  out.size = (*head)->size;
  std::error_code ec;
  const auto stored = (*head)->metadata.find("sha256");
  if (stored != (*head)->metadata.end() && fs::is_regular_file(fs::symlink_status(out.path, ec))) {
    if (auto have = sha256FileHex(out.path); have && *have == stored->second) {
      out.sha256 = *have;
      out.reused = true;
      return out;
    }
  }
  // The sidecars first (small; absent ones are fine), then the backup, checked against its SHA-256 metadata.
  for (const char* suffix : {".sha256", ".json", ".verdict.json"}) {
    const S3Location side{object->bucket, object->key + suffix};
    fs::path local = out.path;
    local += suffix;
    fs::remove(local, ec);
    auto exists = store.head(side);
    if (!exists) return exists.error();
    if (!*exists) continue;
    if (auto got = store.getFile(side, local); !got) return got.error();
  }
  const auto began = std::chrono::steady_clock::now();
  auto got = store.getFile(*object, out.path);
  if (!got) return got.error();
  out.sha256 = *got;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return out;
}

std::string describeDownload(const std::string& url, const DownloadedSnapshot& d) {
  if (d.reused) return fmt::format("{} already downloaded to {} (sha256 {})", url, d.path.string(), d.sha256.substr(0, 16));
  return fmt::format("downloaded {} to {} ({} bytes in {:.1f} s, sha256 {}, checked)", url, d.path.string(), d.size,
                     d.seconds, d.sha256.substr(0, 16));
}

}  // namespace dr::ops
