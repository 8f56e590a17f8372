// A plan template (plans/*.yaml): the steps of a procedure written once for any cluster, with `foreach` saying
// whether a step runs once, per etcd member or per API server, `needs` saying what must finish first, and command
// templates holding ${ns.name} variables. The loader checks everything it can without an inventory (keys, ids,
// needs, cycles, variable names, durations) and reports each problem with its FILE:LINE:COLUMN; the Planner
// (planner.h) then binds a template to an inventory and a snapshot. The language is described in
// docs/plan-templates.md.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"

namespace dr {

// ReplacedMembers: one instance per member the operator (or diagnose) names for replacement, in inventory order;
// such steps see the member.* variables like etcd_members steps. Components: the inventory's controller managers
// and schedulers (component.*); Kubelets: its kubelets (kubelet.*). Both may be empty: their steps then vanish.
enum class Foreach { Once, EtcdMembers, ApiServers, ReplacedMembers, Components, Kubelets };

// Whether a step of kind `foreach` may use a variable that is only available in `only_in` steps.
bool variableAvailable(Foreach only_in, Foreach foreach);

// "once", "etcd_members", "api_servers", "replaced_members", "components", "kubelets".
const char* foreachName(Foreach foreach);

// One entry of `needs`. `X` means: the same instance of X when this step and X are per-instance steps of the
// same kind (same member, same API server); every instance of X otherwise. `all:X` always means every instance.
struct NeedTemplate {
  std::string step_id;
  bool every_instance = false;  // written as all:X
  SourceLocation where;
};

// `upload: {from, to}`: a local file copied to the step's host before its command runs. Values are substituted
// but not shell-quoted (they are paths handed to the transport, never to a shell). `sha256` defaults to
// ${snapshot.sha256}.
struct UploadTemplate {
  std::string from;
  std::string to;
  std::string sha256 = "${snapshot.sha256}";
  SourceLocation from_where;
  SourceLocation to_where;
  SourceLocation sha256_where;
};

// A command template and where its text starts in the file (variables are located inside it for diagnostics).
struct CommandTemplate {
  std::string text;
  SourceLocation where;
  bool empty() const { return text.empty(); }
};

struct StepTemplate {
  std::string id;
  std::string action;
  std::string description;
  Foreach foreach = Foreach::Once;
  std::vector<NeedTemplate> needs;
  CommandTemplate run;
  CommandTemplate check;
  CommandTemplate undo;
  std::optional<UploadTemplate> upload;
  std::chrono::seconds timeout{300};
  int retries = 0;
  bool idempotent = false;
  // Per-instance steps only: each instance waits for the one before it, in inventory order. For taking locks on
  // several hosts: two runs then meet at the first host, and one of them gets none (no run holds half the cluster).
  bool serial = false;
  // `serial: STEP_ID`: each instance waits for the instance before it of STEP_ID instead (a chain of steps done for
  // one member at a time: replace-member adds the next member back only once the one before is verified).
  std::string serial_after;  // empty: this step itself
  // `on: controller`: a per-instance step that runs on the controller (drctl steps about one member).
  bool on_controller = false;
  SourceLocation where;  // the step's `- id:` entry
};

struct PlanTemplate {
  std::string name;
  std::string description;
  std::vector<StepTemplate> steps;  // in file order
  std::string source_sha256;        // SHA-256 (hex) of the template file's bytes
  std::filesystem::path source;     // the file it was read from, or "builtin:NAME"
  // Whether any step uses ${snapshot.*} or uploads: a plan that does not (replace-member) is planned without one.
  bool uses_snapshot = false;
  // Whether any step is foreach: replaced_members: the plan needs the members to replace named.
  bool replaces_members = false;

  const StepTemplate* find(std::string_view id) const;
};

struct TemplateLoad {
  std::optional<PlanTemplate> plan_template;  // set only when there are no errors
  std::vector<Diagnostic> diagnostics;
};

TemplateLoad loadPlanTemplate(const std::filesystem::path& path);
// `file_name` is used in diagnostics only.
TemplateLoad parsePlanTemplate(std::string_view yaml_text, const std::filesystem::path& file_name);

// A template given as NAME (no slash, no .yaml suffix) is a built-in: plans/NAME.yaml compiled into the library,
// so drctl works from any directory. Anything else is a file path.
TemplateLoad loadPlanTemplateByNameOrPath(std::string_view name_or_path);
// True when `name_or_path` names a file (it has a '/' or ends in .yaml/.yml), false for a built-in template's name.
bool namesTemplateFile(std::string_view name_or_path);

// The names of the built-in templates ("full-restore", ...), sorted.
std::vector<std::string> builtinPlanTemplateNames();

// Parses "90s", "5m", "1h", "1m30s" (a bare number is seconds). nullopt when malformed or zero.
std::optional<std::chrono::seconds> parseDuration(std::string_view text);

}  // namespace dr
