// Opening an existing run (see run_loading.h).
#include "run_loading.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

#include "exec/journal.h"
#include "plan/plan_json.h"

namespace dr::cli {

std::optional<OpenedRun> openRun(const std::string& who, const std::string& runs_root, const std::string& run_id,
                                 int& exit_code) {
  exit_code = 2;
  if (Status valid = validateRunId(run_id); !valid) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), valid.error().message.c_str());
    return std::nullopt;
  }
  auto dir = RunDirectory::open(runs_root, run_id);
  if (!dir) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), dir.error().message.c_str());
    return std::nullopt;
  }
  exit_code = 1;
  auto info = dir->readRunInfo();
  if (!info) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), info.error().message.c_str());
    return std::nullopt;
  }
  auto plan_text = dir->readFile("plan.json");
  if (!plan_text) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), plan_text.error().message.c_str());
    return std::nullopt;
  }
  auto json = nlohmann::json::parse(*plan_text, nullptr, false);
  if (json.is_discarded()) {
    std::fprintf(stderr, "%s: %s is not valid JSON\n", who.c_str(), dir->planPath().c_str());
    return std::nullopt;
  }
  auto plan = planFromJson(json);
  if (!plan) {
    std::fprintf(stderr, "%s: %s: %s\n", who.c_str(), dir->planPath().c_str(), plan.error().message.c_str());
    return std::nullopt;
  }
  auto journal = readJournal(dir->journalPath());
  if (!journal) {
    std::fprintf(stderr, "%s: the journal is damaged, so the run's state cannot be trusted: %s\n", who.c_str(),
                 journal.error().message.c_str());
    return std::nullopt;
  }
  exit_code = 0;
  OpenedRun run{std::move(dir).value(), std::move(info).value(), std::move(plan).value(), {}, journal->torn_tail,
                journal->tail_note};
  run.summary = summarizeJournal(journal->records, &run.plan);
  return run;
}

std::vector<std::string> describePlanChanges(const Plan& before, const Plan& now) {
  std::vector<std::string> lines;
  std::set<std::string> keys;
  for (const auto& [k, v] : before.inputs) keys.insert(k);
  for (const auto& [k, v] : now.inputs) keys.insert(k);
  for (const auto& key : keys) {
    auto a = before.inputs.find(key);
    auto b = now.inputs.find(key);
    const std::string was = a == before.inputs.end() ? "(none)" : a->second;
    const std::string is = b == now.inputs.end() ? "(none)" : b->second;
    if (was != is) lines.push_back(fmt::format("input {} changed: {} -> {}", key, was, is));
  }
  if (before.name != now.name) lines.push_back(fmt::format("plan template changed: {} -> {}", before.name, now.name));
  for (const auto& step : before.steps) {
    const Step* other = now.find(step.id);
    if (other == nullptr) {
      lines.push_back(fmt::format("step {} was removed", step.id));
      continue;
    }
    std::vector<std::string> fields;
    if (step.command != other->command) fields.push_back("command");
    if (step.check != other->check) fields.push_back("check");
    if (step.undo != other->undo) fields.push_back("undo");
    if (step.host != other->host) fields.push_back(fmt::format("host ({} -> {})", step.host, other->host));
    if (step.needs != other->needs) fields.push_back("needs");
    if (step.upload.has_value() != other->upload.has_value() ||
        (step.upload && (step.upload->local_path != other->upload->local_path ||
                         step.upload->remote_path != other->upload->remote_path ||
                         step.upload->sha256 != other->upload->sha256))) {
      fields.push_back("upload");
    }
    if (step.timeout != other->timeout || step.retries != other->retries || step.idempotent != other->idempotent) {
      fields.push_back("timeout/retries");
    }
    if (!fields.empty()) lines.push_back(fmt::format("step {}: {} changed", step.id, fmt::join(fields, ", ")));
  }
  for (const auto& step : now.steps) {
    if (before.find(step.id) == nullptr) lines.push_back(fmt::format("step {} was added", step.id));
  }
  if (lines.empty() && before.fingerprint != now.fingerprint) {
    lines.push_back(fmt::format("fingerprint changed: {} -> {}", before.fingerprint, now.fingerprint));
  }
  return lines;
}

}  // namespace dr::cli
