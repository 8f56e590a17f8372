// The DOT drawing: structure, escaping of hostile names, and (when Graphviz is installed) that `dot -Tsvg`
// accepts it and draws exactly the plan's steps and hosts.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "plan/plan_render.h"
#include "render_sample.h"

using namespace dr;
namespace fs = std::filesystem;

namespace {

std::size_t countOf(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

std::size_t needCount(const Plan& plan) {
  std::size_t count = 0;
  for (const auto& step : plan.steps) count += step.needs.size();
  return count;
}

PlanContext titled() {
  PlanContext context;
  context.cluster = "prod-east";
  context.run_id = "run-42";
  return context;
}

bool haveDot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// Runs `dot -Tsvg` on the text; returns the exit status and the SVG. Temp files are removed whatever happens.
struct DotRun {
  int status = -1;
  std::string svg;
};
DotRun runDot(const std::string& dot_text) {
  const fs::path dir = fs::temp_directory_path() / ("dr-render-dot-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { fs::remove_all(dir); }
  } cleanup{dir};
  std::ofstream(dir / "plan.dot") << dot_text;
  DotRun run;
  run.status = std::system(("dot -Tsvg " + (dir / "plan.dot").string() + " -o " + (dir / "plan.svg").string() +
                            " 2>" + (dir / "err").string())
                               .c_str());
  std::ifstream in(dir / "plan.svg");
  std::stringstream buffer;
  buffer << in.rdbuf();
  run.svg = buffer.str();
  std::ifstream err(dir / "err");
  std::stringstream errors;
  errors << err.rdbuf();
  INFO("dot stderr: " << errors.str());
  CHECK(errors.str().empty());
  return run;
}

}  // namespace

TEST_CASE("dot: one cluster per host, one node per step, one edge per need", "[plan][render][dot]") {
  const Plan plan = test::samplePlan();
  auto dot = renderPlanDot(plan, titled());
  REQUIRE(dot.ok());
  CHECK(dot->rfind("digraph \"full-restore\" {\n", 0) == 0);
  CHECK(dot->substr(dot->size() - 2) == "}\n");
  CHECK(countOf(*dot, "subgraph \"cluster_") == 4);
  CHECK_THAT(*dot, Catch::Contains("subgraph \"cluster_controller\" {"));
  CHECK_THAT(*dot, Catch::Contains("subgraph \"cluster_10.0.0.2\" {\n    label=\"10.0.0.2\\netcd-b\";"));
  CHECK(countOf(*dot, " -> ") == needCount(plan));
  CHECK_THAT(*dot, Catch::Contains("[label=\"restore\\netcd-a\", tooltip=\"restore@etcd-a: Do restore\""));
  // The title's middle dot is emitted as an entity: the file stays ASCII.
  CHECK_THAT(*dot, Catch::Contains("label=\"full-restore &#183; cluster prod-east &#183; run run-42\\nfingerprint "));
  for (const char c : *dot) CHECK(static_cast<unsigned char>(c) < 0x80);
}

TEST_CASE("dotQuote escapes what DOT and Graphviz labels would interpret", "[plan][render][dot]") {
  CHECK(dotQuote("etcd-a") == "\"etcd-a\"");
  CHECK(dotQuote("a\"b") == "\"a\\\"b\"");
  CHECK(dotQuote("a\\Nb") == "\"a\\\\Nb\"");
  CHECK(dotQuote("x&lt;y") == "\"x&amp;lt;y\"");
  CHECK(dotQuote("two\nlines") == "\"two\\nlines\"");
  CHECK(dotQuote("é") == "\"&#233;\"");
  CHECK(dotQuote(std::string("bad\xff")) == "\"bad&#65533;\"");
  CHECK(dotQuote("\x1b") == "\"&#27;\"");
}

TEST_CASE("dot: hostile member names cannot break the graph", "[plan][render][dot]") {
  const std::vector<std::string> hostile = {"a\"]; evil [label=\"x", "b\\\"} digraph { c", "$(reboot);<b>&amp;"};
  const Plan plan = test::samplePlan(hostile);
  auto dot = renderPlanDot(plan);
  REQUIRE(dot.ok());
  // Outside quoted strings only the generated structure remains: no `evil` node, no second digraph.
  std::string unquoted;
  bool in_quotes = false;
  for (std::size_t i = 0; i < dot->size(); ++i) {
    const char c = (*dot)[i];
    if (in_quotes && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"') {
      in_quotes = !in_quotes;
      continue;
    }
    if (!in_quotes) unquoted += c;
  }
  CHECK_FALSE(in_quotes);
  CHECK(unquoted.find("evil") == std::string::npos);
  CHECK(countOf(unquoted, "digraph") == 1);
  CHECK(countOf(unquoted, "{") == countOf(unquoted, "}"));

  if (!haveDot()) {
    WARN("graphviz's dot is not installed: skipping the render check (./run setup installs it)");
    return;
  }
  const DotRun run = runDot(*dot);
  REQUIRE(run.status == 0);
  // Graphviz drew exactly the plan: one node per step, one cluster per host, one edge per need.
  CHECK(countOf(run.svg, "class=\"node\"") == plan.steps.size());
  CHECK(countOf(run.svg, "class=\"cluster\"") == 4);
  CHECK(countOf(run.svg, "class=\"edge\"") == needCount(plan));
  // And the hostile names came through as text (XML-escaped by Graphviz), not as syntax.
  CHECK_THAT(run.svg, Catch::Contains("a&quot;]; evil [label=&quot;x"));
  CHECK_THAT(run.svg, Catch::Contains("$(reboot);&lt;b&gt;&amp;amp;"));
}

TEST_CASE("dot: the sample plan renders with dot -Tsvg", "[plan][render][dot]") {
  if (!haveDot()) {
    WARN("graphviz's dot is not installed: skipping (./run setup installs it)");
    return;
  }
  auto dot = renderPlanDot(test::samplePlan(), titled());
  REQUIRE(dot.ok());
  const DotRun run = runDot(*dot);
  CHECK(run.status == 0);
  CHECK_THAT(run.svg, Catch::Contains("<svg"));
  CHECK_THAT(run.svg, Catch::Contains("swap&#45;data&#45;dir") || Catch::Contains("swap-data-dir"));
}
