// Plan rendering: the three human- and tool-facing drawings of a Plan besides its JSON (plan_json.h).
//  - text: what an incident commander reads at 3 a.m. before running anything: a header saying exactly which
//    cluster, snapshot and run this is, then the DAG's phases (what runs in parallel), grouped per host, each step
//    with its exact command, then totals.
//  - dot: a Graphviz digraph, one cluster per host, for `dot -Tsvg`.
//  - mermaid: a `flowchart TD`, one subgraph per host, for Markdown pages and tickets.
// Every string that comes from an inventory or a template (member names, hosts, descriptions) is escaped for the
// target syntax, so a hostile member name cannot break the drawing or inject statements into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "etcd/snapshot_file.h"
#include "plan/plan.h"

namespace dr {

// What the text header says beyond the Plan itself. Every field is optional: an empty one is left out.
struct PlanContext {
  std::string cluster;
  std::string inventory_path;
  std::string template_source;  // a path, or "builtin:NAME"
  std::string run_id;
  std::optional<SnapshotInfo> snapshot;
};

struct TextRenderOptions {
  // Also show each step's check, undo, needs, timeout and retries. Off by default: the commands are what the
  // operator must read first, and three blocks per step bury them.
  bool verbose = false;
};

// The DAG's levels: phase k holds the steps whose longest chain of needs has k steps before them, as indices into
// plan.steps in plan order. Steps within one phase never need each other, so they may run in parallel. Fails when
// a need names no step of the plan or the needs form a cycle (a plan from the Planner has neither).
Result<std::vector<std::vector<std::size_t>>> planPhases(const Plan& plan);

// A host the plan touches, with the members whose steps run there (empty for the controller and for API-server
// hosts that are not members). Hosts are in order of their first step in the plan, so drawings are deterministic.
struct PlanHost {
  std::string host;
  std::vector<std::string> members;
};
std::vector<PlanHost> planHosts(const Plan& plan);

Result<std::string> renderPlanText(const Plan& plan, const PlanContext& context, const TextRenderOptions& options = {});
Result<std::string> renderPlanDot(const Plan& plan, const PlanContext& context = {});
Result<std::string> renderPlanMermaid(const Plan& plan);

// Escaping, exposed for tests. dotQuote returns a complete double-quoted DOT string ("..."); mermaidText returns
// text safe inside a quoted Mermaid label (every character that Mermaid or its HTML labels could interpret is an
// entity code such as #quot; or #59;).
std::string dotQuote(std::string_view text);
std::string mermaidText(std::string_view text);

// The code points of UTF-8 text; each malformed byte becomes U+FFFD. The dot and mermaid escapers emit every
// non-ASCII character as a numeric entity, so their output is plain ASCII whatever the inventory holds.
std::u32string decodeUtf8Lossy(std::string_view text);

// "1.2 MiB" style sizes for headers (binary units, one decimal below 10 units).
std::string humanBytes(std::uint64_t bytes);

}  // namespace dr
