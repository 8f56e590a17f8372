// See alarms.h.
#include "etcd/alarms.h"

#include <fmt/format.h>

#include <thread>

namespace dr {

namespace {

std::string nameOf(const std::vector<MemberInfo>& members, std::uint64_t id) {
  for (const auto& m : members) {
    if (m.id == id && !m.name.empty()) return m.name;
  }
  return memberIdHex(id);
}

std::vector<std::string> describe(const std::vector<AlarmInfo>& alarms, const std::vector<MemberInfo>& members) {
  std::vector<std::string> out;
  for (const auto& a : alarms) out.push_back(a.alarm + " on " + nameOf(members, a.member_id));
  return out;
}

// One attempt through one endpoint; `done` says whether the outcome is final (listed, or a disarm that etcd
// refused or that did not hold) or the next endpoint should be asked.
AlarmOutcome attempt(EtcdClient& client, const AlarmOptions& options, bool& done) {
  AlarmOutcome outcome;
  done = false;
  auto alarms = client.alarms();
  if (!alarms) {
    outcome.error = alarms.error().message;
    return outcome;
  }
  // Names are for the operator only: a member list that fails leaves member ids in hex.
  auto members = client.memberList();
  const std::vector<MemberInfo> known = members ? *members : std::vector<MemberInfo>{};
  outcome.answered_by = client.endpoint();
  outcome.raised = describe(*alarms, known);
  done = true;
  if (!options.disarm || alarms->empty()) {
    outcome.ok = true;
    return outcome;
  }
  for (const auto& a : *alarms) {
    if (auto disarmed = client.deactivateAlarm(a.member_id, a.alarm); !disarmed) {
      outcome.error = disarmed.error().message;
      done = false;  // another endpoint, or a later attempt, may succeed
      return outcome;
    }
  }
  auto left = client.alarms();
  if (!left) {
    outcome.error = "disarmed, but listing the alarms again failed: " + left.error().message;
    done = false;
    return outcome;
  }
  if (!left->empty()) {
    outcome.error = fmt::format(
        "still raised after disarming: {} (etcd raises NOSPACE again while the database is over its quota: compact "
        "and defragment it, or raise --quota-backend-bytes, then disarm)",
        fmt::join(describe(*left, known), ", "));
    return outcome;
  }
  outcome.disarmed = outcome.raised;
  outcome.ok = true;
  return outcome;
}

}  // namespace

AlarmOutcome handleAlarms(const Inventory& inventory, const AlarmOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.wait;
  AlarmOutcome last;
  for (;;) {
    for (const auto& member : inventory.members) {
      auto client = EtcdClient::open(member.client_url, options.client);
      if (!client) {
        last.error = client.error().message;
        continue;
      }
      bool done = false;
      last = attempt(*client, options, done);
      if (done) return last;
    }
    if (std::chrono::steady_clock::now() + options.interval >= deadline) break;
    std::this_thread::sleep_for(options.interval);
  }
  if (last.error.empty()) last.error = "no member answered";
  return last;
}

}  // namespace dr
