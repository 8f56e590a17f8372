// The plan as a Mermaid flowchart (top-down), one subgraph per host, an arrow for every need: it pastes into a
// Markdown ticket or wiki page and renders there, which a DOT file does not.
#include <fmt/format.h>

#include "plan/plan_render.h"

namespace dr {

namespace {

// Mermaid class names by the kind of action, styled at the end of the chart like the DOT fill colours.
const char* classFor(const std::string& action) {
  if (action.starts_with("stop-")) return "stop";
  if (action.starts_with("start-")) return "start";
  if (action.starts_with("verify-")) return "verify";
  if (action == "restore" || action == "swap-data-dir") return "change";
  return "other";
}

}  // namespace

// Mermaid labels go through its own parser and then through HTML. The only safe course for text from an inventory
// is an allowlist: letters, digits and a few inert punctuation marks pass, everything else (quotes, brackets,
// `;`, `#`, `<`, `&`, backticks, newlines, any non-ASCII) becomes a numeric entity code #NNN;, which Mermaid
// turns back into the character after parsing.
std::string mermaidText(std::string_view text) {
  std::string out;
  for (const char32_t c : decodeUtf8Lossy(text)) {
    const bool safe = (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') ||
                      c == U' ' || c == U'_' || c == U'.' || c == U',' || c == U':' || c == U'@' || c == U'/' ||
                      c == U'=' || c == U'+' || c == U'-';
    if (safe) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("#{};", static_cast<std::uint32_t>(c));
    }
  }
  return out;
}

Result<std::string> renderPlanMermaid(const Plan& plan) {
  if (auto phases = planPhases(plan); !phases) return phases.error();

  std::string out = "flowchart TD\n";
  const std::vector<PlanHost> hosts = planHosts(plan);
  // Ids are generated (h0, s0, ...): a member called `end` or `graph` must not become a Mermaid keyword.
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    const PlanHost& host = hosts[h];
    std::string label = host.host == kControllerHost ? std::string("controller (this machine)") : mermaidText(host.host);
    for (const auto& member : host.members) label += "<br/>" + mermaidText(member);
    out += fmt::format("  subgraph h{}[\"{}\"]\n", h, label);
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      const Step& step = plan.steps[i];
      if (step.host != host.host) continue;
      std::string node = mermaidText(step.action);
      if (!step.member.empty()) node += "<br/>" + mermaidText(step.member);
      out += fmt::format("    s{}[\"{}\"]:::{}\n", i, node, classFor(step.action));
    }
    out += "  end\n";
  }
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    for (const auto& need : plan.steps[i].needs) {
      for (std::size_t j = 0; j < plan.steps.size(); ++j) {
        if (plan.steps[j].id == need) out += fmt::format("  s{} --> s{}\n", j, i);
      }
    }
  }
  out += "  classDef stop fill:#f8d7da,stroke:#a33\n";
  out += "  classDef start fill:#d4edda,stroke:#3a3\n";
  out += "  classDef verify fill:#d1ecf1,stroke:#38a\n";
  out += "  classDef change fill:#fff3cd,stroke:#a83\n";
  out += "  classDef other fill:#f5f5f5,stroke:#888\n";
  return out;
}

}  // namespace dr
