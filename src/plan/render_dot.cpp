// The plan as a Graphviz digraph: one cluster per host (the controller's steps in their own), an edge for every
// need, nodes labelled with the step's action and member and coloured by what they do (stopping, restoring,
// starting, verifying), so the shape of a restore is visible at a glance in `dot -Tsvg`.
#include <fmt/format.h>

#include "plan/plan_render.h"

namespace dr {

namespace {

// Fill colours by the kind of action: the eye finds the fence (stops) and the point of no return (restore, swap).
const char* fillFor(const std::string& action) {
  if (action.starts_with("stop-")) return "#f8d7da";
  if (action.starts_with("start-")) return "#d4edda";
  if (action.starts_with("verify-")) return "#d1ecf1";
  if (action == "restore" || action == "swap-data-dir") return "#fff3cd";
  if (action == "upload-snapshot") return "#e2d9f3";
  return "#f5f5f5";
}

std::string hostLabel(const PlanHost& host) {
  if (host.host == kControllerHost) return "controller (this machine)";
  std::string label = host.host;
  for (const auto& member : host.members) label += "\n" + member;
  return label;
}

}  // namespace

// Inside a DOT double-quoted string only `"` and `\` are syntax, but Graphviz then interprets the label: `\n`,
// `\N`, `\G`... are escapes and `&name;` is an HTML entity. So: backslash doubled, quote escaped, `&` written as
// an entity, newline as `\n`, and everything outside printable ASCII as a numeric entity (&#NNN;), which keeps
// the file ASCII and a malformed byte from upsetting the parser.
std::string dotQuote(std::string_view text) {
  std::string out = "\"";
  for (const char32_t c : decodeUtf8Lossy(text)) {
    if (c == U'"') {
      out += "\\\"";
    } else if (c == U'\\') {
      out += "\\\\";
    } else if (c == U'&') {
      out += "&amp;";
    } else if (c == U'\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("&#{};", static_cast<std::uint32_t>(c));
    }
  }
  out += '"';
  return out;
}

Result<std::string> renderPlanDot(const Plan& plan, const PlanContext& context) {
  // Phases are not drawn, but computing them refuses a plan with dangling needs or a cycle, which would otherwise
  // be drawn as if it were sound.
  if (auto phases = planPhases(plan); !phases) return phases.error();

  std::string title = plan.name;
  if (!context.cluster.empty()) title += " · cluster " + context.cluster;
  if (!context.run_id.empty()) title += " · run " + context.run_id;
  if (!plan.fingerprint.empty()) title += "\nfingerprint " + plan.fingerprint.substr(0, 16);

  std::string out = fmt::format("digraph {} {{\n", dotQuote(plan.name.empty() ? "plan" : plan.name));
  out += fmt::format("  graph [label={}, labelloc=t, fontname=\"Helvetica\", rankdir=TB, newrank=true];\n",
                     dotQuote(title));
  out += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [color=\"#555555\", arrowsize=0.7];\n";

  // Node ids are s0, s1, ... by plan position: step ids are shown in tooltips, never used as DOT identifiers.
  const std::vector<PlanHost> hosts = planHosts(plan);
  for (const auto& host : hosts) {
    out += fmt::format("  subgraph {} {{\n", dotQuote("cluster_" + host.host));
    out += fmt::format("    label={}; style=\"rounded\"; color=\"#888888\";\n", dotQuote(hostLabel(host)));
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      const Step& step = plan.steps[i];
      if (step.host != host.host) continue;
      const std::string label = step.member.empty() ? step.action : step.action + "\n" + step.member;
      out += fmt::format("    s{} [label={}, tooltip={}, fillcolor=\"{}\"];\n", i, dotQuote(label),
                         dotQuote(step.id + ": " + step.description), fillFor(step.action));
    }
    out += "  }\n";
  }
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    for (const auto& need : plan.steps[i].needs) {
      for (std::size_t j = 0; j < plan.steps.size(); ++j) {
        if (plan.steps[j].id == need) out += fmt::format("  s{} -> s{};\n", j, i);
      }
    }
  }
  out += "}\n";
  return out;
}

}  // namespace dr
