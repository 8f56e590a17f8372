// ScheduleTimer with an injected time: due exactly at the minute and not before, missed firings collapse into one,
// two schedules interleave, and a schedule that never fires again stays quiet.
#include "rehearse/schedule_timer.h"

#include <catch2/catch.hpp>

#include "time_text.h"

namespace dr {
namespace {

using namespace std::chrono_literals;
using test::showUtc;
using test::utc;

ScheduleConfig schedule(const std::string& name, const std::string& cron) {
  ScheduleConfig config;
  config.name = name;
  config.cron = cron;
  auto parsed = CronSchedule::parse(cron);
  REQUIRE(parsed.ok());
  config.schedule = *parsed;
  return config;
}

std::vector<std::string> names(const std::vector<ScheduleConfig>& schedules) {
  std::vector<std::string> out;
  for (const auto& s : schedules) out.push_back(s.name);
  return out;
}

using Names = std::vector<std::string>;

TEST_CASE("schedule timer: due exactly at the minute, not before", "[timer]") {
  ScheduleTimer timer({schedule("nightly", "0 3 * * *")}, utc(2024, 1, 1, 12));
  CHECK(showUtc(timer.nextRun("nightly")) == "2024-01-02 03:00");
  CHECK(showUtc(timer.nextWake()) == "2024-01-02 03:00");
  CHECK(timer.due(utc(2024, 1, 2, 2, 59, 59)).empty());
  CHECK(timer.due(utc(2024, 1, 2, 3) - 1ms).empty());
  CHECK(names(timer.due(utc(2024, 1, 2, 3))) == Names{"nightly"});
  // Fired: the next time moved past now, and the same minute does not fire twice.
  CHECK(showUtc(timer.nextRun("nightly")) == "2024-01-03 03:00");
  CHECK(timer.due(utc(2024, 1, 2, 3, 0, 30)).empty());
  CHECK_FALSE(timer.nextRun("no-such-schedule").has_value());
  REQUIRE(timer.schedules().size() == 1);
  CHECK(timer.schedules()[0].cron == "0 3 * * *");
}

TEST_CASE("schedule timer: the start minute itself does not fire", "[timer]") {
  // Started at 03:00:00 exactly: strictly after, so a restart at the firing minute does not run it again.
  ScheduleTimer timer({schedule("nightly", "0 3 * * *")}, utc(2024, 1, 2, 3));
  CHECK(timer.due(utc(2024, 1, 2, 3, 0, 10)).empty());
  CHECK(showUtc(timer.nextRun("nightly")) == "2024-01-03 03:00");
}

TEST_CASE("schedule timer: missed firings collapse into one", "[timer]") {
  ScheduleTimer timer({schedule("every-5", "*/5 * * * *")}, utc(2024, 1, 1, 10, 1));
  // Asleep from 10:01 to 11:02: twelve firings were missed; one run, and the next is after now.
  CHECK(names(timer.due(utc(2024, 1, 1, 11, 2))) == Names{"every-5"});
  CHECK(showUtc(timer.nextRun("every-5")) == "2024-01-01 11:05");
  CHECK(timer.due(utc(2024, 1, 1, 11, 4)).empty());
  CHECK(names(timer.due(utc(2024, 1, 1, 11, 5))) == Names{"every-5"});
}

TEST_CASE("schedule timer: two schedules", "[timer]") {
  ScheduleTimer timer({schedule("hourly", "@hourly"), schedule("half-past", "30 * * * *")}, utc(2024, 1, 1, 10, 10));
  CHECK(showUtc(timer.nextWake()) == "2024-01-01 10:30");
  CHECK(names(timer.due(utc(2024, 1, 1, 10, 30))) == Names{"half-past"});
  CHECK(showUtc(timer.nextWake()) == "2024-01-01 11:00");
  CHECK(names(timer.due(utc(2024, 1, 1, 11))) == Names{"hourly"});
  // Both overdue at once: both returned, in configuration order, each once.
  CHECK(names(timer.due(utc(2024, 1, 1, 12, 45))) == Names{"hourly", "half-past"});
  CHECK(showUtc(timer.nextRun("hourly")) == "2024-01-01 13:00");
  CHECK(showUtc(timer.nextRun("half-past")) == "2024-01-01 13:30");
  CHECK(showUtc(timer.nextWake()) == "2024-01-01 13:00");
}

TEST_CASE("schedule timer: a schedule that never fires, and no schedules", "[timer]") {
  ScheduleTimer never({schedule("feb-30", "0 0 30 2 *")}, utc(2024, 1, 1));
  CHECK_FALSE(never.nextWake().has_value());
  CHECK_FALSE(never.nextRun("feb-30").has_value());
  CHECK(never.due(utc(2030, 1, 1)).empty());
  ScheduleTimer empty({}, utc(2024, 1, 1));
  CHECK_FALSE(empty.nextWake().has_value());
  CHECK(empty.due(utc(2024, 1, 2)).empty());
}

}  // namespace
}  // namespace dr
