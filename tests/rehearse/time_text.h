// Helpers for the rehearse tests: UTC times built from calendar fields, and shown as "YYYY-MM-DD HH:MM" so a
// failed comparison reads like the hand-computed expectation.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string>

namespace dr::test {

inline std::chrono::system_clock::time_point utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  return sys_days(year{y} / month{mo} / day{d}) + hours(h) + minutes(mi) + seconds(s);
}

inline std::string showUtc(std::optional<std::chrono::system_clock::time_point> t) {
  using namespace std::chrono;
  if (!t) return "never";
  const auto day = floor<days>(*t);
  const year_month_day date(day);
  const hh_mm_ss time(floor<seconds>(*t - day));
  std::string text =
      fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), time.hours().count(), time.minutes().count());
  if (time.seconds().count() != 0) text += fmt::format(":{:02}", time.seconds().count());
  return text;
}

}  // namespace dr::test
