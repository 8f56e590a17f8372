// drctl and drd are two front ends of one engine (src/ops/): every decision before a host is touched is made once,
// so the same inputs get the same answer, exit code and message from `drctl CMD` and `drctl --server drd CMD`, and
// neither touches anything when it refuses. Each case below runs through both.
#include <regex>

#include "drd_test_support.h"
#include "fixtures/drd_fixture.h"
#include "fixtures/etcd_fixture.h"

namespace fs = std::filesystem;
using namespace dr::test;

namespace {

// One way of running drctl commands: locally with a runs dir of its own, or through a drd.
struct FrontEnd {
  std::string name;
  std::vector<std::string> prefix;  // drctl [--server ADDRESS]
  std::vector<std::string> suffix;  // [--runs DIR] after the subcommand's own arguments
  fs::path runs;
  ProgramOutput run(std::vector<std::string> args) const {
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), suffix.begin(), suffix.end());
    return runProgram(argv);
  }
  // Run directories (not locks/, not the private plaintext place).
  int runCount() const {
    if (!fs::exists(runs)) return 0;
    int count = 0;
    for (const auto& entry : fs::directory_iterator(runs)) {
      const auto name = entry.path().filename().string();
      count += name != "locks" && !name.starts_with('.') ? 1 : 0;
    }
    return count;
  }
};

struct BothFrontEnds {
  RunSandbox box;
  DrdProcess drd{kDrdBinary, {"--state-dir", box.state().string(), "--input-dir", box.root().string(), "--input-dir", kTestPlansDir}, box.root() / "drd.log"};
  std::vector<FrontEnd> ends;
  BothFrontEnds() {
    auto listening = drd.waitListening();
    INFO(drd.log());
    REQUIRE(listening);
    const fs::path local_runs = box.root() / "local-runs";
    ends.push_back({"drctl", {kDrctlBinary}, {"--runs", local_runs.string()}, local_runs});
    ends.push_back({"drctl --server", {kDrctlBinary, "--server", *listening}, {}, box.runs()});
  }
};

std::string runIdIn(const std::string& output) {
  std::smatch match;
  if (!std::regex_search(output, match, std::regex("run ([0-9]{8}-[0-9]{6}-[0-9a-f]+)[: ]"))) return "";
  return match[1];
}

}  // namespace

TEST_CASE("both front ends refuse an encrypted snapshot without its key before anything runs", "[drd][ops]") {
  BothFrontEnds f;
  const fs::path key = f.box.root() / "key";
  writeText(key, std::string(64, 'c') + "\n");
  const fs::path sealed = f.box.root() / "snap.db.enc";
  REQUIRE(runProgram({kDrctlBinary, "snapshot", "encrypt", "--key-file", key.string(), "-i",
                      f.box.snapshot().string(), "-o", sealed.string()})
              .exit_code == 0);
  for (const auto& end : f.ends) {
    INFO(end.name);
    const auto inventory = f.box.inventory("enc-" + std::to_string(&end - f.ends.data()));
    const auto out =
        end.run({"apply", "-i", inventory.string(), "-s", sealed.string(), "-p", kLocalStepsPlan, "--yes"});
    INFO(out.output);
    CHECK(out.exit_code == 2);
    CHECK_THAT(out.output, Catch::Contains("is an encrypted snapshot: give its key"));
    CHECK(end.runCount() == 0);
    CHECK_FALSE(fs::exists(f.box.memberDir("enc-" + std::to_string(&end - f.ends.data())) / "one"));
  }
}

TEST_CASE("both front ends refuse a full restore while a quorum is healthy", "[drd][ops][etcd]") {
  BothFrontEnds f;
  EtcdCluster cluster({.members = 1});
  // Where drd may read it: under its input dir.
  const fs::path inventory_file = f.box.root() / "etcd-inventory.yaml";
  fs::copy_file(cluster.writeInventoryFile(), inventory_file);
  const std::string inventory = inventory_file.string();
  for (const auto& end : f.ends) {
    INFO(end.name);
    const auto out = end.run({"apply", "-i", inventory, "-s", f.box.snapshot().string(), "--yes"});
    INFO(out.output);
    CHECK(out.exit_code == 1);
    CHECK_THAT(out.output, Catch::Contains("refused: a quorum of the current cluster is healthy"));
    CHECK_THAT(out.output, Catch::Contains("current cluster:"));
    CHECK(end.runCount() == 0);
  }
}

