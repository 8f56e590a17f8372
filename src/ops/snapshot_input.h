// The snapshot a run plans with. A plain snapshot is used where it is. An encrypted one (drctl snapshot encrypt)
// needs its key and is decrypted, authenticated as it goes, into a private file: a plaintext snapshot holds every
// Secret of the cluster, so the copy lives in an owner-only directory, is created exclusively (never through a
// file someone else made or linked), and is removed when the session that needed it ends.
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"
#include "ops/outcome.h"

namespace dr::ops {

struct SnapshotKey {
  std::string key_file;  // --key-file
  std::string key_env;   // --key-env: the variable is removed from the environment once read (local steps inherit it)
  bool given() const { return !key_file.empty() || !key_env.empty(); }
};

// A decrypted copy, removed by the destructor (with its directory when that was a temp dir made for it). Movable;
// an empty one removes nothing.
class PlaintextCopy {
 public:
  PlaintextCopy() = default;
  PlaintextCopy(std::filesystem::path path, bool remove_directory)
      : path_(std::move(path)), remove_directory_(remove_directory) {}
  PlaintextCopy(PlaintextCopy&& other) noexcept
      : path_(std::exchange(other.path_, {})), remove_directory_(other.remove_directory_) {}
  PlaintextCopy& operator=(PlaintextCopy&& other) noexcept;
  PlaintextCopy(const PlaintextCopy&) = delete;
  PlaintextCopy& operator=(const PlaintextCopy&) = delete;
  ~PlaintextCopy() { remove(); }
  const std::filesystem::path& path() const { return path_; }
  void remove();
  void keep() { path_.clear(); }  // the file outlives this object: its owner is now someone else

 private:
  std::filesystem::path path_;
  bool remove_directory_ = false;
};

// Where a decrypted copy goes: `file` (its directory is made owner-only), or a fresh owner-only temp dir made only
// when a copy is needed (a dry-run's), removed with the copy.
struct PlaintextPlace {
  std::filesystem::path file;
  std::string temp_dir_prefix;  // set: use a temp dir named like this instead of `file`
};

struct UsableSnapshot {
  std::filesystem::path path;  // what to plan with: the snapshot itself, or the decrypted copy
  bool encrypted = false;      // the operator's file is encrypted; `plaintext` owns the copy
  PlaintextCopy plaintext;
};

// `snapshot` as a file the planner can use. An encrypted one without exactly one of key_file/key_env, with a wrong
// key, or tampered with is refused (BadInput). The decrypted copy goes to `place`; a private directory must be a
// directory of this user's that nobody else can write (created 0700 when missing); a file already there (left by a
// killed session of the same run) is replaced.
Outcome<UsableSnapshot> prepareSnapshot(const std::filesystem::path& snapshot, const SnapshotKey& key,
                                        const PlaintextPlace& place);

// An owner-only directory for secrets: created 0700 when missing; an existing one must be a real directory (not a
// symlink) owned by this user with no group or other permissions.
Status ensurePrivateDirectory(const std::filesystem::path& dir);

// A fresh owner-only temp directory (mkdtemp under $TMPDIR or /tmp), for a dry-run's plaintext copy.
Result<std::filesystem::path> makePrivateTempDirectory(const std::string& prefix);

}  // namespace dr::ops
