// Applying a plan's commands to the model, with the invariant monitor, faults and crashes: see sim_world.h.
#include "sim/sim_world.h"

#include <fmt/format.h>

#include <algorithm>

#include "exec/journal.h"
#include "sim/script.h"

namespace dr::sim {

namespace {

// Whether an undo's script starts the service only where the data dir exists (`[ -d DATA_DIR ]`): a host that had
// no data dir (a new host) then keeps etcd stopped, and the model must not start it there.
bool guardsDataDir(const std::string& command, const std::string& data_dir) {
  const auto words = shellWords(command);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "-d" && words[i + 1] == data_dir) return true;
  }
  return false;
}

}  // namespace

const char* faultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::Exit: return "non-zero exit";
    case FaultKind::Unreachable: return "host unreachable";
    case FaultKind::Timeout: return "timeout";
  }
  return "?";
}

const char* crashPhaseName(CrashPhase phase) {
  switch (phase) {
    case CrashPhase::Before: return "before";
    case CrashPhase::During: return "during";
    case CrashPhase::After: return "after";
  }
  return "?";
}

SimWorld::SimWorld(ClusterFacts facts, const Plan& plan)
    : facts_(std::move(facts)), plan_(plan), state_(initialState(facts_)), initial_(state_) {
  journal_.world = this;
  // The controller (where `once` steps such as verify-etcd run) is a host without services.
  state_.hosts[kControllerHost].address = kControllerHost;
  initial_ = state_;
}

void SimWorld::beginSession(const std::string& label, bool undo, const Plan* session_plan) {
  undo_ = undo;
  session_plan_ = session_plan;
  failed_step_.clear();
  crashed_ = false;
  torn_pending_ = false;
  started_ = 0;
  trace_.push_back("-- " + label);
}

void SimWorld::violate(const char* invariant, const std::string& detail) {
  // One report per invariant and detail: the same breach seen again later in the run adds nothing.
  for (const auto& v : violations_) {
    if (v.invariant == invariant && v.detail == detail) return;
  }
  // The breaking operation's own trace line is written right after this call.
  violations_.push_back({invariant, detail, trace_.size() + 1});
}

std::string SimWorld::where(const Step& step) const {
  return fmt::format("{} on {}, trace step {}", step.id, step.host, trace_.size() + 1);
}

Status SimWorld::Journal::append(const JournalRecord& record) {
  if (world->crashed_) {
    if (world->torn_pending_) {  // the record being written when the orchestrator died: half of it reached disk
      const std::string full = encodeJournalRecord(record);
      bytes += full.substr(0, full.size() / 2);
      world->torn_pending_ = false;
    }
    return fail("the orchestrator crashed");
  }
  bytes += encodeJournalRecord(record);
  const auto& crash = world->crash;
  if (record.type == RecordType::StepStarted || record.type == RecordType::UndoStarted) {
    ++world->started_;
    if (crash && crash->phase == CrashPhase::Before && world->started_ == crash->step_number) {
      world->crashed_ = true;
      world->note(fmt::format("!! crash after the start record of {}", record.step_id));
    }
  } else if (record.type == RecordType::StepFinished || record.type == RecordType::StepFailed ||
             record.type == RecordType::UndoFinished || record.type == RecordType::UndoFailed) {
    if (crash && crash->phase == CrashPhase::After && world->started_ == crash->step_number) {
      world->crashed_ = true;
      world->note(fmt::format("!! crash after the end record of {}", record.step_id));
    }
  }
  return {};
}

bool SimWorld::anyApiRunning(std::string* which) const {
  for (const auto& [address, h] : state_.hosts) {
    if (h.api_running) {
      if (which) *which = address;
      return true;
    }
  }
  return false;
}

bool SimWorld::anyEtcdRunning(std::string* which) const {
  for (const auto& [address, h] : state_.hosts) {
    if (h.etcd_running) {
      if (which) *which = h.member + " on " + address;
      return true;
    }
  }
  return false;
}

