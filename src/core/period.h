// Periods of whole civil days and the calendar arithmetic the report compares them with.
//
// One grammar serves the CLI, the API and the config (ARCHITECTURE.md, "Periods and
// comparisons"), every period a span of whole days in the city's time zone:
//
//   2024         year              2024-06-15               day
//   2024Q2       quarter           2024-06-01..2024-06-15   range, both ends included
//   2024-06      month             ytd:2024-06-15           year to date (2024-01-01..2024-06-15)
//   2024-W23     ISO 8601 week (Monday..Sunday; week 1 is the one holding 4 January)
//
// Days are counted from 1970-01-01 in the proleptic Gregorian calendar with no time zone;
// CivilClock maps Unix seconds to those days in a named zone, fast enough to call once per event.
//
// Example:
//   PA_ASSIGN_OR_RETURN(Period june, ParsePeriod("2024-06"));
//   Period last_year = YearAgo(june);                       // 2023-06
//   std::optional<Period> before = PreviousPeriod(june);    // 2024-05
//   for (int back = 11; back >= 0; --back) Plot(PeriodBefore(june, back));  // 2023-07 .. 2024-06
//   PA_ASSIGN_OR_RETURN(CivilClock clock, CivilClock::ForZone("Asia/Shanghai"));
//   if (Contains(june, clock.DayOf(event.unix_seconds))) ...
//
// Everything here is pure and thread-safe, except CivilClock, which is thread-compatible (its
// const methods may be called from many threads at once).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace pingan {

// Civil day number: days since 1970-01-01 (a proleptic Gregorian date, no time zone).
using Day = int32_t;

// Years the grammar accepts (four digits). The arithmetic below works beyond them, but only
// periods inside these years format to text that parses back.
inline constexpr int kMinPeriodYear = 1;
inline constexpr int kMaxPeriodYear = 9999;
// The longest range ParsePeriod accepts: 100 Julian years.
inline constexpr int kMaxPeriodDays = 36525;

bool IsLeapYear(int year);
// REQUIRES: 1 <= month <= 12.
int DaysInMonth(int year, int month);
// True when (year, month, day) names a real date.
bool IsValidCivil(int year, int month, int day);

// REQUIRES: IsValidCivil(year, month, day) and the day within about +-5.8 million years.
Day DayFromCivil(int year, int month, int day);
void CivilFromDay(Day day, int* year, int* month, int* day_of_month);
// ISO weekday: 1 = Monday .. 7 = Sunday.
int Weekday(Day day);

// Number of ISO weeks (52 or 53) in ISO year `iso_year`.
int IsoWeeksInYear(int iso_year);
// The Monday of ISO week `week` of `iso_year`. REQUIRES: 1 <= week <= IsoWeeksInYear(iso_year).
Day IsoWeekMonday(int iso_year, int week);
// The ISO year and week that hold `day` (2021-01-03 is in 2020-W53).
void IsoWeekOf(Day day, int* iso_year, int* week);

enum class PeriodKind : uint8_t { kDay, kWeek, kMonth, kQuarter, kYear, kRange, kYearToDate };

// A span of whole civil days, both ends included. A period of a calendar kind always covers
// exactly that day/week/month/quarter/year; kYearToDate runs from 1 January of last's year to
// `last`; kRange is any first <= last.
struct Period {
  PeriodKind kind = PeriodKind::kDay;
  Day first = 0;
  Day last = 0;

  int days() const { return last - first + 1; }
  bool operator==(const Period&) const = default;
};

// True when `day` lies in `period`.
inline bool Contains(const Period& period, Day day) {
  return period.first <= day && day <= period.last;
}

// Parses the grammar above (exactly: no spaces, upper-case Q and W, lower-case ytd). Returns
// InvalidArgument naming the text and what is wrong with it for anything else: a month outside
// 01..12, a date that does not exist (2023-02-29), week 53 of a 52-week ISO year, a range that
// ends before it starts or is longer than kMaxPeriodDays, a year outside 0001..9999, control
// characters, or text longer than 32 bytes.
absl::StatusOr<Period> ParsePeriod(std::string_view text);

// The canonical text of `period`; ParsePeriod(FormatPeriod(p)) == p for every period
// ParsePeriod returns (and every period of the same kind derived from one within 0001..9999).
std::string FormatPeriod(const Period& period);

// The day/week/month/quarter/year that holds `day`. For kRange it is the one-day range
// [day, day]; for kYearToDate the year to date ending on `day`.
Period PeriodContaining(PeriodKind kind, Day day);
// The range first..last. REQUIRES: first <= last.
Period RangePeriod(Day first, Day last);
// Year to date: 1 January of day's year .. day.
Period YearToDate(Day day);

// Year on year (同比): the same span one year earlier. A day or range end on 29 February maps
// to 28 February; ISO week N maps to week N of the previous ISO year, week 53 to week 52 when
// that year has only 52; a month, quarter or year to the same one of the previous year;
// ytd:2024-06-15 to ytd:2023-06-15.
Period YearAgo(const Period& period);

// Period on period (环比): the day, ISO week, month, quarter or year just before; for a range,
// the range of equal length ending the day before it starts; nullopt for a year to date.
std::optional<Period> PreviousPeriod(const Period& period);

// The period `periods_back` steps back of the same kind, for series: 0 is `period` itself, 1 is
// PreviousPeriod (for a range: the equal-length range before it), negative steps go forward.
// A year to date steps by whole years: the year to date ending on the same month and day
// `periods_back` years earlier (29 February -> 28 February), so PeriodBefore(ytd, 1) ==
// YearAgo(ytd). REQUIRES: the result lies within years -9999..19999 (callers bound the step).
Period PeriodBefore(const Period& period, int periods_back);

// Maps Unix seconds to civil days and hours in one time zone without a full calendar
// conversion per call: the zone's UTC offsets from 1800 to 2200 are kept as a sorted table of
// segments (one per span of constant offset, taken from absl's transitions), so a call is a
// binary search over at most about a thousand entries, or one comparison after a zone's last
// transition (Asia/Shanghai since 1991). Instants outside the table go through absl's
// conversion, still correct. Measured: ~12 ns a call for Asia/Shanghai, ~47 ns for
// America/New_York, against ~145 ns for absl::ToCivilSecond.
//
// Thread-compatible; copying shares the immutable table (cheap).
class CivilClock {
 public:
  // The zone by IANA name ("Asia/Shanghai", "UTC"). InvalidArgument for a name that is not a
  // plain zone name or that no installed zone file answers to.
  static absl::StatusOr<CivilClock> ForZone(std::string_view zone_name);

  const std::string& zone_name() const;

  // The civil day and hour at `unix_seconds`. Instants before 0001-01-01 or after 9999-12-31
  // are clamped to those years.
  Day DayOf(int64_t unix_seconds) const;
  int HourOf(int64_t unix_seconds) const;  // 0..23
  struct DayHour {
    Day day;
    int hour;
  };
  DayHour DayHourOf(int64_t unix_seconds) const;  // both with one lookup

  // The zone's offset east of UTC, in seconds, at `unix_seconds`.
  int32_t UtcOffsetAt(int64_t unix_seconds) const;

  // The first Unix second of civil day `day` (where midnight is skipped by a transition, the
  // instant the day begins). Days outside 0001..9999 are clamped to those years.
  int64_t StartOfDay(Day day) const;

 private:
  struct Table;
  explicit CivilClock(std::shared_ptr<const Table> table) : table_(std::move(table)) {}

  std::shared_ptr<const Table> table_;
};

}  // namespace pingan
