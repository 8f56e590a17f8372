// report.md: the account of a run an incident commander hands to the post-mortem. It leads with what a reader asks
// first (did it work, how long were we down), then per-host timelines, what was verified, what failed and why, and
// the plan's DAG as a mermaid flowchart coloured by how each step ended.
#include <fmt/format.h>

#include <ctime>
#include <map>

#include "report/report_format.h"
#include "report/run_report.h"

namespace dr {

std::string formatSeconds(std::int64_t ms) {
  if (ms < 0) return "-" + formatSeconds(-ms);
  return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

std::string formatUtc(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", stamp, ((epoch_ms % 1000) + 1000) % 1000);
}

namespace {

std::string exitText(const std::optional<int>& code) { return code ? std::to_string(*code) : "–"; }

std::string stepCounts(const RunSummary& s) {
  return fmt::format("{} steps: {} done, {} failed, {} skipped (already done), {} in doubt, {} not started",
                     s.steps.size(), s.count(ReportStepState::Done), s.count(ReportStepState::Failed),
                     s.count(ReportStepState::Skipped), s.count(ReportStepState::InDoubt),
                     s.count(ReportStepState::NotStarted));
}

void header(std::string& out, const RunSummary& s) {
  out += fmt::format("# Run report: {} — {} — {}\n\n", markdownInline(s.cluster.empty() ? "(cluster unknown)" : s.cluster),
                     markdownInline(s.plan_name), markdownInline(s.run_id));
  out += "| | |\n|---|---|\n";
  out += fmt::format("| Outcome | **{}** |\n", s.outcome);
  if (!s.reason.empty()) out += fmt::format("| Reason | {} |\n", markdownInline(s.reason));
  out += fmt::format("| Cluster | {} |\n", markdownInline(s.cluster));
  out += fmt::format("| Plan | {} |\n", markdownInline(s.plan_name));
  out += fmt::format("| Run id | {} |\n", markdownInline(s.run_id));
  out += fmt::format("| Fingerprint | {} |\n", markdownInline(s.fingerprint));
  if (!s.sessions.empty()) {
    out += fmt::format("| Started | {} |\n", formatUtc(s.start_ms));
    out += fmt::format("| Last record | {} (+{} s) |\n", formatUtc(s.end_ms), formatSeconds(s.end_ms - s.start_ms));
  }
  std::string sessions;
  for (const auto& session : s.sessions) {
    if (!sessions.empty()) sessions += ", then ";
    sessions += fmt::format("{} ({})", markdownInline(session.mode), session.end == "none" ? "no end record" : session.end);
  }
  out += fmt::format("| Sessions | {} |\n", sessions.empty() ? "none" : sessions);
  out += fmt::format("| Steps | {} |\n\n", stepCounts(s));

  if (s.torn_tail) out += fmt::format("> **Note:** the journal ended in a torn record, ignored: {}\n\n", markdownInline(s.tail_note));
  if (s.fingerprint_mismatch) {
    out += "> **Note:** a session of this run started under another plan fingerprint (a forced resume).\n\n";
  }
  if (!s.unknown_steps.empty()) {
    std::string ids;
    for (const auto& id : s.unknown_steps) ids += (ids.empty() ? "" : ", ") + markdownInline(id);
    out += fmt::format("> **Note:** the journal names steps the plan does not have: {}\n\n", ids);
  }
}

void rtoSection(std::string& out, const RunSummary& s) {
  out += "## Recovery time (RTO)\n\n";
  if (!s.rto) {
    out += "Nothing was taken down: no stop-apiserver or stop-etcd step started.\n\n";
    return;
  }
  const RtoSummary& r = *s.rto;
  if (r.complete) {
    out += fmt::format("**{} s**, from the start of {} (+{} s) to the end of {} (+{} s).\n\n", formatSeconds(r.ms),
                       markdownInline(r.start_step), formatSeconds(r.start_ms - s.start_ms),
                       markdownInline(r.end_step), formatSeconds(r.end_ms - s.start_ms));
  } else {
    out += fmt::format("**Not recovered.** The service has been down for at least **{} s**: from the start of {} "
                       "(+{} s) to the journal's last record (+{} s).\n\n",
                       formatSeconds(r.ms), markdownInline(r.start_step), formatSeconds(r.start_ms - s.start_ms),
                       formatSeconds(r.end_ms - s.start_ms));
  }
}

void timelineSection(std::string& out, const RunSummary& s) {
  out += "## Timeline per host\n\nOffsets count from the run's first record; durations are the last attempt's "
         "(all attempts in parentheses when retried).\n\n";
  for (const auto& host : s.hosts) {
    out += fmt::format("### {}\n\n", markdownInline(host.host));
    out += "| step | action | state | start (s) | duration (s) | attempts | exit |\n";
    out += "|---|---|---|---:|---:|---:|---:|\n";
    for (std::size_t i : host.steps) {
      const StepSummary& step = s.steps[i];
      const std::string start = step.start_ms ? formatSeconds(*step.start_ms - s.start_ms) : "–";
      std::string duration = step.attempts.empty() ? "–" : formatSeconds(step.duration_ms);
      if (step.attempts.size() > 1) duration += fmt::format(" ({})", formatSeconds(step.total_ms));
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", markdownInline(step.id),
                         markdownInline(step.action), stepStateLabel(step.state), start, duration,
                         step.attempts.size(), exitText(step.exit_code));
    }
    out += "\n";
  }
}

void verifiedSection(std::string& out, const RunSummary& s) {
  out += "## What was verified\n\n";
  bool any = false;
  for (const auto& step : s.steps) {
    if (step.action.rfind("verify-", 0) != 0) continue;
    any = true;
    out += fmt::format("- **{}** on {}: {}", markdownInline(step.id), markdownInline(step.host), stepStateLabel(step.state));
    if (!step.attempts.empty()) out += fmt::format(" in {} s", formatSeconds(step.duration_ms));
    if (!step.description.empty()) out += fmt::format(" — {}", markdownInline(step.description));
    out += "\n";
    if (!step.output_tail.empty()) out += "\n" + markdownCodeBlock(step.output_tail) + "\n";
  }
  out += any ? "\n" : "The plan has no verify step.\n\n";
}

void failuresSection(std::string& out, const RunSummary& s) {
  out += "## Failures\n\n";
  bool any = false;
  for (const auto& step : s.steps) {
    if (step.state != ReportStepState::Failed && step.state != ReportStepState::InDoubt) continue;
    any = true;
    if (step.state == ReportStepState::Failed) {
      out += fmt::format("### {} on {}: failed after {} attempt{}\n\n", markdownInline(step.id),
                         markdownInline(step.host), step.attempts.size(), step.attempts.size() == 1 ? "" : "s");
      out += fmt::format("Exit code {}. {}\n\n", exitText(step.exit_code), markdownInline(step.message));
    } else {
      out += fmt::format("### {} on {}: in doubt\n\n", markdownInline(step.id), markdownInline(step.host));
      out += "It started and no record says how it ended (drctl stopped mid-step); a resume runs its check first.\n\n";
    }
    if (!step.output_tail.empty()) out += "Output (tail):\n\n" + markdownCodeBlock(step.output_tail) + "\n";
  }
  for (const auto& step : s.steps) {
    if (step.undo && step.undo->state == "failed") {
      any = true;
      out += fmt::format("### undo of {} on {}: failed\n\nExit code {}. {}\n\n", markdownInline(step.id),
                         markdownInline(step.host), exitText(step.undo->exit_code), markdownInline(step.undo->message));
    }
  }
  if (!any) out += "None.\n\n";

  // Failures a retry or a resume overcame still matter to a post-mortem: they cost time and may recur.
  std::string overcome;
  for (const auto& step : s.steps) {
    if (step.state != ReportStepState::Done && step.state != ReportStepState::Skipped) continue;
    for (const auto& attempt : step.attempts) {
      if (attempt.ok) continue;
      overcome += fmt::format("- {} on {}, at +{} s (session {}, attempt {}): {}\n", markdownInline(step.id),
                              markdownInline(step.host), formatSeconds(attempt.start_ms - s.start_ms),
                              attempt.session + 1, attempt.attempt,
                              attempt.end_ms ? markdownInline(attempt.message) : "no end recorded (drctl stopped)");
    }
  }
  if (!overcome.empty()) out += "### Failed attempts later overcome\n\n" + overcome + "\n";
}

void rollbackSection(std::string& out, const RunSummary& s) {
  bool any = false;
  for (const auto& step : s.steps) any = any || step.undo.has_value();
  if (!any) return;
  out += "## Rollback\n\n| step | host | undo | start (s) | duration (s) | exit |\n|---|---|---|---:|---:|---:|\n";
  for (const auto& step : s.steps) {
    if (!step.undo) continue;
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", markdownInline(step.id), markdownInline(step.host),
                       step.undo->state, formatSeconds(step.undo->start_ms - s.start_ms),
                       formatSeconds(step.undo->duration_ms), exitText(step.undo->exit_code));
  }
  out += "\n";
}

void dagSection(std::string& out, const RunSummary& s) {
  out += "## Plan (DAG)\n\n```mermaid\nflowchart TD\n";
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < s.steps.size(); ++i) index.emplace(s.steps[i].id, i);
  for (std::size_t h = 0; h < s.hosts.size(); ++h) {
    out += fmt::format("  subgraph h{}[\"{}\"]\n", h, mermaidLabel(s.hosts[h].host));
    for (std::size_t i : s.hosts[h].steps) {
      out += fmt::format("    s{}[\"{}\"]\n", i, mermaidLabel(s.steps[i].id + " (" + stepStateLabel(s.steps[i].state) + ")"));
    }
    out += "  end\n";
  }
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    for (const auto& need : s.steps[i].needs) {
      if (auto it = index.find(need); it != index.end()) out += fmt::format("  s{} --> s{}\n", it->second, i);
    }
  }
  const std::pair<ReportStepState, const char*> styles[] = {
      {ReportStepState::Done, "fill:#c8e6c9,stroke:#2e7d32"},    {ReportStepState::Failed, "fill:#ffcdd2,stroke:#c62828"},
      {ReportStepState::Skipped, "fill:#dcedc8,stroke:#689f38"}, {ReportStepState::InDoubt, "fill:#ffe0b2,stroke:#ef6c00"},
      {ReportStepState::NotStarted, "fill:#eeeeee,stroke:#9e9e9e"}};
  for (const auto& [state, style] : styles) {
    std::string members;
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      if (s.steps[i].state == state) members += fmt::format("{}s{}", members.empty() ? "" : ",", i);
    }
    if (members.empty()) continue;
    const std::string cls = stateClass(state);
    out += fmt::format("  classDef {} {}\n  class {} {}\n", cls, style, members, cls);
  }
  out += "```\n";
}

}  // namespace

std::string stateClass(ReportStepState state) {
  std::string label = stepStateLabel(state);
  for (char& c : label) c = c == '-' ? '_' : c;  // mermaid and CSS class names: no '-' trouble
  return label;
}

std::string renderReportMarkdown(const RunSummary& summary) {
  std::string out;
  header(out, summary);
  rtoSection(out, summary);
  timelineSection(out, summary);
  verifiedSection(out, summary);
  failuresSection(out, summary);
  rollbackSection(out, summary);
  dagSection(out, summary);
  return out;
}

}  // namespace dr
