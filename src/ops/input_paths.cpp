// See input_paths.h.
#include "ops/input_paths.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/utf8.h"
#include "plan/plan_template.h"

namespace dr::ops {

namespace {

bool isWithin(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // the trailing "" of "dir/"
    if (p == path.end() || *p != *d) return false;
  }
  return p != path.end();  // the dir itself is no input file
}

}  // namespace

std::optional<Refusal> checkInputPath(const std::string& path, const std::vector<std::filesystem::path>& allowed,
                                      const std::string& what) {
  const std::string shown = toValidUtf8(path);
  if (allowed.empty()) {
    return refuse(RefusalKind::BadInput,
                  fmt::format("{} {}: this drd accepts no input paths from clients: start it with --input-dir DIR (or "
                              "input_dirs in its config) naming where inventories, templates and snapshots live",
                              what, shown));
  }
  std::filesystem::path given(path);
  if (given.is_relative()) {
    return refuse(RefusalKind::BadInput,
                  fmt::format("{} {}: a path sent to drd must be absolute (drd does not share the client's directory)",
                              what, shown));
  }
  // Symlinks resolved and ".." collapsed first: a link inside an input dir that points out of it is outside.
  std::error_code ec;
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(given, ec);
  const bool inside = !ec && std::any_of(allowed.begin(), allowed.end(), [&](const std::filesystem::path& dir) {
    std::error_code dir_ec;
    const std::filesystem::path real_dir = std::filesystem::weakly_canonical(dir, dir_ec);
    return !dir_ec && isWithin(resolved, real_dir);
  });
  if (inside) return std::nullopt;
  std::string dirs;
  for (const auto& dir : allowed) dirs += (dirs.empty() ? "" : ", ") + dir.string();
  return refuse(RefusalKind::BadInput,
                fmt::format("{} {} is outside drd's input directories ({}): refused, nothing was read", what, shown,
                            toValidUtf8(dirs)));
}

std::optional<Refusal> checkInputPaths(const std::string& inventory, const std::string& snapshot,
                                       const std::string& plan_template,
                                       const std::vector<std::filesystem::path>& allowed) {
  if (auto refused = checkInputPath(inventory, allowed, "inventory")) return refused;
  // No snapshot: a plan that restores none (replace-member), or one taken from a member; the planner says when one
  // is missing.
  if (!snapshot.empty()) {
    if (auto refused = checkInputPath(snapshot, allowed, "snapshot")) return refused;
  }
  if (namesTemplateFile(plan_template)) return checkInputPath(plan_template, allowed, "plan template");
  return std::nullopt;
}

}  // namespace dr::ops
