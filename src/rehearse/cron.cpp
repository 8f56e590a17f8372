// Parsing and evaluating 5-field cron expressions; see cron.h.
#include "rehearse/cron.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/suggest.h"

namespace dr {
namespace {

struct FieldSpec {
  const char* name;
  unsigned min;
  unsigned max;
  std::span<const std::string_view> names;  // lowercase names a value may be written as
  unsigned name_base;                       // the value names[0] stands for
};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// Day-of-week accepts 0-7: both 0 and 7 are Sunday (7 is folded onto 0 after parsing).
const FieldSpec kFields[5] = {
    {"minute", 0, 59, {}, 0},
    {"hour", 0, 23, {}, 0},
    {"day-of-month", 1, 31, {}, 0},
    {"month", 1, 12, kMonthNames, 1},
    {"day-of-week", 0, 7, kWeekdayNames, 0},
};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> kMacros = {{{"@yearly", "0 0 1 1 *"},
                                           {"@annually", "0 0 1 1 *"},
                                           {"@monthly", "0 0 1 * *"},
                                           {"@weekly", "0 0 * * 0"},
                                           {"@daily", "0 0 * * *"},
                                           {"@midnight", "0 0 * * *"},
                                           {"@hourly", "0 * * * *"}}};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> splitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// One field of an expression: its spec and its text, so every error can say "FIELD field 'TEXT': why".
class FieldParser {
 public:
  FieldParser(const FieldSpec& spec, std::string_view text) : spec_(spec), text_(text) {}

  Result<std::uint64_t> parse() const {
    std::uint64_t bits = 0;
    for (const std::string_view item : split(text_, ',')) {
      auto item_bits = parseItem(item);
      if (!item_bits) return item_bits.error();
      bits |= *item_bits;
    }
    return bits;
  }

 private:
  Error error(std::string_view why) const { return fail("{} field '{}': {}", spec_.name, text_, why); }

  Result<unsigned> value(std::string_view word) const {
    if (word.empty()) return error("a number is missing");
    if (std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); })) {
      if (word.size() > 4) return error(fmt::format("{} is out of range {}-{}", word, spec_.min, spec_.max));
      const unsigned number = static_cast<unsigned>(std::stoul(std::string(word)));
      if (number < spec_.min || number > spec_.max) {
        return error(fmt::format("{} is out of range {}-{}", number, spec_.min, spec_.max));
      }
      return number;
    }
    const std::string name = lower(word);
    for (std::size_t i = 0; i < spec_.names.size(); ++i) {
      if (spec_.names[i] == name) return spec_.name_base + static_cast<unsigned>(i);
    }
    if (spec_.names.empty()) return error(fmt::format("'{}' is not a number", word));
    std::vector<std::string> candidates(spec_.names.begin(), spec_.names.end());
    if (auto guess = closestMatch(name, candidates)) {
      return error(fmt::format("'{}' is not a number or a name; did you mean '{}'?", word, *guess));
    }
    return error(fmt::format("'{}' is not a number or a name ({})", word, fmt::join(spec_.names, ", ")));
  }

  Result<std::uint64_t> parseItem(std::string_view item) const {
    if (item.empty()) return error("empty list item (two commas, or a comma at an end)");
    const std::vector<std::string_view> step_parts = split(item, '/');
    if (step_parts.size() > 2) return error(fmt::format("'{}' has more than one '/'", item));
    const std::string_view range = step_parts[0];
    unsigned first = spec_.min;
    unsigned last = spec_.max;
    if (range != "*") {
      const std::vector<std::string_view> bounds = split(range, '-');
      if (bounds.size() > 2) return error(fmt::format("'{}' is not a range A-B", range));
      auto low = value(bounds[0]);
      if (!low) return low.error();
      first = *low;
      if (bounds.size() == 2) {
        auto high = value(bounds[1]);
        if (!high) return high.error();
        last = *high;
        if (last < first) return error(fmt::format("range {}-{} goes backwards", first, last));
      } else if (step_parts.size() == 1) {
        last = first;  // a single value; "N/S" keeps last = max (N, N+S, ... up to the end)
      }
    }
    unsigned step = 1;
    if (step_parts.size() == 2) {
      const std::string_view step_text = step_parts[1];
      const bool digits =
          !step_text.empty() && step_text.size() <= 4 &&
          std::all_of(step_text.begin(), step_text.end(), [](unsigned char c) { return std::isdigit(c); });
      if (!digits) return error(fmt::format("step '{}' is not a number", step_text));
      step = static_cast<unsigned>(std::stoul(std::string(step_text)));
      if (step == 0) return error("step 0 would never advance");
      if (step > spec_.max) {
        return error(fmt::format("step {} is larger than the field's range {}-{}", step, spec_.min, spec_.max));
      }
    }
    std::uint64_t bits = 0;
    for (unsigned v = first; v <= last; v += step) bits |= std::uint64_t{1} << v;
    return bits;
  }

  const FieldSpec& spec_;
  std::string_view text_;
};

