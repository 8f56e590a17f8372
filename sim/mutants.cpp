// Deriving wrong plans from a right one: see mutants.h.
#include "sim/mutants.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "sim/script.h"

namespace dr::sim {

namespace {

std::map<std::string, const Step*> byId(const Plan& plan) {
  std::map<std::string, const Step*> index;
  for (const auto& s : plan.steps) index[s.id] = &s;
  return index;
}

// Every step `id` depends on, directly or not.
std::set<std::string> ancestors(const Plan& plan, const std::string& id) {
  const auto index = byId(plan);
  std::set<std::string> seen;
  std::vector<std::string> stack = {id};
  while (!stack.empty()) {
    const std::string s = stack.back();
    stack.pop_back();
    auto it = index.find(s);
    if (it == index.end()) continue;
    for (const auto& n : it->second->needs) {
      if (seen.insert(n).second) stack.push_back(n);
    }
  }
  return seen;
}

// An edge step -> need is redundant when another need of the step already depends on it.
bool redundant(const Plan& plan, const Step& step, const std::string& need) {
  for (const auto& other : step.needs) {
    if (other != need && ancestors(plan, other).count(need)) return true;
  }
  return false;
}

bool acyclic(const Plan& plan) {
  for (const auto& s : plan.steps) {
    if (ancestors(plan, s.id).count(s.id)) return false;
  }
  return true;
}

void normalize(Step& step) {
  std::sort(step.needs.begin(), step.needs.end());
  step.needs.erase(std::unique(step.needs.begin(), step.needs.end()), step.needs.end());
}

Step* findStep(Plan& plan, const std::string& id) {
  for (auto& s : plan.steps) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

std::vector<Mutant> builtinMutants(const Plan& plan, const ClusterFacts& facts) {
  std::vector<Mutant> out;
  const auto index = byId(plan);
  auto add = [&](std::string kind, std::string description, Plan mutated) {
    if (!acyclic(mutated)) return;
    out.push_back({std::move(kind), std::move(description), std::move(mutated)});
  };

  // drop-edge and swap-steps: one per kind of edge of the transitive reduction.
  std::set<std::string> edge_kinds, swap_kinds;
  for (const auto& step : plan.steps) {
    for (const auto& need : step.needs) {
      const Step& before = *index.at(need);
      if (redundant(plan, step, need)) continue;
      const bool same_host = before.host == step.host;
      const std::string kind = fmt::format("{}<-{}{}", step.template_id, before.template_id, same_host ? "" : " (other host)");
      if (edge_kinds.insert(kind).second) {
        Plan m = plan;
        Step& s = *findStep(m, step.id);
        s.needs.erase(std::remove(s.needs.begin(), s.needs.end(), need), s.needs.end());
        add("drop-edge", fmt::format("{} no longer needs {}", step.id, need), std::move(m));
      }
      if (same_host && swap_kinds.insert(kind).second) {
        // X -> A -> B -> Y becomes X -> B -> A -> Y.
        Plan m = plan;
        const std::string a = need, b = step.id;
        const std::vector<std::string> a_needs = before.needs, b_needs = step.needs;
        for (auto& s : m.steps) {
          if (s.id == a || s.id == b) continue;
          for (auto& n : s.needs) n = n == a ? b : n == b ? a : n;
          normalize(s);
        }
        Step& sb = *findStep(m, b);
        sb.needs = a_needs;
        Step& sa = *findStep(m, a);
        sa.needs.clear();
        for (const auto& n : b_needs) {
          if (n != a) sa.needs.push_back(n);
        }
        sa.needs.push_back(b);
        normalize(sa);
        normalize(sb);
        add("swap-steps", fmt::format("{} now runs before {} (they were the other way round)", b, a), std::move(m));
      }
    }
  }

  // drop-step: the first step of each template; its dependents wait for what it waited for.
  std::set<std::string> templates;
  for (const auto& step : plan.steps) {
    if (!templates.insert(step.template_id).second) continue;
    Plan m = plan;
    m.steps.erase(std::remove_if(m.steps.begin(), m.steps.end(), [&](const Step& s) { return s.id == step.id; }),
                  m.steps.end());
    for (auto& s : m.steps) {
      if (std::find(s.needs.begin(), s.needs.end(), step.id) == s.needs.end()) continue;
      s.needs.erase(std::remove(s.needs.begin(), s.needs.end(), step.id), s.needs.end());
      s.needs.insert(s.needs.end(), step.needs.begin(), step.needs.end());
      normalize(s);
    }
    add("drop-step", fmt::format("{} is left out", step.id), std::move(m));
  }

  std::vector<const Step*> restores, starts, swaps, api_starts;
  std::vector<std::string> start_ids;
  const Step* verify = nullptr;
  for (const auto& s : plan.steps) {
    if (s.action == "restore") restores.push_back(&s);
    if (s.action == "start-etcd") starts.push_back(&s), start_ids.push_back(s.id);
    if (s.action == "swap-data-dir") swaps.push_back(&s);
    if (s.action == "start-apiserver") api_starts.push_back(&s);
    if (s.action == "verify-etcd" && !verify) verify = &s;
  }

  // other-token / other-initial-cluster: one member's restore differs from the others'.
  if (restores.size() >= 2) {
    for (const auto& op : scriptOps(restores[1]->command)) {
      if (op.kind != ScriptOp::Kind::Restore || op.restore.token.empty()) continue;
      Plan m = plan;
      Step& s = *findStep(m, restores[1]->id);
      s.command = replaceAll(s.command, op.restore.token, op.restore.token + "-other");
      add("other-token", fmt::format("{} restores with token {}-other", s.id, op.restore.token), std::move(m));
    }
  }
  if (!restores.empty()) {
    for (const auto& op : scriptOps(restores.back()->command)) {
      if (op.kind != ScriptOp::Kind::Restore || op.restore.initial_cluster.empty()) continue;
      Plan m = plan;
      Step& s = *findStep(m, restores.back()->id);
      const std::string other = op.restore.initial_cluster + ",extra=https://192.0.2.1:2380";
      s.command = replaceAll(s.command, op.restore.initial_cluster, "'" + other + "'");
      add("other-initial-cluster", fmt::format("{} restores with --initial-cluster {}", s.id, other), std::move(m));
    }
  }
  // api-before-verify: the API servers wait for the members' start instead of the verification.
  if (verify && !api_starts.empty()) {
    Plan m = plan;
    for (const Step* api : api_starts) {
      Step& s = *findStep(m, api->id);
      s.needs.erase(std::remove(s.needs.begin(), s.needs.end(), verify->id), s.needs.end());
      s.needs.insert(s.needs.end(), start_ids.begin(), start_ids.end());
      normalize(s);
    }
    add("api-before-verify", fmt::format("the API servers start after the members start, not after {}", verify->id),
        std::move(m));
  }
  // start-before-swaps: one member starts as soon as its own data dir is swapped.
  if (swaps.size() >= 2 && !starts.empty()) {
    Plan m = plan;
    Step& s = *findStep(m, starts.front()->id);
    std::string own;
    for (const Step* swap : swaps) {
      if (swap->member == s.member) own = swap->id;
    }
    if (!own.empty()) {
      s.needs = {own};
      add("start-before-swaps", fmt::format("{} needs only {}", s.id, own), std::move(m));
    }
  }
  // delete-old-data: the swap deletes the old data dir after moving it aside.
  if (!swaps.empty()) {
    const Step& swap = *swaps.front();
    std::string data_dir;
    for (const auto& member : facts.members) {
      if (member.name == swap.member) data_dir = member.data_dir;
    }
    for (const auto& [from, to] : moves(swap.command)) {
      if (from != data_dir) continue;
      Plan m = plan;
      Step& s = *findStep(m, swap.id);
      s.command += "\nrm -rf " + to + "\n";
      add("delete-old-data", fmt::format("{} ends with rm -rf {}", s.id, to), std::move(m));
      break;
    }
  }

  // replace-member's rules, one mutant each.
  std::vector<const Step*> fences, set_asides, adds;
  for (const auto& s : plan.steps) {
    if (s.action == "fence") fences.push_back(&s);
    if (s.action == "set-aside-data") set_asides.push_back(&s);
    if (s.action == "member-add") adds.push_back(&s);
  }
  // fence-other: the fence of the first replaced member stops a member that is not being replaced.
  if (!fences.empty()) {
    for (const auto& member : facts.members) {
      if (facts.replaced.count(member.name)) continue;
      Plan m = plan;
      Step& s = *findStep(m, fences.front()->id);
      s.host = member.address;
      add("fence-other",
          fmt::format("{} runs on {} (member {}, not being replaced)", s.id, member.address, member.name),
          std::move(m));
      break;
    }
  }
  // parallel-replacements: the second member is added back without waiting for the first one's verification.
  if (adds.size() >= 2) {
    Plan m = plan;
    Step& s = *findStep(m, adds[1]->id);
    std::vector<std::string> kept;
    for (const auto& n : s.needs) {
      const Step* need = index.at(n);
      if (need->member == s.member || need->action == "member-remove") kept.push_back(n);
    }
    s.needs = kept;
    add("parallel-replacements", fmt::format("{} no longer waits for the member added before it", s.id),
        std::move(m));
  }
  // keep-old-data-in-place: the set-aside step moves nothing, so the member starts again on its old data.
  if (!set_asides.empty()) {
    Plan m = plan;
    Step& s = *findStep(m, set_asides.front()->id);
    s.command = "true";
    add("keep-old-data-in-place", fmt::format("{} leaves the old data dir in place", s.id), std::move(m));
  }
  return out;
}

}  // namespace dr::sim
