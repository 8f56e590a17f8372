// The apply use case: from the operator's inputs to a session ready to start, with every check that must pass
// before any host is touched: the inputs load and plan (bad input), an encrypted snapshot has its key, the client
// certificates are usable and the current cluster has really lost its quorum (ops/restore_gate.h). A dry-run stops
// there and rehearses the plan against the real hosts without changing anything.
#pragma once

#include <filesystem>
#include <string>

#include "exec/dry_run.h"
#include "ops/outcome.h"
#include "ops/session.h"
#include "ops/snapshot_input.h"

namespace dr::ops {

inline constexpr const char* kDefaultPlanTemplate = "full-restore";

struct ApplyRequest {
  std::string inventory;      // paths as the operator gave them: made absolute here
  std::string snapshot;
  std::string plan_template;  // a built-in name, or a file (a value with '/' or ending in .yaml); empty: full-restore
  std::filesystem::path runs_root = "runs";
  int per_host = 1;
  bool accept_new_host_keys = false;
  bool force = false;    // restore even though a quorum is healthy
  bool skip_hash_check = false;  // accept a snapshot without etcd's trailer (a data-dir copy); the restore skips it too
  bool dry_run = false;  // plan and check for a rehearsal: nothing will be written, not even a run directory
  SnapshotKey key;
  std::string started_by = "drctl";
  // replace-member: the members to replace; empty: the failed ones, read from the cluster (ops::checkReplaceGate).
  std::vector<std::string> replace_members;
  // Restore from a surviving member (the quorum is lost, this member's data is intact and its etcd answers): its own
  // data is saved as the snapshot (etcd serves it without a leader) and the full restore runs from it, keeping the
  // writes a backup lacks. Instead of `snapshot`.
  std::string from_member;
  // After the restore, disarm the alarms the snapshot carried (the plan's alarms step; otherwise it only lists them
  // and verify-etcd refuses any left).
  bool disarm_alarms = false;
  // The s3:// URL the snapshot was downloaded from (`snapshot` is the downloaded file): every member fetches it
  // from there itself instead of receiving it from the controller (the operator's uplink carries nothing per
  // member). The session's Hooks::fetch_url gives the URLs they fetch.
  std::string members_fetch;
};

// Everything an apply checks before it may touch a host. The prepared session carries a new run id (or "dry-run"),
// the plan, and run.json's contents; nothing has been written yet, no lock is held.
Outcome<PreparedSession> prepareApply(const ApplyRequest& request);

// A dry-run of a session prepared with dry_run: connects, runs preflights and checks, changes nothing.
DryRunReport rehearse(const PreparedSession& prepared);

// A template argument as the planner and run.json take it: a built-in name as it is, a path made absolute.
std::string templateArgument(const std::string& name_or_path);
// A path made absolute (and normal), for run.json and drd, whose working directory is not the operator's.
std::string absolutePath(const std::string& path);

}  // namespace dr::ops
