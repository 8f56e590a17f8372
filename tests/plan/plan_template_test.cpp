// The template loader: every error a template author can make is reported with its FILE:LINE:COLUMN, all at
// once; the built-in full-restore template loads; durations parse.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "plan/plan_template.h"
#include "plan/planner.h"
#include "plan_test_support.h"

using namespace dr;

namespace {

std::vector<std::string> errorsOf(const std::string& yaml) {
  auto load = parsePlanTemplate(yaml, "t.yaml");
  std::vector<std::string> out;
  for (const auto& d : load.diagnostics) out.push_back(d.str());
  if (!out.empty()) CHECK_FALSE(load.plan_template.has_value());
  return out;
}

// True when one diagnostic starts with `prefix` (location and the start of the message).
bool hasDiagnostic(const std::vector<std::string>& diagnostics, const std::string& prefix) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [&](const std::string& d) { return d.rfind(prefix, 0) == 0; });
}

std::string all(const std::vector<std::string>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d + "\n";
  return out;
}

const char* kGood = R"YAML(name: t
description: a small valid template
steps:
  - id: a
    foreach: etcd_members
    run: echo ${member.name}
  - id: b
    foreach: once
    needs: [all:a]
    run: echo ${run.id}
    timeout: 1m30s
    retries: 2
    idempotent: true
)YAML";

}  // namespace

TEST_CASE("a valid template loads with every field", "[template]") {
  auto load = parsePlanTemplate(kGood, "t.yaml");
  INFO(test::joined(load.diagnostics));
  REQUIRE(load.plan_template);
  const auto& t = *load.plan_template;
  CHECK(t.name == "t");
  REQUIRE(t.steps.size() == 2);
  CHECK(t.steps[0].foreach == Foreach::EtcdMembers);
  CHECK(t.steps[0].action == "a");  // action defaults to the id
  CHECK(t.steps[0].run.text == "echo ${member.name}");
  CHECK(t.steps[0].run.where.line == 6);
  CHECK(t.steps[1].needs.size() == 1);
  CHECK(t.steps[1].needs[0].step_id == "a");
  CHECK(t.steps[1].needs[0].every_instance);
  CHECK(t.steps[1].timeout == std::chrono::seconds(90));
  CHECK(t.steps[1].retries == 2);
  CHECK(t.steps[1].idempotent);
  CHECK(t.source_sha256.size() == 64);
}

TEST_CASE("unknown keys are reported where they are, with a did-you-mean", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
stepz: []
steps:
  - id: a
    nedds: [b]
    run: echo hi
    upload: {from: /a, too: /b}
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:2:1: unknown key 'stepz' in plan template; did you mean 'steps'?"));
  CHECK(hasDiagnostic(errors, "t.yaml:5:5: unknown key 'nedds' in a step; did you mean 'needs'?"));
  CHECK(hasDiagnostic(errors, "t.yaml:7:24: unknown key 'too' in upload; did you mean 'to'?"));
  CHECK(hasDiagnostic(errors, "t.yaml:7:13: upload is missing 'to'"));
}

TEST_CASE("an unknown step id in needs is located, with a did-you-mean", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: stop-etcd
    run: "true"
  - id: restore
    needs: [stop-etdc, all:nowhere]
    run: "true"
)YAML");
  INFO(all(errors));
  REQUIRE(errors.size() == 2);
  CHECK(hasDiagnostic(errors,
                      "t.yaml:6:13: unknown step id 'stop-etdc' in the needs of step 'restore'; did you mean 'stop-etcd'?"));
  CHECK(hasDiagnostic(errors, "t.yaml:6:24: unknown step id 'nowhere' in the needs of step 'restore'"));
}

TEST_CASE("a duplicate step id is an error at the second definition", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    run: "true"
  - id: a
    run: "false"
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:5:5: duplicate step id 'a' (first defined at line 3)"));
}

TEST_CASE("a cycle is an error that names the whole cycle", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    needs: [c]
    run: "true"
  - id: b
    needs: [a]
    run: "true"
  - id: c
    needs: [b]
    run: "true"
  - id: d
    needs: [d]
    run: "true"
)YAML");
  INFO(all(errors));
  REQUIRE(errors.size() == 2);
  // Reported at the needs entry that closes the cycle (b needs a).
  CHECK(hasDiagnostic(errors, "t.yaml:7:13: cycle in needs: a -> c -> b -> a"));
  CHECK(hasDiagnostic(errors, "t.yaml:13:13: cycle in needs: d -> d"));
}

