// Hand-built runs for the report tests: a small two-member restore plan, a journal written record by record with
// fixed times (so every offset, duration and RTO is known exactly), and run directories in a temp dir that is
// removed when the test ends, pass or fail.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "exec/journal.h"
#include "exec/run_dir.h"
#include "plan/plan.h"
#include "plan/plan_json.h"

namespace dr::test {

inline constexpr std::int64_t kT0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

// Output no report may pass through raw: XML and Markdown syntax, a CDATA end, a code fence, an ANSI colour,
// a NUL, invalid UTF-8.
inline const std::string kHostileOutput =
    std::string("error: </failure><x>& \"quoted\" 'single' ]]> ``` | pipe \x1b[31mred\x1b[0m ") + '\0' + "\xff\xfe end\n";

inline Step makeStep(std::string id, std::string action, std::string host, std::vector<std::string> needs,
                     std::string member = "") {
  Step s;
  s.id = std::move(id);
  s.template_id = s.id.substr(0, s.id.find('@'));
  s.action = std::move(action);
  s.description = "the " + s.action + " step";
  s.host = std::move(host);
  s.member = std::move(member);
  s.needs = std::move(needs);
  s.command = "true";
  return s;
}

// preflight -> stop-apiserver -> stop-etcd x2 -> restore x2 -> start-etcd x2 -> verify-etcd -> start/verify-apiserver
inline Plan samplePlan() {
  Plan plan;
  plan.name = "full-restore";
  plan.steps = {
      makeStep("preflight", "preflight", "controller", {}),
      makeStep("stop-apiserver@10.0.0.1", "stop-apiserver", "10.0.0.1", {"preflight"}),
      makeStep("stop-etcd@m1", "stop-etcd", "10.0.0.1", {"stop-apiserver@10.0.0.1"}, "m1"),
      makeStep("stop-etcd@m2", "stop-etcd", "10.0.0.2", {"stop-apiserver@10.0.0.1"}, "m2"),
      makeStep("restore@m1", "restore", "10.0.0.1", {"stop-etcd@m1", "stop-etcd@m2"}, "m1"),
      makeStep("restore@m2", "restore", "10.0.0.2", {"stop-etcd@m1", "stop-etcd@m2"}, "m2"),
      makeStep("start-etcd@m1", "start-etcd", "10.0.0.1", {"restore@m1", "restore@m2"}, "m1"),
      makeStep("start-etcd@m2", "start-etcd", "10.0.0.2", {"restore@m1", "restore@m2"}, "m2"),
      makeStep("verify-etcd", "verify-etcd", "controller", {"start-etcd@m1", "start-etcd@m2"}),
      makeStep("start-apiserver@10.0.0.1", "start-apiserver", "10.0.0.1", {"verify-etcd"}),
      makeStep("verify-apiserver@10.0.0.1", "verify-apiserver", "10.0.0.1", {"start-apiserver@10.0.0.1"}),
  };
  plan.fingerprint = computeFingerprint(plan);
  return plan;
}

// Builds journal records with explicit times (milliseconds after kT0).
class JournalScript {
 public:
  explicit JournalScript(const Plan& plan) : plan_(plan) {}

