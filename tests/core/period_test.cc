#include "core/period.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/rng.h"

namespace pingan {

// Periods print as their text in test failures.
void PrintTo(const Period& period, std::ostream* out) {
  *out << FormatPeriod(period) << " [" << period.first << ", " << period.last << "]";
}

namespace {

using ::testing::HasSubstr;

Day D(int year, int month, int day) { return DayFromCivil(year, month, day); }

Period P(std::string_view text) {
  absl::StatusOr<Period> period = ParsePeriod(text);
  EXPECT_TRUE(period.ok()) << text << ": " << period.status();
  return period.ok() ? *period : Period{};
}

std::string Text(const Period& period) { return FormatPeriod(period); }

// --- Civil calendar ---

TEST(Civil, DayNumbersMatchKnownDates) {
  EXPECT_EQ(D(1970, 1, 1), 0);
  EXPECT_EQ(D(1970, 1, 2), 1);
  EXPECT_EQ(D(1969, 12, 31), -1);
  EXPECT_EQ(D(2000, 3, 1), 11017);
  EXPECT_EQ(D(2024, 6, 15), 19889);
  EXPECT_EQ(D(1, 1, 1), -719162);
  EXPECT_EQ(D(9999, 12, 31), 2932896);
}

TEST(Civil, RoundTripsEveryDayFromYear1To9999AgainstAbsl) {
  absl::CivilDay civil(1, 1, 1);
  for (Day day = D(1, 1, 1); day <= D(9999, 12, 31); ++day, ++civil) {
    int year, month, day_of_month;
    CivilFromDay(day, &year, &month, &day_of_month);
    ASSERT_EQ(year, civil.year()) << day;
    ASSERT_EQ(month, civil.month()) << day;
    ASSERT_EQ(day_of_month, civil.day()) << day;
    ASSERT_EQ(DayFromCivil(year, month, day_of_month), day);
    const int absl_weekday = static_cast<int>(absl::GetWeekday(civil));  // Monday = 0
    ASSERT_EQ(Weekday(day), absl_weekday + 1) << day;
  }
}

TEST(Civil, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2023));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2023, 2), 28);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2024, 4), 30);
  EXPECT_TRUE(IsValidCivil(2024, 2, 29));
  EXPECT_FALSE(IsValidCivil(2023, 2, 29));
  EXPECT_FALSE(IsValidCivil(2024, 13, 1));
  EXPECT_FALSE(IsValidCivil(2024, 4, 31));
}

TEST(Civil, WeekdaysAreIso) {
  EXPECT_EQ(Weekday(D(1970, 1, 1)), 4);   // Thursday
  EXPECT_EQ(Weekday(D(2024, 6, 15)), 6);  // Saturday
  EXPECT_EQ(Weekday(D(2024, 6, 16)), 7);  // Sunday
  EXPECT_EQ(Weekday(D(2024, 6, 17)), 1);  // Monday
  EXPECT_EQ(Weekday(D(1969, 12, 29)), 1);
}

TEST(IsoWeek, Week1HoldsJanuary4) {
  EXPECT_EQ(IsoWeekMonday(2021, 1), D(2021, 1, 4));  // 2021-01-04 is a Monday
  EXPECT_EQ(IsoWeekMonday(2020, 1), D(2019, 12, 30));
  EXPECT_EQ(IsoWeekMonday(2015, 1), D(2014, 12, 29));
  EXPECT_EQ(IsoWeekMonday(2010, 1), D(2010, 1, 4));  // 2010-01-04 is a Monday
  EXPECT_EQ(IsoWeekMonday(2026, 1), D(2025, 12, 29));
  int iso_year, week;
  IsoWeekOf(D(2021, 1, 3), &iso_year, &week);  // Sunday
  EXPECT_EQ(iso_year, 2020);
  EXPECT_EQ(week, 53);
  IsoWeekOf(D(2019, 12, 30), &iso_year, &week);
  EXPECT_EQ(iso_year, 2020);
  EXPECT_EQ(week, 1);
  IsoWeekOf(D(2024, 12, 30), &iso_year, &week);
  EXPECT_EQ(iso_year, 2025);
  EXPECT_EQ(week, 1);
}

