// Making the operator's snapshot usable, decrypting an encrypted one into a private file (see snapshot_input.h).
#include "ops/snapshot_input.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "etcd/snapshot_crypto.h"

namespace dr::ops {

namespace fs = std::filesystem;

PlaintextCopy& PlaintextCopy::operator=(PlaintextCopy&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
    remove_directory_ = other.remove_directory_;
  }
  return *this;
}

void PlaintextCopy::remove() {
  if (path_.empty()) return;
  ::unlink(path_.c_str());
  if (remove_directory_) ::rmdir(path_.parent_path().c_str());
  path_.clear();
}

Status ensurePrivateDirectory(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail("{}: cannot create a private directory: {}", dir.string(), std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return fail("{}: {}", dir.string(), std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return fail("{}: expected a private directory, found something else (a symlink?)", dir.string());
  if (st.st_uid != ::geteuid()) {
    return fail("{}: owned by uid {}, not by this user (uid {}): refusing to keep secrets there", dir.string(),
                st.st_uid, ::geteuid());
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return fail("{}: mode {:o} lets others in and cannot be made 0700: {}", dir.string(), st.st_mode & 0777,
                std::strerror(errno));
  }
  return {};
}

Result<fs::path> makePrivateTempDirectory(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = (tmp != nullptr && *tmp != '\0' ? std::string(tmp) : std::string("/tmp")) + "/" + prefix + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return fail("{}: cannot create a temp directory: {}", pattern, std::strerror(errno));
  return fs::path(pattern);
}

Outcome<UsableSnapshot> prepareSnapshot(const fs::path& snapshot, const SnapshotKey& key,
                                        const PlaintextPlace& place) {
  Outcome<UsableSnapshot> out;
  if (!isEncryptedSnapshot(snapshot)) {
    out.value = UsableSnapshot{snapshot, false, {}};
    return out;
  }
  if (key.key_file.empty() == key.key_env.empty()) {
    return Outcome<UsableSnapshot>::refused(refuse(
        RefusalKind::BadInput, fmt::format("{} is an encrypted snapshot: give its key with --key-file FILE or "
                                           "--key-env VAR (exactly one)",
                                           snapshot.string())));
  }
  std::string warning;
  auto loaded = key.key_file.empty() ? loadSnapshotKeyEnv(key.key_env) : loadSnapshotKeyFile(key.key_file, &warning);
  if (!warning.empty()) out.notes.push_back("warning: " + warning);
  if (!loaded) return Outcome<UsableSnapshot>::refused(refuse(RefusalKind::BadInput, loaded.error().message), out.notes);
  fs::path plaintext_path = place.file;
  if (!place.temp_dir_prefix.empty()) {
    auto temp = makePrivateTempDirectory(place.temp_dir_prefix);
    if (!temp) return Outcome<UsableSnapshot>::refused(refuse(RefusalKind::Failed, temp.error().message));
    plaintext_path = *temp / "snapshot.db";
  } else if (Status dir = ensurePrivateDirectory(plaintext_path.parent_path()); !dir) {
    return Outcome<UsableSnapshot>::refused(refuse(RefusalKind::Failed, dir.error().message));
  }
  ::unlink(plaintext_path.c_str());  // a copy left by a killed session of this same run
  PlaintextCopy copy(plaintext_path, !place.temp_dir_prefix.empty());
  if (Status s = decryptSnapshotFile(snapshot, plaintext_path, *loaded); !s) {
    return Outcome<UsableSnapshot>::refused(refuse(RefusalKind::BadInput, s.error().message), out.notes);
  }
  out.notes.push_back(fmt::format("decrypted {} into {}", snapshot.string(), plaintext_path.string()));
  out.value = UsableSnapshot{plaintext_path, true, std::move(copy)};
  return out;
}

}  // namespace dr::ops
