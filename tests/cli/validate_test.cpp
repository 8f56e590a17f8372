// `drctl validate` as a user runs it: the built binary on a good and a bad file, checking the exit code and the
// exact lines on stdout and stderr (the FILE:LINE:COLUMN contract other tools parse).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include "fixtures/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using dr::test::TempDir;

struct Run {
  int exit_code = -1;
  std::vector<std::string> out;
  std::vector<std::string> err;
};

std::vector<std::string> readLines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs drctl from `cwd` with stdout and stderr captured apart.
Run drctl(const std::string& args, const TempDir& tmp, const fs::path& cwd = DR_SOURCE_DIR) {
  const fs::path binary = fs::path(DR_BINARY_DIR) / "orchestrator/drctl";
  REQUIRE(fs::exists(binary));
  const fs::path out = tmp.path / "stdout", err = tmp.path / "stderr";
  const std::string command = "cd " + quote(cwd.string()) + " && " + quote(binary.string()) + " " + args + " >" +
                              quote(out.string()) + " 2>" + quote(err.string());
  const int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = readLines(out);
  run.err = readLines(err);
  return run;
}

}  // namespace

TEST_CASE("drctl validate accepts every shipped example", "[cli][validate]") {
  TempDir tmp;
  struct Example {
    std::string file;
    std::string summary;
  };
  for (const Example& e : {Example{"inventory/kubeadm-3.yaml", "valid: 3 members, 3 API servers, 3 controller managers, "
                                                               "3 schedulers, 3 kubelets"},
                           Example{"inventory/systemd-5.yaml", "valid: 5 members, 2 API servers"},
                           Example{"inventory/lab-3.yaml", "valid: 3 members, 3 API servers, 3 controller managers, "
                                                          "3 schedulers, 3 kubelets"},
                           Example{"inventory/local-1.yaml", "valid: 1 member, 1 API server"}}) {
    INFO(e.file);
    const Run run = drctl("validate -i " + e.file, tmp);
    CHECK(run.exit_code == 0);
    CHECK(run.out == std::vector<std::string>{e.file + ": " + e.summary});
    CHECK(run.err.empty());
  }
}

TEST_CASE("drctl validate prints every problem as FILE:LINE:COLUMN and exits 2", "[cli][validate]") {
  TempDir tmp;
  const fs::path file = tmp.path / "bad.yaml";
  std::ofstream(file) << R"(cluster: c
defaults:
  ssh: {port: 0}
members:
  - name: cp-1
    adress: 10.0.0.11
    peer_url: https://10.0.0.11:2380
  - name: cp-1
    address: 10.0.0.12
    peer_url: https://10.0.0.99:2380
)";
  const Run run = drctl("validate -i " + quote(file.string()), tmp);
  CHECK(run.exit_code == 2);
  CHECK(run.out.empty());
  const std::string f = file.string();
  CHECK(run.err == std::vector<std::string>{
                       f + ":3:15: 'port' in defaults.ssh must be an integer in 1..65535, not '0'",
                       f + ":4:1: warning: 2 members is an even count: a majority of 2 is 2, so it tolerates 0 failed "
                           "member(s), no more than 1 members would; an odd count is usual",
                       f + ":5:5: member is missing required key 'address'",
                       f + ":6:5: unknown key 'adress' in member; did you mean 'address'?",
                       f + ":8:11: duplicate member name 'cp-1' (first used at line 5)",
                       f + ":10:15: 'peer_url' in member host '10.0.0.99' is not the member's address '10.0.0.12': "
                           "etcd peers and SSH must reach the same machine",
                   });
}

TEST_CASE("drctl validate shows warnings of a valid file on stderr and still exits 0", "[cli][validate]") {
  TempDir tmp;
  std::ofstream(tmp.path / "two.yaml") << R"(cluster: c
members:
  - {name: a, address: 10.0.0.1, peer_url: http://10.0.0.1:2380}
  - {name: b, address: 10.0.0.2, peer_url: http://10.0.0.2:2380}
)";
  const Run run = drctl("validate -i two.yaml", tmp, tmp.path);
  CHECK(run.exit_code == 0);
  CHECK(run.out == std::vector<std::string>{"two.yaml: valid: 2 members, 0 API servers"});
  REQUIRE(run.err.size() == 1);
  CHECK(run.err[0].rfind("two.yaml:2:1: warning: 2 members is an even count", 0) == 0);
}

TEST_CASE("drctl validate on an unreadable file, a missing option, and --help", "[cli][validate]") {
  TempDir tmp;
  const Run missing = drctl("validate -i /nonexistent/inv.yaml", tmp);
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == std::vector<std::string>{"/nonexistent/inv.yaml:0:0: cannot open the inventory: No such file or directory"});

  const Run no_option = drctl("validate", tmp);
  CHECK(no_option.exit_code == 2);
  REQUIRE_FALSE(no_option.err.empty());
  CHECK(no_option.err[0].find("--inventory") != std::string::npos);

  const Run help = drctl("validate --help", tmp);
  CHECK(help.exit_code == 0);
  std::string text;
  for (const auto& line : help.out) text += line + "\n";
  CHECK(text.find("drctl validate -i inventory/kubeadm-3.yaml") != std::string::npos);
  CHECK(text.find("FILE:LINE:COLUMN: message") != std::string::npos);
}
