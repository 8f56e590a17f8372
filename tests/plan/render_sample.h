// A hand-built plan for the renderer tests: the shape of a 3-member full restore (API servers on the members'
// hosts, a controller preflight, uploads in parallel with the stops), made without the planner so the renderers
// are tested on exactly the DAG written here.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace dr::test {

inline Step sampleStep(std::string id, std::string action, std::string host, std::string member,
                       std::vector<std::string> needs, std::string command) {
  Step step;
  step.id = std::move(id);
  step.template_id = step.id.substr(0, step.id.find('@'));
  step.action = std::move(action);
  step.description = "Do " + step.action;
  step.host = std::move(host);
  step.member = std::move(member);
  step.needs = std::move(needs);
  step.command = std::move(command);
  step.check = "check-" + step.id;
  step.undo = "undo-" + step.id;
  return step;
}

// members[i] runs on 10.0.0.(i+1), as does API server i.
inline Plan samplePlan(const std::vector<std::string>& members = {"etcd-a", "etcd-b", "etcd-c"}) {
  Plan plan;
  plan.name = "full-restore";
  plan.fingerprint = std::string(64, 'f');
  plan.warnings = {"etcdctl 3.4 cannot bump the revision"};
  auto host = [](std::size_t i) { return "10.0.0." + std::to_string(i + 1); };
  auto all = [&](const std::string& prefix, bool by_host) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < members.size(); ++i) ids.push_back(prefix + "@" + (by_host ? host(i) : members[i]));
    return ids;
  };
  plan.steps.push_back(sampleStep("preflight", "preflight", kControllerHost, "", {}, "drctl-preflight --all"));
  for (std::size_t i = 0; i < members.size(); ++i) {
    plan.steps.push_back(sampleStep("stop-apiserver@" + host(i), "stop-apiserver", host(i), "", {"preflight"},
                                    "mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/parked/"));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    plan.steps.push_back(sampleStep("upload-snapshot@" + members[i], "upload-snapshot", host(i), members[i],
                                    {"preflight"}, "sha256sum -c /var/tmp/etcd-dr/run/snapshot.db.sha256"));
    plan.steps.back().upload = FileUpload{"/backup/snap.db", "/var/tmp/etcd-dr/run/snapshot.db", std::string(64, 'a')};
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    plan.steps.push_back(sampleStep("stop-etcd@" + members[i], "stop-etcd", host(i), members[i],
                                    all("stop-apiserver", true), "systemctl stop etcd"));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    plan.steps.push_back(sampleStep("restore@" + members[i], "restore", host(i), members[i],
                                    {"stop-etcd@" + members[i], "upload-snapshot@" + members[i]},
                                    "etcdctl snapshot restore /var/tmp/etcd-dr/run/snapshot.db \\\n"
                                    "  --name " + members[i] + " \\\n  --data-dir /var/lib/etcd.restored"));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto needs = all("stop-etcd", false);
    needs.push_back("restore@" + members[i]);
    std::sort(needs.begin(), needs.end());
    plan.steps.push_back(sampleStep("swap-data-dir@" + members[i], "swap-data-dir", host(i), members[i], needs,
                                    "mv /var/lib/etcd /var/lib/etcd.before-run && mv /var/lib/etcd.restored "
                                    "/var/lib/etcd"));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    plan.steps.push_back(sampleStep("start-etcd@" + members[i], "start-etcd", host(i), members[i],
                                    all("swap-data-dir", false), "systemctl start --no-block etcd"));
  }
  plan.steps.push_back(sampleStep("verify-etcd", "verify-etcd", kControllerHost, "", all("start-etcd", false),
                                  "drctl-verify-etcd"));
  for (std::size_t i = 0; i < members.size(); ++i) {
    plan.steps.push_back(sampleStep("start-apiserver@" + host(i), "start-apiserver", host(i), "", {"verify-etcd"},
                                    "mv /etc/kubernetes/parked/kube-apiserver.yaml /etc/kubernetes/manifests/"));
  }
  plan.steps.push_back(sampleStep("verify-apiserver", "verify-apiserver", kControllerHost, "",
                                  all("start-apiserver", true), "curl -fsk https://10.0.0.1:6443/readyz"));
  return plan;
}

}  // namespace dr::test
