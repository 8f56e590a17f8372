// The shared core of running a plan (see run_session.h).
#include "exec/run_session.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "exec/clock.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_json.h"
#include "plan/planner.h"

namespace dr {

std::vector<std::string> PlanningOutcome::problemLines() const {
  std::vector<std::string> lines;
  for (const auto& d : inventory_diagnostics) lines.push_back(d.str());
  if (!snapshot_error.empty()) lines.push_back(snapshot_error);
  for (const auto& d : template_diagnostics) lines.push_back(d.str());
  for (const auto& d : plan_diagnostics) lines.push_back(d.str());
  return lines;
}

std::vector<std::string> PlanningOutcome::warningLines() const {
  std::vector<std::string> lines;
  for (const auto* list : {&inventory_diagnostics, &template_diagnostics, &plan_diagnostics}) {
    for (const auto& d : *list) {
      if (d.severity == Severity::Warning) lines.push_back(d.str());
    }
  }
  return lines;
}

PlanningOutcome planRun(const PlanInputs& inputs) {
  PlanningOutcome out;
  auto inventory = loadInventory(inputs.inventory);
  out.inventory_diagnostics = inventory.diagnostics;
  auto loaded = loadPlanTemplateByNameOrPath(inputs.plan_template);
  out.template_diagnostics = loaded.diagnostics;
  // A plan that uses no snapshot is made without one; a replacement (which restores nothing) refuses one, as
  // naming a snapshot then is a mistake worth saying.
  const bool uses_snapshot = !loaded.plan_template || loaded.plan_template->uses_snapshot;
  const bool replaces = loaded.plan_template && loaded.plan_template->replaces_members;
  Result<SnapshotInfo> snapshot = SnapshotInfo{};
  if (replaces && !inputs.snapshot.empty()) {
    out.snapshot_error = inputs.snapshot + ": plan " + loaded.plan_template->name +
                         " restores no snapshot (the other members' data is copied by Raft); leave out -s";
    snapshot = fail("{}", out.snapshot_error);
  } else if (loaded.plan_template && uses_snapshot && inputs.snapshot.empty()) {
    out.snapshot_error = "no snapshot given (-s SNAPSHOT): plan " + loaded.plan_template->name + " restores one";
    snapshot = fail("{}", out.snapshot_error);
  } else if (!inputs.snapshot.empty()) {
    InspectOptions inspect;
    inspect.allow_no_trailer = inputs.allow_no_trailer;
    snapshot = inspectSnapshot(inputs.snapshot, inspect);
    if (!snapshot) out.snapshot_error = snapshot.error().message;
  }
  if (!inventory.inventory || !snapshot || !loaded.plan_template) return out;

  PlanOptions options;
  options.run_id = inputs.run_id;
  options.token = inputs.token;
  options.replace_members = inputs.replace_members;
  options.disarm_alarms = inputs.disarm_alarms;
  options.snapshot_source = inputs.snapshot_source;
  auto build = Planner::build(*inventory.inventory, *snapshot, *loaded.plan_template, options);
  out.plan_diagnostics = build.diagnostics;
  if (!build.plan) return out;
  out.run = PlannedRun{std::move(*inventory.inventory), std::move(snapshot).value(), std::move(*loaded.plan_template),
                       std::move(*build.plan)};
  return out;
}

void prependProgramDirectoryToPath() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return;
  const char* path = std::getenv("PATH");
  const std::string value = self.parent_path().string() + (path != nullptr ? ":" + std::string(path) : "");
  ::setenv("PATH", value.c_str(), 1);
}

HostRouting::HostRouting(const Inventory& inventory, bool accept_new_host_keys)
    : inventory_(inventory), accept_new_host_keys_(accept_new_host_keys) {}

std::map<std::string, HostEndpoint> HostRouting::endpoints(const Plan& plan) {
  std::map<std::string, HostEndpoint> out;
  for (const auto& step : plan.steps) {
    if (!out.count(step.host)) out.emplace(step.host, endpointFor(step.host));
  }
  return out;
}

HostEndpoint HostRouting::endpointFor(const std::string& host) {
  HostEndpoint endpoint;
  endpoint.target.name = host;
  endpoint.target.address = host;
  endpoint.target.accept_new_host_keys = accept_new_host_keys_;
  bool found = false;
  for (const auto& member : inventory_.members) {
    if (member.address == host) {
      endpoint.target.ssh = member.ssh;
      found = true;
      break;
    }
  }
  for (const auto& api : inventory_.api_servers) {
    if (!found && api.address == host) {
      endpoint.target.ssh = api.ssh;
      found = true;
    }
  }
  // One session per host: a host that is neither a member's nor an API server's (a worker's kubelet) takes its
  // component's SSH settings; on a member's or API server's host those come first (a component there starts from
  // them anyway).
  for (const auto* list : {&inventory_.components, &inventory_.kubelets}) {
    for (const auto& component : *list) {
      if (!found && component.address == host) {
        endpoint.target.ssh = component.ssh;
        found = true;
      }
    }
  }
  const bool local = host == kControllerHost || host == "127.0.0.1" || host == "localhost" || host == "::1";
  if (host == kControllerHost) endpoint.target.ssh = SshSettings{};  // the controller's own user, no sudo
  endpoint.transport = local ? static_cast<Transport*>(&local_) : static_cast<Transport*>(&ssh_);
  return endpoint;
}

