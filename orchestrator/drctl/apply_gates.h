// What `drctl apply` checks and prepares before it plans and touches any host: the snapshot made usable (an
// encrypted one decrypted with the operator's key), the inventory's TLS certificates valid, and the current
// cluster really without quorum (a full restore of a cluster that still has quorum throws its data away).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "inventory/inventory.h"

namespace dr::cli {

struct SnapshotKeyOptions {
  std::string key_file;  // --key-file
  std::string key_env;   // --key-env
};

// The snapshot to plan with. A plain snapshot is returned as it is. An encrypted one (drctl snapshot encrypt) is
// decrypted into `decrypted_path`, authenticated as it goes; a wrong key or a tampered file is refused. Problems
// are printed; nullopt means exit 2 (bad input, nothing touched).
std::optional<std::filesystem::path> usableSnapshot(const std::filesystem::path& snapshot,
                                                    const SnapshotKeyOptions& key,
                                                    const std::filesystem::path& decrypted_path);

// Certificates and quorum. Prints what it found; returns 0 to go on, or the exit code to stop with (1: refused
// for safety). With `force`, a healthy quorum is reported but does not stop the run. A `rehearsal` (dry-run) only
// reports it: rehearsing against a healthy production cluster is what scheduled rehearsals do.
int checkBeforeRestore(const Inventory& inventory, bool force, bool rehearsal);

}  // namespace dr::cli