ComponentModel* SimWorld::componentOf(HostModel& h, const Step& step) {
  if (!step.member.empty()) return nullptr;
  const auto at = step.id.find('@');
  if (at == std::string::npos) return nullptr;
  auto it = h.components.find(step.id.substr(at + 1));
  return it == h.components.end() ? nullptr : &it->second;
}

// A component lists what the API servers serve when it starts; with none running it lists once one starts.
CacheOf SimWorld::servedNow() const {
  if (!anyApiRunning()) return CacheOf::Nothing;
  for (const auto& [address, h] : state_.hosts) {
    auto data = h.dirs.find(h.data_dir);
    if (data != h.dirs.end() && data->second.restored) return CacheOf::Restored;
  }
  return CacheOf::OldCluster;
}

void SimWorld::startComponent(ComponentModel& c) {
  c.running = true;
  c.cache = servedNow();
}

void SimWorld::requireAllPreflights(const HostModel& h, const Step& step, const char* what) {
  if (undo_) return;  // a rollback puts back what was there; it has no preflight of its own
  for (const auto& [address, other] : state_.hosts) {
    // The components are the full restore's (a replacement leaves them alone).
    for (const auto& [key, c] : other.components) {
      if (facts_.replacing() || c.preflight) continue;
      violate(kPreflightFirst, fmt::format("{} {} on {} before the preflight of {} passed ({})", step.id, what,
                                           h.address, key, where(step)));
      return;
    }
    // A replacement leaves the API servers alone (no preflight of theirs) but checks each replaced member's host.
    const bool missing =
        (!other.member.empty() && !other.member_preflight) ||
        (facts_.replacing() ? facts_.replaced.count(other.member) > 0 && !other.replace_preflight
                            : other.api && !other.api_preflight);
    if (missing) {
      violate(kPreflightFirst, fmt::format("{} {} on {} before the preflight of {} passed ({})", step.id, what,
                                           h.address, address, where(step)));
      return;
    }
  }
}

// The lock is the cluster's: a change anywhere (a member or an API server host) needs every member's lock.
void SimWorld::requireAllLocked(const std::string& host, const Step& step) {
  for (const auto& member : facts_.members) {
    for (const auto& [address, other] : state_.hosts) {
      if (other.member != member.name || other.locked) continue;
      violate(kLockedFirst, fmt::format("{} {} {} while member {} is not locked by this run ({})", step.id,
                                        undo_ ? "undoes on" : "changes", host, member.name, where(step)));
      return;
    }
  }
}

// Taken after every preflight, in inventory order: two runs then meet at the first member and one gets none.
void SimWorld::lock(HostModel& h, const Step& step) {
  requireAllPreflights(h, step, "takes the lock");
  for (const auto& member : facts_.members) {
    if (member.name == h.member) break;
    for (const auto& [address, other] : state_.hosts) {
      if (other.member == member.name && !other.locked) {
        violate(kLockedFirst, fmt::format("{} locks {} before member {} (earlier in the inventory) is locked ({})",
                                          step.id, h.member, member.name, where(step)));
      }
    }
  }
  h.locked = true;
}

// Released only when the recovery is verified: etcd, and every API server.
void SimWorld::unlock(HostModel& h, const Step& step) {
  bool apis_verified = true;
  for (const auto& [address, other] : state_.hosts) apis_verified = apis_verified && (!other.api || other.api_verified);
  if (facts_.replacing()) {  // the API servers were never touched: every replaced member must be back, verified
    apis_verified = state_.joining.empty();
    for (const auto& member : facts_.replaced) {
      const HostModel* m = memberHost(member);
      auto data = m ? m->dirs.find(m->data_dir) : std::map<std::string, DirContent>::const_iterator{};
      apis_verified = apis_verified && m && m->membership == Membership::Voter && m->etcd_running &&
                      data != m->dirs.end() && data->second.joined;
    }
  }
  if (!state_.etcd_verified || !apis_verified) {
    violate(kLockedFirst, fmt::format("{} releases the lock on {} before the recovery is verified ({})", step.id,
                                      h.member, where(step)));
  }
  for (const auto& [address, other] : state_.hosts) {
    for (const auto& [key, c] : other.components) {
      if (facts_.replacing() || (c.running && c.cache != CacheOf::OldCluster)) continue;
      violate(kLockedFirst, fmt::format("{} releases the lock on {} before {} runs again with a fresh cache ({})",
                                        step.id, h.member, key, where(step)));
    }
  }
  h.locked = false;
}

