#include "core/period.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/status.h"
#include "core/text.h"
#include "fmt/format.h"

namespace pingan {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr size_t kMaxPeriodTextBytes = 32;

// Floor division and modulo (the built-in ones truncate towards zero).
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
constexpr int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

Day Jan1(int year) { return DayFromCivil(year, 1, 1); }
Day Dec31(int year) { return DayFromCivil(year, 12, 31); }
Day MonthFirst(int year, int month) { return DayFromCivil(year, month, 1); }
Day MonthLast(int year, int month) { return DayFromCivil(year, month, DaysInMonth(year, month)); }

// The same month and day in `year`, 29 February becoming 28 February in a common year.
Day SameDateInYear(Day day, int year) {
  int old_year, month, day_of_month;
  CivilFromDay(day, &old_year, &month, &day_of_month);
  return DayFromCivil(year, month, std::min(day_of_month, DaysInMonth(year, month)));
}

int YearOf(Day day) {
  int year, month, day_of_month;
  CivilFromDay(day, &year, &month, &day_of_month);
  return year;
}

// The `span_months` months that start `months_back` months before the month holding `day`.
Period MonthsBefore(PeriodKind kind, Day day, int64_t months_back, int span_months) {
  int year, month, day_of_month;
  CivilFromDay(day, &year, &month, &day_of_month);
  const int64_t index = int64_t{year} * 12 + (month - 1) - months_back;
  const int first_year = static_cast<int>(FloorDiv(index, 12));
  const int first_month = static_cast<int>(FloorMod(index, 12)) + 1;
  const int64_t last_index = index + span_months - 1;
  const int last_year = static_cast<int>(FloorDiv(last_index, 12));
  const int last_month = static_cast<int>(FloorMod(last_index, 12)) + 1;
  return {kind, MonthFirst(first_year, first_month), MonthLast(last_year, last_month)};
}

std::string FormatDate(Day day) {
  int year, month, day_of_month;
  CivilFromDay(day, &year, &month, &day_of_month);
  return fmt::format("{:04}-{:02}-{:02}", year, month, day_of_month);
}

std::string FormatYear(int year) { return fmt::format("{:04}", year); }

// --- Parsing ---

constexpr std::string_view kGrammar =
    "expected YYYY, YYYYQn, YYYY-MM, YYYY-Www, YYYY-MM-DD, YYYY-MM-DD..YYYY-MM-DD or "
    "ytd:YYYY-MM-DD";

absl::Status Invalid(std::string_view text, std::string_view reason) {
  return absl::InvalidArgumentError(
      fmt::format("invalid period \"{}\": {}", Printable(text, 40), reason));
}

// Reads exactly `count` ASCII digits at `pos`; false when there are fewer.
bool ReadDigits(std::string_view text, size_t pos, size_t count, int* value) {
  if (pos + count > text.size()) return false;
  int result = 0;
  for (size_t index = pos; index < pos + count; ++index) {
    if (text[index] < '0' || text[index] > '9') return false;
    result = result * 10 + (text[index] - '0');
  }
  *value = result;
  return true;
}

bool IsDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::Status CheckYear(std::string_view whole, int year) {
  if (year < kMinPeriodYear) return Invalid(whole, "year 0000 is out of range (0001..9999)");
  return absl::OkStatus();
}

// YYYY-MM-DD exactly.
absl::StatusOr<Day> ParseDate(std::string_view whole, std::string_view date) {
  int year, month, day_of_month;
  if (date.size() != 10 || !ReadDigits(date, 0, 4, &year) || date[4] != '-' ||
      !ReadDigits(date, 5, 2, &month) || date[7] != '-' || !ReadDigits(date, 8, 2, &day_of_month)) {
    return Invalid(whole, fmt::format("\"{}\" is not a date YYYY-MM-DD", Printable(date, 40)));
  }
  PA_RETURN_IF_ERROR(CheckYear(whole, year));
  if (month < 1 || month > 12) {
    return Invalid(whole, fmt::format("month {} is not 01..12", date.substr(5, 2)));
  }
  if (day_of_month < 1 || day_of_month > DaysInMonth(year, month)) {
    return Invalid(whole, fmt::format("{} does not exist ({:04}-{} has {} days)", date, year,
                                      date.substr(5, 2), DaysInMonth(year, month)));
  }
  return DayFromCivil(year, month, day_of_month);
}

}  // namespace

