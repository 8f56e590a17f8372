// Reading a run directory into a RunSummary and writing its report files (see run_report.h).
#include "report/run_report.h"

#include "core/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "plan/plan_json.h"

namespace dr {
namespace fs = std::filesystem;

namespace {

}  // namespace

void attachOutputTails(RunSummary& summary, const RunDirectory& run) {
  for (auto& step : summary.steps) {
    std::ifstream in(run.stepLogPath(step.id), std::ios::binary);
    if (!in) continue;  // a step that never ran has no log
    std::ostringstream buffer;
    buffer << in.rdbuf();
    step.output_tail = logTail(buffer.str(), step.id);
  }
}

Result<RunSummary> loadRunSummary(const RunDirectory& run) {
  auto plan_text = run.readFile("plan.json");
  if (!plan_text) return plan_text.error();
  nlohmann::json plan_json = nlohmann::json::parse(*plan_text, nullptr, false);
  if (plan_json.is_discarded()) return fail("{}: not valid JSON", run.planPath().string());
  auto plan = planFromJson(plan_json);
  if (!plan) return fail("{}: {}", run.planPath().string(), plan.error().message);

  JournalContents journal;
  std::error_code ec;
  // A run whose journal was never created (refused before its first step) still gets a report: nothing ran.
  if (fs::exists(run.journalPath(), ec)) {
    auto read = readJournal(run.journalPath());
    if (!read) return read.error();
    journal = std::move(*read);
  }

  RunSummary summary = summarizeRun(*plan, journal);
  summary.run_id = run.runId();
  if (fs::exists(run.runInfoPath(), ec)) {
    auto info = run.readRunInfo();
    if (!info) return info.error();
    summary.cluster = info->cluster;
  }
  attachOutputTails(summary, run);
  return summary;
}

Status writeRunReport(const RunDirectory& run, const fs::path& out_dir) {
  auto summary = loadRunSummary(run);
  if (!summary) return summary.error();
  return writeReportFiles(*summary, out_dir);
}

Status writeReportFiles(const RunSummary& summary, const fs::path& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return fail("{}: cannot create the report directory: {}", out_dir.string(), ec.message());
  const std::pair<const char*, std::string> files[] = {
      {"report.json", renderReportJson(summary)},
      {"report.md", renderReportMarkdown(summary)},
      {"junit.xml", renderJunitXml(summary)},
      {"timeline.svg", renderTimelineSvg(summary)},
  };
  for (const auto& [name, contents] : files) {
    if (auto written = writeFileAtomically(out_dir / name, contents, 0600); !written) return written;
  }
  return {};
}

}  // namespace dr