Status SimWorld::upload(const std::string& host, const UploadRequest& request) {
  if (crashed_) return fail("the orchestrator crashed");
  const Step* step = (session_plan_ ? session_plan_ : &plan_)->find(request.step_id);
  // A step that is only an upload (no command after it) takes every kind of fault here; otherwise exit and timeout
  // faults go to its command.
  const bool upload_only = step != nullptr && step->command.empty();
  if (fault && fault->step_id == request.step_id &&
      (fault->kind == FaultKind::Unreachable || (upload_only && fault->kind == FaultKind::Exit))) {
    const bool refused = fault->kind == FaultKind::Exit;  // the host's hash differed: the staging file is removed
    trace_.push_back(fmt::format("upload {} on {}: {} (fault)", request.step_id, host,
                                 refused ? "hash mismatch, refused" : "unreachable"));
    failed_step_ = request.step_id;
    return refused ? fail("{}: uploaded file has another SHA-256 (simulated fault)", host)
                   : fail("{}: connection lost (simulated fault)", host);
  }
  HostModel& h = state_.hosts[host];
  if (!undo_ && !h.member_preflight) {
    violate(kPreflightFirst, fmt::format("{} uploads to {} before the member's preflight passed (trace line {})",
                                         request.step_id, host, trace_.size() + 1));
  }
  if (step) requireAllLocked(host, *step);
  ++transitions_;
  trace_.push_back(fmt::format("upload {} on {}", request.step_id, host));
  h.files[request.remote_path] = request.expected_sha256;
  h.verified[request.remote_path] = request.expected_sha256;  // the transport checks the hash on the host
  if (step) afterOperation(*step);
  if (upload_only && crash && crash->phase == CrashPhase::During && started_ == crash->step_number) {
    crashed_ = true;
    torn_pending_ = true;
    trace_.push_back(fmt::format("!! crash while {} ran (its effect is in place)", request.step_id));
    return fail("the orchestrator crashed");
  }
  if (fault && upload_only && fault->step_id == request.step_id && fault->kind == FaultKind::Timeout) {
    // The file was placed, but the end of the upload was never seen.
    trace_.back() += " -> timed out (fault)";
    failed_step_ = request.step_id;
    return fail("{}: the upload timed out (simulated fault)", host);
  }
  return {};
}

Result<CommandResult> SimWorld::run(const std::string& host, const CommandRequest& request) {
  if (crashed_) return fail("the orchestrator crashed");
  const Plan& plan = session_plan_ ? *session_plan_ : plan_;
  const Step* step = plan_.find(request.step_id);  // the action comes from the plan being recovered
  if (!step || !plan.find(request.step_id)) {
    return fail("{}: command of an unknown step '{}' (the simulator runs only plan steps)", host, request.step_id);
  }
  const bool is_step = request.purpose == CommandPurpose::Step;
  if (is_step && !undo_ && fault && fault->step_id == step->id) {
    // The failing step's own effect (a timeout after it) is not "after the failure"; what follows it is.
    if (fault->kind != FaultKind::Timeout) failed_step_ = step->id;
    switch (fault->kind) {
      case FaultKind::Unreachable:
        trace_.push_back(fmt::format("run {} on {}: unreachable (fault)", step->id, host));
        return fail("{}: connection lost (simulated fault)", host);
      case FaultKind::Exit: {
        trace_.push_back(fmt::format("run {} on {}: exit 1 (fault)", step->id, host));
        CommandResult r;
        r.exit_code = 1;
        r.output = "simulated failure\n";
        return r;
      }
      case FaultKind::Timeout: {  // the command did its work, too slowly: its effect is in place, its end unknown
        CommandResult r = interpret(host, *step, request.purpose, request.command);
        trace_.back() += " -> timed out (fault)";
        r.exit_code = 124;
        r.timed_out = true;
        failed_step_ = step->id;
        return r;
      }
    }
  }
  CommandResult r = interpret(host, *step, request.purpose, request.command);
  if (is_step && r.exit_code != 0) failed_step_ = step->id;
  if (is_step && crash && crash->phase == CrashPhase::During && started_ == crash->step_number) {
    crashed_ = true;
    torn_pending_ = true;
    trace_.push_back(fmt::format("!! crash while {} ran (its effect is in place)", step->id));
    return fail("the orchestrator crashed");
  }
  return r;
}

