// The report files written from real run directories (plan.json, a JournalWriter journal, step logs): contents,
// escaping of hostile output and names, well-formed XML and SVG (checked by xmllint), determinism, and errors.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "report/run_report.h"
#include "report_test_support.h"

using namespace dr;
using namespace dr::test;
namespace fs = std::filesystem;

namespace {

struct Written {
  std::string json, md, junit, svg;
  nlohmann::json parsed;
};

Written writeAndRead(const RunDirectory& run, const fs::path& out) {
  auto status = writeRunReport(run, out);
  INFO((status ? std::string() : status.error().message));
  REQUIRE(status.ok());
  Written w{readText(out / "report.json"), readText(out / "report.md"), readText(out / "junit.xml"),
            readText(out / "timeline.svg"), {}};
  CHECK(xmlProblems(out / "junit.xml").empty());
  CHECK(xmlProblems(out / "timeline.svg").empty());
  w.parsed = nlohmann::json::parse(w.json);  // throws (and fails the test) when not valid JSON/UTF-8
  return w;
}

std::vector<JournalRecord> finishedRun(const Plan& plan) {
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, plan.steps.size());
  script.end(RecordType::RunFinished, 11300);
  return script.records;
}

}  // namespace

TEST_CASE("a finished run's report: outcome, RTO, timelines, what was verified, junit and svg", "[report][files]") {
  TempDir tmp;
  const Plan plan = samplePlan();
  const auto run = writeRun(tmp.path() / "runs", "run-ok", plan, finishedRun(plan),
                            {{"verify-etcd", "--- verify-etcd attempt 1 on controller ---\n2 members healthy, leader m1\n"},
                             {"verify-apiserver@10.0.0.1", "--- verify-apiserver@10.0.0.1 attempt 1 on 10.0.0.1 ---\nreadyz ok\n"}});
  const Written w = writeAndRead(run, tmp.path() / "out");

  const auto& j = w.parsed;
  CHECK(j["format"] == "drctl-run-report/1");
  CHECK(j["run_id"] == "run-ok");
  CHECK(j["cluster"] == "prod-east");
  CHECK(j["outcome"] == "succeeded");
  CHECK(j["rto"]["complete"] == true);
  CHECK(j["rto"]["ms"] == 10090);
  CHECK(j["counts"]["done"] == 11);
  CHECK(j["verified"] == nlohmann::json::array({"verify-etcd", "verify-apiserver@10.0.0.1"}));
  CHECK(j["steps"][5]["id"] == "restore@m2");
  CHECK(j["steps"][5]["offset_ms"] == 100 + 5 * 1010);
  CHECK(j["steps"][5]["duration_ms"] == 1000);
  CHECK(j["steps"][8]["output_tail"] == "2 members healthy, leader m1");
  CHECK(j["hosts"].size() == 3);

  CHECK(w.md.rfind("# Run report: prod-east — full-restore — run-ok\n", 0) == 0);
  CHECK(w.md.find("| Outcome | **succeeded** |") != std::string::npos);
  CHECK(w.md.find("| Fingerprint | " + plan.fingerprint + " |") != std::string::npos);
  CHECK(w.md.find("**10.090 s**, from the start of stop-apiserver@10.0.0.1 (+1.110 s) to the end of "
                  "verify-apiserver@10.0.0.1 (+11.200 s).") != std::string::npos);
  CHECK(w.md.find("### 10.0.0.2\n") != std::string::npos);
  CHECK(w.md.find("| restore@m2 | restore | done | 5.150 | 1.000 | 1 | 0 |") != std::string::npos);
  CHECK(w.md.find("- **verify-etcd** on controller: done in 1.000 s") != std::string::npos);
  CHECK(w.md.find("```\n2 members healthy, leader m1\n```") != std::string::npos);
  CHECK(w.md.find("## Failures\n\nNone.") != std::string::npos);
  CHECK(w.md.find("```mermaid\nflowchart TD\n") != std::string::npos);
  CHECK(w.md.find("  s4 --> s6\n") != std::string::npos);  // restore@m1 -> start-etcd@m1
  CHECK(w.md.find("  class s0,s1,s2,s3,s4,s5,s6,s7,s8,s9,s10 done\n") != std::string::npos);

  CHECK(w.junit.find("tests=\"11\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"11.000\"") != std::string::npos);
  CHECK(countOf(w.junit, "<testsuite ") == 3);
  CHECK(w.junit.find("<testcase classname=\"10.0.0.1\" name=\"restore@m1\" time=\"1.000\"/>") != std::string::npos);
  CHECK(w.junit.find("<system-out>readyz ok</system-out>") != std::string::npos);
  CHECK(w.junit.find("<property name=\"rto_seconds\" value=\"10.090\"/>") != std::string::npos);

  CHECK(countOf(w.svg, "<rect class=\"lane\"") == 3);
  CHECK(countOf(w.svg, "<rect class=\"done\"") == 11 + 1);  // a bar per step, and the legend
  CHECK(w.svg.find("RTO 10.090 s") != std::string::npos);
  CHECK(w.svg.find(">10.0.0.2</text>") != std::string::npos);

  // The same inputs give the same bytes.
  const Written again = writeAndRead(run, tmp.path() / "out2");
  CHECK(again.json == w.json);
  CHECK(again.md == w.md);
  CHECK(again.junit == w.junit);
  CHECK(again.svg == w.svg);
}