TEST_CASE("unknown variables are located inside the command, with a did-you-mean", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: etcd_members
    run: |
      echo ok &&
      echo ${member.nmae} ${member.name}
    check: test -d ${member.data_dri}
  - id: b
    run: echo ${nothing.like.this}
)YAML");
  INFO(all(errors));
  REQUIRE(errors.size() == 3);
  CHECK(hasDiagnostic(errors, "t.yaml:7:12: unknown variable ${member.nmae} in step 'a'; did you mean ${member.name}?"));
  CHECK(hasDiagnostic(errors,
                      "t.yaml:8:20: unknown variable ${member.data_dri} in step 'a'; did you mean ${member.data_dir}?"));
  CHECK(hasDiagnostic(errors, "t.yaml:10:15: unknown variable ${nothing.like.this} in step 'b'"));
}

TEST_CASE("a member variable outside a per-member step is an error", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: once
    run: echo ${member.name}
  - id: b
    foreach: etcd_members
    run: echo ${apiserver.readyz_url}
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:5:15: ${member.name} is only available in steps with foreach: etcd_members"));
  CHECK(hasDiagnostic(errors,
                      "t.yaml:8:15: ${apiserver.readyz_url} is only available in steps with foreach: api_servers"));
}

TEST_CASE("malformed variables and command variables in uploads are errors", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: etcd_members
    run: echo ${} ${member.name
    upload: {from: "${member.service.stop}", to: /x}
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:5:15: malformed variable '${}'"));
  CHECK(hasDiagnostic(errors, "t.yaml:5:19: unterminated variable"));
  CHECK(hasDiagnostic(errors, "t.yaml:6:21: ${member.service.stop} is a command; upload takes paths and hashes"));
}

TEST_CASE("an upload's sha256 must be hex or one variable, its 'to' absolute", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: etcd_members
    upload: {from: /a, to: relative/x, sha256: "not-hex; rm -rf /"}
  - id: b
    foreach: etcd_members
    upload: {from: /a, to: "${member.snapshot_path}", sha256: "${snapshot.sha256}x"}
  - id: c
    foreach: etcd_members
    upload: {from: /a, to: "${member.snapshot_path}", sha256: "${snapshot.sha256}"}
  - id: d
    upload: {from: /a, to: /x, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF}
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:5:28: upload 'to' must be an absolute path (or start with a ${...} path "
                              "variable), not 'relative/x'"));
  CHECK(hasDiagnostic(errors, "t.yaml:5:48: upload 'sha256' must be 64 hex digits or one ${...} variable (e.g. "
                              "${snapshot.sha256})"));
  CHECK(hasDiagnostic(errors, "t.yaml:8:63: upload 'sha256' must be 64 hex digits or one ${...} variable (e.g. "
                              "${snapshot.sha256})"));
  CHECK(errors.size() == 3);  // c and d are fine
}

TEST_CASE("a variable inside a here-document is refused; after its delimiter it is fine", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: etcd_members
    run: |
      cat > /tmp/x <<EOF
      name=${member.name}
      EOF
      echo ${member.name}
      cat <<-'END' <<< ${member.name}
      	${member.data_dir}
      	END
      tr a b <<<${member.name}
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:7:12: ${member.name} is inside a here-document: its quotes are literal text "
                              "there and the shell would still run a $(...) in its value; pass the value as a "
                              "command argument instead"));
  CHECK(hasDiagnostic(errors, "t.yaml:11:8: ${member.data_dir} is inside a here-document: its quotes are literal "
                              "text there and the shell would still run a $(...) in its value; pass the value as a "
                              "command argument instead"));
  CHECK(errors.size() == 2);
}

TEST_CASE("a second YAML document in a template is an error where it starts, not silently dropped", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    run: "true"
---
name: other
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:6:1: a second YAML document starts here: a plan template is one document"));
}

TEST_CASE("a variable inside shell quotes is refused; inside $(...) it is fine", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: etcd_members
    run: |
      echo "name: ${member.name}"
      echo 'dir ${member.data_dir}'
      test -z "$(ls -A ${member.restore_dir})"
      # a comment's apostrophe (don't) does not open a quote: ${member.name}
      echo ${member.name}
)YAML");
  INFO(all(errors));
  REQUIRE(errors.size() == 2);
  CHECK(hasDiagnostic(errors, "t.yaml:6:19: ${member.name} is inside quotes"));
  CHECK(hasDiagnostic(errors, "t.yaml:7:17: ${member.data_dir} is inside quotes"));
}