TEST(IsoWeek, YearsWith53Weeks) {
  // 53 weeks when 1 January is a Thursday, or a Wednesday in a leap year.
  for (int year : {2004, 2009, 2015, 2020, 2026, 2032, 2037}) {
    EXPECT_EQ(IsoWeeksInYear(year), 53) << year;
  }
  for (int year : {2016, 2019, 2021, 2022, 2023, 2024, 2025}) {
    EXPECT_EQ(IsoWeeksInYear(year), 52) << year;
  }
  for (int year = 1900; year <= 2100; ++year) {
    const int jan1 = Weekday(D(year, 1, 1));
    const bool long_year = jan1 == 4 || (jan1 == 3 && IsLeapYear(year));
    EXPECT_EQ(IsoWeeksInYear(year), long_year ? 53 : 52) << year;
  }
}

TEST(IsoWeek, AgreesWithStrftimeEveryDay) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  for (Day day = D(1990, 1, 1); day <= D(2060, 12, 31); ++day) {
    int iso_year, week;
    IsoWeekOf(day, &iso_year, &week);
    const absl::Time at = absl::FromUnixSeconds(int64_t{day} * 86400);
    ASSERT_EQ(std::to_string(iso_year), absl::FormatTime("%G", at, utc)) << day;
    ASSERT_EQ(week, std::stoi(absl::FormatTime("%V", at, utc))) << day;
  }
}

// --- Parsing and formatting ---

TEST(ParsePeriod, EveryKind) {
  EXPECT_EQ(P("2024"), (Period{PeriodKind::kYear, D(2024, 1, 1), D(2024, 12, 31)}));
  EXPECT_EQ(P("2024Q1"), (Period{PeriodKind::kQuarter, D(2024, 1, 1), D(2024, 3, 31)}));
  EXPECT_EQ(P("2024Q2"), (Period{PeriodKind::kQuarter, D(2024, 4, 1), D(2024, 6, 30)}));
  EXPECT_EQ(P("2024Q4"), (Period{PeriodKind::kQuarter, D(2024, 10, 1), D(2024, 12, 31)}));
  EXPECT_EQ(P("2024-06"), (Period{PeriodKind::kMonth, D(2024, 6, 1), D(2024, 6, 30)}));
  EXPECT_EQ(P("2024-02"), (Period{PeriodKind::kMonth, D(2024, 2, 1), D(2024, 2, 29)}));
  EXPECT_EQ(P("2023-02"), (Period{PeriodKind::kMonth, D(2023, 2, 1), D(2023, 2, 28)}));
  EXPECT_EQ(P("2024-W23"), (Period{PeriodKind::kWeek, D(2024, 6, 3), D(2024, 6, 9)}));
  EXPECT_EQ(P("2024-06-15"), (Period{PeriodKind::kDay, D(2024, 6, 15), D(2024, 6, 15)}));
  EXPECT_EQ(P("2024-06-01..2024-06-15"),
            (Period{PeriodKind::kRange, D(2024, 6, 1), D(2024, 6, 15)}));
  EXPECT_EQ(P("2024-06-15..2024-06-15"),
            (Period{PeriodKind::kRange, D(2024, 6, 15), D(2024, 6, 15)}));
  EXPECT_EQ(P("ytd:2024-06-15"), (Period{PeriodKind::kYearToDate, D(2024, 1, 1), D(2024, 6, 15)}));
  EXPECT_EQ(P("ytd:2024-01-01"), (Period{PeriodKind::kYearToDate, D(2024, 1, 1), D(2024, 1, 1)}));
}

TEST(ParsePeriod, DayCounts) {
  EXPECT_EQ(P("2024").days(), 366);
  EXPECT_EQ(P("2023").days(), 365);
  EXPECT_EQ(P("2024Q1").days(), 91);
  EXPECT_EQ(P("2023Q1").days(), 90);
  EXPECT_EQ(P("2024-02").days(), 29);
  EXPECT_EQ(P("2024-W23").days(), 7);
  EXPECT_EQ(P("2024-06-15").days(), 1);
  EXPECT_EQ(P("2024-06-01..2024-06-15").days(), 15);
  EXPECT_EQ(P("ytd:2024-06-15").days(), 167);
}

