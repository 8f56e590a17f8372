// The real clock: system_clock for the journal, steady_clock for durations.
#include "exec/clock.h"

#include <thread>

namespace dr {

std::int64_t SystemClock::wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::steady_clock::time_point SystemClock::now() { return std::chrono::steady_clock::now(); }

void SystemClock::sleepFor(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

}  // namespace dr
