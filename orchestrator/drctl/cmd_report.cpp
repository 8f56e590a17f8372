// drctl report RUN_ID [--runs DIR] [-o DIR]: (re)writes the report of a run from its run directory: report.json,
// report.md, junit.xml and timeline.svg (see docs/report.md). Works on any run, finished or not: a halted or
// killed run's report shows where it stopped. It reads the run directory and never changes the run itself.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "commands.h"
#include "exec/run_dir.h"
#include "report/report_format.h"
#include "report/run_report.h"

namespace dr::cli {

CommandRunner declareReport(CLI::App& command) {
  struct Options {
    std::string run_id;
    std::string runs = "runs";
    std::string out;
  };
  auto options = std::make_shared<Options>();
  command.add_option("run_id", options->run_id, "The run to report on (see the runs directory)")->required();
  command.add_option("--runs", options->runs, "The runs directory")->capture_default_str();
  command.add_option("-o,--output", options->out, "Where to write the report (default: the run's report/ directory)");

  return [options]() -> int {
    auto run = RunDirectory::open(options->runs, options->run_id);
    if (!run) {
      std::fprintf(stderr, "drctl report: %s\n", run.error().message.c_str());
      return kExitBadInput;
    }
    auto summary = loadRunSummary(*run);
    if (!summary) {
      std::fprintf(stderr, "drctl report: %s\n", summary.error().message.c_str());
      return kExitFailed;
    }
    const std::filesystem::path out = options->out.empty() ? run->reportDir() : std::filesystem::path(options->out);
    if (auto written = writeReportFiles(*summary, out); !written) {
      std::fprintf(stderr, "drctl report: %s\n", written.error().message.c_str());
      return kExitFailed;
    }
    std::string rto = "nothing was taken down";
    if (summary->rto) {
      rto = summary->rto->complete ? "RTO " + formatSeconds(summary->rto->ms) + " s"
                                   : "not recovered, down " + formatSeconds(summary->rto->ms) + " s so far";
    }
    std::printf("run %s: %s, %s\n", summary->run_id.c_str(), summary->outcome.c_str(), rto.c_str());
    for (const char* name : {"report.md", "report.json", "junit.xml", "timeline.svg"}) {
      std::printf("  %s\n", (out / name).c_str());
    }
    return kExitOk;
  };
}

}  // namespace dr::cli