TEST(ParsePeriod, IsoWeekEdges) {
  EXPECT_EQ(P("2020-W53"), (Period{PeriodKind::kWeek, D(2020, 12, 28), D(2021, 1, 3)}));
  EXPECT_EQ(P("2021-W01"), (Period{PeriodKind::kWeek, D(2021, 1, 4), D(2021, 1, 10)}));
  EXPECT_EQ(P("2020-W01"), (Period{PeriodKind::kWeek, D(2019, 12, 30), D(2020, 1, 5)}));
  EXPECT_EQ(P("2025-W01"), (Period{PeriodKind::kWeek, D(2024, 12, 30), D(2025, 1, 5)}));
  EXPECT_EQ(P("2015-W53"), (Period{PeriodKind::kWeek, D(2015, 12, 28), D(2016, 1, 3)}));
  // Week 1 always holds 4 January.
  for (int year = 1950; year <= 2100; ++year) {
    const Period week1 = PeriodContaining(PeriodKind::kWeek, IsoWeekMonday(year, 1));
    EXPECT_TRUE(Contains(week1, D(year, 1, 4))) << year;
    EXPECT_EQ(Weekday(week1.first), 1);
  }
}

TEST(FormatPeriod, CanonicalText) {
  EXPECT_EQ(Text(P("2024")), "2024");
  EXPECT_EQ(Text(P("2024Q2")), "2024Q2");
  EXPECT_EQ(Text(P("2024-06")), "2024-06");
  EXPECT_EQ(Text(P("2024-W23")), "2024-W23");
  EXPECT_EQ(Text(P("2020-W53")), "2020-W53");
  EXPECT_EQ(Text(P("2024-06-15")), "2024-06-15");
  EXPECT_EQ(Text(P("2024-06-01..2024-06-15")), "2024-06-01..2024-06-15");
  EXPECT_EQ(Text(P("ytd:2024-06-15")), "ytd:2024-06-15");
  EXPECT_EQ(Text(P("0001-01-01")), "0001-01-01");
  EXPECT_EQ(Text(P("9999")), "9999");
  // The ISO year, not the calendar year of the Monday.
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kWeek, D(2019, 12, 31))), "2020-W01");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kWeek, D(2021, 1, 1))), "2020-W53");
}

TEST(FormatPeriod, RoundTripsEveryKindOverManyDays) {
  const PeriodKind kinds[] = {PeriodKind::kDay,     PeriodKind::kWeek, PeriodKind::kMonth,
                              PeriodKind::kQuarter, PeriodKind::kYear, PeriodKind::kYearToDate};
  Rng rng(2024);
  for (int sample = 0; sample < 20000; ++sample) {
    const Day day = static_cast<Day>(rng.Int(D(1, 1, 8), D(9999, 12, 24)));
    for (PeriodKind kind : kinds) {
      const Period period = PeriodContaining(kind, day);
      ASSERT_TRUE(Contains(period, day));
      absl::StatusOr<Period> parsed = ParsePeriod(FormatPeriod(period));
      ASSERT_TRUE(parsed.ok()) << FormatPeriod(period) << ": " << parsed.status();
      ASSERT_EQ(*parsed, period);
    }
    const Period range = RangePeriod(day, static_cast<Day>(day + rng.Int(0, 400)));
    if (range.last <= D(9999, 12, 31)) {
      ASSERT_EQ(P(FormatPeriod(range)), range);
    }
  }
}

struct MalformedCase {
  std::string text;
  std::string message;
};