CommandResult SimWorld::interpret(const std::string& host, const Step& step, CommandPurpose purpose,
                                  const std::string& command) {
  HostModel& h = state_.hosts[host];
  CommandResult r;
  ++transitions_;
  if (purpose == CommandPurpose::Check) {
    r.exit_code = check(h, step);
    trace_.push_back(fmt::format("check {} on {} -> {}", step.id, host, r.exit_code));
    return r;
  }
  const std::string verb = undo_ ? "undo" : "run";
  const std::string& a = step.action;
  std::string out;
  int code = 0;
  const bool lock_step = a == "lock" || a == "unlock";
  const bool reads_only =
      a == "preflight" || a == "preflight-replaced" || a == "verify-etcd" || a == "verify-apiserver";
  if (!lock_step && !reads_only) requireAllLocked(host, step);
  if (undo_ && lock_step) {
    // Undoing a lock releases it; undoing an unlock (rolling a finished run back) takes it again first.
    h.locked = a == "unlock";
  } else if (ComponentModel* c = componentOf(h, step)) {
    // A controller manager, scheduler or kubelet: stopped, started or restarted (undone the other way round).
    if (a == "preflight") {
      if (!undo_) c->preflight = true;
    } else if (undo_) {
      code = applyScript(h, step, command, out);
      if (code == 0 && a == "stop-component") {
        startComponent(*c);
      } else if (code == 0 && a == "start-component") {
        c->running = false;
        c->cache = CacheOf::Nothing;
      } else if (code == 0 && a == "restart-kubelet" && !c->running) {
        startComponent(*c);  // its undo only makes sure it runs
      }
    } else if (a == "stop-component" || a == "restart-kubelet") {
      requireAllPreflights(h, step, "stops a component");
      c->running = false;
      c->cache = CacheOf::Nothing;
      if (a == "restart-kubelet") startComponent(*c);
    } else if (a == "start-component") {
      for (const auto& [address, other] : state_.hosts) {
        if (!other.api || other.api_verified) continue;
        violate(kFreshCaches, fmt::format("{} starts {} before the API server on {} is verified ({})", step.id,
                                          step.id.substr(step.id.find('@') + 1), address, where(step)));
        break;
      }
      startComponent(*c);
    } else {
      code = applyScript(h, step, command, out);
    }
  } else if (undo_ && a == "join-etcd") {
    stopEtcd(h, step);  // stopped first, then its data dir moved aside
    code = applyScript(h, step, command, out);
  } else if (undo_) {
    code = applyScript(h, step, command, out);
    if (code == 0) {
      if (a == "stop-apiserver") startApi(h, step);
      else if ((a == "stop-etcd" || a == "fence") &&
               !(h.dirs.count(h.data_dir) == 0 && guardsDataDir(command, h.data_dir))) {
        code = startEtcd(h, step, out);
      }
      else if (a == "start-etcd") stopEtcd(h, step);
      else if (a == "start-apiserver") stopApi(h, step);
      else if (a == "member-add") code = memberRemove(step, out);  // the learner goes again
    }
  } else if (a == "preflight") {
    (step.member.empty() ? h.api_preflight : h.member_preflight) = true;
  } else if (a == "preflight-replaced") {
    h.replace_preflight = true;
  } else if (a == "fence") {
    fence(h, step);
  } else if (a == "member-remove") {
    code = memberRemove(step, out);
  } else if (a == "member-add") {
    code = memberAdd(step, out);
  } else if (a == "join-etcd") {
    code = joinEtcd(h, step, out);
  } else if (a == "member-promote") {
    code = memberPromote(step, out);
  } else if (a == "verify-etcd" && facts_.replacing()) {
    code = verifyReplacement(step, out);
  } else if (a == "lock") {
    lock(h, step);
  } else if (a == "unlock") {
    unlock(h, step);
  } else if (a == "remove-snapshot") {
    if (!state_.etcd_verified) {
      violate(kPlaintextUntilVerified,
              fmt::format("{} deletes the staged snapshot on {} before etcd is verified ({})", step.id, host, where(step)));
    }
    code = applyScript(h, step, command, out);
  } else if (a == "stop-apiserver") {
    stopApi(h, step);
  } else if (a == "stop-etcd") {
    stopEtcd(h, step);
  } else if (a == "upload-snapshot") {
    const std::string path = step.upload ? step.upload->remote_path : "";
    auto file = h.files.find(path);
    const auto hashes = sha256Words(command);
    if (file != h.files.end() && std::find(hashes.begin(), hashes.end(), file->second) != hashes.end()) {
      h.verified[path] = file->second;
    } else {
      code = 1;
      out = "snapshot missing or hash mismatch";
    }
  } else if (a == "start-etcd") {
    code = startEtcd(h, step, out);
  } else if (a == "verify-etcd") {
    code = verifyEtcd(step, true, out);
  } else if (a == "start-apiserver") {
    startApi(h, step);
  } else if (a == "verify-apiserver") {
    if (h.api_running && clusterServing(state_, facts_)) {
      h.api_verified = true;
    } else {
      code = 1;
      out = "API server not ready";
    }
  } else {
    // restore, swap-data-dir and anything else: what the script does to directories.
    code = applyScript(h, step, command, out);
    if (code == 0 && a == "swap-data-dir") {
      auto data = h.dirs.find(h.data_dir);
      if (data == h.dirs.end() || !data->second.restored) {
        code = 1;
        out = h.data_dir + " is not a restored data dir";
      }
    }
  }
  r.exit_code = code;
  r.output = out;
  trace_.push_back(fmt::format("{} {} on {}{}", verb, step.id, host, code == 0 ? "" : " -> exit " + std::to_string(code)));
  afterOperation(step);
  return r;
}

