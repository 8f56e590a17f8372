// How drd answers with the engine's decisions (ops/outcome.h): a refusal becomes a gRPC status whose code says
// what kind of problem it is, whose message is what drctl would print, and whose binary details hold the exit code
// drctl gives for the same problem, so `drctl --server` exits exactly as the local command. Also the dry-run that
// Apply and the dry-run schedules share.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "exec/dry_run.h"
#include "ops/apply.h"
#include "ops/outcome.h"
#include "ops/session.h"

namespace dr::drd {

// The trailing metadata key under which drd sends, with an error, the notes it found before refusing (one value
// per note; binary, so any bytes pass).
inline constexpr const char* kNotesMetadataKey = "dr-notes-bin";

inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

// A gRPC error with the drctl exit code it corresponds to in its details. gRPC sends the message as UTF-8 text, so
// invalid bytes in it (a path, a member name) are replaced.
grpc::Status serviceError(grpc::StatusCode code, const std::string& message, int exit_code);
// The status for a refusal (never OK: NothingToDo is answered by the caller).
grpc::Status statusFor(const ops::Refusal& refusal);

std::string joinLines(const std::vector<std::string>& lines);

// Replaces invalid UTF-8 in every string field of `message` and of the messages it holds. A proto3 string must be
// UTF-8: the client refuses to parse a message with an invalid one, so the whole answer would be lost. drd's
// answers carry outside text in many fields (paths, member names, step ids, a step's output, errors); they are
// repaired here as a whole, each answer just before it is sent and each event as it enters a run's event log.
void repairUtf8(google::protobuf::Message& message);

// A dry-run of an inventory's plan against its real hosts (the same checks as drctl apply --dry-run).
struct DryRunOutcome {
  std::vector<std::string> notes;        // warnings, the quorum verdict
  std::optional<ops::Refusal> refusal;   // the inputs did not load or plan: nothing was contacted
  std::optional<ops::PreparedSession> prepared;
  std::optional<DryRunReport> report;    // points into prepared->plan
  bool ok() const { return !refusal && report && report->ok(); }
};
// `request` as an apply would take it; it runs as a dry-run whatever its dry_run says.
DryRunOutcome dryRunInventory(ops::ApplyRequest request);
// The report as text, one line per step ("HOST STEP VERDICT: message"), for schedule results.
std::string dryRunText(const DryRunReport& report);

}  // namespace dr::drd