Result<RunLock> lockClusterForRun(const std::filesystem::path& runs_root, const std::string& cluster,
                                  const std::string& run_id, std::string* took_over) {
  auto lock = RunLock::acquire(runs_root, cluster, run_id);
  if (lock) return lock;
  auto holder = RunLock::inspect(runs_root, cluster);
  if (!holder || !holder->has_value() || !(*holder)->stale || (*holder)->run_id != run_id) return lock;
  if (took_over != nullptr)
    *took_over = "taking over the stale lock of this same run (" + (*holder)->stale_reason + ")";
  if (Status broken = RunLock::breakStale(runs_root, cluster); !broken) return broken.error();
  return RunLock::acquire(runs_root, cluster, run_id);
}

Result<JournalWriter> startJournalSession(const RunDirectory& dir, bool new_run, const RunInfo& info,
                                          const std::string& fingerprint, const std::string& mode) {
  auto journal = new_run ? JournalWriter::create(dir.journalPath()) : JournalWriter::openForAppend(dir.journalPath());
  if (!journal) return journal.error();
  JournalRecord started;
  started.type = RecordType::RunStarted;
  started.time_ms = SystemClock().wallMs();
  started.run_id = info.run_id;
  started.fingerprint = fingerprint;
  started.inventory_path = info.inventory_path;
  started.snapshot_path = info.snapshot_path;
  started.mode = mode;
  if (Status s = journal->append(started); !s) return s.error();
  return journal;
}

Result<NewRun> createRun(const std::filesystem::path& runs_root, const RunInfo& info, const Plan& plan) {
  auto dir = RunDirectory::create(runs_root, info.run_id);
  if (!dir) return dir.error();
  if (Status s = dir->writeFileAtomically("plan.json", planJsonText(plan)); !s) return s.error();
  if (Status s = dir->writeRunInfo(info); !s) return s.error();
  auto journal = startJournalSession(*dir, /*new_run=*/true, info, plan.fingerprint, "apply");
  if (!journal) return journal.error();
  return NewRun{std::move(dir).value(), std::move(journal).value()};
}

RunOpening openRunDirectory(const std::filesystem::path& runs_root, const std::string& run_id) {
  RunOpening out;
  out.not_found = true;
  if (Status valid = validateRunId(run_id); !valid) {
    out.error = valid.error().message;
    return out;
  }
  auto dir = RunDirectory::open(runs_root, run_id);
  if (!dir) {
    out.error = dir.error().message;
    return out;
  }
  out.not_found = false;
  auto info = dir->readRunInfo();
  if (!info) {
    out.error = info.error().message;
    return out;
  }
  auto plan_text = dir->readFile("plan.json");
  if (!plan_text) {
    out.error = plan_text.error().message;
    return out;
  }
  auto json = nlohmann::json::parse(*plan_text, nullptr, false);
  if (json.is_discarded()) {
    out.error = dir->planPath().string() + " is not valid JSON";
    return out;
  }
  auto plan = planFromJson(json);
  if (!plan) {
    out.error = dir->planPath().string() + ": " + plan.error().message;
    return out;
  }
  auto journal = readJournal(dir->journalPath());
  if (!journal) {
    out.error = "the journal is damaged, so the run's state cannot be trusted: " + journal.error().message;
    return out;
  }
  if (Status sessions = checkJournalSessions(journal->records, run_id); !sessions) {
    out.error = fmt::format("{}: {}", dir->journalPath().string(), sessions.error().message);
    return out;
  }
  out.run = OpenedRun{std::move(dir).value(), std::move(info).value(), std::move(plan).value(), {},
                      std::move(journal->records), journal->torn_tail, journal->tail_note};
  out.run->summary = summarizeJournal(out.run->records, &out.run->plan);
  return out;
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
        (step.upload &&
         (step.upload->local_path != other->upload->local_path ||
          step.upload->remote_path != other->upload->remote_path || step.upload->sha256 != other->upload->sha256))) {
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

Result<ExecutionResult> executeRun(const RunExecution& execution) {
  SystemClock system_clock;
  ExecutorEnv env;
  env.hosts = execution.endpoints;
  env.clock = execution.clock != nullptr ? execution.clock : &system_clock;
  env.journal = execution.journal;
  env.observer = execution.observer;
  env.fetch_url = execution.fetch_url;
  const RunDirectory* run_dir = execution.run_dir;
  if (run_dir != nullptr) env.step_log_path = [run_dir](const std::string& id) { return run_dir->stepLogPath(id); };
  Executor executor(*execution.plan, env, execution.options);
  if (execution.attach) execution.attach(&executor);
  auto result = executor.run(execution.directives);
  if (execution.attach) execution.attach(nullptr);
  return result;
}

}  // namespace dr
