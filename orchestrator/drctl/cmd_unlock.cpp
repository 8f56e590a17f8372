// drctl unlock --cluster NAME --break-stale: remove a cluster lock whose holder is gone (drctl killed, host
// rebooted). A live holder, or a holder on another host, is never broken from here.
#include <cstdio>

#include "commands.h"
#include "exec/clock.h"
#include "exec/run_lock.h"
#include "cli_support.h"

namespace dr::cli {
namespace {

struct UnlockOptions {
  std::string cluster;
  std::string runs = kDefaultRunsDir;
  bool break_stale = false;
};

int runUnlock(const UnlockOptions& o) {
  auto holder = RunLock::inspect(o.runs, o.cluster);
  if (!holder) {
    std::fprintf(stderr, "drctl unlock: %s\n", holder.error().message.c_str());
    return kExitFailed;
  }
  if (!holder->has_value()) {
    std::fprintf(stderr, "drctl unlock: cluster %s is not locked (no %s)\n", o.cluster.c_str(),
                 RunLock::lockPath(o.runs, o.cluster).c_str());
    return kExitBadInput;
  }
  const std::string who = describeLockHolder(**holder, SystemClock().wallMs());
  if (!o.break_stale) {
    std::fprintf(stderr, "drctl unlock: cluster %s is locked by %s\nPass --break-stale to remove a stale lock.\n",
                 o.cluster.c_str(), who.c_str());
    return kExitBadInput;
  }
  if (Status broken = RunLock::breakStale(o.runs, o.cluster); !broken) {
    std::fprintf(stderr, "drctl unlock: %s\n", broken.error().message.c_str());
    return kExitFailed;
  }
  std::printf("broke the stale lock of cluster %s (was %s)\n", o.cluster.c_str(), who.c_str());
  return kExitOk;
}

}  // namespace

CommandRunner declareUnlock(CLI::App& command) {
  auto options = std::make_shared<UnlockOptions>();
  command.add_option("--cluster", options->cluster, "The cluster whose lock to break")->required();
  command.add_option("--runs", options->runs, "Runs directory")->capture_default_str();
  command.add_flag("--break-stale", options->break_stale, "Remove the lock if (and only if) its holder is gone");
  return [options] { return runUnlock(*options); };
}

}  // namespace dr::cli