int SimWorld::check(HostModel& h, const Step& step) {
  const std::string& a = step.action;
  if (const ComponentModel* c = componentOf(h, step)) {
    if (a == "stop-component") return c->running ? 1 : 0;
    if (a == "start-component") return c->running ? 0 : 1;
    return step.check.empty() ? 1 : 0;  // a restart leaves nothing to check
  }
  if (a == "fence") return h.etcd_running ? 1 : 0;
  if (a == "set-aside-data") return h.dirs.count(h.data_dir) ? 1 : 0;
  if (a == "join-etcd") return h.etcd_running ? 0 : 1;
  if (a == "verify-etcd" && facts_.replacing()) {
    std::string ignored;  // a check that passes is a verification too (as verify-etcd's is)
    return verifyReplacement(step, ignored);
  }
  if (a == "stop-apiserver") return h.api_running ? 1 : 0;
  if (a == "start-apiserver") return h.api_running ? 0 : 1;
  if (a == "stop-etcd") return h.etcd_running ? 1 : 0;
  if (a == "start-etcd") return h.etcd_running ? 0 : 1;
  if (a == "upload-snapshot") {
    const std::string path = step.upload ? step.upload->remote_path : "";
    auto file = h.files.find(path);
    return file != h.files.end() && file->second == step.upload->sha256 ? 0 : 1;
  }
  if (a == "restore") {
    // Where the restore ends up: its --data-dir, or where the script then moves it.
    std::string target;
    for (const auto& op : scriptOps(step.command)) {
      if (op.kind == ScriptOp::Kind::Restore) target = op.restore.data_dir;
      if (op.kind == ScriptOp::Kind::Move && op.from == target) target = op.to;
    }
    auto dir = h.dirs.find(target);
    return !target.empty() && dir != h.dirs.end() && dir->second.restored ? 0 : 1;
  }
  if (a == "swap-data-dir") {
    auto data = h.dirs.find(h.data_dir);
    bool old_aside = false;
    for (const auto& [path, d] : h.dirs) old_aside = old_aside || (path != h.data_dir && !d.restored);
    bool restore_left = false;
    for (const auto& [from, to] : moves(step.command)) restore_left = restore_left || (from != h.data_dir && h.dirs.count(from));
    old_aside = old_aside || facts_.new_hosts.count(h.member) > 0;  // a new host had nothing to set aside
    return data != h.dirs.end() && data->second.restored && old_aside && !restore_left ? 0 : 1;
  }
  if (a == "verify-etcd") {
    std::string ignored;
    return verifyEtcd(step, false, ignored);
  }
  if (a == "remove-snapshot") {  // in place when no staged file is left under what the step removes
    for (const auto& op : scriptOps(step.command)) {
      if (op.kind != ScriptOp::Kind::Remove) continue;
      for (const auto& [path, hash] : h.files) {
        if (path == op.from || path.starts_with(op.from + "/")) return 1;
      }
    }
    return 0;
  }
  if (a == "lock") return h.locked ? 0 : 1;
  if (a == "unlock") return h.locked ? 1 : 0;
  if (a == "verify-apiserver") {
    if (h.api_running && clusterServing(state_, facts_)) {
      h.api_verified = true;
      return 0;
    }
    return 1;
  }
  return step.check.empty() ? 1 : 0;
}

