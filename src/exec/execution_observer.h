// ExecutionObserver: the executor's events, for whoever shows progress (drctl's live view, log lines, JSON
// events) or records them (tests). The library never prints; it tells an observer. The executor serializes its
// calls (never two at once), so an observer needs no locking of its own, but it must return quickly: a slow
// observer slows every host.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "plan/plan.h"

namespace dr {

// What a host is doing, as the live view shows it.
enum class HostActivity { Connecting, Running, Idle, Finished, Failed, Stopped };
const char* hostActivityName(HostActivity activity);

// How one attempt (or check) of a step ended.
struct AttemptOutcome {
  int attempt = 0;
  std::optional<int> exit_code;  // unset when the transport failed before the command ran
  bool timed_out = false;
  std::int64_t duration_ms = 0;
  std::string output_sha256;
  std::string message;  // why it failed; empty on success
};

class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  virtual void onStepStarted(const Step& /*step*/, int /*attempt*/) {}
  virtual void onStepOutput(const Step& /*step*/, std::string_view /*chunk*/) {}
  virtual void onStepFinished(const Step& /*step*/, const AttemptOutcome& /*outcome*/) {}
  // will_retry: another attempt follows after the backoff.
  virtual void onStepFailed(const Step& /*step*/, const AttemptOutcome& /*outcome*/, bool /*will_retry*/) {}
  // Not run because it is already done (journal, or its check on resume).
  virtual void onStepSkipped(const Step& /*step*/, std::string_view /*why*/) {}
  virtual void onHostActivity(const std::string& /*host*/, HostActivity /*activity*/, const std::string& /*step_id*/) {}
};

}  // namespace dr