TEST(ParsePeriod, RejectsMalformedTextNamingIt) {
  const std::vector<MalformedCase> cases = {
      {"", "empty"},
      {"2024-13", "month 13 is not 01..12"},
      {"2024-00", "month 00 is not 01..12"},
      {"2024-13-01", "month 13 is not 01..12"},
      {"2024-02-30", "2024-02-30 does not exist (2024-02 has 29 days)"},
      {"2023-02-29", "2023-02-29 does not exist (2023-02 has 28 days)"},
      {"2024-04-31", "does not exist"},
      {"2024-06-00", "does not exist"},
      {"2021-W53", "week 53 is not 01..52 (ISO year 2021 has 52 weeks)"},
      {"2024-W00", "week 00 is not 01..52"},
      {"2020-W54", "week 54 is not 01..53"},
      {"2024Q0", "quarter is not 1..4"},
      {"2024Q5", "quarter is not 1..4"},
      {"0000", "year 0000 is out of range"},
      {"0000-01-01", "year 0000 is out of range"},
      {"2024-06-15..2024-06-01", "the range ends before it starts"},
      {"1900-01-01..2024-12-31", "the range is longer than 36525 days"},
      {"2024-06-01..2024-06", "\"2024-06\" is not a date YYYY-MM-DD"},
      {"2024-06-01...2024-06-15", "is not a date"},
      {"2024-06-01..", "is not a date"},
      {"ytd:2024-06", "is not a date"},
      {"ytd:2024-02-30", "does not exist"},
      {"YTD:2024-06-15", "does not start with a four-digit year"},
      {"hello", "does not start with a four-digit year"},
      {"24-06", "does not start with a four-digit year"},
      {"+2024", "does not start with a four-digit year"},
      {"20245", "expected YYYY"},
      {"2024q2", "expected YYYY"},
      {"2024-w23", "expected YYYY"},
      {"2024-6", "expected YYYY"},
      {"2024-06-1", "expected YYYY"},
      {"2024-6-15", "expected YYYY"},
      {"2024Q", "expected YYYY"},
      {"2024-W2", "expected YYYY"},
      {"2024 ", "expected YYYY"},
      {" 2024", "does not start with a four-digit year"},
      {"2024-06-15T00:00", "expected YYYY"},
      {"２０２４", "does not start with a four-digit year"},  // full-width digits
      {std::string("2024\0", 5), "contains a control character"},
      {std::string("2024-06\0-15", 11), "contains a control character"},
      {"2024\n", "contains a control character"},
      {std::string(33, '2'), "longer than 32 bytes"},
      {"2024-06-01..2024-06-15" + std::string(20, ' '), "longer than 32 bytes"},
  };
  for (const MalformedCase& test_case : cases) {
    absl::StatusOr<Period> period = ParsePeriod(test_case.text);
    ASSERT_FALSE(period.ok()) << test_case.text << " parsed as " << FormatPeriod(*period);
    EXPECT_EQ(period.status().code(), absl::StatusCode::kInvalidArgument) << test_case.text;
    EXPECT_THAT(period.status().message(), HasSubstr(test_case.message)) << test_case.text;
    EXPECT_THAT(period.status().message(), HasSubstr("invalid period \"")) << test_case.text;
  }
}

TEST(ParsePeriod, ErrorsShowTextPrintably) {
  absl::StatusOr<Period> period =
      ParsePeriod(std::string("20\0"
                              "24",
                              5));
  ASSERT_FALSE(period.ok());
  EXPECT_THAT(period.status().message(), HasSubstr("\"20\\x0024\""));
  period = ParsePeriod(std::string(1000, 'x'));
  ASSERT_FALSE(period.ok());
  EXPECT_LT(period.status().message().size(), 120u);  // the text is cut, not echoed whole
}

TEST(ParsePeriod, AcceptsTheLongestRange) {
  const Period longest = P("2000-01-01..2099-12-31");
  EXPECT_EQ(longest.days(), kMaxPeriodDays);
  EXPECT_FALSE(ParsePeriod("2000-01-01..2100-01-01").ok());
}

// --- Year on year (同比) ---

TEST(YearAgo, DaysShiftOneYearLeapDayToFeb28) {
  EXPECT_EQ(Text(YearAgo(P("2024-06-15"))), "2023-06-15");
  EXPECT_EQ(Text(YearAgo(P("2024-02-29"))), "2023-02-28");
  EXPECT_EQ(Text(YearAgo(P("2024-03-01"))), "2023-03-01");
  EXPECT_EQ(Text(YearAgo(P("2025-02-28"))), "2024-02-28");
  EXPECT_EQ(Text(YearAgo(P("2025-01-01"))), "2024-01-01");
}

TEST(YearAgo, IsoWeeksKeepTheirNumber) {
  EXPECT_EQ(Text(YearAgo(P("2024-W23"))), "2023-W23");
  EXPECT_EQ(Text(YearAgo(P("2021-W01"))), "2020-W01");
  EXPECT_EQ(Text(YearAgo(P("2021-W52"))), "2020-W52");
  // Week 53 compares with week 52 when the previous ISO year has only 52.
  EXPECT_EQ(Text(YearAgo(P("2020-W53"))), "2019-W52");
  EXPECT_EQ(Text(YearAgo(P("2015-W53"))), "2014-W52");
  EXPECT_EQ(YearAgo(P("2020-W53")), (Period{PeriodKind::kWeek, D(2019, 12, 23), D(2019, 12, 29)}));
  // Two ISO years in a row never both have 53 weeks, so week 53 always maps to week 52.
  for (int year = 1950; year <= 2100; ++year) {
    if (IsoWeeksInYear(year) == 53) {
      EXPECT_EQ(IsoWeeksInYear(year - 1), 52) << year;
    }
  }
}

