// The run report: the files a run leaves for people and tools after it ends (see docs/report.md).
//   report.json   the RunSummary, machine-readable
//   report.md     for the post-mortem: outcome, RTO, per-host timelines, what was verified, failures, the DAG
//   junit.xml     for CI: one <testsuite> per host, one <testcase> per step, so a game day shows up as tests
//   timeline.svg  a Gantt chart: one lane per host, a bar per attempt coloured by how it ended
// Every renderer is a pure function of the summary: the same run gives the same bytes. Every string that came from
// a plan, a journal or a command's output is escaped for its target syntax.
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"
#include "exec/run_dir.h"
#include "report/run_summary.h"

namespace dr {

std::string renderReportJson(const RunSummary& summary);      // pretty JSON, trailing newline
std::string renderReportMarkdown(const RunSummary& summary);  // CommonMark with a mermaid block
std::string renderJunitXml(const RunSummary& summary);
std::string renderTimelineSvg(const RunSummary& summary);

// Reads the run directory's plan.json, journal, run.json (when present: the cluster name) and step logs, and
// returns the summary with output tails attached. Errors name the file that could not be read or parsed.
Result<RunSummary> loadRunSummary(const RunDirectory& run);

// Fills StepSummary::output_tail of every step that has a log under the run directory.
void attachOutputTails(RunSummary& summary, const RunDirectory& run);

// Writes the four files of `summary` into out_dir (created when missing), each atomically (temp file and rename):
// a report file is whole or absent, never half-written.
Status writeReportFiles(const RunSummary& summary, const std::filesystem::path& out_dir);

// loadRunSummary, then writeReportFiles: what `drctl apply --report DIR` and `drctl report` call.
Status writeRunReport(const RunDirectory& run, const std::filesystem::path& out_dir);

// Escapers, exposed for tests.
std::string xmlEscape(std::string_view text);        // & < > " ' as entities, after sanitizeText (attributes)
std::string xmlEscapeText(std::string_view text);    // the same, but newlines and tabs stay literal (element text)
std::string markdownInline(std::string_view text);   // safe inside a table cell or a sentence
std::string markdownCodeBlock(std::string_view text, std::string_view info = "");  // a fence longer than any inside
std::string mermaidLabel(std::string_view text);     // safe inside a quoted mermaid label

}  // namespace dr
