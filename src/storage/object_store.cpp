// See object_store.h.
#include "storage/object_store.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>

namespace dr {

ObjectStoreConfig objectStoreFromEnvironment() {
  ObjectStoreConfig config;
  if (const char* file = std::getenv("AWS_SHARED_CREDENTIALS_FILE"); file != nullptr) config.credentials_file = file;
  return config;
}

Result<S3Client> openObjectStore(const ObjectStoreConfig& config) {
  auto s3 = s3ConfigFromEnvironment(config.credentials_file);
  if (!s3) return s3.error();
  if (!config.endpoint.empty()) s3->endpoint = config.endpoint;
  if (!config.region.empty()) s3->region = config.region;
  if (!config.ca_file.empty()) s3->ca_file = config.ca_file;
  return S3Client::open(std::move(s3).value());
}

std::function<Result<std::string>(const std::string& source)> presignerFor(const ObjectStoreConfig& config) {
  struct Store {
    ObjectStoreConfig config;
    std::mutex mutex;
    std::optional<S3Client> client;
  };
  auto store = std::make_shared<Store>();
  store->config = config;
  return [store](const std::string& source) -> Result<std::string> {
    auto object = parseS3Url(source);
    if (!object) return object.error();
    std::lock_guard lock(store->mutex);
    if (!store->client) {
      auto opened = openObjectStore(store->config);
      if (!opened) return opened.error();
      store->client.emplace(std::move(opened).value());
    }
    return store->client->presignGet(*object, std::chrono::hours(2));
  };
}

}  // namespace dr
