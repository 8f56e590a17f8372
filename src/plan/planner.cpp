// The Planner: template + inventory + snapshot -> concrete, ordered, fingerprinted Plan. See planner.h.
#include "plan/planner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <queue>
#include <set>
#include <tuple>

#include "core/sha256.h"
#include "core/shell.h"
#include "plan/plan_json.h"
#include "plan/service_commands.h"
#include "plan/template_text.h"

namespace dr {

namespace {

constexpr std::uint64_t kFreeSpaceMargin = 1ULL << 30;  // 1 GiB on top of twice the snapshot
constexpr const char* kBumpRevisionBy = "1000000000";

// A variable's value in both forms: `shell` goes into commands (quoted, or a command inserted as it is), `raw`
// into upload paths and hashes (never seen by a shell).
struct Value {
  std::string raw;
  std::string shell;
};
using Values = std::map<std::string, Value>;

void setValue(Values& values, const std::string& name, const std::string& raw) {
  values[name] = Value{raw, shellQuote(raw)};
}
void setCommand(Values& values, const std::string& name, const std::string& command) {
  values[name] = Value{command, command};
}

std::string withoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

bool isSafeRunId(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

// The inventory's bytes when it came from a file; otherwise a digest of every field, so that an inventory built in
// memory still changes the fingerprint whenever it changes.
std::string inventoryDigest(const Inventory& inventory) {
  if (!inventory.source.empty()) {
    if (auto hex = sha256FileHex(inventory.source)) return *hex;
  }
  Sha256 hash;
  auto add = [&](const std::string& field) {
    hash.update(field);
    hash.update(std::string_view("\0", 1));
  };
  auto addSsh = [&](const SshSettings& ssh) {
    add(ssh.user);
    add(std::to_string(ssh.port));
    add(ssh.identity_file);
    add(ssh.known_hosts);
    add(ssh.become == Become::Sudo ? "sudo" : "none");
  };
  auto addService = [&](const ServiceControl& s) {
    add(std::to_string(static_cast<int>(s.kind)));
    for (const auto* f : {&s.unit, &s.manifest, &s.parked_dir, &s.container_name, &s.start, &s.stop, &s.status}) {
      add(*f);
    }
  };
  add(inventory.cluster_name);
  for (const auto& m : inventory.members) {
    for (const auto* f : {&m.name, &m.address, &m.peer_url, &m.client_url, &m.data_dir, &m.etcd_user, &m.etcd_group}) {
      add(*f);
    }
    addSsh(m.ssh);
    addService(m.service);
  }
  for (const auto& a : inventory.api_servers) {
    add(a.host);
    add(a.address);
    add(a.readyz_url);
    addSsh(a.ssh);
    addService(a.service);
  }
  for (const auto* list : {&inventory.components, &inventory.kubelets}) {
    for (const auto& c : *list) {
      add(c.key());
      add(c.address);
      addSsh(c.ssh);
      addService(c.service);
    }
  }
  add(inventory.tooling.restore_tool == RestoreTool::Etcdutl ? "etcdutl" : "etcdctl");
  add(inventory.tooling.etcdctl);
  add(inventory.tooling.etcdutl);
  add(inventory.tooling.bump_revision ? "bump" : "no-bump");
  add(inventory.tls.ca);
  add(inventory.tls.cert);
  add(inventory.tls.key);
  return hash.finishHex();
}

std::string restoreCommand(const Inventory& inventory, const EtcdMember& member, const Values& values,
                           bool skip_hash_check) {
  const auto& tooling = inventory.tooling;
  std::string command = tooling.restore_tool == RestoreTool::Etcdctl
                            ? "ETCDCTL_API=3 " + shellQuote(tooling.etcdctl) + " snapshot restore"
                            : shellQuote(tooling.etcdutl) + " snapshot restore";
  // Every flag, always: left out, etcd falls back to --name default, token etcd-cluster and a localhost peer URL.
  // Continuation lines keep it readable in the printed plan.
  command += " " + values.at("member.snapshot_path").shell;
  command += " \\\n    --name " + shellQuote(member.name);
  command += " \\\n    --initial-cluster " + values.at("cluster.initial_cluster").shell;
  command += " \\\n    --initial-cluster-token " + values.at("run.token").shell;
  command += " \\\n    --initial-advertise-peer-urls " + shellQuote(member.peer_url);
  // Into a partial dir: etcdctl writes the db first and the WAL last, so a restore cut short (a lost connection
  // kills it) leaves a dir that looks restored. The template renames it into place only once the restore succeeded.
  command += " \\\n    --data-dir " + values.at("member.restore_partial_dir").shell;
  if (tooling.bump_revision) command += std::string(" \\\n    --bump-revision ") + kBumpRevisionBy + " --mark-compacted";
  // A trailerless db (a data-dir copy the operator vouched for): etcd's own check would refuse it.
  if (skip_hash_check) command += std::string(" \\\n    ") + kSkipHashCheckFlag;
  return command;
}

// "3.4" of "3.4.23" or "3.4.0"; empty for anything that is not a version.
std::string majorMinor(const std::string& version) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < version.size() && i - start < 4 && version[i] >= '0' && version[i] <= '9') ++i;
    return i > start;
  };
  if (!digits() || i >= version.size() || version[i] != '.') return "";
  ++i;
  if (!digits()) return "";
  return version.substr(0, i);
}

