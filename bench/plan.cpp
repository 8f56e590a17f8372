// Planning speed: the issue asks for a 7-member plan in under 5 ms. Prints the best CPU time to plan 1, 3, 5 and 7
// members with the built-in full-restore template (loading the template excluded, and then included), and the
// ratio of 7 members to 1 member measured in the same run (planning should grow about linearly).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <vector>

#include "plan/plan_template.h"
#include "plan/planner.h"

namespace {

dr::Inventory makeInventory(int members) {
  dr::Inventory inventory;
  inventory.cluster_name = "bench";
  for (int i = 1; i <= members; ++i) {
    dr::EtcdMember m;
    m.name = "etcd-" + std::to_string(i);
    m.address = "10.0.0." + std::to_string(i);
    m.peer_url = "https://" + m.address + ":2380";
    m.client_url = "https://" + m.address + ":2379";
    m.service.unit = "etcd";
    inventory.members.push_back(m);
    dr::ApiServer api;
    api.host = m.address;
    api.address = m.address;
    api.service.unit = "kube-apiserver";
    inventory.api_servers.push_back(api);
  }
  return inventory;
}

double threadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// The machines are shared and noisy: this thread's CPU time, and the best of many runs (the least disturbed one).
template <typename F>
double bestMicros(F&& f, int runs) {
  double best = 1e18;
  for (int i = 0; i < runs; ++i) {
    const double start = threadCpuMicros();
    f();
    best = std::min(best, threadCpuMicros() - start);
  }
  return best;
}

}  // namespace

int main() {
  auto load = dr::loadPlanTemplateByNameOrPath("full-restore");
  if (!load.plan_template) {
    std::fprintf(stderr, "bench_plan: the built-in full-restore template does not load\n");
    return 1;
  }
  dr::SnapshotInfo snapshot;
  snapshot.path = "/backup/snap.db";
  snapshot.size = 1 << 30;
  snapshot.sha256 = std::string(64, 'a');
  snapshot.revision = 42;
  double one = 0;
  for (int members : {1, 3, 5, 7}) {
    const dr::Inventory inventory = makeInventory(members);
    std::size_t steps = 0;
    const double plan_only = bestMicros(
        [&] { steps = dr::Planner::build(inventory, snapshot, *load.plan_template).plan->steps.size(); }, 200);
    const double with_template = bestMicros(
        [&] {
          auto t = dr::loadPlanTemplateByNameOrPath("full-restore");
          dr::Planner::build(inventory, snapshot, *t.plan_template);
        },
        100);
    if (members == 1) one = plan_only;
    std::printf("plan %d members (%zu steps): %.0f us (template parse included: %.0f us); %.1fx the 1-member time\n",
                members, steps, plan_only, with_template, plan_only / one);
    if (members == 7) {
      std::printf("7-member plan, template parse included: %.2f ms against the 5 ms budget (ratio %.2f)\n",
                  with_template / 1000.0, with_template / 5000.0);
    }
  }
  return 0;
}
