// `drctl plan` run as a program: the JSON contract, every output format, and bad input exiting 2 with a message.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fixtures/tiny_snapshot.h"
#include "core/sha256.h"
#include "core/shell.h"
#include "fixtures/temp_dir.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

using dr::test::TempDir;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Output drctl(const TempDir& dir, const std::string& args) {
  const std::string binary = std::string(DR_BINARY_DIR) + "/orchestrator/drctl";
  const auto out = dir.path / "stdout";
  const auto err = dir.path / "stderr";
  const int status = std::system((shellQuote(binary) + " " + args + " >" + out.string() + " 2>" + err.string()).c_str());
  return Output{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// A small valid snapshot with etcd's trailer, at revision 12.
fs::path goodSnapshot(const TempDir& dir) {
  const auto path = dir.path / "snapshot.db";
  dr::test::writeTinySnapshot(path, dr::test::tinyWith(12));
  return path;
}

const std::string kInventory = std::string(DR_SOURCE_DIR) + "/inventory/kubeadm-3.yaml";

}  // namespace

TEST_CASE("drctl plan -o json follows the contract", "[cli][plan]") {
  TempDir dir;
  const auto result = drctl(dir, "plan -i " + kInventory + " -s " + goodSnapshot(dir).string() + " -o json");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto json = nlohmann::json::parse(result.out);
  CHECK(json.at("plan") == "full-restore");
  CHECK(json.at("fingerprint").get<std::string>().size() == 64);
  REQUIRE(json.at("steps").size() > 10);
  std::set<std::string> actions;
  for (const auto& step : json.at("steps")) {
    for (const char* key : {"id", "action", "host", "member", "needs", "command"}) CHECK(step.contains(key));
    CHECK(step.at("needs").is_array());
    actions.insert(step.at("action").get<std::string>());
  }
  for (const char* action : {"preflight", "stop-apiserver", "stop-etcd", "upload-snapshot", "restore",
                             "swap-data-dir", "start-etcd", "verify-etcd", "start-apiserver", "verify-apiserver"}) {
    CHECK(actions.count(action) == 1);
  }
}

TEST_CASE("drctl plan: same inputs, same fingerprint; another run id, another", "[cli][plan]") {
  TempDir dir;
  const auto snapshot = goodSnapshot(dir).string();
  auto fingerprint = [&](const std::string& extra) {
    const auto result = drctl(dir, "plan -i " + kInventory + " -s " + snapshot + " -o json " + extra);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out).at("fingerprint").get<std::string>();
  };
  CHECK(fingerprint("") == fingerprint(""));
  CHECK(fingerprint("--run-id one") != fingerprint("--run-id two"));
}

TEST_CASE("drctl plan: text, dot and mermaid outputs", "[cli][plan]") {
  TempDir dir;
  const auto base = "plan -i " + kInventory + " -s " + goodSnapshot(dir).string();
  const auto text = drctl(dir, base);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.rfind("RECOVERY PLAN  full-restore\n", 0) == 0);
  CHECK_THAT(text.out, Catch::Contains("PHASES") && Catch::Contains("TOTAL"));
  CHECK(text.err.empty());
  const auto dot = drctl(dir, base + " -o dot");
  REQUIRE(dot.exit_code == 0);
  CHECK(dot.out.rfind("digraph ", 0) == 0);
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    std::ofstream(dir.path / "plan.dot") << dot.out;
    CHECK(std::system(("dot -Tsvg " + (dir.path / "plan.dot").string() + " >/dev/null").c_str()) == 0);
  }
  const auto mermaid = drctl(dir, base + " -o mermaid");
  REQUIRE(mermaid.exit_code == 0);
  CHECK(mermaid.out.rfind("flowchart TD\n", 0) == 0);
}