  JournalScript& runStarted(std::int64_t at, std::string mode = "apply") {
    JournalRecord r = base(RecordType::RunStarted, at);
    r.fingerprint = plan_.fingerprint;
    r.run_id = "run-1";
    r.mode = std::move(mode);
    records.push_back(r);
    return *this;
  }
  JournalScript& started(const std::string& id, std::int64_t at, int attempt = 1) {
    JournalRecord r = step(RecordType::StepStarted, id, at);
    r.attempt = attempt;
    records.push_back(r);
    return *this;
  }
  JournalScript& finished(const std::string& id, std::int64_t at, std::int64_t duration, int attempt = 1) {
    JournalRecord r = step(RecordType::StepFinished, id, at);
    r.attempt = attempt, r.duration_ms = duration, r.exit_code = 0;
    r.output_sha256 = std::string(64, 'a');
    records.push_back(r);
    return *this;
  }
  JournalScript& failedStep(const std::string& id, std::int64_t at, std::int64_t duration, int exit_code,
                            std::string message, int attempt = 1) {
    JournalRecord r = step(RecordType::StepFailed, id, at);
    r.attempt = attempt, r.duration_ms = duration, r.exit_code = exit_code, r.message = std::move(message);
    records.push_back(r);
    return *this;
  }
  // A step that starts at `at` and succeeds `duration` ms later.
  JournalScript& ran(const std::string& id, std::int64_t at, std::int64_t duration) {
    return started(id, at).finished(id, at + duration, duration);
  }
  JournalScript& skipped(const std::string& id, std::int64_t at, std::string message) {
    JournalRecord r = step(RecordType::StepSkipped, id, at);
    r.exit_code = 0, r.message = std::move(message);
    records.push_back(r);
    return *this;
  }
  JournalScript& end(RecordType type, std::int64_t at, std::string message = "") {
    JournalRecord r = base(type, at);
    r.message = std::move(message);
    records.push_back(r);
    return *this;
  }
  JournalScript& undo(RecordType type, const std::string& id, std::int64_t at, std::int64_t duration = 0,
                      int attempt = 1) {
    JournalRecord r = step(type, id, at);
    r.attempt = attempt, r.duration_ms = duration;
    if (type != RecordType::UndoStarted) r.exit_code = type == RecordType::UndoFailed ? 1 : 0;
    records.push_back(r);
    return *this;
  }

  JournalContents contents() const { return JournalContents{records, false, 0, ""}; }

  std::vector<JournalRecord> records;

 private:
  JournalRecord base(RecordType type, std::int64_t at) const {
    JournalRecord r;
    r.type = type;
    r.time_ms = kT0 + at;
    return r;
  }
  JournalRecord step(RecordType type, const std::string& id, std::int64_t at) const {
    JournalRecord r = base(type, at);
    r.step_id = id;
    const Step* s = plan_.find(id);
    r.host = s ? s->host : "unknown";
    return r;
  }
  const Plan& plan_;
};

// The steps of samplePlan run one after the other from t=100 ms, each taking 1 s, with 10 ms gaps; `upto` steps.
inline void runSequentially(JournalScript& script, const Plan& plan, std::size_t upto, std::int64_t from = 100) {
  for (std::size_t i = 0; i < upto && i < plan.steps.size(); ++i) {
    script.ran(plan.steps[i].id, from + static_cast<std::int64_t>(i) * 1010, 1000);
  }
}

// A temp directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("dr-report-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A run directory under runs_root holding plan.json, run.json, a real journal (JournalWriter) and step logs.
inline RunDirectory writeRun(const std::filesystem::path& runs_root, const std::string& run_id, const Plan& plan,
                             const std::vector<JournalRecord>& records,
                             const std::vector<std::pair<std::string, std::string>>& logs = {}) {
  auto run = RunDirectory::create(runs_root, run_id);
  REQUIRE(run.ok());
  REQUIRE(run->writeFileAtomically("plan.json", planToJson(plan).dump(2)).ok());
  RunInfo info;
  info.run_id = run_id;
  info.cluster = "prod-east";
  info.fingerprint = plan.fingerprint;
  REQUIRE(run->writeRunInfo(info).ok());
  auto writer = JournalWriter::create(run->journalPath(), JournalOptions{false});
  REQUIRE(writer.ok());
  for (const auto& record : records) REQUIRE(writer->append(record).ok());
  for (const auto& [step_id, text] : logs) {
    std::ofstream out(run->stepLogPath(step_id), std::ios::binary);
    out << text;
  }
  return std::move(*run);
}

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// xmllint's verdict on a file: empty when well-formed, its complaints otherwise.
inline std::string xmlProblems(const std::filesystem::path& file) {
  const std::string command = "xmllint --noout '" + file.string() + "' 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != 0 && output.empty()) output = "xmllint failed with status " + std::to_string(status);
  return output;
}

inline std::size_t countOf(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace dr::test
