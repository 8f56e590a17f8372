// Snapshot inspection: one streaming pass for the whole-file SHA-256 and etcd's trailer, a walk of the bbolt tree,
// then the sidecars. See snapshot_file.h.
#include "etcd/snapshot_file.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "core/file_io.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "etcd/snapshot_crypto.h"

namespace dr {

namespace {

constexpr std::uint64_t kTrailerSize = 32;

std::filesystem::path withSuffix(const std::filesystem::path& path, const char* suffix) {
  std::filesystem::path out = path;
  out += suffix;
  return out;
}

// FILE.sha256 and FILE.json when they exist: a mismatching hash or revision refuses the file; the etcd version,
// and for an encrypted file (whose contents cannot be read here) revision and key count, are taken over.
Status applySidecars(const std::filesystem::path& path, SnapshotInfo& info) {
  std::error_code ec;
  const auto checksum_path = snapshotChecksumPath(path);
  if (std::filesystem::exists(checksum_path, ec)) {
    auto text = readRegularFile(checksum_path, kMaxSidecarFileBytes, "checksum file");
    if (!text) return text.error();
    const std::string hex = text->substr(0, text->find_first_of(" \t\r\n"));
    if (hex != info.sha256) {
      return fail("{}: SHA-256 {} does not match {} ({}): the snapshot changed since it was saved", path.string(),
                  info.sha256, checksum_path.string(), toValidUtf8(hex.substr(0, 64)));
    }
  }
  const auto sidecar_path = snapshotSidecarPath(path);
  if (!std::filesystem::exists(sidecar_path, ec)) return {};
  auto text = readRegularFile(sidecar_path, kMaxSidecarFileBytes, "sidecar");
  if (!text) return text.error();
  const auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    info.warning = fmt::format("{}: unreadable sidecar ignored", sidecar_path.string());
    return {};
  }
  if (json.contains("sha256") && json["sha256"].is_string() && json["sha256"].get<std::string>() != info.sha256) {
    return fail("{}: SHA-256 {} does not match its sidecar {}: the snapshot changed since it was saved",
                path.string(), info.sha256, sidecar_path.string());
  }
  if (json.contains("revision") && json["revision"].is_number_integer()) {
    const auto revision = json["revision"].get<std::int64_t>();
    if (info.revision && *info.revision != revision) {
      return fail("{}: the file's revision is {} but its sidecar {} says {}: they do not belong together",
                  path.string(), *info.revision, sidecar_path.string(), revision);
    }
    if (!info.revision) {
      info.revision = revision;
      info.metadata_source = "sidecar";
    }
  }
  if (json.contains("key_count") && json["key_count"].is_number_integer()) {
    const auto keys = json["key_count"].get<std::int64_t>();
    if (info.key_count && *info.key_count != keys) {
      return fail("{}: the file holds {} keys but its sidecar {} says {}: they do not belong together", path.string(),
                  *info.key_count, sidecar_path.string(), keys);
    }
    if (!info.key_count) info.key_count = keys;
  }
  if (json.contains("plaintext_sha256") && json["plaintext_sha256"].is_string()) {
    info.plaintext_sha256 = toValidUtf8(json["plaintext_sha256"].get<std::string>().substr(0, 64));
  }
  if (json.contains("etcd_version") && json["etcd_version"].is_string() &&
      !json["etcd_version"].get<std::string>().empty()) {
    info.etcd_version = json["etcd_version"].get<std::string>().substr(0, 32);
  }
  return {};
}

}  // namespace

std::filesystem::path snapshotSidecarPath(const std::filesystem::path& snapshot) { return withSuffix(snapshot, ".json"); }
std::filesystem::path snapshotChecksumPath(const std::filesystem::path& snapshot) {
  return withSuffix(snapshot, ".sha256");
}

Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path, const InspectOptions& options) {
  auto fd = openRegularFile(path, "snapshot");
  if (!fd) return fd.error();
  SnapshotInfo info;
  std::error_code ec;
  info.path = std::filesystem::absolute(path, ec).lexically_normal();
  auto size = fileSize(fd->get(), path);
  if (!size) return size.error();
  info.size = *size;
  if (info.size == 0) return fail("{}: snapshot is empty", path.string());

  // One pass: the whole-file hash, and in parallel the hash of everything before a possible trailer.
  std::vector<char> buffer(1 << 20);
  auto first = readFull(fd->get(), buffer.data(), buffer.size(), path);
  if (!first) return first.error();
  info.encrypted = *first >= kEncryptedSnapshotMagic.size() &&
                   std::string_view(buffer.data(), kEncryptedSnapshotMagic.size()) == kEncryptedSnapshotMagic;
  const bool may_have_trailer = !info.encrypted && info.size % 512 == kTrailerSize;
  const std::uint64_t body_size = may_have_trailer ? info.size - kTrailerSize : info.size;
  Sha256 whole;
  Sha256 body;
  std::string trailer;
  std::uint64_t offset = 0;
  std::size_t got = *first;
  while (got > 0) {
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
    auto next = readFull(fd->get(), buffer.data(), buffer.size(), path);
    if (!next) return next.error();
    got = *next;
  }
  if (offset != info.size) return fail("{}: file changed while being read", path.string());
  info.sha256 = whole.finishHex();

  if (info.encrypted) {
    if (Status container = checkEncryptedSnapshot(path); !container) return container.error();
    if (auto sidecars = applySidecars(path, info); !sidecars) return sidecars.error();
    info.warning = "encrypted snapshot: its contents are checked once it is decrypted (key needed)";
    return info;
  }
  if (may_have_trailer) {
    if (body.finishRaw() != trailer) {
      return fail("{}: etcd integrity trailer does not match the snapshot's contents (corrupt or truncated file)",
                  path.string());
    }
    info.has_trailer = true;
  } else if (!options.allow_no_trailer) {
    return fail("{}: no etcd integrity trailer: a snapshot written by `etcdctl snapshot save` or `drctl snapshot save` "
                "ends with one, so this file is truncated, appended to, not a snapshot, or a db copied from a data "
                "dir. A data-dir copy can be restored with --skip-hash-check (etcd then cannot check it either)",
                path.string());
  } else {
    info.warning = "no etcd integrity trailer, accepted because of --skip-hash-check: the restore skips etcd's hash "
                   "check; only the whole file's SHA-256 and its bbolt structure vouch for it";
  }
  auto db = readBoltDb(fd->get(), info.has_trailer ? info.size - kTrailerSize : info.size, path.string(),
                       options.with_db_hash);
  if (!db) return fail("not a restorable etcd snapshot: {}", db.error().message);
  info.revision = db->revision;
  info.key_count = db->total_keys;
  if (db->cluster_version) info.etcd_version = toValidUtf8(*db->cluster_version);
  info.metadata_source = "file";
  if (auto sidecars = applySidecars(path, info); !sidecars) return sidecars.error();
  return info;
}

Result<BoltDbSummary> readSnapshotDb(const std::filesystem::path& path, bool with_hash) {
  auto fd = openRegularFile(path, "etcd database");
  if (!fd) return fd.error();
  auto size = fileSize(fd->get(), path);
  if (!size) return size.error();
  std::uint64_t db_size = *size;
  if (db_size % 512 == kTrailerSize) db_size -= kTrailerSize;  // bbolt files are whole pages; a trailer is not
  return readBoltDb(fd->get(), db_size, path.string(), with_hash);
}

}  // namespace dr
