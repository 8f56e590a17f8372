#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
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

namespace {
// Runs the host SHA-256 command on "hello\n" with PATH set to `path`; its first word, taken as the plan's restore
// step takes it (`sum=$(...)`, then `${sum%% *}`: openssl prints "HEX *stdin", sha256sum "HEX  -").
std::string hostSha256Of(const std::string& path) {
  const std::string command =
      "printf 'hello\\n' | PATH=" + path + " /bin/sh -c " +
      dr::shellQuote("sum=$(" + std::string(dr::kHostSha256Command) + ") && printf '%s\\n' \"${sum%% *}\"");
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[128];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}
}  // namespace

TEST_CASE("the host SHA-256 command hashes stdin with openssl, or with sha256sum where openssl is missing", "[core]") {
  const std::string expected = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
  CHECK(hostSha256Of("/usr/bin:/bin") == expected);
  // A PATH with sha256sum but no openssl.
  char dir_template[] = "/tmp/dr-sha256-path.XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  REQUIRE(::symlink("/usr/bin/sha256sum", (dir + "/sha256sum").c_str()) == 0);
  CHECK(hostSha256Of(dir) == expected);
  std::filesystem::remove_all(dir);
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
