// RunDirectory: the durable home of one run, runs/RUN_ID/. Everything resume, rollback and status need after the
// workstation died is in it:
//   plan.json        the plan as run, with its fingerprint
//   run.json         what the run was made from (RunInfo: inventory, snapshot, template, options)
//   journal          the append-only step records (exec/journal.h)
//   logs/STEP.log    one output log per step, the step id made a safe file name
//   report/          the reports written at the end
// Files that are replaced whole (plan.json, run.json, reports) are written atomically: a crash leaves the old or
// the new contents, never half of one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dr {

// How the operator asked for the run to be carried out, kept so a resume or rollback (from drctl or drd) runs it
// the same way. Typed: run.json stores numbers and booleans (an older run.json's strings are still read).
struct RunOptions {
  int per_host = 1;                   // steps at a time on one host
  bool accept_new_host_keys = false;  // trust unknown host keys on first use
  std::string token;                  // the plan's new --initial-cluster-token: a resume must re-plan with it
  std::string started_by = "drctl";   // "drctl" or "drd"
  bool skip_hash_check = false;       // the operator accepted a snapshot without etcd's trailer
  std::vector<std::string> replace_members;  // replace-member: the members replaced (a resume re-plans with them)
  // restore from a surviving member: the member whose own data became the snapshot (snapshot_path, in the runs
  // dir's private .survivor/), removed when the run finishes or is rolled back
  std::string from_member;
  bool disarm_alarms = false;  // the restore disarms etcd's alarms (a resume re-plans with it)
  // --members-fetch: the s3:// URL every member fetched the snapshot from (a resume re-plans with it and needs the
  // object store again); empty: uploaded from the controller
  std::string members_fetch;

  bool operator==(const RunOptions&) const = default;
};

// The contents of run.json: enough to rebuild the plan and to tell whether the inputs changed since.
struct RunInfo {
  std::string run_id;
  std::string cluster;
  std::string inventory_path;
  std::string snapshot_path;
  std::string plan_template;  // template name or path
  std::string fingerprint;    // the plan's fingerprint when the run started
  std::int64_t created_ms = 0;
  RunOptions options;

  bool operator==(const RunInfo&) const = default;
};

std::string runInfoToJson(const RunInfo& info);                                   // pretty JSON, trailing newline
Result<RunInfo> runInfoFromJson(std::string_view json, std::string_view source);  // source names it in errors

class RunDirectory {
 public:
  // Creates runs_root/run_id with logs/ and report/ (runs_root itself is created when missing). Fails if the run
  // directory exists already: two runs never share one.
  static Result<RunDirectory> create(const std::filesystem::path& runs_root, const std::string& run_id);
  // Opens an existing run; a missing run is an error naming the path it looked for and the runs there.
  static Result<RunDirectory> open(const std::filesystem::path& runs_root, const std::string& run_id);

  const std::filesystem::path& path() const { return path_; }
  const std::string& runId() const { return run_id_; }
  std::filesystem::path journalPath() const;
  std::filesystem::path planPath() const;
  std::filesystem::path runInfoPath() const;
  // logs/SAFE.log where SAFE is stepFileName(step_id).
  std::filesystem::path stepLogPath(std::string_view step_id) const;
  std::filesystem::path reportDir() const;

  // Writes path()/name through a temp file in the same directory: write, fsync, rename, fsync the directory.
  // `name` is relative to the run directory and may name a file in an existing subdirectory ("report/run.json");
  // absolute names and ".." are refused.
  Status writeFileAtomically(std::string_view name, std::string_view contents);
  Result<std::string> readFile(std::string_view name) const;

  Status writeRunInfo(const RunInfo& info);  // run.json, atomically
  Result<RunInfo> readRunInfo() const;

 private:
  RunDirectory(std::filesystem::path path, std::string run_id);
  std::filesystem::path path_;
  std::string run_id_;
};

// A new run id: UTC time and a random suffix, e.g. 20261123-091500-a1b2c3. Ids sort in creation order.
std::string newRunId();

// Whether `run_id` can name a run directory: 1..128 of [A-Za-z0-9._-], not starting with '.'. User-given ids
// (`drctl resume RUN_ID`) go through this, so an id can never reach outside the runs root.
Status validateRunId(std::string_view run_id);

// The run ids under runs_root, sorted (oldest first for ids made by newRunId). A missing runs_root has no runs.
Result<std::vector<std::string>> listRuns(const std::filesystem::path& runs_root);

// A file name for any string: [A-Za-z0-9_-] and non-leading '.' kept, every other byte written as %XX (so '%'
// itself too). Injective, hence no two step ids share a log. Names longer than 200 bytes keep a prefix and gain
// the SHA-256 of the whole id.
std::string stepFileName(std::string_view id);

}  // namespace dr
