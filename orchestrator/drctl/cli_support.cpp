// Shared pieces of drctl's commands (see cli_support.h).
#include "cli_support.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/shell.h"
#include "exec/run_session.h"

namespace dr::cli {

bool stdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }
bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void putOwnDirectoryOnPath() { prependProgramDirectoryToPath(); }

std::string resumeCommand(const std::string& run_id, const std::string& runs_root) {
  return fmt::format("drctl resume {} --runs {}", shellQuote(run_id), shellQuote(runs_root));
}

std::string rollbackCommand(const std::string& run_id, const std::string& runs_root) {
  return fmt::format("drctl rollback {} --runs {}", shellQuote(run_id), shellQuote(runs_root));
}

void printNotes(const std::vector<std::string>& notes) {
  for (const auto& note : notes) std::fprintf(stderr, "%s\n", note.c_str());
}

int printRefusal(const std::string& who, const ops::Refusal& refusal) {
  for (const auto& line : refusal.diagnostics) std::fprintf(stderr, "%s\n", line.c_str());
  if (!refusal.message.empty()) std::fprintf(stderr, "%s: %s\n", who.c_str(), refusal.message.c_str());
  return refusal.exitCode();
}

bool confirmedOnTerminal(const std::string& question) {
  std::fprintf(stderr, "%s Type 'yes' to proceed: ", question.c_str());
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

}  // namespace dr::cli