TEST_CASE("a failed run's report: the failure with its escaped output, not-started steps skipped in junit",
          "[report][files]") {
  TempDir tmp;
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 5);
  script.started("restore@m2", 5200).failedStep("restore@m2", 5900, 700, 2, "exit code 2: </failure><x>&");
  script.end(RecordType::RunHalted, 6000, "step restore@m2 on 10.0.0.2 failed");
  const auto run = writeRun(tmp.path() / "runs", "run-failed", plan, script.records,
                            {{"restore@m2", "--- restore@m2 attempt 1 on 10.0.0.2 ---\n" + kHostileOutput +
                                                "--- failed: exit code 2 ---\n"}});
  const Written w = writeAndRead(run, tmp.path() / "out");

  CHECK(w.parsed["outcome"] == "failed");
  CHECK(w.parsed["rto"]["complete"] == false);
  CHECK(w.parsed["rto"]["ms"] == 6000 - 1110);
  CHECK(w.parsed["counts"]["not_started"] == 5);
  const std::string tail = w.parsed["steps"][5]["output_tail"];
  CHECK(tail.find("</failure><x>&") != std::string::npos);  // JSON carries it as data
  CHECK(tail.find('\x1b') == std::string::npos);
  CHECK(tail.find('\0') == std::string::npos);

  // junit: the failure, escaped in the attribute and in the text; never the raw markup.
  CHECK(w.junit.find("<failure message=\"exit code 2: &lt;/failure&gt;&lt;x&gt;&amp;\" type=\"exit code 2\">") !=
        std::string::npos);
  CHECK(w.junit.find("error: &lt;/failure&gt;&lt;x&gt;&amp; &quot;quoted&quot; &apos;single&apos; ]]&gt;") !=
        std::string::npos);
  CHECK(w.junit.find("</failure><x>") == std::string::npos);
  CHECK(w.junit.find(" end\n--- failed: exit code 2 ---</failure>") != std::string::npos);  // text keeps its lines
  CHECK(countOf(w.junit, "<skipped message=\"not started\"/>") == 5);
  CHECK(w.junit.find("failures=\"1\" errors=\"0\" skipped=\"5\"") != std::string::npos);

  // report.md: the failure's tail in a fence longer than the ``` inside it; escape codes replaced.
  CHECK(w.md.find("| Outcome | **failed** |") != std::string::npos);
  CHECK(w.md.find("**Not recovered.** The service has been down for at least **4.890 s**") != std::string::npos);
  CHECK(w.md.find("### restore@m2 on 10.0.0.2: failed after 1 attempt\n") != std::string::npos);
  CHECK(w.md.find("````\nerror: </failure><x>& \"quoted\" 'single' ]]> ``` | pipe") != std::string::npos);
  CHECK(w.md.find('\x1b') == std::string::npos);
  CHECK(w.md.find("  class s5 failed\n") != std::string::npos);
  CHECK(w.md.find("  class s6,s7,s8,s9,s10 not_started\n") != std::string::npos);

  CHECK(countOf(w.svg, "<rect class=\"failed\"") == 1 + 1);
  CHECK(w.svg.find("not recovered, down 4.890 s so far") != std::string::npos);
  CHECK(w.svg.find("</failure><x>") == std::string::npos);
}