TEST(YearAgo, MonthsQuartersYears) {
  EXPECT_EQ(Text(YearAgo(P("2024-06"))), "2023-06");
  EXPECT_EQ(YearAgo(P("2024-02")), P("2023-02"));
  EXPECT_EQ(YearAgo(P("2025-02")), P("2024-02"));  // 28 days compare with 29
  EXPECT_EQ(Text(YearAgo(P("2024Q1"))), "2023Q1");
  EXPECT_EQ(Text(YearAgo(P("2024Q4"))), "2023Q4");
  EXPECT_EQ(Text(YearAgo(P("2024"))), "2023");
}

TEST(YearAgo, RangesShiftEachEnd) {
  EXPECT_EQ(Text(YearAgo(P("2024-06-01..2024-06-15"))), "2023-06-01..2023-06-15");
  EXPECT_EQ(Text(YearAgo(P("2024-02-29..2024-03-10"))), "2023-02-28..2023-03-10");
  EXPECT_EQ(Text(YearAgo(P("2024-02-01..2024-02-29"))), "2023-02-01..2023-02-28");
  EXPECT_EQ(Text(YearAgo(P("2023-12-20..2024-01-10"))), "2022-12-20..2023-01-10");
  EXPECT_EQ(Text(YearAgo(P("2025-02-28..2025-03-01"))), "2024-02-28..2024-03-01");
}

TEST(YearAgo, YearToDate) {
  EXPECT_EQ(Text(YearAgo(P("ytd:2024-06-15"))), "ytd:2023-06-15");
  EXPECT_EQ(Text(YearAgo(P("ytd:2024-02-29"))), "ytd:2023-02-28");
  EXPECT_EQ(YearAgo(P("ytd:2024-06-15")).kind, PeriodKind::kYearToDate);
}

// --- Period on period (环比) ---

TEST(PreviousPeriod, OfEachKind) {
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-03-01"))), "2024-02-29");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-01-01"))), "2023-12-31");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-W23"))), "2024-W22");
  EXPECT_EQ(Text(*PreviousPeriod(P("2021-W01"))), "2020-W53");
  EXPECT_EQ(Text(*PreviousPeriod(P("2020-W01"))), "2019-W52");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-06"))), "2024-05");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-01"))), "2023-12");
  EXPECT_EQ(*PreviousPeriod(P("2024-03")), P("2024-02"));
  EXPECT_EQ(Text(*PreviousPeriod(P("2024Q2"))), "2024Q1");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024Q1"))), "2023Q4");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024"))), "2023");
  EXPECT_EQ(PreviousPeriod(P("ytd:2024-06-15")), std::nullopt);
}

TEST(PreviousPeriod, RangeOfEqualLengthEndingTheDayBefore) {
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-06-01..2024-06-15"))), "2024-05-17..2024-05-31");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-03-01..2024-03-01"))), "2024-02-29..2024-02-29");
  EXPECT_EQ(Text(*PreviousPeriod(P("2024-01-01..2024-12-31"))),
            "2022-12-31..2023-12-31");  // 366 days
  const Period range = P("2024-02-10..2024-03-20");
  const Period before = *PreviousPeriod(range);
  EXPECT_EQ(before.days(), range.days());
  EXPECT_EQ(before.last, range.first - 1);
}

// --- Series ---