std::string etcdctlTlsFlags(const TlsFiles& tls) {
  std::string flags;
  auto add = [&](const char* flag, const std::string& file) {
    if (file.empty()) return;
    if (!flags.empty()) flags += ' ';
    flags += std::string(flag) + " " + shellQuote(file);
  };
  add("--cacert", tls.ca);
  add("--cert", tls.cert);
  add("--key", tls.key);
  return flags;
}

// One concrete step before ordering: which template step and which instance it came from.
struct Instance {
  std::size_t template_index = 0;
  std::size_t instance_index = 0;
  std::string key;  // member name, API server host, or empty for once
  Step step;
};

class PlanBuilder {
 public:
  PlanBuilder(const Inventory& inventory, const SnapshotInfo& snapshot, const PlanTemplate& plan_template,
              const PlanOptions& options)
      : inventory_(inventory), snapshot_(snapshot), template_(plan_template), options_(options) {}

  PlanBuild build() {
    checkInputs();
    if (hasErrors(diagnostics_)) return finish();
    token_ = options_.token.empty() ? deriveClusterToken(inventory_.cluster_name, options_.run_id) : options_.token;
    setCommonValues();
    expand();
    if (hasErrors(diagnostics_)) return finish();
    resolveNeeds();
    if (hasErrors(diagnostics_)) return finish();
    order();
    if (hasErrors(diagnostics_)) return finish();

    Plan plan;
    plan.name = template_.name;
    for (auto& instance : instances_) plan.steps.push_back(std::move(instance.step));
    if (template_.uses_snapshot) plan.warnings.push_back(revisionNote());
    if (!snapshot_.revision && template_.uses_snapshot) {
      plan.warnings.push_back("the snapshot's revision is unknown: verify-etcd can only check that a revision exists");
    }
    plan.inputs = {{"inventory.sha256", options_.inventory_sha256.empty() ? inventoryDigest(inventory_)
                                                                          : options_.inventory_sha256},
                   {"snapshot.sha256", snapshot_.sha256},
                   {"template.sha256", template_.source_sha256},
                   {"run.id", options_.run_id},
                   {"run.token", token_}};
    if (!replaced_.empty()) {
      std::string names;
      for (std::size_t i : replaced_) names += (names.empty() ? "" : ",") + inventory_.members[i].name;
      plan.inputs["replace.members"] = names;
    }
    if (snapshot_.sha256.empty()) plan.inputs.erase("snapshot.sha256");
    plan.fingerprint = computeFingerprint(plan);
    PlanBuild out = finish();
    out.plan = std::move(plan);
    return out;
  }

