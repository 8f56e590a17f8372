// A snapshot named s3://BUCKET/KEY where a snapshot file is expected (drctl's -s, drd's Plan and Apply): the object
// and its sidecars (KEY.sha256, KEY.json, KEY.verdict.json when the bucket has them) are downloaded into an
// owner-only directory (a snapshot holds every Secret of the cluster), checked against the SHA-256 stored with the
// object, and the caller goes on with the file. A file already there with that SHA-256 is used again, so a dry-run
// then the apply, or a resume, fetch it once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.h"
#include "storage/s3_client.h"

namespace dr::ops {

struct DownloadedSnapshot {
  std::filesystem::path path;
  std::string sha256;
  std::uint64_t size = 0;
  bool reused = false;  // it was there already, with the object's SHA-256
  double seconds = 0;
};

// `url` must be an s3:// URL naming an object (not a prefix). Errors name the URL and the store's reason.
Result<DownloadedSnapshot> downloadSnapshot(S3Client& store, const std::string& url, const std::filesystem::path& dir);

// "downloaded s3://... to PATH (N bytes in S s, sha256 H..., checked)" or "s3://... already downloaded to PATH ..."
std::string describeDownload(const std::string& url, const DownloadedSnapshot& downloaded);

}  // namespace dr::ops
