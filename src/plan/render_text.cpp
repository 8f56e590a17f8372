// The text plan: the form an incident commander reads before anything runs. It answers, in this order: is this
// the right cluster, snapshot and run (header); what will happen, in which order, and what runs at the same time
// (phases, per host, with the exact commands); how big is it (totals). Commands are printed exactly as they will
// run so they can be copied by hand if the orchestrator itself is unavailable.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "plan/plan_render.h"

namespace dr {

namespace {

// Control characters (an ESC in a hostile member name, say) must not reach the operator's terminal raw: they are
// shown as \xNN. Newlines and tabs are kept where a block of text allows them.
std::string visible(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c == '\n' && keep_newlines) || c == '\t' || (u >= 0x20 && u != 0x7f)) {
      out += c;
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

// A possibly multi-line command, its first line behind `lead` and the rest aligned under it.
void appendBlock(std::string& out, std::string_view indent, std::string_view lead, std::string_view text) {
  std::string body = visible(text, true);
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  const std::string continuation(lead.size(), ' ');
  std::size_t start = 0;
  bool first = true;
  while (start <= body.size()) {
    const std::size_t end = std::min(body.find('\n', start), body.size());
    out += fmt::format("{}{}{}\n", indent, first ? lead : continuation, std::string_view(body).substr(start, end - start));
    first = false;
    start = end + 1;
  }
}

std::string durationText(std::chrono::seconds duration) {
  const auto s = duration.count();
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  if (s > 60) return fmt::format("{}m{}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string hostTitle(const PlanHost& host) {
  if (host.host == kControllerHost) return "controller (this machine)";
  if (host.members.empty()) return visible(host.host, false);
  std::vector<std::string> names;
  for (const auto& member : host.members) names.push_back(visible(member, false));
  return fmt::format("{}  (member {})", visible(host.host, false), fmt::join(names, ", "));
}

void appendHeader(std::string& out, const Plan& plan, const PlanContext& context) {
  out += fmt::format("RECOVERY PLAN  {}\n", visible(plan.name, false));
  const auto row = [&out](std::string_view key, const std::string& value) {
    if (!value.empty()) out += fmt::format("  {:<12} {}\n", key, value);
  };
  row("cluster", visible(context.cluster, false));
  row("run id", visible(context.run_id, false));
  row("inventory", visible(context.inventory_path, false));
  row("template", visible(context.template_source, false));
  if (context.snapshot && context.snapshot->sha256.empty()) {
    row("snapshot", "none: nothing is restored (the other members' Raft log copies the data)");
  } else if (context.snapshot) {
    const SnapshotInfo& snapshot = *context.snapshot;
    row("snapshot", visible(snapshot.path.string(), false));
    row("size", fmt::format("{} ({} bytes)", humanBytes(snapshot.size), snapshot.size));
    row("sha256", snapshot.sha256);
    row("integrity", snapshot.has_trailer ? "etcd trailer present and verified"
                                          : "no etcd trailer (a copied data-dir db?): only the sha256 above "
                                            "protects it");
    if (snapshot.revision) row("revision", std::to_string(*snapshot.revision));
    if (snapshot.key_count) row("keys", std::to_string(*snapshot.key_count));
  }
  row("fingerprint", plan.fingerprint);
  // A restore makes a new cluster of exactly the members it restores: say so, for a rebuild on new hosts above all.
  std::vector<std::string> restored;
  for (const auto& step : plan.steps) {
    if (step.action == "restore" && !step.member.empty()) restored.push_back(visible(step.member, false));
  }
  if (!restored.empty()) {
    row("new cluster", fmt::format("{} ({} member{}, a new cluster id; old peers not named here are not in it; a host "
                                   "with no data dir yet is built fresh)",
                                   fmt::join(restored, ", "), restored.size(), restored.size() == 1 ? "" : "s"));
  }
  // A replacement names who is replaced, and that the others keep serving.
  if (auto it = plan.inputs.find("replace.members"); it != plan.inputs.end()) {
    row("replacing", visible(it->second, false) + " (one at a time; the other members keep the quorum and keep "
                                                  "serving)");
  }
  out += '\n';
  if (plan.warnings.empty()) {
    out += "WARNINGS  none\n\n";
  } else {
    out += fmt::format("WARNINGS  ({})\n", plan.warnings.size());
    for (const auto& warning : plan.warnings) appendBlock(out, "  ", "! ", warning);
    out += '\n';
  }
}

void appendStep(std::string& out, const Step& step, const TextRenderOptions& options) {
  out += fmt::format("    {}: {}\n", visible(step.id, false), visible(step.description, false));
  constexpr std::string_view kIndent = "        ";
  if (step.upload) {
    out += fmt::format("{}upload {} -> {}  (then verify sha256 {})\n", kIndent, visible(step.upload->local_path, false),
                       visible(step.upload->remote_path, false), step.upload->sha256);
  }
  if (!step.command.empty()) appendBlock(out, kIndent, "$ ", step.command);
  if (!options.verbose) return;
  if (!step.needs.empty()) {
    std::vector<std::string> needs;
    for (const auto& need : step.needs) needs.push_back(visible(need, false));
    out += fmt::format("{}needs   {}\n", kIndent, fmt::join(needs, ", "));
  }
  if (!step.check.empty()) appendBlock(out, kIndent, "check   $ ", step.check);
  if (!step.undo.empty()) appendBlock(out, kIndent, "undo    $ ", step.undo);
  out += fmt::format("{}timeout {}, retries {}{}\n", kIndent, durationText(step.timeout), step.retries,
                     step.idempotent ? ", idempotent" : "");
}

}  // namespace

Result<std::string> renderPlanText(const Plan& plan, const PlanContext& context, const TextRenderOptions& options) {
  auto phases = planPhases(plan);
  if (!phases) return phases.error();
  const std::vector<PlanHost> hosts = planHosts(plan);

  std::string out;
  appendHeader(out, plan, context);
  out += fmt::format("PHASES  ({})\n", phases->size());
  out += "Steps in one phase do not need each other and run in parallel, across hosts. A step starts as soon as\n"
         "the steps it needs have finished; a failed step halts the run.";
  out += options.verbose ? "\n" : " (--verbose adds each step's check, undo and needs.)\n";

  for (std::size_t p = 0; p < phases->size(); ++p) {
    const auto& phase = (*phases)[p];
    std::vector<std::string> actions;
    std::vector<std::string> phase_hosts;
    for (const std::size_t i : phase) {
      const Step& step = plan.steps[i];
      if (std::find(actions.begin(), actions.end(), step.action) == actions.end()) actions.push_back(step.action);
      if (std::find(phase_hosts.begin(), phase_hosts.end(), step.host) == phase_hosts.end()) {
        phase_hosts.push_back(step.host);
      }
    }
    std::vector<std::string> shown_actions;
    for (const auto& action : actions) shown_actions.push_back(visible(action, false));
    out += fmt::format("\n== Phase {}/{}: {}  ({} step{} on {} host{})\n", p + 1, phases->size(),
                       fmt::join(shown_actions, ", "), phase.size(), phase.size() == 1 ? "" : "s",
                       phase_hosts.size(), phase_hosts.size() == 1 ? "" : "s");
    // Hosts in the plan-wide order, so a host keeps its place from one phase to the next.
    for (const auto& host : hosts) {
      bool titled = false;
      for (const std::size_t i : phase) {
        if (plan.steps[i].host != host.host) continue;
        if (!titled) out += fmt::format("  {}\n", hostTitle(host));
        titled = true;
        appendStep(out, plan.steps[i], options);
      }
    }
  }

  // What kind of machines the hosts are, so "4 hosts" is not mistaken for "4 members".
  std::size_t members = 0;
  std::size_t member_hosts = 0;
  std::size_t other_hosts = 0;
  bool controller = false;
  for (const auto& host : hosts) {
    members += host.members.size();
    if (host.host == kControllerHost) {
      controller = true;
    } else if (host.members.empty()) {
      ++other_hosts;
    } else {
      ++member_hosts;
    }
  }
  std::vector<std::string> kinds;
  if (member_hosts > 0) kinds.push_back(fmt::format("{} with etcd members ({} member{})", member_hosts, members,
                                                    members == 1 ? "" : "s"));
  if (other_hosts > 0) kinds.push_back(fmt::format("{} other", other_hosts));
  if (controller) kinds.push_back("the controller");
  out += fmt::format("\nTOTAL  {} step{} in {} phase{} on {} host{}: {}\n", plan.steps.size(),
                     plan.steps.size() == 1 ? "" : "s", phases->size(), phases->size() == 1 ? "" : "s", hosts.size(),
                     hosts.size() == 1 ? "" : "s", fmt::join(kinds, ", "));
  return out;
}

}  // namespace dr
