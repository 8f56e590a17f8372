// Snapshot inspection: one streaming pass for the whole-file SHA-256 and etcd's trailer, then the metadata from the
// sidecar or etcdctl. See snapshot_file.h.
#include "etcd/snapshot_file.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/sha256.h"
#include "etcd/atomic_file.h"
#include "etcd/snapshot_crypto.h"

namespace dr {

namespace {

constexpr std::uint64_t kTrailerSize = 32;

std::filesystem::path withSuffix(const std::filesystem::path& path, const char* suffix) {
  std::filesystem::path out = path;
  out += suffix;
  return out;
}

// Applies FILE.sha256 and FILE.json when they exist: a mismatching hash refuses the file, metadata is taken over.
Status applySidecars(const std::filesystem::path& path, SnapshotInfo& info) {
  std::error_code ec;
  const auto checksum_path = snapshotChecksumPath(path);
  if (std::filesystem::is_regular_file(checksum_path, ec)) {
    std::ifstream in(checksum_path);
    std::string hex;
    in >> hex;
    if (hex != info.sha256) {
      return fail("{}: SHA-256 {} does not match {} ({}): the snapshot changed since it was saved", path.string(),
                  info.sha256, checksum_path.string(), hex);
    }
  }
  const auto sidecar_path = snapshotSidecarPath(path);
  if (!std::filesystem::is_regular_file(sidecar_path, ec)) return {};
  std::ifstream in(sidecar_path);
  const auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    info.warning = fmt::format("{}: unreadable sidecar ignored", sidecar_path.string());
    return {};
  }
  if (json.contains("sha256") && json["sha256"].is_string() && json["sha256"].get<std::string>() != info.sha256) {
    return fail("{}: SHA-256 {} does not match its sidecar {} ({}): the snapshot changed since it was saved",
                path.string(), info.sha256, sidecar_path.string(), json["sha256"].get<std::string>());
  }
  if (json.contains("revision") && json["revision"].is_number_integer()) {
    info.revision = json["revision"].get<std::int64_t>();
    info.metadata_source = "sidecar";
  }
  if (json.contains("key_count") && json["key_count"].is_number_integer()) {
    info.key_count = json["key_count"].get<std::int64_t>();
  }
  return {};
}

}  // namespace

std::filesystem::path snapshotSidecarPath(const std::filesystem::path& snapshot) { return withSuffix(snapshot, ".json"); }
std::filesystem::path snapshotChecksumPath(const std::filesystem::path& snapshot) {
  return withSuffix(snapshot, ".sha256");
}

Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path) { return inspectSnapshot(path, {}); }

Result<SnapshotInfo> inspectSnapshot(const std::filesystem::path& path, const InspectOptions& options) {
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

  auto fd = openForReading(path);
  if (!fd) return fd.error();

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
  if (may_have_trailer) {
    if (body.finishRaw() != trailer) {
      return fail("{}: etcd integrity trailer does not match the snapshot's contents (corrupt or truncated file)",
                  path.string());
    }
    info.has_trailer = true;
  }
  if (auto sidecars = applySidecars(path, info); !sidecars) return sidecars.error();
  if (info.encrypted) {
    info.warning = "encrypted snapshot: decrypt it (drctl snapshot decrypt, key needed) before it can be checked or used";
    return info;
  }
  if (!info.has_trailer && info.warning.empty()) {
    info.warning = "no etcd integrity trailer (a db copied from a data dir?): only the whole file's SHA-256 protects it";
  }
  if (!info.revision && !options.etcdctl.empty()) {
    auto status = etcdctlSnapshotStatus(path, options.etcdctl);
    if (!status) return status.error();
    info.revision = status->revision;
    info.key_count = status->total_keys;
    info.metadata_source = "etcdctl";
  }
  return info;
}

Result<SnapshotDbStatus> etcdctlSnapshotStatus(const std::filesystem::path& path, const std::string& etcdctl) {
  // posix_spawnp with a pipe: no shell (the path stays one argument whatever it contains), stdout+stderr captured.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("pipe: {}", std::strerror(errno));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  const std::string file = path.string();
  std::vector<std::string> args{etcdctl, "snapshot", "status", file, "-w", "json"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings{"ETCDCTL_API=3"};
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("ETCDCTL_API=")) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, etcdctl.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  write_end = UniqueFd();
  if (spawned != 0) return fail("{}: cannot run {}: {}", file, etcdctl, std::strerror(spawned));
  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(read_end.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    output.append(buffer, static_cast<std::size_t>(got));
  }
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  const int exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  if (exit_code == 127 && output.empty()) return fail("{}: cannot run {}: not found", file, etcdctl);
  if (exit_code != 0) {
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    return fail("{}: `etcdctl snapshot status` failed (exit {}): {}", path.string(), exit_code, output);
  }
  const auto json = nlohmann::json::parse(output, nullptr, false);
  if (json.is_discarded() || !json.contains("revision")) {
    return fail("{}: unexpected output from `etcdctl snapshot status`: {}", path.string(), output);
  }
  SnapshotDbStatus status;
  status.revision = json.value("revision", std::int64_t{0});
  status.total_keys = json.value("totalKey", std::int64_t{0});
  status.total_size = json.value("totalSize", std::int64_t{0});
  status.hash = json.value("hash", std::uint64_t{0});
  return status;
}

}  // namespace dr
