// The Mermaid drawing: structure, and that hostile member names stay inside their labels as entity codes.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "plan/plan_render.h"
#include "render_sample.h"

using namespace dr;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every line of a chart must be one of the forms the renderer generates. Labels may hold no `"`, `[`, `]`, `;`,
// `#` except in entity codes, which is what keeps a hostile name from closing a label or starting a statement.
void checkGrammar(const std::string& chart) {
  const std::string label = R"(((?:[A-Za-z0-9 _.,:@/=+()-]|#[0-9]+;|<br/>)*))";
  const std::regex header("flowchart TD");
  const std::regex subgraph("  subgraph h[0-9]+\\[\"" + label + "\"\\]");
  const std::regex node("    s[0-9]+\\[\"" + label + "\"\\]:::(stop|start|verify|change|other)");
  const std::regex end("  end");
  const std::regex edge("  s[0-9]+ --> s[0-9]+");
  const std::regex class_def("  classDef (stop|start|verify|change|other) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{3}");
  const auto all = lines(chart);
  REQUIRE_FALSE(all.empty());
  CHECK(std::regex_match(all[0], header));
  for (std::size_t i = 1; i < all.size(); ++i) {
    INFO("line " << i + 1 << ": " << all[i]);
    CHECK((std::regex_match(all[i], subgraph) || std::regex_match(all[i], node) || std::regex_match(all[i], end) ||
           std::regex_match(all[i], edge) || std::regex_match(all[i], class_def)));
  }
}

std::size_t countPrefix(const std::string& chart, const std::string& prefix) {
  std::size_t count = 0;
  for (const auto& line : lines(chart)) count += line.rfind(prefix, 0) == 0 ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("mermaid: a top-down flowchart with one subgraph per host and an arrow per need", "[plan][render][mermaid]") {
  const Plan plan = test::samplePlan();
  auto chart = renderPlanMermaid(plan);
  REQUIRE(chart.ok());
  checkGrammar(*chart);
  CHECK(countPrefix(*chart, "  subgraph ") == 4);
  CHECK(countPrefix(*chart, "  end") == 4);
  CHECK(countPrefix(*chart, "    s") == plan.steps.size());
  std::size_t needs = 0;
  for (const auto& step : plan.steps) needs += step.needs.size();
  CHECK(countPrefix(*chart, "  subgraph ") + needs == countPrefix(*chart, "  s"));
  CHECK_THAT(*chart, Catch::Contains("  subgraph h0[\"controller (this machine)\"]\n    s0[\"preflight\"]:::other\n"));
  CHECK_THAT(*chart, Catch::Contains("  subgraph h2[\"10.0.0.2<br/>etcd-b\"]\n"));
  CHECK_THAT(*chart, Catch::Contains("[\"stop-etcd<br/>etcd-b\"]:::stop\n"));
  CHECK_THAT(*chart, Catch::Contains("  s0 --> s1\n"));
}

TEST_CASE("mermaidText turns everything outside a small allowlist into entity codes", "[plan][render][mermaid]") {
  CHECK(mermaidText("etcd-a.example.com:2380") == "etcd-a.example.com:2380");
  CHECK(mermaidText("a\"b") == "a#34;b");
  CHECK(mermaidText("x;y") == "x#59;y");
  CHECK(mermaidText("#quot;") == "#35;quot#59;");
  CHECK(mermaidText("<script>") == "#60;script#62;");
  CHECK(mermaidText("[end]") == "#91;end#93;");
  CHECK(mermaidText("é") == "#233;");
  CHECK(mermaidText("two\nlines") == "two#10;lines");
}

TEST_CASE("mermaid: hostile member names cannot break the chart", "[plan][render][mermaid]") {
  const Plan plan = test::samplePlan({"a\"] --> evil[\"x", "end", "b;\nsubgraph z\n#quot;<img src=x onerror=alert(1)>"});
  auto chart = renderPlanMermaid(plan);
  REQUIRE(chart.ok());
  checkGrammar(*chart);
  CHECK(countPrefix(*chart, "  subgraph ") == 4);
  CHECK(countPrefix(*chart, "  end") == 4);
  CHECK(chart->find("evil[") == std::string::npos);
  CHECK(chart->find("<img") == std::string::npos);
  CHECK_THAT(*chart, Catch::Contains("a#34;#93; --#62; evil#91;#34;x"));
}