TEST(PeriodBefore, TwelveMonthsBackCrossingYears) {
  const Period june = P("2024-06");
  std::vector<std::string> series;
  for (int back = 11; back >= 0; --back) series.push_back(Text(PeriodBefore(june, back)));
  EXPECT_THAT(series, ::testing::ElementsAre("2023-07", "2023-08", "2023-09", "2023-10", "2023-11",
                                             "2023-12", "2024-01", "2024-02", "2024-03", "2024-04",
                                             "2024-05", "2024-06"));
  EXPECT_EQ(Text(PeriodBefore(P("2024-01"), 1)), "2023-12");
  EXPECT_EQ(Text(PeriodBefore(P("2024-01"), 12)), "2023-01");
  EXPECT_EQ(Text(PeriodBefore(P("2024-01"), 13)), "2022-12");
  EXPECT_EQ(Text(PeriodBefore(P("2024-01"), 25)), "2021-12");
  EXPECT_EQ(Text(PeriodBefore(P("2024-01"), -1)), "2024-02");
  EXPECT_EQ(Text(PeriodBefore(P("2024-12"), -1)), "2025-01");
}

TEST(PeriodBefore, EachKind) {
  EXPECT_EQ(Text(PeriodBefore(P("2024-03-01"), 0)), "2024-03-01");
  EXPECT_EQ(Text(PeriodBefore(P("2024-03-01"), 366)), "2023-03-01");
  EXPECT_EQ(Text(PeriodBefore(P("2021-W02"), 2)), "2020-W53");
  EXPECT_EQ(Text(PeriodBefore(P("2024-W23"), 52)), "2023-W23");
  EXPECT_EQ(Text(PeriodBefore(P("2024Q2"), 5)), "2023Q1");
  EXPECT_EQ(Text(PeriodBefore(P("2024Q2"), 2)), "2023Q4");
  EXPECT_EQ(Text(PeriodBefore(P("2024"), 10)), "2014");
  EXPECT_EQ(Text(PeriodBefore(P("2024-06-01..2024-06-10"), 2)), "2024-05-12..2024-05-21");
  EXPECT_EQ(Text(PeriodBefore(P("ytd:2024-02-29"), 1)), "ytd:2023-02-28");
  EXPECT_EQ(Text(PeriodBefore(P("ytd:2024-02-29"), 4)), "ytd:2020-02-29");
  EXPECT_EQ(Text(PeriodBefore(P("ytd:2024-06-15"), 0)), "ytd:2024-06-15");
  EXPECT_EQ(PeriodBefore(P("ytd:2024-06-15"), 1), YearAgo(P("ytd:2024-06-15")));
}

TEST(PeriodBefore, OneBackIsThePreviousPeriodAndStepsCompose) {
  const PeriodKind kinds[] = {PeriodKind::kDay, PeriodKind::kWeek, PeriodKind::kMonth,
                              PeriodKind::kQuarter, PeriodKind::kYear};
  Rng rng(7);
  for (int sample = 0; sample < 2000; ++sample) {
    const Day day = static_cast<Day>(rng.Int(D(1950, 1, 1), D(2100, 12, 31)));
    for (PeriodKind kind : kinds) {
      const Period period = PeriodContaining(kind, day);
      const Period before = *PreviousPeriod(period);
      ASSERT_EQ(PeriodBefore(period, 1), before);
      ASSERT_EQ(before.last, period.first - 1) << FormatPeriod(period);
      ASSERT_EQ(before, PeriodContaining(kind, period.first - 1));
      ASSERT_EQ(PeriodBefore(PeriodBefore(period, 3), 4), PeriodBefore(period, 7));
      ASSERT_EQ(PeriodBefore(PeriodBefore(period, 5), -5), period);
    }
    const Period range = RangePeriod(day, static_cast<Day>(day + rng.Int(0, 100)));
    ASSERT_EQ(PeriodBefore(range, 1), *PreviousPeriod(range));
    ASSERT_EQ(PeriodBefore(range, 3).days(), range.days());
    ASSERT_EQ(PeriodBefore(range, 3).last, range.first - 2 * range.days() - 1);
  }
}

TEST(PeriodContaining, EachKind) {
  const Day day = D(2024, 6, 15);
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kDay, day)), "2024-06-15");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kWeek, day)), "2024-W24");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kMonth, day)), "2024-06");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kQuarter, day)), "2024Q2");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kYear, day)), "2024");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kRange, day)), "2024-06-15..2024-06-15");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kYearToDate, day)), "ytd:2024-06-15");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kQuarter, D(2024, 12, 31))), "2024Q4");
  EXPECT_EQ(Text(PeriodContaining(PeriodKind::kQuarter, D(2024, 7, 1))), "2024Q3");
}

// --- CivilClock ---

