#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/result.h"
#include "core/sha256.h"
#include "core/shell.h"
#include "core/suggest.h"

using namespace dr;

TEST_CASE("shellQuote leaves safe words alone and makes hostile ones inert", "[core]") {
  CHECK(shellQuote("etcd-1") == "etcd-1");
  CHECK(shellQuote("https://10.0.0.1:2380") == "https://10.0.0.1:2380");
  CHECK(shellQuote("") == "''");
  CHECK(shellQuote("a;rm -rf /") == "'a;rm -rf /'");
  CHECK(shellQuote("$(reboot)") == "'$(reboot)'");
  CHECK(shellQuote("it's") == "'it'\\''s'");
}

TEST_CASE("closestMatch suggests near misses only", "[core]") {
  const std::vector<std::string> keys{"members", "api_servers", "defaults", "tooling"};
  CHECK(closestMatch("member", keys) == std::optional<std::string>("members"));
  CHECK(closestMatch("api_server", keys) == std::optional<std::string>("api_servers"));
  CHECK_FALSE(closestMatch("zzzzzz", keys).has_value());
  CHECK(editDistance("kitten", "sitting") == 3);
}

TEST_CASE("sha256 matches the known vector", "[core]") {
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 streaming;
  streaming.update(std::string_view("a"));
  streaming.update(std::string_view("bc"));
  CHECK(streaming.finishHex() == sha256Hex("abc"));
}

TEST_CASE("Result carries a value or an error", "[core]") {
  Result<int> good = 3;
  Result<int> bad = fail("{}: broken", "x");
  REQUIRE(good.ok());
  CHECK(*good == 3);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "x: broken");
  CHECK_THROWS_AS(bad.value(), std::logic_error);
}

TEST_CASE("Diagnostic renders as FILE:LINE:COLUMN: message", "[core]") {
  Diagnostic error{Severity::Error, {"inv.yaml", 3, 5}, "unknown key 'nmae'"};
  Diagnostic warning{Severity::Warning, {"inv.yaml", 1, 1}, "even member count"};
  CHECK(error.str() == "inv.yaml:3:5: unknown key 'nmae'");
  CHECK(warning.str() == "inv.yaml:1:1: warning: even member count");
  CHECK(hasErrors({error, warning}));
  CHECK_FALSE(hasErrors({warning}));
}
