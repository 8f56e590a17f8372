// Opening an existing run (see run_loading.h).
#include "run_loading.h"

#include <cstdio>


namespace dr::cli {

std::optional<OpenedRun> openRun(const std::string& who, const std::string& runs_root, const std::string& run_id,
                                 int& exit_code) {
  RunOpening opening = openRunDirectory(runs_root, run_id);
  if (!opening.run) {
    exit_code = opening.not_found ? 2 : 1;
    std::fprintf(stderr, "%s: %s\n", who.c_str(), opening.error.c_str());
    return std::nullopt;
  }
  exit_code = 0;
  return std::move(opening.run);
}

}  // namespace dr::cli