int SimWorld::applyScript(HostModel& h, const Step& step, const std::string& command, std::string& output) {
  for (const auto& op : scriptOps(command)) {
    switch (op.kind) {
      case ScriptOp::Kind::Remove: {
        for (auto it = h.dirs.begin(); it != h.dirs.end();) {
          if (it->first == op.from || it->first.starts_with(op.from + "/")) {
            if (!it->second.restored) {
              violate(kOldDataKept, fmt::format("{} deletes {} ({}) ({})", step.id, it->first, it->second.describe(),
                                                where(step)));
            }
            requireAllPreflights(h, step, "deletes a data dir");
            it = h.dirs.erase(it);
            state_.etcd_verified = false;
          } else {
            ++it;
          }
        }
        for (auto it = h.files.begin(); it != h.files.end();) {
          if (it->first == op.from || it->first.starts_with(op.from + "/")) {
            h.verified.erase(it->first);
            it = h.files.erase(it);
          } else {
            ++it;
          }
        }
        break;
      }
      case ScriptOp::Kind::Move: {
        auto from = h.dirs.find(op.from);
        if (from == h.dirs.end() || h.dirs.count(op.to)) break;  // the plan's moves are guarded: at most once
        std::string who;
        if (facts_.replacing() && (op.from == h.data_dir || op.to == h.data_dir)) {
          // A replacement: the other members keep serving; this member's etcd must be down.
          if (h.etcd_running) {
            violate(kEtcdDownBeforeSwap, fmt::format("{} moves {} while etcd {} runs on it ({})", step.id, op.from,
                                                     h.member, where(step)));
          }
        } else if (op.from == h.data_dir || op.to == h.data_dir) {
          if (anyEtcdRunning(&who)) {
            violate(kEtcdDownBeforeSwap, fmt::format("{} moves {} while etcd {} runs ({})", step.id, op.from, who,
                                                     where(step)));
          }
          if (anyApiRunning(&who)) {
            violate(kApiFenced, fmt::format("{} swaps {} while the API server on {} runs ({})", step.id, h.data_dir,
                                            who, where(step)));
          }
        }
        requireAllPreflights(h, step, "moves a data dir");
        h.dirs[op.to] = from->second;
        h.dirs.erase(op.from);
        state_.etcd_verified = false;
        break;
      }
      case ScriptOp::Kind::Restore:
        if (int code = restore(h, step, op.restore, output); code != 0) return code;
        break;
    }
  }
  return 0;
}

