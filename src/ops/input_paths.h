// Where a remote client may point drd. drd reads the inventory, template and snapshot a Plan or Apply names as its
// own user (usually root) and uploads the snapshot to every member: a path like /etc/shadow must be refused before
// it is opened, not after its first line has been quoted back in a YAML error. So a client path is accepted only when
// it resolves (symlinks followed) to a file under one of the operator-configured input directories.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ops/outcome.h"

namespace dr::ops {

// A refusal (bad input, exit 2) unless `path` resolves under one of `allowed` (absolute directories). `what` names
// the input in the message ("inventory", "snapshot", "plan template").
std::optional<Refusal> checkInputPath(const std::string& path, const std::vector<std::filesystem::path>& allowed,
                                      const std::string& what);

// The inventory, the snapshot and (when it names a file, not a built-in) the template of one request, in that order:
// the first refusal, or none.
std::optional<Refusal> checkInputPaths(const std::string& inventory, const std::string& snapshot,
                                       const std::string& plan_template,
                                       const std::vector<std::filesystem::path>& allowed);

}  // namespace dr::ops
