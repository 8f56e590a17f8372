// ScheduleTimer: which of drd's schedules are due. It holds no clock and no thread: the caller passes the time, so
// drd sleeps until nextWake() with its own clock and its tests inject one.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "rehearse/drd_config.h"

namespace dr {

// Decides which schedules are due; pure (the caller passes the time), so drd's tests inject a clock.
class ScheduleTimer {
 public:
  // Each schedule's first run is its first matching minute strictly after `start`.
  ScheduleTimer(std::vector<ScheduleConfig> schedules, std::chrono::system_clock::time_point start);
  // Schedules whose next time is <= now, each at most once per call; their next time moves past `now` (missed
  // firings collapse into one, as cron does after a sleep).
  std::vector<ScheduleConfig> due(std::chrono::system_clock::time_point now);
  std::optional<std::chrono::system_clock::time_point> nextWake() const;  // earliest next time of all
  std::optional<std::chrono::system_clock::time_point> nextRun(const std::string& name) const;
  const std::vector<ScheduleConfig>& schedules() const { return schedules_; }

 private:
  std::vector<ScheduleConfig> schedules_;
  // next_[i] belongs to schedules_[i]; nullopt when the expression never matches again (e.g. "0 0 30 2 *").
  std::vector<std::optional<std::chrono::system_clock::time_point>> next_;
};

}  // namespace dr
