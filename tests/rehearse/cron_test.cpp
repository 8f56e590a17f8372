// CronSchedule: parsing and next() against hand-computed UTC times (weekdays checked with a calendar).
#include "rehearse/cron.h"

#include <catch2/catch.hpp>

#include "time_text.h"

namespace dr {
namespace {

using test::showUtc;
using test::utc;

std::string nextOf(const std::string& expression, std::chrono::system_clock::time_point after) {
  auto schedule = CronSchedule::parse(expression);
  REQUIRE(schedule.ok());
  return showUtc(schedule->next(after));
}

std::string errorOf(const std::string& expression) {
  auto schedule = CronSchedule::parse(expression);
  REQUIRE_FALSE(schedule.ok());
  return schedule.error().message;
}

TEST_CASE("cron: next is the first matching minute strictly after the given time", "[cron]") {
  CHECK(nextOf("*/15 * * * *", utc(2024, 1, 1, 10, 7, 30)) == "2024-01-01 10:15");
  CHECK(nextOf("30 10 * * *", utc(2024, 1, 1, 10, 29, 59)) == "2024-01-01 10:30");
  CHECK(nextOf("30 10 * * *", utc(2024, 1, 1, 10, 30, 0)) == "2024-01-02 10:30");   // exactly at: the next one
  CHECK(nextOf("30 10 * * *", utc(2024, 1, 1, 10, 30, 45)) == "2024-01-02 10:30");  // within the minute too
  CHECK(nextOf("* * * * *", utc(2024, 1, 1, 23, 59, 0)) == "2024-01-02 00:00");
  auto schedule = CronSchedule::parse("0 3 * * *");
  REQUIRE(schedule.ok());
  CHECK(schedule->text() == "0 3 * * *");
}

TEST_CASE("cron: month ends, year ends and leap years", "[cron]") {
  CHECK(nextOf("0 0 31 * *", utc(2024, 4, 1)) == "2024-05-31 00:00");         // April has no 31st
  CHECK(nextOf("0 0 31 * *", utc(2024, 5, 31, 0, 0)) == "2024-07-31 00:00");  // nor June
  CHECK(nextOf("59 23 31 12 *", utc(2024, 6, 1)) == "2024-12-31 23:59");
  CHECK(nextOf("0 0 1 1 *", utc(2024, 6, 1)) == "2025-01-01 00:00");
  CHECK(nextOf("0 12 29 2 *", utc(2023, 1, 1)) == "2024-02-29 12:00");
  CHECK(nextOf("0 12 29 2 *", utc(2024, 3, 1)) == "2028-02-29 12:00");  // 2025-2027 are not leap years
  CHECK(nextOf("0 0 28-31 2 *", utc(2023, 2, 28, 1)) == "2024-02-28 00:00");
}

TEST_CASE("cron: an expression that never matches within 5 years gives nothing", "[cron]") {
  CHECK(nextOf("0 0 30 2 *", utc(2024, 1, 1)) == "never");
  CHECK(nextOf("0 0 31 4,6,9,11 *", utc(2024, 1, 1)) == "never");
}

TEST_CASE("cron: day-of-month and day-of-week follow Vixie cron", "[cron]") {
  // Both restricted: either fires. 2024-09-01 is a Sunday; the 6th a Friday; the 13th a Friday too.
  CHECK(nextOf("0 0 13 * fri", utc(2024, 9, 1)) == "2024-09-06 00:00");
  CHECK(nextOf("0 0 13 * fri", utc(2024, 9, 6)) == "2024-09-13 00:00");
  CHECK(nextOf("0 0 13 * fri", utc(2024, 9, 13)) == "2024-09-20 00:00");
  // 2024-06-01 is a Saturday (the 1st matches) before Monday the 3rd.
  CHECK(nextOf("0 0 1 * mon", utc(2024, 5, 28)) == "2024-06-01 00:00");
  CHECK(nextOf("0 0 1 * mon", utc(2024, 6, 1)) == "2024-06-03 00:00");
  // One side unrestricted: only the other counts.
  CHECK(nextOf("0 0 13 * *", utc(2024, 9, 1)) == "2024-09-13 00:00");
  CHECK(nextOf("0 0 * * mon", utc(2024, 9, 1)) == "2024-09-02 00:00");
  // A field starting with '*' is "unrestricted" for this rule even with a step: odd days that are Mondays
  // (the 2nd is even, the 9th odd).
  CHECK(nextOf("0 0 */2 * mon", utc(2024, 9, 1)) == "2024-09-09 00:00");
}

TEST_CASE("cron: ranges, steps, lists and names", "[cron]") {
  CHECK(nextOf("0 9-17/4 * * *", utc(2024, 1, 1, 10)) == "2024-01-01 13:00");
  CHECK(nextOf("0 9-17/4 * * *", utc(2024, 1, 1, 13)) == "2024-01-01 17:00");
  CHECK(nextOf("0 9-17/4 * * *", utc(2024, 1, 1, 17)) == "2024-01-02 09:00");
  CHECK(nextOf("1-10/2 * * * *", utc(2024, 1, 1, 0, 1)) == "2024-01-01 00:03");
  CHECK(nextOf("1-10/2 * * * *", utc(2024, 1, 1, 0, 9)) == "2024-01-01 01:01");
  CHECK(nextOf("5/20 * * * *", utc(2024, 1, 1, 0, 26)) == "2024-01-01 00:45");  // N/S: N, N+S, ... to the end
  CHECK(nextOf("0,30 * * * *", utc(2024, 1, 1, 0, 1)) == "2024-01-01 00:30");
  CHECK(nextOf("15 6 * * 1-5", utc(2025, 1, 3, 7)) == "2025-01-06 06:15");  // Fri 7:00 -> Mon
  // Names, any case; 2024-07-01 is a Monday.
  CHECK(nextOf("0 0 * jan,jul mon-fri", utc(2024, 2, 1)) == "2024-07-01 00:00");
  CHECK(nextOf("0 0 * JUL Mon", utc(2024, 2, 1)) == "2024-07-01 00:00");
  CHECK(nextOf("0 0 1 dec-dec *", utc(2024, 2, 1)) == "2024-12-01 00:00");
}

TEST_CASE("cron: 7 is Sunday, as is 0", "[cron]") {
  // 2024-09-02 is a Monday, the 8th a Sunday.
  CHECK(nextOf("0 0 * * 7", utc(2024, 9, 2)) == "2024-09-08 00:00");
  CHECK(nextOf("0 0 * * 0", utc(2024, 9, 2)) == "2024-09-08 00:00");
  CHECK(nextOf("0 0 * * sun", utc(2024, 9, 2)) == "2024-09-08 00:00");
  CHECK(nextOf("0 0 * * 6-7", utc(2024, 9, 2)) == "2024-09-07 00:00");
  CHECK(nextOf("0 0 * * 6-7", utc(2024, 9, 7)) == "2024-09-08 00:00");
}

TEST_CASE("cron: @macros", "[cron]") {
  CHECK(nextOf("@hourly", utc(2024, 1, 1, 10)) == "2024-01-01 11:00");
  CHECK(nextOf("@daily", utc(2024, 12, 31, 23, 59)) == "2025-01-01 00:00");
  CHECK(nextOf("@midnight", utc(2024, 3, 5, 12)) == "2024-03-06 00:00");
  CHECK(nextOf("@weekly", utc(2024, 9, 2)) == "2024-09-08 00:00");  // Sunday midnight
  CHECK(nextOf("@monthly", utc(2024, 2, 15)) == "2024-03-01 00:00");
  CHECK(nextOf("@yearly", utc(2024, 2, 15)) == "2025-01-01 00:00");
  CHECK(nextOf("@annually", utc(2024, 2, 15)) == "2025-01-01 00:00");
  CHECK(nextOf("  @DAILY ", utc(2024, 3, 5, 12)) == "2024-03-06 00:00");
}

TEST_CASE("cron: every error names the field and why", "[cron]") {
  CHECK(errorOf("").find("empty cron expression") != std::string::npos);
  CHECK(errorOf("* * * *") ==
        "expected 5 fields (minute hour day-of-month month day-of-week) or an @macro, found 4 in '* * * *'");
  CHECK(errorOf("0 0 * * * *").find("found 6") != std::string::npos);
  CHECK(errorOf("60 * * * *") == "minute field '60': 60 is out of range 0-59");
  CHECK(errorOf("* 24 * * *") == "hour field '24': 24 is out of range 0-23");
  CHECK(errorOf("* * 0 * *") == "day-of-month field '0': 0 is out of range 1-31");
  CHECK(errorOf("* * 32 * *") == "day-of-month field '32': 32 is out of range 1-31");
  CHECK(errorOf("* * * 13 *") == "month field '13': 13 is out of range 1-12");
  CHECK(errorOf("* * * * 8") == "day-of-week field '8': 8 is out of range 0-7");
  CHECK(errorOf("* * * * 123456") == "day-of-week field '123456': 123456 is out of range 0-7");
  CHECK(errorOf("* * * * mnn") == "day-of-week field 'mnn': 'mnn' is not a number or a name; did you mean 'mon'?");
  CHECK(errorOf("* * * foo *") ==
        "month field 'foo': 'foo' is not a number or a name (jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, "
        "dec)");
  CHECK(errorOf("mon * * * *") == "minute field 'mon': 'mon' is not a number");
  CHECK(errorOf("5-1 * * * *") == "minute field '5-1': range 5-1 goes backwards");
  CHECK(errorOf("*/0 * * * *") == "minute field '*/0': step 0 would never advance");
  CHECK(errorOf("*/x * * * *") == "minute field '*/x': step 'x' is not a number");
  CHECK(errorOf("*/ * * * *") == "minute field '*/': step '' is not a number");
  CHECK(errorOf("*/61 * * * *") == "minute field '*/61': step 61 is larger than the field's range 0-59");
  CHECK(errorOf("1/2/3 * * * *") == "minute field '1/2/3': '1/2/3' has more than one '/'");
  CHECK(errorOf("1,,2 * * * *") == "minute field '1,,2': empty list item (two commas, or a comma at an end)");
  CHECK(errorOf("1, * * * *").find("empty list item") != std::string::npos);
  CHECK(errorOf("1-2-3 * * * *") == "minute field '1-2-3': '1-2-3' is not a range A-B");
  CHECK(errorOf("-5 * * * *") == "minute field '-5': a number is missing");
  CHECK(errorOf("@reboot") ==
        "unknown cron macro '@reboot' (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)");
  CHECK(errorOf("@dialy") == "unknown cron macro '@dialy'; did you mean '@daily'?");
  CHECK(errorOf("@daily 0").find("found 2") != std::string::npos);
}

}  // namespace
}  // namespace dr
