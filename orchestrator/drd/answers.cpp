// drd's answers from the engine's decisions, and its dry-runs (see answers.h).
#include "drd/answers.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include "core/utf8.h"
#include "ops/apply.h"

namespace dr::drd {

grpc::Status serviceError(grpc::StatusCode code, const std::string& message, int exit_code) {
  return grpc::Status(code, toValidUtf8(message), std::to_string(exit_code));
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

void repairUtf8(google::protobuf::Message& message) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);  // the fields that are set: nothing is added to the message
  std::string scratch;
  for (const FieldDescriptor* field : fields) {
    if (field->type() == FieldDescriptor::TYPE_STRING) {  // not TYPE_BYTES, which may hold anything
      if (!field->is_repeated()) {
        const std::string& text = reflection->GetStringReference(message, field, &scratch);
        if (!isValidUtf8(text)) reflection->SetString(&message, field, toValidUtf8(text));
        continue;
      }
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        const std::string& text = reflection->GetRepeatedStringReference(message, field, i, &scratch);
        if (!isValidUtf8(text)) reflection->SetRepeatedString(&message, field, i, toValidUtf8(text));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!field->is_repeated()) {
        repairUtf8(*reflection->MutableMessage(&message, field));
        continue;
      }
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        repairUtf8(*reflection->MutableRepeatedMessage(&message, field, i));
      }
    }
  }
}

DryRunOutcome dryRunInventory(ops::ApplyRequest request) {
  DryRunOutcome out;
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
