#include "etcd/snapshot_file.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/sha256.h"

namespace dr {

namespace {
constexpr std::uint64_t kTrailerSize = 32;
}  // namespace

Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail("{}: snapshot not found or not a regular file", path.string());
  }
  SnapshotInfo info;
  info.path = absolute;
  info.size = std::filesystem::file_size(path, ec);
  if (ec) return fail("{}: cannot read size: {}", path.string(), ec.message());
  if (info.size == 0) return fail("{}: snapshot is empty", path.string());

  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("{}: cannot open: {}", path.string(), std::strerror(errno));

  // One pass: the whole-file hash, and in parallel the hash of everything before a possible trailer.
  const bool may_have_trailer = info.size % 512 == kTrailerSize;
  const std::uint64_t body_size = may_have_trailer ? info.size - kTrailerSize : info.size;
  Sha256 whole;
  Sha256 body;
  std::string trailer;
  std::vector<char> buffer(1 << 20);
  std::uint64_t offset = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::uint64_t>(in.gcount());
    if (got == 0) break;
    std::string_view chunk(buffer.data(), got);
    whole.update(chunk);
    if (may_have_trailer) {
      if (offset < body_size) body.update(chunk.substr(0, std::min<std::uint64_t>(got, body_size - offset)));
      if (offset + got > body_size) {
        const auto from = body_size > offset ? body_size - offset : 0;
        trailer.append(chunk.substr(from));
      }
    }
    offset += got;
  }
  if (in.bad()) return fail("{}: read error: {}", path.string(), std::strerror(errno));
  if (offset != info.size) return fail("{}: file changed while being read", path.string());
  info.sha256 = whole.finishHex();
  if (may_have_trailer) {
    if (body.finishRaw() != trailer) {
      return fail("{}: etcd integrity trailer does not match the snapshot's contents (corrupt or truncated file)",
                  path.string());
    }
    info.has_trailer = true;
  }
  return info;
}

}  // namespace dr