 private:
  PlanBuild finish() {
    PlanBuild out;
    out.diagnostics = std::move(diagnostics_);
    return out;
  }
  void error(SourceLocation where, std::string message) {
    diagnostics_.push_back({Severity::Error, std::move(where), std::move(message)});
  }
  SourceLocation inventoryWhere() const { return {inventory_.source.string(), 0, 0}; }

  void checkInputs() {
    if (inventory_.members.empty()) error(inventoryWhere(), "the inventory has no etcd members: nothing to restore");
    if (!isSafeRunId(options_.run_id)) {
      error(inventoryWhere(), "run id '" + options_.run_id +
                                  "' must be letters, digits, '.', '-' and '_' only (it becomes part of paths)");
    }
    if (template_.uses_snapshot && snapshot_.sha256.size() != 64) {
      error({snapshot_.path.string(), 0, 0}, "the snapshot has no SHA-256: inspect it first (inspectSnapshot)");
    }
    // The members to replace, in inventory order whatever order they were named in.
    for (const auto& name : options_.replace_members) {
      auto it = std::find_if(inventory_.members.begin(), inventory_.members.end(),
                             [&](const EtcdMember& m) { return m.name == name; });
      if (it == inventory_.members.end()) {
        error(inventoryWhere(), "member '" + name + "' to replace is not in the inventory");
      }
    }
    for (std::size_t i = 0; i < inventory_.members.size(); ++i) {
      const auto& names = options_.replace_members;
      if (std::find(names.begin(), names.end(), inventory_.members[i].name) != names.end()) replaced_.push_back(i);
    }
    if (template_.replaces_members && options_.replace_members.empty()) {
      error(inventoryWhere(), "plan " + template_.name + " replaces members: name them (--member NAME), or let "
                              "drctl read the failed ones from the live cluster");
    }
    if (!template_.replaces_members && !options_.replace_members.empty()) {
      error(inventoryWhere(), "plan " + template_.name + " replaces no members, but members to replace were named");
    }
    // Replacing a majority at once cannot keep a quorum: such a cluster needs a restore (full-restore).
    if (!replaced_.empty() && replaced_.size() * 2 >= inventory_.members.size()) {
      error(inventoryWhere(), fmt::format("replacing {} of {} members would leave no quorum to replace them from: "
                                          "that is a quorum loss, recovered with full-restore",
                                          replaced_.size(), inventory_.members.size()));
    }
  }

  void setCommonValues() {
    setValue(common_, "cluster.name", inventory_.cluster_name);
    setValue(common_, "cluster.initial_cluster", inventory_.initialCluster());
    std::string client_urls;
    for (const auto& m : inventory_.members) client_urls += (client_urls.empty() ? "" : ",") + m.client_url;
    setValue(common_, "cluster.client_urls", client_urls);
    setValue(common_, "cluster.member_count", std::to_string(inventory_.members.size()));
    setValue(common_, "run.id", options_.run_id);
    setValue(common_, "run.token", token_);
    setValue(common_, "snapshot.path", snapshot_.path.string());
    setValue(common_, "snapshot.source",
             options_.snapshot_source.empty() ? snapshot_.path.string() : options_.snapshot_source);
    setValue(common_, "snapshot.sha256", snapshot_.sha256);
    setValue(common_, "snapshot.size", std::to_string(snapshot_.size));
    setValue(common_, "snapshot.revision", std::to_string(snapshot_.revision.value_or(0)));
    setValue(common_, "snapshot.etcd_version", majorMinor(snapshot_.etcd_version.value_or("")));
    setValue(common_, "snapshot.min_free_bytes", std::to_string(2 * snapshot_.size + kFreeSpaceMargin));
    setValue(common_, "tool.etcdctl", inventory_.tooling.etcdctl);
    setValue(common_, "tool.etcdutl", inventory_.tooling.etcdutl);
    setValue(common_, "tool.restore", inventory_.tooling.restore_tool == RestoreTool::Etcdctl
                                          ? inventory_.tooling.etcdctl
                                          : inventory_.tooling.etcdutl);
    setCommand(common_, "tool.sha256", kHostSha256Command);
    std::string inventory_path;
    if (!inventory_.source.empty()) {
      std::error_code ec;
      auto absolute = std::filesystem::absolute(inventory_.source, ec);
      inventory_path = (ec ? inventory_.source : absolute.lexically_normal()).string();
    }
    setValue(common_, "inventory.path", inventory_path);
    setValue(common_, "alarms.policy", options_.disarm_alarms ? "disarm" : "refuse");
    setValue(common_, "tls.ca", inventory_.tls.ca);
    setValue(common_, "tls.cert", inventory_.tls.cert);
    setValue(common_, "tls.key", inventory_.tls.key);
    setCommand(common_, "tls.etcdctl_flags", etcdctlTlsFlags(inventory_.tls));
  }

