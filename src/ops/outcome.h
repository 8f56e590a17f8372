// What the use cases (apply, dry-run, resume, rollback) answer: a value, or a refusal saying why nothing was run,
// and either way the notes the operator should see. drctl prints these and drd turns them into gRPC answers; the
// decision itself is made once, here, so the two front ends cannot drift apart.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dr::ops {

enum class RefusalKind {
  BadInput,       // the inputs are wrong (exit 2; drd: INVALID_ARGUMENT)
  NotFound,       // no such run (exit 2; drd: NOT_FOUND)
  InputsChanged,  // a resume's plan differs from the run's (exit 2; drd: FAILED_PRECONDITION)
  Unsafe,         // refused for safety: a healthy quorum, unusable certificates (exit 1; drd: FAILED_PRECONDITION)
  Conflict,       // another run holds the cluster, or the run is in a state that forbids this (exit 1; same)
  Failed,         // the world failed: a run directory or journal could not be written (exit 1; drd: INTERNAL)
  NothingToDo,    // a resume of a finished run, a rollback of a rolled-back one: not an error (exit 0)
};

// The exit code drctl gives, and drd puts in an error's details, for a refusal of this kind.
int exitCodeOf(RefusalKind kind);

struct Refusal {
  RefusalKind kind = RefusalKind::BadInput;
  std::vector<std::string> diagnostics;  // FILE:LINE:COLUMN: message lines of the inputs, shown as they are
  std::string message;                   // what was refused and why (may hold several lines)

  int exitCode() const { return exitCodeOf(kind); }
  // The diagnostics, then the message's lines.
  std::vector<std::string> lines() const;
};

Refusal refuse(RefusalKind kind, std::string message, std::vector<std::string> diagnostics = {});

template <typename T>
struct Outcome {
  std::optional<T> value;
  std::optional<Refusal> refusal;  // set exactly when value is not
  std::vector<std::string> notes;  // warnings and what was found on the way, in the order found

  bool ok() const { return value.has_value(); }
  static Outcome refused(Refusal why, std::vector<std::string> notes = {}) {
    Outcome out;
    out.refusal = std::move(why);
    out.notes = std::move(notes);
    return out;
  }
};

}  // namespace dr::ops