TEST_CASE("a halted-then-resumed run's report: both sessions, retries, skipped steps, RTO across the halt",
          "[report][files]") {
  TempDir tmp;
  const Plan plan = samplePlan();
  JournalScript script(plan);
  script.runStarted(0);
  runSequentially(script, plan, 4);
  script.started("restore@m1", 4140).finished("restore@m1", 4800, 660);
  script.started("restore@m2", 4140).failedStep("restore@m2", 4500, 360, 1, "exit code 1: no space left");
  script.end(RecordType::RunHalted, 4900, "step restore@m2 on 10.0.0.2 failed");
  script.runStarted(65000, "resume");
  script.ran("restore@m2", 65100, 900);
  script.skipped("start-etcd@m1", 66100, "its check passed: already done");
  script.ran("start-etcd@m2", 66100, 800);
  script.ran("verify-etcd", 67900, 1000);
  script.ran("start-apiserver@10.0.0.1", 69000, 500);
  script.ran("verify-apiserver@10.0.0.1", 69600, 400);
  script.end(RecordType::RunFinished, 70100);
  const auto run = writeRun(tmp.path() / "runs", "run-resumed", plan, script.records,
                            {{"restore@m2", "--- restore@m2 attempt 1 on 10.0.0.2 ---\nno space left\n"
                                            "--- failed: exit code 1 ---\n"
                                            "--- restore@m2 attempt 1 on 10.0.0.2 ---\nrestored 3000 keys\n"}});
  const Written w = writeAndRead(run, tmp.path() / "out");

  CHECK(w.parsed["outcome"] == "succeeded");
  CHECK(w.parsed["sessions"].size() == 2);
  CHECK(w.parsed["sessions"][0]["end"] == "halted");
  CHECK(w.parsed["sessions"][1]["mode"] == "resume");
  CHECK(w.parsed["rto"]["ms"] == 70000 - 1110);
  CHECK(w.parsed["steps"][5]["attempts"] == 2);
  CHECK(w.parsed["steps"][5]["total_ms"] == 1260);
  CHECK(w.parsed["steps"][5]["output_tail"] == "restored 3000 keys");  // the last attempt's output only
  CHECK(w.parsed["steps"][6]["state"] == "skipped");

  CHECK(w.md.find("| Sessions | apply (halted), then resume (finished) |") != std::string::npos);
  CHECK(w.md.find("| restore@m2 | restore | done | 4.140 | 0.900 (1.260) | 2 | 0 |") != std::string::npos);
  CHECK(w.md.find("| start-etcd@m1 | start-etcd | skipped | 66.100 | – | 0 | 0 |") != std::string::npos);
  CHECK(w.md.find("**68.890 s**") != std::string::npos);
  CHECK(w.md.find("### Failed attempts later overcome\n\n- restore@m2 on 10.0.0.2, at +4.140 s (session 1, attempt 1): "
                  "exit code 1: no space left\n") != std::string::npos);

  CHECK(w.junit.find("<testcase classname=\"10.0.0.2\" name=\"restore@m2\" time=\"1.260\">") != std::string::npos);
  CHECK(w.junit.find("<system-out>not run: its check passed: already done</system-out>") != std::string::npos);
  CHECK(w.junit.find("failures=\"0\"") != std::string::npos);

  // Both attempts of restore@m2 are drawn: a failed bar and a done bar; the skip is a marker.
  CHECK(countOf(w.svg, "<rect class=\"failed\"") == 1 + 1);
  CHECK(countOf(w.svg, "<rect class=\"skipped\"") == 1 + 1);
  CHECK(w.svg.find("restore@m2 on 10.0.0.2: attempt 1 failed in 0.360 s — exit code 1: no space left") !=
        std::string::npos);
}

TEST_CASE("hostile step ids and hosts are escaped in every file", "[report][files]") {
  TempDir tmp;
  Plan plan;
  plan.name = "full-restore";
  const std::string id = "verify-apiserver@<b>\"m|1\"</b>&`x`";
  const std::string host = "h<1>|&\"";
  plan.steps = {makeStep("stop-apiserver@a", "stop-apiserver", host, {}),
                makeStep(id, "verify-apiserver", host, {"stop-apiserver@a"})};
  plan.fingerprint = computeFingerprint(plan);
  JournalScript script(plan);
  script.runStarted(0).ran("stop-apiserver@a", 10, 100).started(id, 200);
  script.failedStep(id, 300, 100, 1, "exit code 1: <script>alert(1)</script>");
  script.end(RecordType::RunHalted, 400, "failed");
  const auto run = writeRun(tmp.path() / "runs", "run-hostile", plan, script.records,
                            {{id, "--- " + id + " attempt 1 on " + host + " ---\n" + kHostileOutput}});
  const Written w = writeAndRead(run, tmp.path() / "out");

  CHECK(w.parsed["steps"][1]["id"] == id);
  CHECK(w.junit.find("classname=\"h&lt;1&gt;|&amp;&quot;\" name=\"verify-apiserver@&lt;b&gt;&quot;m|1&quot;&lt;/b&gt;&amp;`x`\"") !=
        std::string::npos);
  CHECK(w.md.find("| verify-apiserver@&lt;b&gt;\"m\\|1\"&lt;/b&gt;&amp;\\`x\\` | verify-apiserver | failed |") !=
        std::string::npos);
  CHECK(w.md.find("<script>") == std::string::npos);
  CHECK(w.md.find("### h&lt;1&gt;\\|&amp;\"\n") != std::string::npos);
  // Mermaid labels: quotes, brackets, pipes and angle brackets are entity codes, so no label can end early.
  CHECK(w.md.find("subgraph h0[\"h#60;1#62;#124;#38;#34;\"]") != std::string::npos);
  CHECK(w.md.find("s1[\"verify-apiserver@#60;b#62;#34;m#124;1#34;#60;/b#62;#38;#96;x#96; #40;failed#41;\"]") !=
        std::string::npos);
  CHECK(w.svg.find("<b>") == std::string::npos);
  CHECK(w.svg.find("&lt;b&gt;") != std::string::npos);
}

