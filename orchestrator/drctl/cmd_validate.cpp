// TEMPORARY scaffold: replaced by the helper that owns this subcommand before anything lands.
#include "commands.h"
namespace dr::cli {
CommandRunner declareValidate(CLI::App&) {
  return [] { return kExitFailed; };
}
}  // namespace dr::cli
