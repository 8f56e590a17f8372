// Planning benchmark (issue 2: "planning a 7-member inventory takes under 5 ms"). Plans a 7-member systemd
// inventory N times and prints the median and p99 time per plan against the target; as the comparison measured in
// the same run, it times just parsing the inventory and the template, and prints the ratio plan/parse, since
// absolute times on these shared machines mean little alone.
// Then the scaling (issue 14: 1,000 members took 15 s and 2.8 GB, 5,000 aborted): it plans 10 and 100 members (the
// cap, kMaxInventoryHosts) and prints time, plan size and peak-memory growth, and the ratios 100/10 of each. The
// plan itself grows with the square of the members (each restore names every member in --initial-cluster, each
// start waits for every restore), so the measure of the planner is time per byte of plan, which stays flat.
#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "etcd/snapshot_file.h"
#include "inventory/inventory_loader.h"
#include "plan/plan_template.h"
#include "plan/plan_json.h"
#include "plan/planner.h"

using namespace dr;
using Clock = std::chrono::steady_clock;

namespace {

// inventory/systemd-5.yaml's shape, with `members` members and three API servers.
std::string inventoryOf(int members) {
  std::string yaml = R"(cluster: bench
defaults:
  ssh: {user: ops, identity_file: ~/.ssh/etcd-dr, become: sudo}
  etcd_service: {kind: systemd, unit: etcd.service}
  apiserver_service: {kind: systemd, unit: kube-apiserver.service}
tooling: {restore_tool: etcdutl, etcdutl: /usr/local/bin/etcdutl, bump_revision: true}
tls: {ca: /etc/etcd/pki/ca.crt, cert: /etc/etcd/pki/dr.crt, key: /etc/etcd/pki/dr.key}
members:
)";
  for (int i = 1; i <= members; ++i) {
    yaml += fmt::format("  - {{name: etcd-{0}, address: 10.{1}.{2}.{3}, peer_url: https://10.{1}.{2}.{3}:2380, "
                        "client_url: https://10.{1}.{2}.{3}:2379}}\n",
                        i, 20 + i / 65536, (i / 256) % 256, i % 256);
  }
  yaml += "api_servers:\n  - {host: 10.99.0.31}\n  - {host: 10.99.0.32}\n  - {host: 10.99.0.33}\n";
  return yaml;
}

long peakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

struct Stats {
  double median_ms;
  double p99_ms;
};

template <typename F>
Stats measure(int runs, F&& body) {
  for (int i = 0; i < runs / 10; ++i) body();  // warm up caches and the allocator
  std::vector<double> ms;
  ms.reserve(runs);
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    body();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(10, std::atoi(argv[1])) : 500;
  const std::string yaml = inventoryOf(7);
  InventoryLoad inventory = parseInventory(yaml, "bench-7.yaml");
  TemplateLoad plan_template = loadPlanTemplateByNameOrPath("full-restore");
  if (!inventory.inventory || !plan_template.plan_template) {
    for (const auto& d : inventory.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
    for (const auto& d : plan_template.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
    return 1;
  }
  SnapshotInfo snapshot;
  snapshot.path = "/backup/etcd-snapshot.db";
  snapshot.size = 512ull * 1024 * 1024;
  snapshot.sha256 = std::string(64, 'a');
  snapshot.has_trailer = true;
  snapshot.revision = 123456;
  PlanOptions options;
  options.run_id = "bench";
  options.inventory_sha256 = std::string(64, 'b');

  std::size_t steps = 0;
  const Stats plan = measure(runs, [&] {
    PlanBuild build = Planner::build(*inventory.inventory, snapshot, *plan_template.plan_template, options);
    steps = build.plan ? build.plan->steps.size() : 0;
  });
  if (steps == 0) {
    std::fprintf(stderr, "bench_plan: the planner refused the 7-member inventory\n");
    return 1;
  }
  const Stats parse = measure(runs, [&] {
    InventoryLoad again = parseInventory(yaml, "bench-7.yaml");
    TemplateLoad again_template = loadPlanTemplateByNameOrPath("full-restore");
    if (!again.inventory || !again_template.plan_template) std::abort();
  });

  std::printf("plan a 7-member full restore (%zu steps), %d runs\n", steps, runs);
  std::printf("  plan (Planner::build)              median %.3f ms   p99 %.3f ms   target < 5 ms: %s\n",
              plan.median_ms, plan.p99_ms, plan.p99_ms < 5.0 ? "met" : "MISSED");
  std::printf("  parse inventory + template only    median %.3f ms   p99 %.3f ms\n", parse.median_ms, parse.p99_ms);
  std::printf("  ratio plan / parse (median)        %.2f\n", plan.median_ms / parse.median_ms);

  // Scaling: smallest first, since peak RSS only grows.
  struct Scale {
    int members;
    double ms;
    long rss_growth_kib;
    std::size_t steps;
    std::size_t plan_bytes;
  };
  std::vector<Scale> scales;
  for (int members : {10, 100}) {
    InventoryLoad big = parseInventory(inventoryOf(members), "bench-n.yaml");
    if (!big.inventory) {
      for (const auto& d : big.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
      return 1;
    }
    const long before = peakRssKib();
    const auto start = Clock::now();
    PlanBuild build = Planner::build(*big.inventory, snapshot, *plan_template.plan_template, options);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!build.plan) {
      std::fprintf(stderr, "bench_plan: the planner refused %d members\n", members);
      return 1;
    }
    scales.push_back({members, ms, peakRssKib() - before, build.plan->steps.size(), planJsonText(*build.plan).size()});
  }
  std::printf("plan large inventories (full restore, 3 API servers)\n");
  for (const Scale& s : scales) {
    std::printf("  %5d members  %6zu steps  plan %8zu KiB  %9.1f ms  %.2f ms/MiB of plan  peak RSS +%ld KiB\n",
                s.members, s.steps, s.plan_bytes / 1024, s.ms, s.ms / (s.plan_bytes / 1048576.0), s.rss_growth_kib);
  }
  const Scale& small = scales[0];
  const Scale& large = scales[1];
  std::printf("  ratio 100 / 10 members: plan size %.1f, time %.1f, time per plan byte %.2f (flat: ~1)\n",
              double(large.plan_bytes) / small.plan_bytes, large.ms / small.ms,
              (large.ms / large.plan_bytes) / (small.ms / small.plan_bytes));
  InventoryLoad absurd = parseInventory(inventoryOf(5000), "bench-5000.yaml");
  std::printf("  5000 members: %s\n", absurd.inventory ? "PLANNED (the cap did not hold)"
                                                       : absurd.diagnostics.front().str().c_str());
  return 0;
}