// --- Civil calendar ---

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool IsValidCivil(int year, int month, int day) {
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

// Howard Hinnant's days_from_civil: eras of 400 years (146097 days) starting 1 March, so the
// leap day falls at the end of each shifted year.
Day DayFromCivil(int year, int month, int day) {
  const int64_t shifted_year = int64_t{year} - (month <= 2);
  const int64_t era = FloorDiv(shifted_year, 400);
  const int64_t year_of_era = shifted_year - era * 400;                                  // [0, 399]
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<Day>(era * 146097 + day_of_era - 719468);
}

void CivilFromDay(Day day, int* year, int* month, int* day_of_month) {
  const int64_t shifted = int64_t{day} + 719468;
  const int64_t era = FloorDiv(shifted, 146097);
  const int64_t day_of_era = shifted - era * 146097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;  // [0, 11], 0 = March
  *day_of_month = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  *month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  *year = static_cast<int>(year_of_era + era * 400 + (*month <= 2));
}

int Weekday(Day day) {
  // 1970-01-01 was a Thursday.
  return static_cast<int>(FloorMod(int64_t{day} + 3, 7)) + 1;
}

Day IsoWeekMonday(int iso_year, int week) {
  const Day jan4 = DayFromCivil(iso_year, 1, 4);
  return jan4 - (Weekday(jan4) - 1) + (week - 1) * 7;
}

int IsoWeeksInYear(int iso_year) {
  return (IsoWeekMonday(iso_year + 1, 1) - IsoWeekMonday(iso_year, 1)) / 7;
}

void IsoWeekOf(Day day, int* iso_year, int* week) {
  // A week belongs to the ISO year of its Thursday.
  const Day thursday = day - Weekday(day) + 4;
  *iso_year = YearOf(thursday);
  *week = (thursday - Jan1(*iso_year)) / 7 + 1;
}

// --- Periods ---

absl::StatusOr<Period> ParsePeriod(std::string_view text) {
  if (text.empty()) return Invalid(text, fmt::format("empty; {}", kGrammar));
  if (text.size() > kMaxPeriodTextBytes) {
    return Invalid(text, fmt::format("longer than {} bytes", kMaxPeriodTextBytes));
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return Invalid(text, "contains a control character");
    }
  }

  if (text.substr(0, 4) == "ytd:") {
    PA_ASSIGN_OR_RETURN(Day last, ParseDate(text, text.substr(4)));
    return YearToDate(last);
  }
  if (const size_t dots = text.find(".."); dots != std::string_view::npos) {
    PA_ASSIGN_OR_RETURN(Day first, ParseDate(text, text.substr(0, dots)));
    PA_ASSIGN_OR_RETURN(Day last, ParseDate(text, text.substr(dots + 2)));
    if (last < first) return Invalid(text, "the range ends before it starts");
    if (last - first + 1 > kMaxPeriodDays) {
      return Invalid(text, fmt::format("the range is longer than {} days", kMaxPeriodDays));
    }
    return RangePeriod(first, last);
  }

  int year;
  if (!ReadDigits(text, 0, 4, &year)) {
    return Invalid(text, fmt::format("does not start with a four-digit year; {}", kGrammar));
  }
  PA_RETURN_IF_ERROR(CheckYear(text, year));
  const std::string_view rest = text.substr(4);
  if (rest.empty()) return PeriodContaining(PeriodKind::kYear, Jan1(year));

  if (rest.size() == 2 && rest[0] == 'Q' && IsDigits(rest.substr(1))) {
    const int quarter = rest[1] - '0';
    if (quarter < 1 || quarter > 4) return Invalid(text, "quarter is not 1..4");
    return PeriodContaining(PeriodKind::kQuarter, MonthFirst(year, quarter * 3 - 2));
  }
  if (rest.size() == 4 && rest.substr(0, 2) == "-W" && IsDigits(rest.substr(2))) {
    const int week = (rest[2] - '0') * 10 + (rest[3] - '0');
    const int weeks = IsoWeeksInYear(year);
    if (week < 1 || week > weeks) {
      return Invalid(text, fmt::format("week {} is not 01..{} (ISO year {:04} has {} weeks)",
                                       rest.substr(2), weeks, year, weeks));
    }
    return PeriodContaining(PeriodKind::kWeek, IsoWeekMonday(year, week));
  }
  if (rest.size() == 3 && rest[0] == '-' && IsDigits(rest.substr(1))) {
    const int month = (rest[1] - '0') * 10 + (rest[2] - '0');
    if (month < 1 || month > 12) {
      return Invalid(text, fmt::format("month {} is not 01..12", rest.substr(1)));
    }
    return PeriodContaining(PeriodKind::kMonth, MonthFirst(year, month));
  }
  if (rest.size() == 6 && rest[0] == '-') {
    PA_ASSIGN_OR_RETURN(Day day, ParseDate(text, text));
    return PeriodContaining(PeriodKind::kDay, day);
  }
  return Invalid(text, kGrammar);
}

