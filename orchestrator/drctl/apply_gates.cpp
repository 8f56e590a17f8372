#include "apply_gates.h"

#include <cstdio>

#include "commands.h"
#include "etcd/certificates.h"
#include "etcd/cluster_check.h"
#include "etcd/snapshot_crypto.h"

namespace dr::cli {

std::optional<std::filesystem::path> usableSnapshot(const std::filesystem::path& snapshot,
                                                    const SnapshotKeyOptions& key,
                                                    const std::filesystem::path& decrypted_path) {
  if (!isEncryptedSnapshot(snapshot)) return snapshot;
  if (key.key_file.empty() == key.key_env.empty()) {
    std::fprintf(stderr,
                 "drctl apply: %s is an encrypted snapshot: give its key with --key-file FILE or --key-env VAR "
                 "(exactly one)\n",
                 snapshot.c_str());
    return std::nullopt;
  }
  auto loaded = key.key_file.empty() ? loadSnapshotKeyEnv(key.key_env) : loadSnapshotKeyFile(key.key_file);
  if (!loaded) {
    std::fprintf(stderr, "drctl apply: %s\n", loaded.error().message.c_str());
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::create_directories(decrypted_path.parent_path(), ec);
  if (Status s = decryptSnapshotFile(snapshot, decrypted_path, *loaded); !s) {
    std::fprintf(stderr, "drctl apply: %s\n", s.error().message.c_str());
    return std::nullopt;
  }
  std::fprintf(stderr, "decrypted %s into %s\n", snapshot.c_str(), decrypted_path.c_str());
  return decrypted_path;
}

int checkBeforeRestore(const Inventory& inventory, bool force, bool rehearsal) {
  const CertificateReport certificates = checkCertificates(inventory.tls);
  for (const auto& warning : certificates.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  if (!certificates.ok()) {
    for (const auto& error : certificates.errors) std::fprintf(stderr, "drctl apply: %s\n", error.c_str());
    std::fprintf(stderr, "drctl apply: refused: etcd's client certificates cannot be used; nothing was run\n");
    return kExitFailed;
  }
  ClientOptions options;
  options.tls = inventory.tls;
  options.timeout = std::chrono::milliseconds(2000);
  const QuorumVerdict verdict = checkCurrentQuorum(inventory, options);
  std::fprintf(stderr, "current cluster: %s\n", verdict.reason.c_str());
  if (!verdict.quorum_healthy) return kExitOk;
  if (force) {
    std::fprintf(stderr, "warning: a quorum is healthy, restoring anyway because of --force\n");
    return kExitOk;
  }
  if (rehearsal) {
    std::fprintf(stderr, "note: a quorum is healthy, so a real apply would be refused now (--force overrides); "
                         "rehearsing anyway\n");
    return kExitOk;
  }
  std::fprintf(stderr, "drctl apply: refused: a quorum of the current cluster is healthy, so a full restore would "
                       "discard a working cluster's data; nothing was run.\n%s\n",
               verdict.advice.c_str());
  return kExitFailed;
}

}  // namespace dr::cli
