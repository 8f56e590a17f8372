#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/sha256.h"
#include "etcd/snapshot_file.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {
fs::path writeFile(const std::string& name, const std::string& bytes) {
  const fs::path path = fs::temp_directory_path() / ("dr-snapfile-" + name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}
// A body whose size is a multiple of 512, followed by etcd's trailer: SHA-256 of the body.
std::string withTrailer(std::size_t blocks) {
  std::string body(blocks * 512, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 7 + 3) % 251);
  Sha256 h;
  h.update(std::string_view(body));
  return body + h.finishRaw();
}
}  // namespace

TEST_CASE("a snapshot with etcd's trailer is recognised and hashed", "[etcd][snapshot]") {
  const std::string bytes = withTrailer(8);
  const auto path = writeFile("good.db", bytes);
  auto info = inspectSnapshot(path);
  REQUIRE(info.ok());
  CHECK(info->has_trailer);
  CHECK(info->size == bytes.size());
  CHECK(info->sha256 == sha256Hex(bytes));
  fs::remove(path);
}

TEST_CASE("a single flipped byte breaks the trailer and is refused", "[etcd][snapshot]") {
  std::string bytes = withTrailer(8);
  bytes[1000] ^= 0x01;
  const auto path = writeFile("flipped.db", bytes);
  auto info = inspectSnapshot(path);
  REQUIRE_FALSE(info.ok());
  CHECK_THAT(info.error().message, Catch::Contains("integrity trailer does not match"));
  fs::remove(path);
}

TEST_CASE("a missing or empty snapshot is refused with its path", "[etcd][snapshot]") {
  auto missing = inspectSnapshot("/nonexistent/snap.db");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/snap.db"));
  const auto empty = writeFile("empty.db", "");
  CHECK_FALSE(inspectSnapshot(empty).ok());
  fs::remove(empty);
}