std::string FormatPeriod(const Period& period) {
  int year, month, day_of_month;
  CivilFromDay(period.first, &year, &month, &day_of_month);
  switch (period.kind) {
    case PeriodKind::kDay:
      return FormatDate(period.first);
    case PeriodKind::kWeek: {
      int iso_year, week;
      IsoWeekOf(period.first, &iso_year, &week);
      return fmt::format("{:04}-W{:02}", iso_year, week);
    }
    case PeriodKind::kMonth: {
      return fmt::format("{:04}-{:02}", year, month);
    }
    case PeriodKind::kQuarter:
      return fmt::format("{:04}Q{}", year, (month - 1) / 3 + 1);
    case PeriodKind::kYear:
      return FormatYear(year);
    case PeriodKind::kRange:
      return FormatDate(period.first) + ".." + FormatDate(period.last);
    case PeriodKind::kYearToDate:
      return "ytd:" + FormatDate(period.last);
  }
  return FormatDate(period.first) + ".." + FormatDate(period.last);
}

Period PeriodContaining(PeriodKind kind, Day day) {
  switch (kind) {
    case PeriodKind::kDay:
    case PeriodKind::kRange:
      return {kind, day, day};
    case PeriodKind::kWeek: {
      const Day monday = day - (Weekday(day) - 1);
      return {kind, monday, monday + 6};
    }
    case PeriodKind::kMonth:
      return MonthsBefore(kind, day, 0, 1);
    case PeriodKind::kQuarter: {
      int year, month, day_of_month;
      CivilFromDay(day, &year, &month, &day_of_month);
      return MonthsBefore(kind, day, (month - 1) % 3, 3);
    }
    case PeriodKind::kYear: {
      const int year = YearOf(day);
      return {kind, Jan1(year), Dec31(year)};
    }
    case PeriodKind::kYearToDate:
      return YearToDate(day);
  }
  return {PeriodKind::kDay, day, day};
}

Period RangePeriod(Day first, Day last) { return {PeriodKind::kRange, first, last}; }

Period YearToDate(Day day) { return {PeriodKind::kYearToDate, Jan1(YearOf(day)), day}; }

Period YearAgo(const Period& period) {
  switch (period.kind) {
    case PeriodKind::kWeek: {
      int iso_year, week;
      IsoWeekOf(period.first, &iso_year, &week);
      const Day monday = IsoWeekMonday(iso_year - 1, std::min(week, IsoWeeksInYear(iso_year - 1)));
      return {PeriodKind::kWeek, monday, monday + 6};
    }
    case PeriodKind::kDay:
    case PeriodKind::kMonth:
    case PeriodKind::kQuarter:
    case PeriodKind::kYear:
      // The first day shifted a year lands in the same month, quarter or year of the year before
      // (29 February in 28 February).
      return PeriodContaining(period.kind, SameDateInYear(period.first, YearOf(period.first) - 1));
    case PeriodKind::kRange:
      return RangePeriod(SameDateInYear(period.first, YearOf(period.first) - 1),
                         SameDateInYear(period.last, YearOf(period.last) - 1));
    case PeriodKind::kYearToDate:
      return YearToDate(SameDateInYear(period.last, YearOf(period.last) - 1));
  }
  return period;
}