template <std::size_t N>
std::bitset<N> toBitset(std::uint64_t bits) {
  return std::bitset<N>(bits & ((N >= 64) ? ~std::uint64_t{0} : ((std::uint64_t{1} << N) - 1)));
}

}  // namespace

Result<CronSchedule> CronSchedule::parse(const std::string& expression) {
  std::vector<std::string> fields = splitWords(expression);
  if (fields.empty())
    return fail("empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week)");
  if (fields.size() == 1 && fields[0].starts_with('@')) {
    const std::string name = lower(fields[0]);
    const auto macro = std::find_if(kMacros.begin(), kMacros.end(), [&](const Macro& m) { return m.name == name; });
    if (macro == kMacros.end()) {
      std::vector<std::string> names;
      for (const Macro& m : kMacros) names.emplace_back(m.name);
      if (auto guess = closestMatch(name, names)) {
        return fail("unknown cron macro '{}'; did you mean '{}'?", fields[0], *guess);
      }
      return fail("unknown cron macro '{}' (known: {})", fields[0], fmt::join(names, ", "));
    }
    fields = splitWords(std::string(macro->expansion));
  }
  if (fields.size() != 5) {
    return fail("expected 5 fields (minute hour day-of-month month day-of-week) or an @macro, found {} in '{}'",
                fields.size(), expression);
  }
  std::uint64_t bits[5] = {};
  for (std::size_t i = 0; i < 5; ++i) {
    auto parsed = FieldParser(kFields[i], fields[i]).parse();
    if (!parsed) return parsed.error();
    bits[i] = *parsed;
  }
  CronSchedule schedule;
  schedule.text_ = expression;
  schedule.minutes_ = toBitset<60>(bits[0]);
  schedule.hours_ = toBitset<24>(bits[1]);
  schedule.days_of_month_ = toBitset<32>(bits[2]);
  schedule.months_ = toBitset<13>(bits[3]);
  const std::uint64_t sunday_as_7 = (bits[4] >> 7) & 1;
  schedule.weekdays_ = toBitset<7>(bits[4] | sunday_as_7);
  schedule.day_of_month_star_ = fields[2].starts_with('*');
  schedule.weekday_star_ = fields[4].starts_with('*');
  return schedule;
}

bool CronSchedule::dayMatches(unsigned day_of_month, unsigned weekday) const {
  const bool dom = days_of_month_[day_of_month];
  const bool dow = weekdays_[weekday];
  // Vixie cron's rule: with either field unrestricted both must match (the '*' one always does); with both
  // restricted, "1 * mon" means the 1st of the month and every Monday.
  if (day_of_month_star_ || weekday_star_) return dom && dow;
  return dom || dow;
}

std::optional<std::chrono::system_clock::time_point> CronSchedule::next(
    std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  const auto start = floor<minutes>(after);
  const sys_days limit_day = sys_days(year_month_day(floor<days>(start)) + years(5));
  sys_time<minutes> t = start + minutes(1);
  // Each step jumps to the start of the next month, day, hour or minute that could match: at most 60 months,
  // ~1,830 days, and 24 hours and 60 minutes on a matching day, so this ends quickly even for "30 2 30 feb *".
  while (t < limit_day) {
    const sys_days day = floor<days>(t);
    const year_month_day date(day);
    const unsigned month = static_cast<unsigned>(date.month());
    if (!months_[month]) {
      t = sys_days((date.year() / date.month() + months(1)) / 1);
      continue;
    }
    if (!dayMatches(static_cast<unsigned>(date.day()), weekday(day).c_encoding())) {
      t = day + days(1);
      continue;
    }
    const auto hour = static_cast<unsigned>(floor<hours>(t - day).count());
    if (!hours_[hour]) {
      t = day + hours(hour + 1);
      continue;
    }
    const auto minute = static_cast<unsigned>((t - day - hours(hour)).count());
    if (!minutes_[minute]) {
      t += minutes(1);
      continue;
    }
    return time_point_cast<system_clock::duration>(t);
  }
  return std::nullopt;
}

}  // namespace dr
