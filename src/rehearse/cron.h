// CronSchedule: when drd's scheduled rehearsals fire. A standard 5-field cron expression evaluated in UTC, so a
// schedule means the same thing on every host whatever its local time zone, and daylight saving never skips or
// doubles a run.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>

#include "core/result.h"

namespace dr {

// Standard 5-field cron (minute hour day-of-month month day-of-week, UTC): *, lists, ranges, steps (*/5, 1-10/2),
// month and weekday names (jan, mon), 7 = Sunday, and @hourly @daily @midnight @weekly @monthly @yearly @annually.
// Day-of-month and day-of-week follow Vixie cron: when both are restricted, either matching fires. As in Vixie
// cron, a field that starts with '*' (also "*/2") counts as unrestricted for that rule. "N/S" means N-MAX/S.
class CronSchedule {
 public:
  static Result<CronSchedule> parse(const std::string& expression);  // error names the field and why
  // The first minute strictly after `after` that matches (UTC), or nullopt when none within 5 years (e.g. 30 feb).
  std::optional<std::chrono::system_clock::time_point> next(std::chrono::system_clock::time_point after) const;
  const std::string& text() const { return text_; }

  // A default schedule matches nothing (every bit clear); it exists so structs holding one can be default-built.
  CronSchedule() = default;

 private:
  bool dayMatches(unsigned day_of_month, unsigned weekday) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bits 1..31
  std::bitset<13> months_;         // bits 1..12
  std::bitset<7> weekdays_;        // 0 = Sunday
  bool day_of_month_star_ = false;
  bool weekday_star_ = false;
};

}  // namespace dr
