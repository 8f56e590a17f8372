// Clock: the executor's only source of time. Journal timestamps, step durations and the backoff between retries
// all go through it, so tests and the simulator can run a plan on virtual time (no real sleeping).
#pragma once

#include <chrono>
#include <cstdint>

namespace dr {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, milliseconds since the epoch: what the journal records.
  virtual std::int64_t wallMs() = 0;
  // Monotonic time for durations.
  virtual std::chrono::steady_clock::time_point now() = 0;
  // Waits (retry backoff). A virtual clock advances instead of waiting.
  virtual void sleepFor(std::chrono::milliseconds duration) = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  std::int64_t wallMs() override;
  std::chrono::steady_clock::time_point now() override;
  void sleepFor(std::chrono::milliseconds duration) override;
};

}  // namespace dr
