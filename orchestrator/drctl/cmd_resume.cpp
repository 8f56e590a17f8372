// drctl resume RUN_ID: the resume use case (ops/resume.h) on the command line. A changed plan is refused (exit 2,
// saying what changed) unless --force; finished steps are skipped; a step that was in flight runs its check first.
#include <cstdio>

#include "cli_support.h"
#include "commands.h"
#include "ops/resume.h"
#include "remote_client.h"
#include "run_output.h"
#include "signal_guard.h"

namespace dr::cli {
namespace {

struct ResumeOptions {
  ops::ResumeRequest request;
  std::string log_format = "text";
};

int runResume(const ResumeOptions& o) {
  const char* who = "drctl resume";
  auto format = parseLogFormat(o.log_format);
  if (!format) {
    std::fprintf(stderr, "%s: %s\n", who, format.error().message.c_str());
    return kExitBadInput;
  }
  putOwnDirectoryOnPath();
  SignalGuard signals;
  auto prepared = ops::prepareResume(o.request);
  printNotes(prepared.notes);
  if (!prepared.ok()) return printRefusal(who, *prepared.refusal);
  const auto& plaintext = prepared.value->snapshot.plaintext;
  if (!plaintext.path().empty()) signals.removeOnEarlyExit(plaintext.path(), false);
  signals.arm();
  auto session = ops::startSession(std::move(*prepared.value));
  printNotes(session.notes);
  if (!session.ok()) return printRefusal(who, *session.refusal);
  return runSession(*session.value, signals, *format, o.request.runs_root.string());
}

}  // namespace

CommandRunner declareResume(CLI::App& command) {
  auto options = std::make_shared<ResumeOptions>();
  ops::ResumeRequest& r = options->request;
  r.runs_root = kDefaultRunsDir;
  command.add_option("run_id", r.run_id, "The run to resume (see drctl status)")->required();
  command.add_option("--runs", r.runs_root, "Runs directory")->capture_default_str();
  command.add_flag("--force", r.force, "Resume even though the inputs changed since the run started");
  command.add_option("--log-format", options->log_format, "text or json")->capture_default_str();
  command.add_option("--per-host", r.per_host, "Steps at a time on one host (default: as the run started)");
  command.add_option("--key-file", r.key.key_file, "Key of the run's encrypted snapshot (decrypted again here)");
  command.add_option("--key-env", r.key.key_env, "Environment variable holding the key of the run's encrypted snapshot");
  return [options] {
    if (remoteOptions().active()) {
      if (options->request.key.given()) {
        std::fprintf(stderr, "drctl resume: --key-file and --key-env are not available with --server\n");
        return kExitBadInput;
      }
      return remoteResume(options->request.run_id, options->request.force, options->request.per_host,
                          options->log_format);
    }
    return runResume(*options);
  };
}

}  // namespace dr::cli
