// What every drctl command shares: defaults, terminal checks, the exact resume/rollback commands to print, and
// showing the library's notes and refusals (ops/outcome.h) on stderr.
#pragma once

#include <string>
#include <vector>

#include "ops/outcome.h"

namespace dr::cli {

inline constexpr const char* kDefaultRunsDir = "runs";
inline constexpr const char* kDefaultTemplate = "full-restore";

bool stdinIsTerminal();
bool stderrIsTerminal();

// Puts the directory of the running drctl first on PATH (inherited by local steps, so they call this drctl).
void putOwnDirectoryOnPath();

// `drctl resume RUN_ID --runs DIR` and friends, exactly as the operator should type them.
std::string resumeCommand(const std::string& run_id, const std::string& runs_root);
std::string rollbackCommand(const std::string& run_id, const std::string& runs_root);

// Notes go to stderr as they are, one per line.
void printNotes(const std::vector<std::string>& notes);
// A refusal on stderr: its diagnostics as they are (FILE:LINE:COLUMN: ...), then its message after "WHO: ".
// Returns the exit code it stands for.
int printRefusal(const std::string& who, const ops::Refusal& refusal);

// Asks on the terminal; true only for the answer "yes".
bool confirmedOnTerminal(const std::string& question);

}  // namespace dr::cli
