// The plan: a concrete DAG of steps, each bound to one host with its exact commands. It is what `drctl plan`
// prints, what the executor runs, what the journal's fingerprint protects and what the simulator explores.
// Steps are kept in a deterministic order (the planner's topological order, ties broken by template order then
// inventory order) and referenced by stable string ids, never by pointers.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dr {

// Where a step runs. A per-member step runs on that member's host; a per-API-server step on its host; a `once`
// step on the controller (the machine running drctl), which is the host named kControllerHost.
inline constexpr const char* kControllerHost = "controller";

// A file the executor copies to the step's host (over SFTP for SSH hosts) before running the step's command,
// verified on the host against its SHA-256 afterwards.
struct FileUpload {
  std::string local_path;
  std::string remote_path;
  std::string sha256;

  bool operator==(const FileUpload&) const = default;
};

struct Step {
  std::string id;           // unique and stable: "TEMPLATE_ID" for once steps, "TEMPLATE_ID@MEMBER_OR_HOST" otherwise
  std::string template_id;  // the id of the template step it came from
  std::string action;       // preflight, stop-apiserver, stop-etcd, upload-snapshot, restore, swap-data-dir, ...
  std::string description;
  std::string host;    // the host address it runs on, or kControllerHost
  std::string member;  // the etcd member it concerns, or empty
  std::vector<std::string> needs;  // ids of steps that must finish first (sorted, no duplicates)
  std::optional<FileUpload> upload;  // performed first, when present (upload-snapshot)
  std::string command;  // what to run on the host (after the upload); may be empty when there is only an upload
  std::string check;    // read-only postcondition: exit 0 means the step's effect is in place; may be empty
  std::string undo;     // what reverses it, for rollback; may be empty (nothing to undo)
  std::chrono::seconds timeout{300};
  int retries = 0;
  bool idempotent = false;

  bool operator==(const Step&) const = default;
};

struct Plan {
  std::string name;         // the template's name, e.g. "full-restore"
  std::string fingerprint;  // SHA-256 (hex) of the plan's canonical JSON, see plan_json.h
  std::vector<Step> steps;  // in a topological order
  std::vector<std::string> warnings;  // things the operator must know (e.g. no revision bump available)
  // The values the plan was made from, kept so a resume can say what changed.
  std::map<std::string, std::string> inputs;  // e.g. "inventory.sha256", "snapshot.sha256", "template.sha256", "run.token"

  const Step* find(const std::string& id) const;

  bool operator==(const Plan&) const = default;
};

}  // namespace dr