  std::optional<Values> memberValues(const EtcdMember& member) {
    Values values = common_;
    const std::string data_dir = withoutTrailingSlash(member.data_dir);
    // Per run and per member: members that share a /var/tmp (co-located, a shared file system) must not upload into
    // the same file.
    const std::string snapshot_dir =
        withoutTrailingSlash(options_.remote_snapshot_dir) + "/" + options_.run_id + "/" + member.name;
    setValue(values, "member.name", member.name);
    setValue(values, "member.address", member.address);
    setValue(values, "member.peer_url", member.peer_url);
    setValue(values, "member.client_url", member.client_url);
    setValue(values, "member.data_dir", data_dir);
    const std::filesystem::path data_parent = std::filesystem::path(data_dir).parent_path();
    setValue(values, "member.data_parent_dir", data_parent.string());
    setValue(values, "member.lock_dir", (data_parent / (".etcd-dr-lock-" + inventory_.cluster_name)).string());
    setValue(values, "member.etcd_user", member.etcd_user);
    setValue(values, "member.etcd_group", member.etcd_group);
    setValue(values, "member.restore_dir", data_dir + ".restore-" + options_.run_id);
    setValue(values, "member.restore_partial_dir", data_dir + ".restore-" + options_.run_id + ".partial");
    setValue(values, "member.old_data_dir", data_dir + ".before-" + options_.run_id);
    setValue(values, "member.snapshot_dir", snapshot_dir);
    setValue(values, "member.snapshot_path", snapshot_dir + "/snapshot.db");
    setCommand(values, "member.restore_command", restoreCommand(inventory_, member, values, !snapshot_.has_trailer));
    auto service = buildServiceCommands(member.service, "member " + member.name);
    if (!service) {
      error(member.where.file.empty() ? inventoryWhere() : member.where, service.error().message);
      return std::nullopt;
    }
    setServiceValues(values, "member.service.", *service);
    setCommand(values, "member.service.join", joinCommand(member.service, joinCluster(member)));
    return values;
  }

  // The --initial-cluster a replacement joins with: the members in the cluster when it joins. Every replaced member
  // is removed before any is added back, in inventory order, so that is every member not replaced, and the replaced
  // ones up to and including this one. For a member not being replaced: every member.
  std::string joinCluster(const EtcdMember& member) const {
    std::size_t position = replaced_.size();
    for (std::size_t k = 0; k < replaced_.size(); ++k) {
      if (inventory_.members[replaced_[k]].name == member.name) position = k;
    }
    if (position == replaced_.size()) return inventory_.initialCluster();
    std::string list;
    for (std::size_t i = 0; i < inventory_.members.size(); ++i) {
      auto at = std::find(replaced_.begin(), replaced_.end(), i);
      if (at != replaced_.end() && static_cast<std::size_t>(at - replaced_.begin()) > position) continue;
      list += (list.empty() ? "" : ",") + inventory_.members[i].name + "=" + inventory_.members[i].peer_url;
    }
    return list;
  }

  std::optional<Values> apiServerValues(const ApiServer& api) {
    Values values = common_;
    setValue(values, "apiserver.host", api.host);
    setValue(values, "apiserver.address", api.address);
    setValue(values, "apiserver.readyz_url",
             api.readyz_url.empty() ? "https://" + api.address + ":6443/readyz" : api.readyz_url);
    auto service = buildServiceCommands(api.service, "API server " + api.host);
    if (!service) {
      error(api.where.file.empty() ? inventoryWhere() : api.where, service.error().message);
      return std::nullopt;
    }
    setServiceValues(values, "apiserver.service.", *service);
    return values;
  }