int SimWorld::restore(HostModel& h, const Step& step, const RestoreCall& call, std::string& output) {
  std::string who;
  if (anyApiRunning(&who)) {
    violate(kApiFenced, fmt::format("{} restores while the API server on {} runs ({})", step.id, who, where(step)));
  }
  if (anyEtcdRunning(&who)) {
    violate(kEtcdDownBeforeRestore, fmt::format("{} restores while etcd {} runs ({})", step.id, who, where(step)));
  }
  requireAllPreflights(h, step, "restores");
  auto file = h.files.find(call.snapshot_path);
  if (file == h.files.end()) {
    output = "snapshot " + call.snapshot_path + " not found";
    return 1;
  }
  auto verified = h.verified.find(call.snapshot_path);
  if (verified == h.verified.end() || verified->second != file->second) {
    violate(kVerifiedBeforeRestore, fmt::format("{} restores {} on {}, whose hash was not verified there ({})",
                                                step.id, call.snapshot_path, h.address, where(step)));
  }
  const EtcdMember* own = nullptr;
  for (const auto& m : facts_.members) {
    if (m.name == h.member) own = &m;
  }
  std::vector<std::string> wrong;
  if (file->second != facts_.snapshot_sha256) wrong.push_back("another snapshot (" + file->second.substr(0, 12) + ")");
  if (call.token.empty()) wrong.push_back("no --initial-cluster-token");
  if (!first_token_.empty() && call.token != first_token_) {
    wrong.push_back(fmt::format("token {} where another member got {}", call.token, first_token_));
  }
  if (call.initial_cluster != facts_.initial_cluster) {
    wrong.push_back(fmt::format("initial-cluster {} instead of {}", call.initial_cluster, facts_.initial_cluster));
  }
  if (!own || call.name != own->name) wrong.push_back(fmt::format("--name {} on member {}", call.name, h.member));
  if (!own || call.peer_url != own->peer_url) wrong.push_back(fmt::format("peer URL {} on member {}", call.peer_url, h.member));
  if (!wrong.empty()) {
    std::string what;
    for (const auto& w : wrong) what += (what.empty() ? "" : "; ") + w;
    violate(kSameSnapshotSameToken, fmt::format("{}: {} ({})", step.id, what, where(step)));
  }
  if (first_token_.empty()) first_token_ = call.token;
  if (h.dirs.count(call.data_dir)) {
    output = "restore target " + call.data_dir + " exists";
    return 1;
  }
  DirContent d;
  d.restored = true;
  d.snapshot_sha256 = file->second;
  d.token = call.token;
  d.initial_cluster = call.initial_cluster;
  d.name = call.name;
  d.peer_url = call.peer_url;
  h.dirs[call.data_dir] = d;
  state_.etcd_verified = false;
  return 0;
}

void SimWorld::stopApi(HostModel& h, const Step& step) {
  requireAllPreflights(h, step, "stops the API server");
  h.api_running = false;
  h.api_verified = false;
}

