// `-s s3://BUCKET/KEY` wherever drctl takes a snapshot file: the object is downloaded first, with its sidecars
// (KEY.sha256, KEY.json) when the bucket has them, into RUNS/downloads/ (owner-only: a snapshot holds every Secret
// of the cluster), and the command goes on with that file as if it had been given. The download is checked end to
// end (the object's SHA-256 metadata, then the sidecars as for any file); a file already downloaded with the same
// SHA-256 is used again, so a resume or a second dry-run does not fetch it twice. The object store comes from the
// environment (storage/s3_client.h: DR_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or
// AWS_SHARED_CREDENTIALS_FILE).
#pragma once

#include <functional>
#include <string>

#include "core/result.h"

namespace dr::cli {

// Replaces an s3:// `snapshot` with the local file it was downloaded to. 0 when done (or nothing to do), else the
// exit code (the reason is printed on stderr after "WHO: ").
int fetchSnapshotArgument(std::string& snapshot, const std::string& runs_root, const char* who);

// For a run whose members fetch the snapshot themselves (--members-fetch): gives, for an s3:// URL, a presigned GET
// URL valid for two hours (the upload step's timeout and retries fit in it), from the environment's object store.
// The store is opened once, on the first call.
std::function<Result<std::string>(const std::string& source)> bucketFetcher();

}  // namespace dr::cli