  static void setServiceValues(Values& values, const std::string& prefix, const ServiceCommands& service) {
    setCommand(values, prefix + "start", service.start);
    setCommand(values, prefix + "stop", service.stop);
    setCommand(values, prefix + "status", service.status);
    setCommand(values, prefix + "wait_stopped", service.wait_stopped);
    setCommand(values, prefix + "wait_running", service.wait_running);
    setCommand(values, prefix + "probe", service.probe);
  }

  // What a restore does to revisions, and so who must re-read etcd: every client that watched the old cluster holds
  // revisions the restored one may not have. The note says which components the plan restarts, and that the rest
  // are the operator's to restart (not optional without a revision bump).
  std::string revisionNote() const {
    std::vector<std::string> restarted;
    for (const auto* list : {&inventory_.components, &inventory_.kubelets}) {
      for (const auto& c : *list) restarted.push_back(c.key());
    }
    std::string note;
    if (inventory_.tooling.bump_revision) {
      note = fmt::format(
          "revisions: the restore bumps them by {} past the snapshot's and marks them compacted, so every watcher "
          "(API server caches, controllers, operators) is told to re-list instead of waiting for revisions that "
          "already came. ",
          kBumpRevisionBy);
    } else {
      note = "no revision bump: the restore tool is not known to support --bump-revision/--mark-compacted "
             "(etcd >= 3.4.27 / 3.5.10; set tooling.bump_revision when it does). The restored cluster restarts at "
             "the snapshot's revision, so watchers that saw later revisions (API server caches, controllers, "
             "operators) may miss events until they re-list: restarting them after the restore is not optional. ";
    }
    if (restarted.empty()) {
      note += "The inventory lists no controller manager, scheduler or kubelet (controller_managers, schedulers, "
              "kubelets): restart them by hand once the API servers are back";
    } else {
      note += fmt::format("The plan stops and starts again, or restarts, {}; restart any other client of the API "
                          "servers by hand",
                          fmt::join(restarted, ", "));
    }
    return note;
  }

  std::optional<Values> componentValues(const KubeComponent& component) {
    const bool kubelet = component.role == KubeRole::Kubelet;
    const std::string prefix = kubelet ? "kubelet." : "component.";
    Values values = common_;
    if (!kubelet) setValue(values, "component.name", kubeRoleName(component.role));
    setValue(values, prefix + "host", component.host);
    setValue(values, prefix + "address", component.address);
    auto service = buildServiceCommands(component.service, std::string(kubeRoleName(component.role)) + " on " +
                                                               component.host);
    if (!service) {
      error(component.where.file.empty() ? inventoryWhere() : component.where, service.error().message);
      return std::nullopt;
    }
    setServiceValues(values, prefix + "service.", *service);
    return values;
  }

  std::string substitute(const CommandTemplate& text, const Values& values, const StepTemplate& step, bool raw) {
    auto result = substituteVariables(text.text, [&](const std::string& name) -> std::optional<std::string> {
      auto it = values.find(name);
      if (it == values.end()) return std::nullopt;
      return raw ? it->second.raw : it->second.shell;
    });
    if (!result) {
      error(text.where.line ? text.where : step.where, result.error().message + " in step '" + step.id + "'");
      return "";
    }
    return std::move(result).value();
  }

