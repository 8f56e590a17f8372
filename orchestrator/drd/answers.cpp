// drd's answers from the engine's decisions, and its dry-runs (see answers.h).
#include "drd/answers.h"

#include <fmt/format.h>

#include "ops/apply.h"

namespace dr::drd {

grpc::Status serviceError(grpc::StatusCode code, const std::string& message, int exit_code) {
  return grpc::Status(code, message, std::to_string(exit_code));
}

grpc::Status statusFor(const ops::Refusal& refusal) {
  grpc::StatusCode code = grpc::StatusCode::FAILED_PRECONDITION;
  switch (refusal.kind) {
    case ops::RefusalKind::BadInput:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ops::RefusalKind::NotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ops::RefusalKind::Failed:
      code = grpc::StatusCode::INTERNAL;
      break;
    case ops::RefusalKind::InputsChanged:
    case ops::RefusalKind::Unsafe:
    case ops::RefusalKind::Conflict:
    case ops::RefusalKind::NothingToDo:
      break;
  }
  return serviceError(code, joinLines(refusal.lines()), refusal.exitCode());
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

DryRunOutcome dryRunInventory(const std::string& inventory, const std::string& snapshot,
                              const std::string& plan_template, bool accept_new_host_keys) {
  DryRunOutcome out;
  ops::ApplyRequest request;
  request.inventory = inventory;
  request.snapshot = snapshot;
  request.plan_template = plan_template;
  request.accept_new_host_keys = accept_new_host_keys;
  request.dry_run = true;
  request.started_by = "drd";
  auto prepared = ops::prepareApply(request);
  out.notes = std::move(prepared.notes);
  if (!prepared.ok()) {
    out.refusal = std::move(prepared.refusal);
    return out;
  }
  out.prepared = std::move(prepared.value);
  out.report = ops::rehearse(*out.prepared);
  return out;
}

std::string dryRunText(const DryRunReport& report) {
  std::string text;
  for (const auto& host : report.hosts) {
    if (!host.connect_error.empty()) text += fmt::format("{}: UNREACHABLE: {}\n", host.host, host.connect_error);
    for (const auto& item : host.steps) {
      text += fmt::format("{} {} {}{}\n", host.host, item.step->id, dryRunVerdictName(item.verdict),
                          item.message.empty() ? "" : ": " + item.message);
    }
  }
  return text;
}

}  // namespace dr::drd
