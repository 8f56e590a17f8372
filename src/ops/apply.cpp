// The apply use case (see apply.h).
#include "ops/apply.h"

#include <fmt/format.h>

#include "etcd/snapshot_save.h"
#include "exec/clock.h"
#include "exec/run_session.h"
#include "inventory/inventory_loader.h"
#include "ops/restore_gate.h"
#include "plan/plan_template.h"

namespace dr::ops {

namespace fs = std::filesystem;

std::string absolutePath(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto abs = fs::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

std::string templateArgument(const std::string& name_or_path) {
  if (name_or_path.empty()) return kDefaultPlanTemplate;
  return namesTemplateFile(name_or_path) ? absolutePath(name_or_path) : name_or_path;
}

namespace {

// A snapshot of a surviving member's own data (restore from a surviving member), where the run keeps it: a dry-run's
// in a private temp dir of its own; a real run's in RUNS/.survivor/RUN_ID.db, removed by `copy` if the apply goes no
// further (the caller keeps it once the run is prepared). Its path, and what was taken, in the notes.
struct SurvivorSnapshot {
  std::string path;
  PlaintextCopy copy;
};
Outcome<SurvivorSnapshot> takeSurvivorSnapshot(const ApplyRequest& request, const std::string& run_id) {
  using Out = Outcome<SurvivorSnapshot>;
  if (!request.snapshot.empty()) {
    return Out::refused(refuse(RefusalKind::BadInput, "-s and --from-member both say where the snapshot comes from: "
                                                      "give one; nothing was run"));
  }
  auto inventory = loadInventory(absolutePath(request.inventory));
  if (!inventory.inventory) {
    std::vector<std::string> lines;
    for (const auto& d : inventory.diagnostics) lines.push_back(d.str());
    return Out::refused(refuse(RefusalKind::BadInput, "nothing was run", std::move(lines)));
  }
  Out out;
  out.value.emplace();
  fs::path file;
  if (request.dry_run) {
    auto temp = makePrivateTempDirectory("drctl-dry-run-");
    if (!temp) return Out::refused(refuse(RefusalKind::Failed, temp.error().message));
    file = *temp / "survivor.db";
    out.value->copy = PlaintextCopy(file, true);
  } else {
    file = survivorPathFor(absolutePath(request.runs_root.string()), run_id);
    if (Status dir = ensurePrivateDirectory(file.parent_path()); !dir) {
      return Out::refused(refuse(RefusalKind::Failed, dir.error().message));
    }
    out.value->copy = PlaintextCopy(file, false);
  }
  SnapshotSaveOptions save;
  save.client.tls = inventory.inventory->tls;
  // Without a quorum every linearizable read in the probe waits out its deadline: keep it short.
  save.client.timeout = std::chrono::milliseconds(2000);
  save.member = request.from_member;
  save.survivor = true;
  auto saved = saveSnapshot(*inventory.inventory, file, save);
  if (!saved) {
    return Out::refused(refuse(RefusalKind::Unsafe, "refused: the snapshot could not be taken from member " +
                                                        request.from_member + ": " + saved.error().message +
                                                        "; nothing was run"));
  }
  // The sidecars are for backups kept on disk; the plan reads the file itself.
  std::error_code ignored;
  fs::remove(saved->checksum_path, ignored);
  fs::remove(saved->sidecar_path, ignored);
  out.notes.push_back(fmt::format(
      "snapshot taken from member {}'s own data: revision {}, {} keys, {} bytes, sha256 {} (every write it applied, "
      "newer ones than a backup's included)",
      saved->member, saved->revision, saved->key_count.value_or(0), saved->size, saved->sha256.substr(0, 16)));
  out.value->path = file.string();
  return out;
}

}  // namespace

Outcome<PreparedSession> prepareApply(const ApplyRequest& request) {
  using Out = Outcome<PreparedSession>;
  if (request.per_host < 1) return Out::refused(refuse(RefusalKind::BadInput, "--per-host must be at least 1"));
  PreparedSession prepared;
  prepared.kind = SessionKind::Apply;
  prepared.mode = "apply";
  prepared.runs_root = request.runs_root;
  const std::string run_id = request.dry_run ? "dry-run" : newRunId();
  const std::string plan_template = templateArgument(request.plan_template);
  const std::string snapshot_path = absolutePath(request.snapshot);
  // The template says what the run needs: a snapshot (full-restore) or members to replace (replace-member).
  const TemplateLoad loaded = loadPlanTemplateByNameOrPath(plan_template);
  const bool replaces = loaded.plan_template && loaded.plan_template->replaces_members;
  if (!request.members_fetch.empty() && (replaces || !request.from_member.empty())) {
    return Out::refused(refuse(RefusalKind::BadInput, "--members-fetch fetches a snapshot from the bucket for a "
                                                      "restore; this run restores no snapshot from there; nothing was "
                                                      "run"));
  }
  if (replaces && !request.from_member.empty()) {
    return Out::refused(refuse(RefusalKind::BadInput, "--from-member restores every member from a snapshot; plan " +
                                                          plan_template + " restores none; nothing was run"));
  }

  std::vector<std::string> notes;
  SurvivorSnapshot survivor;
  if (!request.from_member.empty()) {
    auto taken = takeSurvivorSnapshot(request, run_id);
    notes = std::move(taken.notes);
    if (!taken.ok()) return Out::refused(std::move(*taken.refusal), std::move(notes));
    survivor = std::move(*taken.value);
  }
  // An encrypted snapshot is decrypted on the controller first: for a real run into the runs dir's private place
  // (a resume decrypts to the same path again), for a dry-run into a temp dir of its own.
  PlaintextPlace place;
  if (request.dry_run) {
    place.temp_dir_prefix = "drctl-dry-run-";
  } else {
    place.file = plaintextPathFor(absolutePath(request.runs_root.string()), run_id);
  }
  auto snapshot = prepareSnapshot(survivor.path.empty() ? snapshot_path : survivor.path, request.key, place);
  notes.insert(notes.end(), snapshot.notes.begin(), snapshot.notes.end());
  if (!snapshot.ok()) return Out::refused(std::move(*snapshot.refusal), std::move(notes));
  // A dry-run's copy goes with the session; a real run's stays for its resumes (RunSession removes it at the end).
  if (request.dry_run && !survivor.path.empty()) snapshot.value->plaintext = std::move(survivor.copy);

  PlanInputs inputs{absolutePath(request.inventory), snapshot.value->path.string(), plan_template, run_id, "",
                    request.skip_hash_check, request.replace_members, request.disarm_alarms, request.members_fetch};
  GateOptions gate;
  gate.force = request.force;
  gate.rehearsal = request.dry_run;
  if (replaces) {
    // Which members, and whether replacing them keeps a quorum, is asked of the cluster before the plan is made.
    auto inventory = loadInventory(inputs.inventory);
    if (inventory.inventory) {
      ReplaceDecision decision = checkReplaceGate(*inventory.inventory, request.replace_members, gate);
      notes.insert(notes.end(), decision.notes.begin(), decision.notes.end());
      if (decision.refusal) return Out::refused(std::move(*decision.refusal), std::move(notes));
      inputs.replace_members = decision.replace;
    }
  } else if (!request.replace_members.empty()) {
    return Out::refused(refuse(RefusalKind::BadInput, "--member names members to replace, and plan " +
                                                          plan_template + " replaces none; nothing was run"));
  }
  PlanningOutcome planned = planRun(inputs);
  if (!planned.run) {
    Refusal why = refuse(RefusalKind::BadInput, "nothing was run", planned.problemLines());
    return Out::refused(std::move(why), std::move(notes));
  }
  for (const auto& line : planned.warningLines()) notes.push_back(line);
  if (!replaces) {
    GateDecision decision = checkRestoreGate(planned.run->inventory, gate);
    notes.insert(notes.end(), decision.notes.begin(), decision.notes.end());
    if (decision.refusal) return Out::refused(std::move(*decision.refusal), std::move(notes));
  }

  prepared.info.run_id = run_id;
  prepared.info.cluster = planned.run->inventory.cluster_name;
  prepared.info.inventory_path = absolutePath(request.inventory);
  prepared.info.snapshot_path = survivor.path.empty() ? snapshot_path : survivor.path;
  prepared.info.options.from_member = request.from_member;
  prepared.info.plan_template = plan_template;
  prepared.info.fingerprint = planned.run->plan.fingerprint;
  prepared.info.created_ms = SystemClock().wallMs();
  prepared.info.options.per_host = request.per_host;
  prepared.info.options.accept_new_host_keys = request.accept_new_host_keys;
  const auto& plan_inputs = planned.run->plan.inputs;
  prepared.info.options.token = plan_inputs.count("run.token") ? plan_inputs.at("run.token") : "";
  prepared.info.options.started_by = request.started_by;
  prepared.info.options.skip_hash_check = request.skip_hash_check;
  prepared.info.options.replace_members = inputs.replace_members;
  prepared.info.options.disarm_alarms = request.disarm_alarms;
  prepared.info.options.members_fetch = request.members_fetch;
  prepared.inventory = std::move(planned.run->inventory);
  prepared.plan = std::move(planned.run->plan);
  prepared.executor.per_host = request.per_host;
  prepared.snapshot = std::move(*snapshot.value);
  survivor.copy.keep();
  Out out;
  out.value = std::move(prepared);
  out.notes = std::move(notes);
  return out;
}

DryRunReport rehearse(const PreparedSession& prepared) {
  HostRouting routing(prepared.inventory, prepared.info.options.accept_new_host_keys);
  return dryRun(prepared.plan, routing.endpoints(prepared.plan));
}

}  // namespace dr::ops