TEST_CASE("report errors name the file: missing or malformed plan.json, a corrupt journal, an unwritable output",
          "[report][files][errors]") {
  TempDir tmp;
  const Plan plan = samplePlan();
  const fs::path runs = tmp.path() / "runs";

  SECTION("missing plan.json") {
    auto run = RunDirectory::create(runs, "no-plan");
    REQUIRE(run.ok());
    auto status = writeRunReport(*run, tmp.path() / "out");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("plan.json"));
    CHECK_FALSE(fs::exists(tmp.path() / "out" / "report.json"));
  }
  SECTION("plan.json that is not JSON, or not a plan") {
    auto run = RunDirectory::create(runs, "bad-plan");
    REQUIRE(run.ok());
    REQUIRE(run->writeFileAtomically("plan.json", "{not json").ok());
    auto status = writeRunReport(*run, tmp.path() / "out");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("plan.json") && Catch::Contains("not valid JSON"));
    REQUIRE(run->writeFileAtomically("plan.json", R"({"plan": 42})").ok());
    status = writeRunReport(*run, tmp.path() / "out");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("plan.json"));
  }
  SECTION("a journal damaged in the middle") {
    auto run = writeRun(runs, "corrupt", plan, finishedRun(plan));
    std::string bytes = readText(run.journalPath());
    bytes[kJournalHeaderSize + 3] ^= 0x20;  // inside the first record's payload; more records follow
    std::ofstream(run.journalPath(), std::ios::binary | std::ios::trunc) << bytes;
    auto status = writeRunReport(run, tmp.path() / "out");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("journal"));
  }
  SECTION("an output directory that cannot be created") {
    auto run = writeRun(runs, "ok", plan, finishedRun(plan));
    std::ofstream(tmp.path() / "a-file") << "x";
    auto status = writeRunReport(run, tmp.path() / "a-file" / "out");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("a-file"));
  }
  SECTION("a run refused before its first step (no journal) still gets a report: nothing ran") {
    auto run = RunDirectory::create(runs, "no-journal");
    REQUIRE(run.ok());
    REQUIRE(run->writeFileAtomically("plan.json", planToJson(plan).dump()).ok());
    const Written w = writeAndRead(*run, run->reportDir());
    CHECK(w.parsed["outcome"] == "not-started");
    CHECK(w.parsed["rto"].is_null());
    CHECK(countOf(w.junit, "<skipped message=\"not started\"/>") == 11);
  }
}

TEST_CASE("a torn journal tail is reported, and the records before it count", "[report][files]") {
  TempDir tmp;
  const Plan plan = samplePlan();
  auto records = finishedRun(plan);
  records.pop_back();  // no RunFinished: drctl died while writing it
  auto run = writeRun(tmp.path() / "runs", "torn", plan, records);
  JournalRecord last;
  last.type = RecordType::RunFinished;
  last.time_ms = kT0 + 11300;
  const std::string half = encodeJournalRecord(last).substr(0, 12);
  std::ofstream(run.journalPath(), std::ios::binary | std::ios::app) << half;
  const Written w = writeAndRead(run, tmp.path() / "out");
  CHECK(w.parsed["journal"]["torn_tail"] == true);
  CHECK(w.parsed["outcome"] == "incomplete");
  CHECK(w.parsed["counts"]["done"] == 11);
  CHECK(w.md.find("> **Note:** the journal ended in a torn record") != std::string::npos);
}