TEST_CASE("a bad foreach is an error with a did-you-mean", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: etcd_member
    run: "true"
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:4:14: bad foreach 'etcd_member' in step 'a': expected etcd_members, api_servers, "
                              "replaced_members, components, kubelets or once; did you mean 'etcd_members'?"));
}

TEST_CASE("bad durations, retries and idempotent values are located", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    run: "true"
    timeout: 5 minutes
    retries: -1
    idempotent: maybe
  - id: b
    run: "true"
    timeout: 0s
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:5:14: bad duration '5 minutes' for timeout"));
  CHECK(hasDiagnostic(errors, "t.yaml:6:14: retries must be a whole number from 0 to 100, not '-1'"));
  CHECK(hasDiagnostic(errors, "t.yaml:7:17: idempotent must be true or false, not 'maybe'"));
  CHECK(hasDiagnostic(errors, "t.yaml:10:14: bad duration '0s' for timeout"));
}

TEST_CASE("structural errors: missing name, empty steps, a step with nothing to do, a bad id", "[template]") {
  CHECK(hasDiagnostic(errorsOf("steps: []\n"), "t.yaml:1:1: missing field 'name'"));
  CHECK(hasDiagnostic(errorsOf("name: t\nsteps: []\n"), "t.yaml:2:8: steps must be a non-empty list of steps"));
  CHECK(hasDiagnostic(errorsOf("name: t\n"), "t.yaml:1:1: missing field 'steps'"));
  CHECK(hasDiagnostic(errorsOf("- a\n- b\n"), "t.yaml:1:1: a plan template is a mapping"));
  CHECK(hasDiagnostic(errorsOf("name: t\nsteps:\n  - id: a\n"), "t.yaml:3:5: step 'a' has nothing to do"));
  CHECK(hasDiagnostic(errorsOf("name: t\nsteps:\n  - run: x\n"), "t.yaml:3:5: a step is missing its 'id'"));
  CHECK(hasDiagnostic(errorsOf("name: t\nsteps:\n  - id: a@b\n    run: x\n"),
                      "t.yaml:3:9: step id 'a@b' must be letters, digits"));
  CHECK(hasDiagnostic(errorsOf("name: t\nsteps: [\n"), "t.yaml:"));  // not YAML
}

TEST_CASE("every problem is reported at once", "[template]") {
  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: sometimes
    needs: [zzz]
    run: echo ${member.nope}
    timeout: soon
)YAML");
  INFO(all(errors));
  CHECK(errors.size() == 4);
}

TEST_CASE("durations", "[template]") {
  CHECK(parseDuration("90s") == std::chrono::seconds(90));
  CHECK(parseDuration("5m") == std::chrono::seconds(300));
  CHECK(parseDuration("1h") == std::chrono::seconds(3600));
  CHECK(parseDuration("1m30s") == std::chrono::seconds(90));
  CHECK(parseDuration("45") == std::chrono::seconds(45));
  CHECK_FALSE(parseDuration(""));
  CHECK_FALSE(parseDuration("0"));
  CHECK_FALSE(parseDuration("5x"));
  CHECK_FALSE(parseDuration("m"));
  CHECK_FALSE(parseDuration("-5s"));
  CHECK_FALSE(parseDuration("1m30"));
  CHECK_FALSE(parseDuration("9999h"));
}

TEST_CASE("the built-in full-restore is plans/full-restore.yaml, byte for byte", "[template]") {
  auto builtin = loadPlanTemplateByNameOrPath("full-restore");
  INFO(test::joined(builtin.diagnostics));
  REQUIRE(builtin.plan_template);
  CHECK(builtin.diagnostics.empty());
  auto file = loadPlanTemplateByNameOrPath(std::string(DR_SOURCE_DIR) + "/plans/full-restore.yaml");
  REQUIRE(file.plan_template);
  CHECK(builtin.plan_template->source_sha256 == file.plan_template->source_sha256);
  CHECK(builtin.plan_template->name == "full-restore");
  CHECK(builtinPlanTemplateNames() == std::vector<std::string>{"full-restore", "replace-member"});
  CHECK(builtin.plan_template->uses_snapshot);
  CHECK_FALSE(builtin.plan_template->replaces_members);
  auto replace = loadPlanTemplateByNameOrPath("replace-member");
  INFO(test::joined(replace.diagnostics));
  REQUIRE(replace.plan_template);
  auto replace_file = loadPlanTemplateByNameOrPath(std::string(DR_SOURCE_DIR) + "/plans/replace-member.yaml");
  REQUIRE(replace_file.plan_template);
  CHECK(replace.plan_template->source_sha256 == replace_file.plan_template->source_sha256);
  CHECK_FALSE(replace.plan_template->uses_snapshot);  // Raft copies the data: planned without a snapshot
  CHECK(replace.plan_template->replaces_members);
}