  void addInstance(std::size_t template_index, std::size_t instance_index, const std::string& key,
                   const std::string& host, const std::string& member, const Values& values) {
    const StepTemplate& t = template_.steps[template_index];
    Instance instance;
    instance.template_index = template_index;
    instance.instance_index = instance_index;
    instance.key = key;
    Step& step = instance.step;
    step.id = key.empty() ? t.id : t.id + "@" + key;
    step.template_id = t.id;
    step.action = t.action;
    step.description = t.description;
    step.host = t.on_controller ? kControllerHost : host;
    step.member = member;
    step.command = substitute(t.run, values, t, false);
    step.check = substitute(t.check, values, t, false);
    step.undo = substitute(t.undo, values, t, false);
    if (t.upload) {
      FileUpload upload;
      upload.local_path = substitute({t.upload->from, t.upload->from_where}, values, t, true);
      upload.remote_path = substitute({t.upload->to, t.upload->to_where}, values, t, true);
      upload.sha256 = substitute({t.upload->sha256, t.upload->sha256_where}, values, t, true);
      if (upload.remote_path.empty() || upload.remote_path.front() != '/') {
        error(t.upload->to_where.line ? t.upload->to_where : t.where,
              "upload 'to' of step '" + step.id + "' is '" + upload.remote_path + "', not an absolute path");
      }
      step.upload = std::move(upload);
    }
    step.timeout = t.timeout;
    step.retries = t.retries;
    step.idempotent = t.idempotent;
    if (!index_.emplace(step.id, instances_.size()).second) {
      error(t.where, "two steps would both be named '" + step.id + "' (duplicate member name or API server host?)");
      return;
    }
    by_template_[t.id].push_back(instances_.size());
    instances_.push_back(std::move(instance));
  }

  void expand() {
    std::vector<std::optional<Values>> member_values;
    for (const auto& member : inventory_.members) member_values.push_back(memberValues(member));
    std::vector<std::optional<Values>> api_values;
    for (const auto& api : inventory_.api_servers) api_values.push_back(apiServerValues(api));
    std::vector<std::optional<Values>> component_values, kubelet_values;
    for (const auto& c : inventory_.components) component_values.push_back(componentValues(c));
    for (const auto& k : inventory_.kubelets) kubelet_values.push_back(componentValues(k));
    if (hasErrors(diagnostics_)) return;
    for (std::size_t t = 0; t < template_.steps.size(); ++t) {
      switch (template_.steps[t].foreach) {
        case Foreach::Once:
          addInstance(t, 0, "", kControllerHost, "", common_);
          break;
        case Foreach::EtcdMembers:
          for (std::size_t i = 0; i < inventory_.members.size(); ++i) {
            const auto& m = inventory_.members[i];
            addInstance(t, i, m.name, m.address, m.name, *member_values[i]);
          }
          break;
        case Foreach::ApiServers:
          for (std::size_t i = 0; i < inventory_.api_servers.size(); ++i) {
            const auto& a = inventory_.api_servers[i];
            addInstance(t, i, a.host, a.address, "", *api_values[i]);
          }
          break;
        case Foreach::ReplacedMembers:
          for (std::size_t k = 0; k < replaced_.size(); ++k) {
            const auto& m = inventory_.members[replaced_[k]];
            addInstance(t, k, m.name, m.address, m.name, *member_values[replaced_[k]]);
          }
          break;
        case Foreach::Components:
          for (std::size_t i = 0; i < inventory_.components.size(); ++i) {
            const auto& c = inventory_.components[i];
            addInstance(t, i, c.key(), c.address, "", *component_values[i]);
          }
          break;
        case Foreach::Kubelets:
          for (std::size_t i = 0; i < inventory_.kubelets.size(); ++i) {
            const auto& k = inventory_.kubelets[i];
            addInstance(t, i, k.key(), k.address, "", *kubelet_values[i]);
          }
          break;
      }
    }
  }

  // `needs: [X]` is the same instance of X when both steps are per-instance steps of the same kind, every
  // instance of X otherwise; `all:X` is always every instance.
  void resolveNeeds() {
    for (auto& instance : instances_) {
      const StepTemplate& t = template_.steps[instance.template_index];
      std::set<std::string> needs;
      for (const auto& need : t.needs) {
        const StepTemplate* other = template_.find(need.step_id);
        if (!other) {
          error(need.where, "unknown step id '" + need.step_id + "' in the needs of step '" + t.id + "'");
          continue;
        }
        const bool same_instance = !need.every_instance && t.foreach != Foreach::Once && other->foreach == t.foreach;
        if (same_instance) {
          needs.insert(other->id + "@" + instance.key);
        } else {
          for (std::size_t j : by_template_[other->id]) needs.insert(instances_[j].step.id);
        }
      }
      if (t.serial && instance.instance_index > 0) {
        // The instance before this one, of this step or of the step `serial:` names (same foreach, so same count).
        const auto& chain = by_template_[t.serial_after.empty() ? t.id : t.serial_after];
        if (instance.instance_index - 1 < chain.size()) {
          needs.insert(instances_[chain[instance.instance_index - 1]].step.id);
        }
      }
      needs.erase(instance.step.id);  // a self-need is a cycle the loader reports; do not deadlock on it here
      instance.step.needs.assign(needs.begin(), needs.end());
    }
  }