void SimWorld::startApi(HostModel& h, const Step& step) {
  bool restored_live = false;
  for (const auto& [address, other] : state_.hosts) {
    auto data = other.dirs.find(other.data_dir);
    restored_live = restored_live || (data != other.dirs.end() && data->second.restored);
  }
  if (restored_live && !state_.etcd_verified) {
    violate(kVerifiedBeforeApi, fmt::format("{} starts the API server on {} before etcd was verified ({})", step.id,
                                            h.address, where(step)));
  }
  if (!failed_step_.empty()) {
    violate(kHaltIsSafe, fmt::format("{} starts the API server on {} after {} failed ({})", step.id, h.address,
                                     failed_step_, where(step)));
  }
  requireAllPreflights(h, step, "starts the API server");
  h.api_running = true;
  h.api_verified = false;
  // What the API servers serve from now on: a component that cached the old cluster would act on objects and
  // revisions the restored cluster never had; one that cached nothing lists now.
  const CacheOf served = servedNow();
  for (auto& [address, other] : state_.hosts) {
    for (auto& [key, c] : other.components) {
      if (!c.running) continue;
      if (served == CacheOf::Restored && c.cache == CacheOf::OldCluster) {
        violate(kFreshCaches, fmt::format("{} starts the API server on {} on the restored data while {} runs with a "
                                          "cache of the old cluster ({})",
                                          step.id, h.address, key, where(step)));
      }
      if (c.cache == CacheOf::Nothing) c.cache = served;
    }
  }
}

void SimWorld::stopEtcd(HostModel& h, const Step& step) {
  std::string who;
  if (!facts_.replacing() && anyApiRunning(&who)) {
    violate(kApiFenced, fmt::format("{} stops etcd {} while the API server on {} runs ({})", step.id, h.member, who,
                                    where(step)));
  }
  requireAllPreflights(h, step, "stops etcd");
  h.etcd_running = false;
  state_.etcd_verified = false;
}

int SimWorld::startEtcd(HostModel& h, const Step& step, std::string& output) {
  auto data = h.dirs.find(h.data_dir);
  if (data == h.dirs.end()) {
    output = "no data dir " + h.data_dir;
    return 1;
  }
  if (!data->second.restored && !data->second.joined && h.membership != Membership::Voter) {
    violate(kRemovedNeverRestarts, fmt::format("{} starts {} on its old data ({}) after it was removed ({})", step.id,
                                               h.member, data->second.describe(), where(step)));
    output = "etcd exits: this member was removed from the cluster";
    return 1;
  }
  if (data->second.restored) {
    for (const auto& [address, other] : state_.hosts) {
      if (other.member.empty()) continue;
      auto theirs = other.dirs.find(other.data_dir);
      if (theirs == other.dirs.end() || !theirs->second.restored) {
        violate(kAllSwappedBeforeStart, fmt::format("{} starts {} while {}'s data dir is not swapped yet ({})", step.id,
                                                    h.member, other.member, where(step)));
        break;
      }
    }
  }
  requireAllPreflights(h, step, "starts etcd");
  h.etcd_running = true;
  state_.etcd_verified = false;
  return 0;
}

int SimWorld::verifyEtcd(const Step& step, bool waits, std::string& output) {
  if (waits) {
    for (const auto& [address, h] : state_.hosts) {
      if (!h.member.empty() && !h.etcd_running) {
        violate(kStartTogether, fmt::format("{} waits for etcd's health while {} is not started ({})", step.id,
                                            h.member, where(step)));
        break;
      }
    }
  }
  output = restoredHealthProblem(state_, facts_);
  if (!output.empty()) return 1;
  state_.etcd_verified = true;
  return 0;
}

HostModel* SimWorld::memberHost(const std::string& member) {
  for (auto& [address, h] : state_.hosts) {
    if (h.member == member) return &h;
  }
  return nullptr;
}

void SimWorld::afterOperation(const Step& step) {
  if (facts_.replacing()) {
    if (auto problem = quorumProblem(state_, facts_); !problem.empty()) {
      violate(kQuorumKept, fmt::format("after {}: {} ({})", step.id, problem, where(step)));
    }
    return;
  }
  bool restore_in_progress = false;
  for (const auto& [address, h] : state_.hosts) {
    for (const auto& [path, d] : h.dirs) restore_in_progress = restore_in_progress || d.restored;
  }
  std::string api;
  if (restore_in_progress && !state_.etcd_verified && anyApiRunning(&api) && clusterServing(state_, facts_)) {
    violate(kNoLostWrites, fmt::format("after {}, the API server on {} writes to a serving cluster while the restore "
                                       "is not verified ({})",
                                       step.id, api, where(step)));
  }
}

}  // namespace dr::sim
