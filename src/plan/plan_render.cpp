// What the three renderers share: the DAG's phases, the hosts in a stable order, and human-readable sizes.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "plan/plan_render.h"

namespace dr {

Result<std::vector<std::vector<std::size_t>>> planPhases(const Plan& plan) {
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) index.emplace(plan.steps[i].id, i);

  // Kahn's algorithm over the needs, carrying each step's longest-path depth. Visiting ready steps in plan order
  // keeps every phase in plan order.
  std::vector<std::size_t> waiting(plan.steps.size(), 0);
  std::vector<std::vector<std::size_t>> dependents(plan.steps.size());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    for (const auto& need : plan.steps[i].needs) {
      const auto found = index.find(need);
      if (found == index.end()) {
        return fail("step '{}' needs '{}', which is not a step of the plan", plan.steps[i].id, need);
      }
      dependents[found->second].push_back(i);
      ++waiting[i];
    }
  }
  std::vector<std::size_t> depth(plan.steps.size(), 0);
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (waiting[i] == 0) ready.push_back(i);
  }
  std::size_t done = 0;
  while (!ready.empty()) {
    const std::size_t step = ready.back();
    ready.pop_back();
    ++done;
    for (const std::size_t next : dependents[step]) {
      depth[next] = std::max(depth[next], depth[step] + 1);
      if (--waiting[next] == 0) ready.push_back(next);
    }
  }
  if (done != plan.steps.size()) {
    std::vector<std::string> stuck;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      if (waiting[i] != 0) stuck.push_back(plan.steps[i].id);
    }
    return fail("the plan's needs form a cycle among: {}", fmt::join(stuck, ", "));
  }

  std::vector<std::vector<std::size_t>> phases;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (phases.size() <= depth[i]) phases.resize(depth[i] + 1);
    phases[depth[i]].push_back(i);
  }
  return phases;
}

std::vector<PlanHost> planHosts(const Plan& plan) {
  std::vector<PlanHost> hosts;
  for (const auto& step : plan.steps) {
    auto it = std::find_if(hosts.begin(), hosts.end(), [&](const PlanHost& h) { return h.host == step.host; });
    if (it == hosts.end()) {
      hosts.push_back(PlanHost{step.host, {}});
      it = std::prev(hosts.end());
    }
    // A controller step about a member (on: controller) does not put that member on the controller.
    if (!step.member.empty() && step.host != kControllerHost &&
        std::find(it->members.begin(), it->members.end(), step.member) == it->members.end()) {
      it->members.push_back(step.member);
    }
  }
  return hosts;
}

std::u32string decodeUtf8Lossy(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t code = 0;
    if (lead < 0x80) {
      length = 1;
      code = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code = lead & 0x07;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and values beyond Unicode are malformed too.
    constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    valid = valid && code >= kMinimum[length] && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (valid) {
      out.push_back(code);
      i += length;
    } else {
      out.push_back(U'\uFFFD');
      ++i;
    }
  }
  return out;
}

std::string humanBytes(std::uint64_t bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return value < 10.0 ? fmt::format("{:.1f} {}", value, kUnits[unit]) : fmt::format("{:.0f} {}", value, kUnits[unit]);
}

}  // namespace dr
