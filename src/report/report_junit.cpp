// junit.xml: a run as test results, so a CI game day shows up in the CI's test view. One <testsuite> per host (in
// plan order), one <testcase> per step: classname = host, name = step id, time = seconds spent in all its attempts.
// A failed step carries <failure> with its output tail; an in-doubt step an <error>; a step that never started is
// <skipped/>; a step a resume found already done passes, saying so in <system-out>.
#include <fmt/format.h>

#include "report/report_format.h"
#include "report/run_report.h"

namespace dr {
namespace {

void property(std::string& out, std::string_view name, std::string_view value) {
  out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xmlEscape(name), xmlEscape(value));
}

void testcase(std::string& out, const StepSummary& step) {
  out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"", xmlEscape(step.host), xmlEscape(step.id),
                     formatSeconds(step.total_ms));
  switch (step.state) {
    case ReportStepState::Done:
      if (step.output_tail.empty()) {
        out += "/>\n";
        return;
      }
      out += fmt::format(">\n      <system-out>{}</system-out>\n", xmlEscapeText(step.output_tail));
      break;
    case ReportStepState::Skipped:
      out += fmt::format(">\n      <system-out>{}</system-out>\n",
                         xmlEscape("not run: " + (step.message.empty() ? "already done" : step.message)));
      break;
    case ReportStepState::Failed: {
      const std::string type = step.exit_code ? fmt::format("exit code {}", *step.exit_code) : "error";
      out += fmt::format(">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n", xmlEscape(step.message),
                         xmlEscape(type), xmlEscapeText(step.output_tail));
      break;
    }
    case ReportStepState::InDoubt:
      out += fmt::format(">\n      <error message=\"{}\" type=\"in-doubt\">{}</error>\n",
                         xmlEscape("started, and no record says how it ended (drctl stopped mid-step)"),
                         xmlEscapeText(step.output_tail));
      break;
    case ReportStepState::NotStarted:
      out += ">\n      <skipped message=\"not started\"/>\n";
      break;
  }
  out += "    </testcase>\n";
}

}  // namespace

std::string renderJunitXml(const RunSummary& summary) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const int failures = summary.count(ReportStepState::Failed);
  const int errors = summary.count(ReportStepState::InDoubt);
  const int skipped = summary.count(ReportStepState::NotStarted);
  std::int64_t total_ms = 0;
  for (const auto& step : summary.steps) total_ms += step.total_ms;
  out += fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n",
                     xmlEscape(fmt::format("drctl {} {}", summary.plan_name, summary.run_id)), summary.steps.size(),
                     failures, errors, skipped, formatSeconds(total_ms));
  for (const auto& host : summary.hosts) {
    int host_failures = 0, host_errors = 0, host_skipped = 0;
    std::int64_t host_ms = 0;
    for (std::size_t i : host.steps) {
      const StepSummary& step = summary.steps[i];
      host_failures += step.state == ReportStepState::Failed;
      host_errors += step.state == ReportStepState::InDoubt;
      host_skipped += step.state == ReportStepState::NotStarted;
      host_ms += step.total_ms;
    }
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
                       xmlEscape(host.host), host.steps.size(), host_failures, host_errors, host_skipped,
                       formatSeconds(host_ms));
    if (host.start_ms) out += fmt::format(" timestamp=\"{}\"", formatUtc(*host.start_ms));
    out += ">\n    <properties>\n";
    property(out, "run_id", summary.run_id);
    property(out, "cluster", summary.cluster);
    property(out, "plan", summary.plan_name);
    property(out, "fingerprint", summary.fingerprint);
    property(out, "outcome", summary.outcome);
    if (summary.rto) property(out, summary.rto->complete ? "rto_seconds" : "downtime_so_far_seconds", formatSeconds(summary.rto->ms));
    out += "    </properties>\n";
    for (std::size_t i : host.steps) testcase(out, summary.steps[i]);
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace dr