TEST_CASE("replaced_members steps see member variables; serial: STEP and on: controller are checked", "[template]") {
  auto ok = parsePlanTemplate(R"YAML(name: t
steps:
  - id: fence
    foreach: replaced_members
    serial: verify
    run: echo ${member.name} ${member.data_dir}
  - id: verify
    foreach: replaced_members
    on: controller
    needs: [fence]
    run: drctl etcd verify -i ${inventory.path}
)YAML",
                              "t.yaml");
  INFO(test::joined(ok.diagnostics));
  REQUIRE(ok.plan_template);
  const auto& fence = ok.plan_template->steps[0];
  CHECK(fence.foreach == Foreach::ReplacedMembers);
  CHECK(fence.serial);
  CHECK(fence.serial_after == "verify");
  CHECK(ok.plan_template->steps[1].on_controller);
  CHECK(ok.plan_template->replaces_members);
  CHECK_FALSE(ok.plan_template->uses_snapshot);

  auto errors = errorsOf(R"YAML(name: t
steps:
  - id: a
    foreach: replaced_members
    serial: verfy
    run: "true"
  - id: b
    foreach: etcd_members
    serial: a
    run: "true"
  - id: c
    on: controller
    run: "true"
  - id: d
    foreach: etcd_members
    on: elsewhere
    run: "true"
)YAML");
  INFO(all(errors));
  CHECK(hasDiagnostic(errors, "t.yaml:3:5: unknown step id 'verfy' in serial of step 'a'"));
  CHECK(hasDiagnostic(errors, "t.yaml:7:5: serial: a of step 'b' names a step with another foreach"));
  CHECK(hasDiagnostic(errors, "t.yaml:12:9: on: controller is for per-instance steps"));
  CHECK(hasDiagnostic(errors, "t.yaml:16:9: on must be controller or host, not 'elsewhere'"));
  CHECK(errors.size() == 4);
}

TEST_CASE("an unknown built-in name or an unreadable file is an error", "[template]") {
  auto load = loadPlanTemplateByNameOrPath("full-restor");
  REQUIRE(load.diagnostics.size() == 1);
  CHECK_FALSE(load.plan_template);
  CHECK(load.diagnostics[0].message.find("did you mean 'full-restore'?") != std::string::npos);

  auto missing = loadPlanTemplateByNameOrPath("/nonexistent/dir/plan.yaml");
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].str().rfind("/nonexistent/dir/plan.yaml:0:0: cannot open the plan template", 0) == 0);
}

TEST_CASE("a template file path is read from disk", "[template]") {
  const auto path = std::filesystem::temp_directory_path() / "dr-plan-template-test.yaml";
  std::ofstream(path) << kGood;
  auto load = loadPlanTemplateByNameOrPath(path.string());
  std::filesystem::remove(path);
  INFO(test::joined(load.diagnostics));
  REQUIRE(load.plan_template);
  CHECK(load.plan_template->steps.size() == 2);
}

TEST_CASE("the full-restore template has the actions of the docs/design.md contract", "[template]") {
  const auto& t = test::fullRestoreTemplate();
  std::vector<std::string> actions;
  for (const auto& step : t.steps) {
    if (std::find(actions.begin(), actions.end(), step.action) == actions.end()) actions.push_back(step.action);
  }
  CHECK(actions == std::vector<std::string>{"preflight", "lock", "stop-apiserver", "stop-component", "stop-etcd",
                                            "restart-kubelet", "upload-snapshot", "restore", "swap-data-dir",
                                            "start-etcd", "verify-etcd", "start-apiserver",
                                            "verify-apiserver", "start-component", "remove-snapshot", "unlock"});
  // Every step that changes anything can be checked and undone; removing the staged snapshot has nothing to put back
  // (the snapshot is still on the operator's side), so it is checked only. A kubelet restart leaves nothing to
  // check afterwards (repeating it is harmless), and its undo only makes sure the kubelet runs.
  for (const auto& step : t.steps) {
    if (step.action == "preflight" || step.action.rfind("verify", 0) == 0) continue;
    INFO(step.id);
    if (step.action != "restart-kubelet") CHECK_FALSE(step.check.empty());
    if (step.action != "remove-snapshot") CHECK_FALSE(step.undo.empty());
  }
  CHECK(t.find("lock-member")->serial);
}