std::optional<Period> PreviousPeriod(const Period& period) {
  if (period.kind == PeriodKind::kYearToDate) return std::nullopt;
  return PeriodBefore(period, 1);
}

Period PeriodBefore(const Period& period, int periods_back) {
  const int64_t back = periods_back;
  switch (period.kind) {
    case PeriodKind::kDay:
      return PeriodContaining(period.kind, static_cast<Day>(period.first - back));
    case PeriodKind::kWeek:
      return PeriodContaining(period.kind, static_cast<Day>(period.first - 7 * back));
    case PeriodKind::kMonth:
    case PeriodKind::kQuarter: {
      const int span = period.kind == PeriodKind::kMonth ? 1 : 3;
      return MonthsBefore(period.kind, period.first, back * span, span);
    }
    case PeriodKind::kYear: {
      const int year = static_cast<int>(YearOf(period.first) - back);
      return {period.kind, Jan1(year), Dec31(year)};
    }
    case PeriodKind::kRange: {
      const int64_t shift = back * period.days();
      return RangePeriod(static_cast<Day>(period.first - shift),
                         static_cast<Day>(period.last - shift));
    }
    case PeriodKind::kYearToDate:
      return YearToDate(SameDateInYear(period.last, static_cast<int>(YearOf(period.last) - back)));
  }
  return period;
}

// --- CivilClock ---

namespace {

// The table covers 1800-01-01 .. 2200-01-01 UTC (earlier and later instants take absl's path).
constexpr int64_t kTableBegin = -5364662400;
constexpr int64_t kTableEnd = 7258118400;
// Bounds of the instants DayOf accepts: 0001-01-01 and 9999-12-31, with a day's margin for
// the offset.
constexpr int64_t kMinUnixSeconds = int64_t{-719162} * kSecondsPerDay + kSecondsPerDay;
constexpr int64_t kMaxUnixSeconds = int64_t{2932896} * kSecondsPerDay - kSecondsPerDay;
constexpr Day kMinClockDay = -719162;  // 0001-01-01
constexpr Day kMaxClockDay = 2932896;  // 9999-12-31

bool IsPlainZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != name.npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+';
  });
}

}  // namespace

struct CivilClock::Table {
  std::string name;
  absl::TimeZone zone;
  // Segment k runs from starts[k] (inclusive) to starts[k+1] (or `end`) at offsets[k] seconds
  // east of UTC. starts[0] == begin. Instants outside [begin, end) go to absl.
  std::vector<int64_t> starts;
  std::vector<int32_t> offsets;
  int64_t begin = 0;
  int64_t end = 0;

  int32_t SlowOffset(int64_t unix_seconds) const {
    return zone.At(absl::FromUnixSeconds(unix_seconds)).offset;
  }

  // Index of the segment holding `unix_seconds`, or -1 outside the table.
  ptrdiff_t SegmentOf(int64_t unix_seconds) const {
    if (unix_seconds < begin || unix_seconds >= end) return -1;
    // Most events are recent: after the last transition, one comparison.
    if (unix_seconds >= starts.back()) return static_cast<ptrdiff_t>(starts.size()) - 1;
    return std::upper_bound(starts.begin(), starts.end(), unix_seconds) - starts.begin() - 1;
  }

  int32_t Offset(int64_t unix_seconds) const {
    const ptrdiff_t segment = SegmentOf(unix_seconds);
    return segment >= 0 ? offsets[segment] : SlowOffset(unix_seconds);
  }
  int64_t SegmentEnd(ptrdiff_t segment) const {
    return segment + 1 < static_cast<ptrdiff_t>(starts.size()) ? starts[segment + 1] : end;
  }
};

