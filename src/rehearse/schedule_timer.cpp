// Due-schedule bookkeeping for drd; see schedule_timer.h.
#include "rehearse/schedule_timer.h"

#include <algorithm>

namespace dr {

ScheduleTimer::ScheduleTimer(std::vector<ScheduleConfig> schedules, std::chrono::system_clock::time_point start)
    : schedules_(std::move(schedules)) {
  next_.reserve(schedules_.size());
  for (const ScheduleConfig& schedule : schedules_) next_.push_back(schedule.schedule.next(start));
}

std::vector<ScheduleConfig> ScheduleTimer::due(std::chrono::system_clock::time_point now) {
  std::vector<ScheduleConfig> result;
  for (std::size_t i = 0; i < schedules_.size(); ++i) {
    if (!next_[i] || *next_[i] > now) continue;
    result.push_back(schedules_[i]);
    // From `now`, not from the missed time: a drd that slept through ten firings runs once, not ten times.
    next_[i] = schedules_[i].schedule.next(now);
  }
  return result;
}

std::optional<std::chrono::system_clock::time_point> ScheduleTimer::nextWake() const {
  std::optional<std::chrono::system_clock::time_point> earliest;
  for (const auto& next : next_) {
    if (next && (!earliest || *next < *earliest)) earliest = next;
  }
  return earliest;
}

std::optional<std::chrono::system_clock::time_point> ScheduleTimer::nextRun(const std::string& name) const {
  for (std::size_t i = 0; i < schedules_.size(); ++i) {
    if (schedules_[i].name == name) return next_[i];
  }
  return std::nullopt;
}

}  // namespace dr