TEST_CASE("drctl plan: a bad inventory exits 2 with FILE:LINE:COLUMN lines", "[cli][plan]") {
  TempDir dir;
  const auto inventory = dir.path / "bad.yaml";
  std::ofstream(inventory) << "cluster: x\nmembrs: []\n";
  const auto result = drctl(dir, "plan -i " + inventory.string() + " -s " + goodSnapshot(dir).string());
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK_THAT(result.err, Catch::Contains(inventory.string() + ":2:1: "));
}

TEST_CASE("drctl plan: a missing, empty or corrupt snapshot exits 2 with the path and reason", "[cli][plan]") {
  TempDir dir;
  const auto missing = drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "nope.db").string());
  CHECK(missing.exit_code == 2);
  CHECK(missing.out.empty());
  CHECK_THAT(missing.err, Catch::Contains((dir.path / "nope.db").string()) && Catch::Contains("No such file or directory"));

  std::ofstream(dir.path / "empty.db").flush();
  const auto empty = drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "empty.db").string());
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Catch::Contains("empty"));

  std::string bytes = slurp(goodSnapshot(dir));
  bytes[100] ^= 1;
  std::ofstream(dir.path / "corrupt.db", std::ios::binary) << bytes;
  const auto corrupt = drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "corrupt.db").string());
  CHECK(corrupt.exit_code == 2);
  CHECK_THAT(corrupt.err, Catch::Contains("corrupt.db") && Catch::Contains("trailer"));

  // What etcd would refuse at the restore step is refused here, before any host is touched.
  std::ofstream(dir.path / "notes.txt") << "not a snapshot\n";
  const auto text = drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "notes.txt").string());
  CHECK(text.exit_code == 2);
  CHECK_THAT(text.err, Catch::Contains("no etcd integrity trailer"));
  std::ofstream(dir.path / "plus1.db", std::ios::binary) << slurp(goodSnapshot(dir)) << "x";
  const auto appended = drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "plus1.db").string());
  CHECK(appended.exit_code == 2);
  CHECK_THAT(appended.err, Catch::Contains("plus1.db") && Catch::Contains("no etcd integrity trailer"));
}

TEST_CASE("drctl plan reads the snapshot's revision from the file, so verify-etcd checks it", "[cli][plan]") {
  TempDir dir;
  const auto json = drctl(dir, "plan -i " + kInventory + " -s " + goodSnapshot(dir).string() + " -o json");
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains("--min-revision 12"));
  CHECK_THAT(json.out, !Catch::Contains("--min-revision 0"));
  CHECK_THAT(json.err, !Catch::Contains("revision is unknown"));
  CHECK_THAT(json.out, !Catch::Contains("--skip-hash-check"));
  // A trailerless db only on the operator's word, and then the restore skips etcd's check consistently.
  dr::test::writeTinySnapshot(dir.path / "member-db", dr::test::tinyWith(5, false));
  const auto refused = drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "member-db").string());
  CHECK(refused.exit_code == 2);
  const auto vouched =
      drctl(dir, "plan -i " + kInventory + " -s " + (dir.path / "member-db").string() + " --skip-hash-check -o json");
  REQUIRE(vouched.exit_code == 0);
  CHECK_THAT(vouched.out, Catch::Contains("--skip-hash-check"));
  CHECK_THAT(vouched.out, Catch::Contains("--min-revision 5"));
}

TEST_CASE("drctl plan: an unknown template or output format exits 2", "[cli][plan]") {
  TempDir dir;
  const auto base = "plan -i " + kInventory + " -s " + goodSnapshot(dir).string();
  const auto plan = drctl(dir, base + " -p no-such-plan");
  CHECK(plan.exit_code == 2);
  CHECK_FALSE(plan.err.empty());
  CHECK(drctl(dir, base + " -o html").exit_code == 2);
}

TEST_CASE("drctl plan --help explains it with an example", "[cli][plan]") {
  TempDir dir;
  const auto help = drctl(dir, "plan --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Examples:") && Catch::Contains("drctl plan -i inventory/kubeadm-3.yaml"));
}