TEST_CASE("both front ends plan and gate a member replacement and a restore from a member alike", "[drd][ops][etcd]") {
  BothFrontEnds f;
  EtcdCluster cluster;
  const fs::path inventory_file = f.box.root() / "etcd-inventory.yaml";
  fs::copy_file(cluster.writeInventoryFile(), inventory_file);
  const std::string inventory = inventory_file.string();
  std::vector<std::string> plans;
  for (const auto& end : f.ends) {
    INFO(end.name);
    // The plan names the member replaced; no snapshot.
    std::vector<std::string> plan_args = end.prefix;  // plan takes no --runs
    for (const char* arg : {"plan", "-i"}) plan_args.push_back(arg);
    for (const std::string& arg : {inventory, std::string("-p"), std::string("replace-member"),
                                   std::string("--member"), std::string("etcd-2")}) {
      plan_args.push_back(arg);
    }
    const auto plan = runProgram(plan_args);
    INFO(plan.output);
    CHECK(plan.exit_code == 0);
    CHECK_THAT(plan.output, Catch::Contains("replacing    etcd-2"));
    plans.push_back(plan.output);
    // Every member healthy: nothing to replace (exit 0, nothing run).
    const auto nothing = end.run({"apply", "-i", inventory, "-p", "replace-member", "--yes"});
    INFO(nothing.output);
    CHECK(nothing.exit_code == 0);
    CHECK_THAT(nothing.output, Catch::Contains("every member is healthy: nothing to replace"));
    // A healthy quorum: a restore from a member is refused after its snapshot was taken, and the copy is gone.
    const auto from = end.run({"apply", "-i", inventory, "--from-member", "etcd-0", "--yes"});
    INFO(from.output);
    CHECK(from.exit_code == 1);
    CHECK_THAT(from.output, Catch::Contains("snapshot taken from member etcd-0's own data") &&
                                Catch::Contains("refused: a quorum of the current cluster is healthy"));
    CHECK(end.runCount() == 0);
    CHECK((!fs::exists(end.runs / ".survivor") || fs::is_empty(end.runs / ".survivor")));
  }
  CHECK(plans[0] == plans[1]);
}

TEST_CASE("both front ends refuse an expired client certificate before anything runs", "[drd][ops]") {
  BothFrontEnds f;
  TestCertificates certificates(f.box.root() / "pki");
  const auto [cert, cert_key] = certificates.issueBetween("expired", "20200101000000Z", "20210101000000Z");
  for (const auto& end : f.ends) {
    INFO(end.name);
    const std::string cluster = "tls-" + std::to_string(&end - f.ends.data());
    const fs::path inventory = f.box.inventory(cluster);
    writeText(inventory, readText(inventory) + "tls:\n  ca: " + certificates.ca.string() + "\n  cert: " +
                             cert.string() + "\n  key: " + cert_key.string() + "\n");
    const auto out =
        end.run({"apply", "-i", inventory.string(), "-s", f.box.snapshot().string(), "-p", kLocalStepsPlan, "--yes"});
    INFO(out.output);
    CHECK(out.exit_code == 1);
    CHECK_THAT(out.output, Catch::Contains("refused: etcd's client certificates cannot be used"));
    CHECK_THAT(out.output, Catch::Contains("expired"));
    CHECK(end.runCount() == 0);
    CHECK_FALSE(fs::exists(f.box.memberDir(cluster) / "one"));
  }
}

TEST_CASE("both front ends refuse to resume a run whose inputs changed", "[drd][ops]") {
  BothFrontEnds f;
  for (const auto& end : f.ends) {
    INFO(end.name);
    const std::string cluster = "changed-" + std::to_string(&end - f.ends.data());
    const fs::path inventory = f.box.inventory(cluster);
    std::string text = readText(inventory);
    const std::string touch = "start: touch";
    text.replace(text.find(touch), touch.size(), "start: false && touch");
    writeText(inventory, text);
    const auto failed =
        end.run({"apply", "-i", inventory.string(), "-s", f.box.snapshot().string(), "-p", kLocalStepsPlan, "--yes"});
    INFO(failed.output);
    REQUIRE(failed.exit_code == 1);
    const std::string id = runIdIn(failed.output);
    REQUIRE_FALSE(id.empty());
    f.box.inventory(cluster);  // the inventory as it was: the plan's `four` command changes
    const auto journal_before = readText(end.runs / id / "journal");
    const auto refused = end.run({"resume", id});
    INFO(refused.output);
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.output, Catch::Contains("the plan changed since run " + id));
    CHECK_THAT(refused.output, Catch::Contains("step four@m1: command"));
    CHECK(readText(end.runs / id / "journal") == journal_before);  // not even a RunStarted was journaled
  }
}
