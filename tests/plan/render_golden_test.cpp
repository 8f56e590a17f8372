// Golden files: the text plan of the sample inventories, byte for byte. A change to the template, the planner, the
// inventories or the renderer that alters what the operator reads shows up here as a diff to review.
// To accept a change: DR_UPDATE_GOLDEN=1 ./build/tests/test_plan '[golden]' && git diff tests/plan/golden
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "fixtures/tiny_snapshot.h"
#include "core/sha256.h"
#include "etcd/snapshot_file.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_render.h"
#include "plan/plan_template.h"
#include "plan/planner.h"
#include "plan_test_support.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {

// A fixed tiny snapshot (fixtures/tiny_snapshot.h) with etcd's trailer, as `etcdctl snapshot save` writes it:
// the same bytes, hence the same hash, on every machine.
SnapshotInfo fixedSnapshot() {
  const fs::path path = fs::temp_directory_path() / ("dr-golden-snapshot-" + std::to_string(::getpid()) + ".db");
  test::writeTinySnapshot(path, test::tinyWith(12));
  auto info = inspectSnapshot(path);
  fs::remove(path);
  REQUIRE(info.ok());
  REQUIRE(info->has_trailer);
  // The plan shows where the snapshot is; a fixed path keeps the golden file independent of the temp dir.
  info->path = "/backup/etcd-snapshot.db";
  info->revision = 48213;
  return *info;
}

std::string renderGolden(const std::string& inventory_name, const TextRenderOptions& render_options,
                         const std::string& template_name = "full-restore",
                         const std::vector<std::string>& replace_members = {}) {
  const fs::path inventory_file = fs::path(DR_SOURCE_DIR) / "inventory" / inventory_name;
  InventoryLoad load = loadInventory(inventory_file);
  INFO(inventory_file.string());
  REQUIRE(load.inventory);
  Inventory inventory = *load.inventory;
  // Commands mention the inventory's absolute path: pin it so the checkout's location does not matter, and give
  // the planner the real file's digest so the fingerprint still follows the file's contents.
  auto digest = sha256FileHex(inventory_file);
  REQUIRE(digest.ok());
  inventory.source = "/etc/etcd-dr/" + inventory_name;

  TemplateLoad plan_template = loadPlanTemplateByNameOrPath(template_name);
  REQUIRE(plan_template.plan_template);
  const bool restores = plan_template.plan_template->uses_snapshot;
  PlanOptions options;
  options.run_id = "golden-run";
  options.inventory_sha256 = *digest;
  options.replace_members = replace_members;
  PlanBuild build = Planner::build(inventory, restores ? fixedSnapshot() : SnapshotInfo{}, *plan_template.plan_template,
                                   options);
  for (const auto& diagnostic : build.diagnostics) UNSCOPED_INFO(diagnostic.str());
  REQUIRE(build.plan);

  PlanContext context;
  context.cluster = inventory.cluster_name;
  context.inventory_path = "inventory/" + inventory_name;
  context.template_source = plan_template.plan_template->source.string();
  context.run_id = options.run_id;
  context.snapshot = restores ? fixedSnapshot() : SnapshotInfo{};
  auto text = renderPlanText(*build.plan, context, render_options);
  REQUIRE(text.ok());
  return *text;
}

void compareWithGolden(const std::string& actual, const std::string& golden_name) {
  const fs::path golden = fs::path(DR_SOURCE_DIR) / "tests" / "plan" / "golden" / golden_name;
  const char* update = std::getenv("DR_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(golden, std::ios::binary) << actual;
    WARN("rewrote " << golden.string() << ": review it with git diff");
    return;
  }
  REQUIRE(fs::exists(golden));
  const std::string expected = test::readText(golden);
  if (actual == expected) return;

  // Leave the actual output beside the build for `diff -u`, and point at the first differing line.
  const fs::path actual_file = fs::path(DR_BINARY_DIR) / "tests" / (golden_name + ".actual");
  std::ofstream(actual_file, std::ios::binary) << actual;
  std::istringstream want(expected);
  std::istringstream got(actual);
  std::string want_line;
  std::string got_line;
  int line = 0;
  while (true) {
    ++line;
    const bool more_want = static_cast<bool>(std::getline(want, want_line));
    const bool more_got = static_cast<bool>(std::getline(got, got_line));
    if (!more_want && !more_got) break;
    if (!more_want) want_line = "<end of file>";
    if (!more_got) got_line = "<end of file>";
    if (want_line != got_line || !more_want || !more_got) break;
  }
  FAIL("the text plan differs from " << golden.string() << " at line " << line << ":\n"
       << "  expected: " << want_line << "\n"
       << "  actual:   " << got_line << "\n"
       << "see the whole difference with:\n  diff -u " << golden.string() << " " << actual_file.string() << "\n"
       << "if the change is intended, regenerate and review:\n"
       << "  DR_UPDATE_GOLDEN=1 " << DR_BINARY_DIR << "/tests/test_plan '[golden]' && git diff " << golden.string());
}

}  // namespace

TEST_CASE("golden: the text plan of inventory/lab-3.yaml", "[plan][render][golden]") {
  compareWithGolden(renderGolden("lab-3.yaml", {}), "lab-3.txt");
}

TEST_CASE("golden: the verbose text plan of inventory/kubeadm-3.yaml", "[plan][render][golden]") {
  compareWithGolden(renderGolden("kubeadm-3.yaml", TextRenderOptions{.verbose = true}), "kubeadm-3-verbose.txt");
}

TEST_CASE("golden: the verbose replace-member plan of inventory/lab-3.yaml, lab-2 replaced", "[plan][render][golden]") {
  compareWithGolden(renderGolden("lab-3.yaml", TextRenderOptions{.verbose = true}, "replace-member", {"lab-2"}),
                    "lab-3-replace-member-verbose.txt");
}
