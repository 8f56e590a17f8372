// Which object store a program talks to: drd's config (`object_store:`), else the environment's, else AWS.
#pragma once

#include <functional>
#include <string>

#include "core/result.h"
#include "storage/s3_client.h"

namespace dr {

// Values left empty come from the environment (s3ConfigFromEnvironment).
struct ObjectStoreConfig {
  std::string endpoint;          // http(s)://HOST[:PORT]; empty: the environment's, else AWS
  std::string region;            // empty: the environment's, else us-east-1
  std::string credentials_file;  // an AWS shared-credentials file (owner-only); empty: the environment
  std::string ca_file;
};

// drctl's: everything from the environment, the credentials file from AWS_SHARED_CREDENTIALS_FILE when set.
ObjectStoreConfig objectStoreFromEnvironment();

// The config's values over the environment's.
Result<S3Client> openObjectStore(const ObjectStoreConfig& config);

// For runs whose members fetch the snapshot themselves (--members-fetch, ExecutorEnv::fetch_url): gives, for an
// s3:// URL, a presigned GET URL valid for two hours (the upload step's timeout and retries fit in it). The store
// is opened on the first call; thread-safe.
std::function<Result<std::string>(const std::string& source)> presignerFor(const ObjectStoreConfig& config);

}  // namespace dr
