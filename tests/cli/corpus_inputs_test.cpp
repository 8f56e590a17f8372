// The binary inputs of the hostile-input corpus (tests/corpus/): files no text editor makes (a bbolt snapshot, a
// framed journal) written by the project's own writers, so they stay what drctl reads. A hidden test: run it only
// to regenerate them, then review and commit the result:
//   ./build/tests/test_cli '[.corpus-inputs]'
// The visible test below checks that the committed files are still what the generator writes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "exec/journal.h"
#include "exec/run_session.h"
#include "fixtures/temp_dir.h"
#include "fixtures/tiny_snapshot.h"

namespace fs = std::filesystem;
using namespace dr;

namespace {

const char* const kRunId = "20261205-000000-corpus";

std::string readBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

JournalRecord started(const std::string& mode) {
  JournalRecord r;
  r.type = RecordType::RunStarted;
  r.time_ms = 1764892800000;
  r.run_id = kRunId;
  r.mode = mode;
  r.fingerprint = "0000000000000000000000000000000000000000000000000000000000000000";
  return r;
}

void writeJournal(const fs::path& path, const std::vector<JournalRecord>& records) {
  fs::remove(path);
  auto writer = JournalWriter::create(path);
  REQUIRE(writer.ok());
  for (const auto& r : records) REQUIRE(writer->append(r).ok());
}

// Writes every generated input under `root` (tests/corpus).
void generate(const fs::path& root) {
  const fs::path common = root / "common";
  fs::create_directories(common);
  test::writeTinySnapshot(common / "snapshot.db");

  // A run that was applied and stopped after its first step: plan, run info and journal as drctl writes them.
  fs::remove_all(common / "runs");
  Plan plan;
  plan.name = "corpus";
  Step step;
  step.id = "preflight";
  step.action = "preflight";
  step.host = "local";
  step.command = "true";
  plan.steps.push_back(step);
  plan.fingerprint = started("apply").fingerprint;
  RunInfo info;
  info.run_id = kRunId;
  info.cluster = "corpus";
  info.fingerprint = plan.fingerprint;
  info.created_ms = started("apply").time_ms;
  auto made = createRun(common / "runs", info, plan);
  REQUIRE(made.ok());
  // createRun stamps the wall clock: rewrite the journal with fixed times so regeneration is byte-stable.
  JournalRecord step_started;
  step_started.type = RecordType::StepStarted;
  step_started.time_ms = started("apply").time_ms + 1;
  step_started.step_id = "preflight";
  step_started.attempt = 1;
  step_started.host = "local";
  writeJournal(made->dir.journalPath(), {started("apply"), step_started});

  // Journals that do not hold one run's history.
  writeJournal(root / "cases" / "journal-without-run-started" / "journal", {step_started});
  writeJournal(root / "cases" / "journal-with-two-applies" / "journal", {started("apply"), started("apply")});
}

}  // namespace

TEST_CASE("regenerate the corpus's binary inputs", "[.corpus-inputs]") {
  generate(fs::path(DR_SOURCE_DIR) / "tests" / "corpus");
}

TEST_CASE("the corpus's committed binary inputs are what the generator writes", "[cli][corpus]") {
  test::TempDir tmp;
  for (const char* dir : {"cases/journal-without-run-started", "cases/journal-with-two-applies"}) {
    fs::create_directories(tmp.path / dir);
  }
  generate(tmp.path);
  const fs::path committed = fs::path(DR_SOURCE_DIR) / "tests" / "corpus";
  for (const auto& entry : fs::recursive_directory_iterator(tmp.path)) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = fs::relative(entry.path(), tmp.path);
    INFO(relative.string() << " (regenerate: ./build/tests/test_cli '[.corpus-inputs]')");
    REQUIRE(fs::exists(committed / relative));
    CHECK(readBytes(committed / relative) == readBytes(entry.path()));
  }
}