absl::StatusOr<CivilClock> CivilClock::ForZone(std::string_view zone_name) {
  if (!IsPlainZoneName(zone_name)) {
    return absl::InvalidArgumentError(
        fmt::format("invalid time zone name \"{}\"", Printable(zone_name, 64)));
  }
  auto table = std::make_shared<Table>();
  table->name = std::string(zone_name);
  if (!absl::LoadTimeZone(table->name, &table->zone)) {
    return absl::InvalidArgumentError(
        fmt::format("unknown time zone \"{}\"", Printable(zone_name, 64)));
  }
  const absl::TimeZone& zone = table->zone;
  absl::TimeZone::CivilTransition transition;
  absl::Time at = absl::FromUnixSeconds(kTableBegin);
  // With no transition before the table, its first offset holds back to the beginning of time.
  table->begin =
      zone.PrevTransition(at, &transition) ? kTableBegin : std::numeric_limits<int64_t>::min();
  table->end = std::numeric_limits<int64_t>::max();
  table->starts.push_back(table->begin);
  table->offsets.push_back(table->SlowOffset(kTableBegin));
  while (zone.NextTransition(at, &transition)) {
    const absl::Time next = zone.At(transition.to).trans;
    if (next <= at) {
      return absl::InternalError(fmt::format("time zone \"{}\": transitions do not advance at {}",
                                             table->name,
                                             absl::FormatTime(at, absl::UTCTimeZone())));
    }
    at = next;
    const int64_t start = absl::ToUnixSeconds(at);
    if (start >= kTableEnd) {
      table->end = kTableEnd;
      break;
    }
    const int32_t offset = table->SlowOffset(start);
    // Transitions that change only the abbreviation or the DST flag leave the offset alone.
    if (offset != table->offsets.back()) {
      table->starts.push_back(start);
      table->offsets.push_back(offset);
    }
  }
  return CivilClock(std::move(table));
}

const std::string& CivilClock::zone_name() const { return table_->name; }

int32_t CivilClock::UtcOffsetAt(int64_t unix_seconds) const {
  return table_->Offset(std::clamp(unix_seconds, kMinUnixSeconds, kMaxUnixSeconds));
}

CivilClock::DayHour CivilClock::DayHourOf(int64_t unix_seconds) const {
  unix_seconds = std::clamp(unix_seconds, kMinUnixSeconds, kMaxUnixSeconds);
  const int64_t local = unix_seconds + table_->Offset(unix_seconds);
  const int64_t day = FloorDiv(local, kSecondsPerDay);
  return {static_cast<Day>(day), static_cast<int>((local - day * kSecondsPerDay) / 3600)};
}

Day CivilClock::DayOf(int64_t unix_seconds) const { return DayHourOf(unix_seconds).day; }

int CivilClock::HourOf(int64_t unix_seconds) const { return DayHourOf(unix_seconds).hour; }

int64_t CivilClock::StartOfDay(Day day) const {
  day = std::clamp(day, kMinClockDay, kMaxClockDay);
  const int64_t local_midnight = int64_t{day} * kSecondsPerDay;
  // Offsets are within a day of UTC, so with one offset holding for two days either side of
  // this guess, midnight at that offset is the answer and the only one.
  const int64_t guess = local_midnight - table_->Offset(local_midnight);
  const ptrdiff_t segment = table_->SegmentOf(guess);
  if (segment >= 0 && table_->starts[segment] <= guess - 2 * kSecondsPerDay &&
      guess + 2 * kSecondsPerDay < table_->SegmentEnd(segment)) {
    return local_midnight - table_->offsets[segment];
  }
  int year, month, day_of_month;
  CivilFromDay(day, &year, &month, &day_of_month);
  const absl::TimeZone::TimeInfo info =
      table_->zone.At(absl::CivilSecond(year, month, day_of_month, 0, 0, 0));
  // A skipped midnight: the day begins at the transition; a repeated one: at its first instance.
  return absl::ToUnixSeconds(info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans
                                                                            : info.pre);
}

}  // namespace pingan