TEST(CivilClock, RejectsUnknownAndUnsafeZoneNames) {
  for (const char* name :
       {"Mars/Olympus_Mons", "", "Asia/Nowhere", "../../etc/passwd", "/usr/share/zoneinfo/UTC",
        "file:UTC", "Asia/Shanghai\n", "Asia/Shang hai"}) {
    absl::StatusOr<CivilClock> clock = CivilClock::ForZone(name);
    ASSERT_FALSE(clock.ok()) << name;
    EXPECT_EQ(clock.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(clock.status().message(), HasSubstr("time zone")) << name;
  }
  EXPECT_THAT(CivilClock::ForZone("Mars/Olympus_Mons").status().message(),
              HasSubstr("unknown time zone \"Mars/Olympus_Mons\""));
}

TEST(CivilClock, KnownInstants) {
  absl::StatusOr<CivilClock> shanghai = CivilClock::ForZone("Asia/Shanghai");
  ASSERT_TRUE(shanghai.ok()) << shanghai.status();
  EXPECT_EQ(shanghai->zone_name(), "Asia/Shanghai");
  // 2024-06-14T16:00:00Z is midnight 2024-06-15 in Shanghai (UTC+8).
  EXPECT_EQ(shanghai->DayOf(1718380800), D(2024, 6, 15));
  EXPECT_EQ(shanghai->HourOf(1718380800), 0);
  EXPECT_EQ(shanghai->DayOf(1718380799), D(2024, 6, 14));
  EXPECT_EQ(shanghai->HourOf(1718380799), 23);
  EXPECT_EQ(shanghai->StartOfDay(D(2024, 6, 15)), 1718380800);
  EXPECT_EQ(shanghai->UtcOffsetAt(1718380800), 8 * 3600);
  // Shanghai kept summer time from 1986 to 1991: 1988-07-01 was UTC+9.
  EXPECT_EQ(shanghai->UtcOffsetAt(583718400), 9 * 3600);
  absl::StatusOr<CivilClock> utc = CivilClock::ForZone("UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc->DayOf(0), 0);
  EXPECT_EQ(utc->DayOf(-1), -1);
  EXPECT_EQ(utc->HourOf(-1), 23);
  EXPECT_EQ(utc->StartOfDay(-1), -86400);
}

TEST(CivilClock, CopiesShareTheTable) {
  absl::StatusOr<CivilClock> clock = CivilClock::ForZone("America/New_York");
  ASSERT_TRUE(clock.ok());
  const CivilClock copy = *clock;
  EXPECT_EQ(copy.DayOf(1718380800), clock->DayOf(1718380800));
  EXPECT_EQ(copy.zone_name(), "America/New_York");
}

TEST(CivilClock, ClampsInstantsOutsideYears1To9999) {
  absl::StatusOr<CivilClock> clock = CivilClock::ForZone("Asia/Shanghai");
  ASSERT_TRUE(clock.ok());
  EXPECT_GE(clock->DayOf(std::numeric_limits<int64_t>::min()), D(1, 1, 1));
  EXPECT_LE(clock->DayOf(std::numeric_limits<int64_t>::max()), D(9999, 12, 31));
  const int hour = clock->HourOf(std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(hour >= 0 && hour <= 23);
  EXPECT_EQ(clock->StartOfDay(std::numeric_limits<Day>::min()), clock->StartOfDay(D(1, 1, 1)));
}

// Day and hour by absl's full conversion, the reference.
void ExpectMatchesAbsl(const CivilClock& clock, const absl::TimeZone& zone, int64_t unix_seconds) {
  const absl::CivilSecond civil = absl::ToCivilSecond(absl::FromUnixSeconds(unix_seconds), zone);
  const Day expected_day = DayFromCivil(static_cast<int>(civil.year()), civil.month(), civil.day());
  const CivilClock::DayHour got = clock.DayHourOf(unix_seconds);
  ASSERT_EQ(got.day, expected_day) << zone.name() << " at " << unix_seconds;
  ASSERT_EQ(got.hour, civil.hour()) << zone.name() << " at " << unix_seconds;
  ASSERT_EQ(clock.DayOf(unix_seconds), expected_day);
  ASSERT_EQ(clock.HourOf(unix_seconds), civil.hour());
}

class CivilClockVsAbsl : public ::testing::TestWithParam<const char*> {};

TEST_P(CivilClockVsAbsl, RandomInstants1950To2100) {
  absl::StatusOr<CivilClock> clock = CivilClock::ForZone(GetParam());
  ASSERT_TRUE(clock.ok()) << clock.status();
  absl::TimeZone zone;
  ASSERT_TRUE(absl::LoadTimeZone(GetParam(), &zone));
  const int64_t from = absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(1950, 1, 1), zone));
  const int64_t to = absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(2101, 1, 1), zone));
  Rng rng(20240615);
  for (int sample = 0; sample < 300000; ++sample) {
    ExpectMatchesAbsl(*clock, zone, rng.Int(from, to));
  }
}

