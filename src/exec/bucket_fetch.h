// An upload whose source is an s3:// URL (drctl apply --members-fetch): the host fetches the object itself, with a
// presigned URL the executor gets from ExecutorEnv::fetch_url, instead of receiving it from the controller.
#pragma once

#include <filesystem>
#include <string>

#include "transport/transport.h"

namespace dr {

bool isBucketSource(const std::filesystem::path& source);

// The host's command: fetch `url` with curl into REMOTE.part, check its SHA-256 on the host, rename into place.
std::string bucketFetchCommand(const UploadRequest& upload, const std::string& url);

}  // namespace dr