  // Kahn's algorithm; among the steps that are ready, the earliest in the template, then in the inventory, goes
  // first, so the order is deterministic and reads like the template.
  void order() {
    const std::size_t n = instances_.size();
    std::vector<int> waiting(n, 0);
    std::vector<std::vector<std::size_t>> dependents(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto& need : instances_[i].step.needs) {
        const std::size_t j = index_.at(need);
        dependents[j].push_back(i);
        ++waiting[i];
      }
    }
    using Key = std::tuple<std::size_t, std::size_t, std::size_t>;
    std::priority_queue<Key, std::vector<Key>, std::greater<>> ready;
    for (std::size_t i = 0; i < n; ++i) {
      if (waiting[i] == 0) ready.emplace(instances_[i].template_index, instances_[i].instance_index, i);
    }
    std::vector<std::size_t> sorted;
    while (!ready.empty()) {
      const std::size_t i = std::get<2>(ready.top());
      ready.pop();
      sorted.push_back(i);
      for (std::size_t d : dependents[i]) {
        if (--waiting[d] == 0) ready.emplace(instances_[d].template_index, instances_[d].instance_index, d);
      }
    }
    if (sorted.size() != n) {
      reportCycle(waiting);
      return;
    }
    std::vector<Instance> ordered;
    ordered.reserve(n);
    for (std::size_t i : sorted) ordered.push_back(std::move(instances_[i]));
    instances_ = std::move(ordered);
  }

  // Steps left waiting after Kahn's algorithm lie on or behind a cycle: walk needs among them until one repeats.
  void reportCycle(const std::vector<int>& waiting) {
    std::size_t at = 0;
    while (waiting[at] == 0) ++at;
    std::vector<std::size_t> path;
    std::map<std::size_t, std::size_t> position;
    while (!position.count(at)) {
      position[at] = path.size();
      path.push_back(at);
      for (const auto& need : instances_[at].step.needs) {
        const std::size_t j = index_.at(need);
        if (waiting[j] > 0) {
          at = j;
          break;
        }
      }
    }
    std::string cycle;
    for (std::size_t k = position[at]; k < path.size(); ++k) cycle += instances_[path[k]].step.id + " -> ";
    cycle += instances_[at].step.id;
    error(template_.steps[instances_[at].template_index].where, "cycle in needs: " + cycle);
  }

  const Inventory& inventory_;
  const SnapshotInfo& snapshot_;
  const PlanTemplate& template_;
  const PlanOptions& options_;
  std::string token_;
  std::vector<std::size_t> replaced_;  // inventory indexes of the members to replace, in inventory order
  Values common_;
  std::vector<Instance> instances_;
  // Hashed: looked up once per needs edge, and a plan has members x members of those.
  std::unordered_map<std::string, std::size_t> index_;  // step id -> position in instances_ (before ordering)
  std::map<std::string, std::vector<std::size_t>> by_template_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

std::string deriveClusterToken(const std::string& cluster_name, const std::string& run_id) {
  const std::string digest = sha256Hex(cluster_name + '\0' + run_id);
  return cluster_name + "-" + run_id + "-" + digest.substr(0, 8);
}

PlanBuild Planner::build(const Inventory& inventory, const SnapshotInfo& snapshot, const PlanTemplate& plan_template,
                         const PlanOptions& options) {
  return PlanBuilder(inventory, snapshot, plan_template, options).build();
}

}  // namespace dr
