// Dry-run: connect, preflight, check; nothing else. See dry_run.h.
#include "exec/dry_run.h"

#include <sstream>
#include <string>
#include <thread>

namespace dr {

const char* dryRunVerdictName(DryRunVerdict verdict) {
  switch (verdict) {
    case DryRunVerdict::WouldRun: return "would run";
    case DryRunVerdict::AlreadyDone: return "already done";
    case DryRunVerdict::PreflightOk: return "preflight ok";
    case DryRunVerdict::PreflightFailed: return "PREFLIGHT FAILED";
    case DryRunVerdict::Error: return "check error";
    case DryRunVerdict::Unreachable: return "unreachable";
  }
  return "?";
}

bool DryRunReport::ok() const {
  for (const auto& host : hosts) {
    if (!host.connect_error.empty()) return false;
    for (const auto& step : host.steps) {
      if (step.verdict == DryRunVerdict::PreflightFailed || step.verdict == DryRunVerdict::Unreachable) return false;
    }
  }
  return true;
}

namespace {

// What a passed preflight wants the operator to see before anything changes: its lines "note: TEXT" (a new host,
// for one), joined, and bounded.
std::string preflightNotes(const std::string& output) {
  std::string notes;
  std::istringstream lines(output);
  for (std::string line; notes.size() < 1000 && std::getline(lines, line);) {
    if (line.starts_with("note: ")) notes += (notes.empty() ? "" : "; ") + line.substr(6, 300);
  }
  return notes;
}

std::string lastLine(std::string output) {
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  const auto newline = output.find_last_of('\n');
  return newline == std::string::npos ? output : output.substr(newline + 1);
}

void visitHost(DryRunHost& report, const HostEndpoint* endpoint) {
  if (endpoint == nullptr || endpoint->transport == nullptr) {
    report.connect_error = "no transport for this host";
  } else {
    auto session = endpoint->transport->connect(endpoint->target);
    if (!session) {
      report.connect_error = session.error().message;
    } else {
      for (auto& item : report.steps) {
        const Step& step = *item.step;
        const bool preflight = step.action == "preflight" && !step.command.empty();
        const std::string& command = preflight ? step.command : step.check;
        if (command.empty()) continue;
        CommandRequest request;
        request.command = command;
        request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(step.timeout);
        auto result = (*session)->run(request);
        if (!result) {
          item.verdict = preflight ? DryRunVerdict::PreflightFailed : DryRunVerdict::Error;
          item.message = result.error().message;
          continue;
        }
        item.exit_code = result->exit_code;
        const bool passed = result->exit_code == 0 && !result->timed_out;
        if (result->timed_out) item.message = fmt::format("timed out after {}s", step.timeout.count());
        if (preflight) {
          item.verdict = passed ? DryRunVerdict::PreflightOk : DryRunVerdict::PreflightFailed;
          if (!passed && item.message.empty()) item.message = lastLine(result->output);
          if (passed) item.message = preflightNotes(result->output);
        } else if (result->timed_out) {
          item.verdict = DryRunVerdict::Error;
        } else {
          item.verdict = passed ? DryRunVerdict::AlreadyDone : DryRunVerdict::WouldRun;
        }
      }
      return;
    }
  }
  for (auto& item : report.steps) item.verdict = DryRunVerdict::Unreachable;
}

}  // namespace

DryRunReport dryRun(const Plan& plan, const std::map<std::string, HostEndpoint>& hosts) {
  std::map<std::string, DryRunHost> by_host;
  for (const auto& step : plan.steps) {
    DryRunHost& host = by_host[step.host];
    host.host = step.host;
    DryRunStep item;
    item.step = &step;
    item.has_check = !step.check.empty();
    host.steps.push_back(item);
  }
  DryRunReport report;
  for (auto& [name, host] : by_host) report.hosts.push_back(std::move(host));
  std::vector<std::thread> threads;
  for (auto& host : report.hosts) {
    auto it = hosts.find(host.host);
    const HostEndpoint* endpoint = it == hosts.end() ? nullptr : &it->second;
    threads.emplace_back([&host, endpoint] { visitHost(host, endpoint); });
  }
  for (auto& thread : threads) thread.join();
  return report;
}

}  // namespace dr
