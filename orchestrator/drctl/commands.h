// The subcommands of drctl. Each lives in its own cmd_NAME.cpp: it declares its options on a CLI11 sub-app and
// returns the function that runs it. main.cpp owns the table, the parsing, error handling and exit codes; the
// library underneath never prints and never exits.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace dr::cli {

// Exit codes, the contract in docs/design.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // the run failed or was refused for safety
inline constexpr int kExitBadInput = 2;     // bad input: nothing was run
inline constexpr int kExitInterrupted = 3;  // interrupted, resumable

using CommandRunner = std::function<int()>;
using CommandDeclare = CommandRunner (*)(CLI::App& command);

struct Subcommand {
  const char* name;
  const char* summary;
  CommandDeclare declare;
};

CommandRunner declareDiagnose(CLI::App& command);
CommandRunner declareValidate(CLI::App& command);
CommandRunner declarePlan(CLI::App& command);
CommandRunner declareReport(CLI::App& command);
CommandRunner declareSnapshot(CLI::App& command);
// snapshot list|prune|test-restore (cmd_snapshot_catalog.cpp): its runner returns -1 when none of them was given.
CommandRunner declareSnapshotCatalog(CLI::App& command);
CommandRunner declareEtcd(CLI::App& command);
CommandRunner declareApply(CLI::App& command);
CommandRunner declareResume(CLI::App& command);
CommandRunner declareRollback(CLI::App& command);
CommandRunner declareStatus(CLI::App& command);
CommandRunner declareUnlock(CLI::App& command);
CommandRunner declareSim(CLI::App& command);

}  // namespace dr::cli