TEST_P(CivilClockVsAbsl, EveryTransitionAndTheSecondsAroundIt) {
  absl::StatusOr<CivilClock> clock = CivilClock::ForZone(GetParam());
  ASSERT_TRUE(clock.ok());
  absl::TimeZone zone;
  ASSERT_TRUE(absl::LoadTimeZone(GetParam(), &zone));
  absl::Time at = absl::FromCivil(absl::CivilDay(1900, 1, 1), zone);
  const absl::Time until = absl::FromCivil(absl::CivilDay(2300, 1, 1), zone);
  absl::TimeZone::CivilTransition transition;
  int transitions = 0;
  while (at < until && zone.NextTransition(at, &transition)) {
    at = zone.At(transition.to).trans;
    const int64_t seconds = absl::ToUnixSeconds(at);
    for (int64_t delta : {-3601, -3600, -1, 0, 1, 3599, 3600, 86399, 86400}) {
      ExpectMatchesAbsl(*clock, zone, seconds + delta);
    }
    ++transitions;
  }
  if (std::string_view(GetParam()) == "America/New_York") {
    EXPECT_GT(transitions, 600);
  } else if (std::string_view(GetParam()) == "Asia/Shanghai") {
    EXPECT_GE(transitions, 12);
  }
}

TEST_P(CivilClockVsAbsl, StartOfDayIsTheFirstSecondOfTheDay) {
  absl::StatusOr<CivilClock> clock = CivilClock::ForZone(GetParam());
  ASSERT_TRUE(clock.ok());
  absl::TimeZone zone;
  ASSERT_TRUE(absl::LoadTimeZone(GetParam(), &zone));
  for (Day day = D(1950, 1, 1); day <= D(2100, 12, 31); ++day) {
    const int64_t start = clock->StartOfDay(day);
    int year, month, day_of_month;
    CivilFromDay(day, &year, &month, &day_of_month);
    ASSERT_EQ(start, absl::ToUnixSeconds(absl::FromCivil(
                         absl::CivilSecond(year, month, day_of_month, 0, 0, 0), zone)))
        << GetParam() << " " << year << "-" << month << "-" << day_of_month;
    ASSERT_EQ(clock->DayOf(start), day);
    ASSERT_EQ(clock->DayOf(start - 1), day - 1);
  }
}

TEST_P(CivilClockVsAbsl, InstantsOutsideTheTable) {
  absl::StatusOr<CivilClock> clock = CivilClock::ForZone(GetParam());
  ASSERT_TRUE(clock.ok());
  absl::TimeZone zone;
  ASSERT_TRUE(absl::LoadTimeZone(GetParam(), &zone));
  Rng rng(99);
  const int64_t year1 = int64_t{D(1, 1, 2)} * 86400;
  const int64_t year1800 = int64_t{D(1800, 1, 1)} * 86400;
  const int64_t year2200 = int64_t{D(2200, 1, 1)} * 86400;
  const int64_t year9999 = int64_t{D(9999, 12, 30)} * 86400;
  for (int sample = 0; sample < 20000; ++sample) {
    ExpectMatchesAbsl(*clock, zone, rng.Int(year1, year1800 + 86400 * 400));
    ExpectMatchesAbsl(*clock, zone, rng.Int(year2200 - 86400 * 400, year9999));
  }
}

INSTANTIATE_TEST_SUITE_P(Zones, CivilClockVsAbsl,
                         ::testing::Values("Asia/Shanghai", "America/New_York", "UTC",
                                           "Europe/London", "Australia/Lord_Howe",
                                           "America/Sao_Paulo"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '/') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace pingan
