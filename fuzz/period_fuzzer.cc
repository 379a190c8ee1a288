// libFuzzer target for the period grammar (src/core/period.h): what `--period` and the API's
// period parameter accept. Built with clang only (cmake -DPINGAN_FUZZ=ON); `make fuzz` runs it.
//
// Invariants checked on every input:
//   - an error is InvalidArgument;
//   - a parsed period has first <= last, and its canonical text parses back to the same period;
//   - its comparison periods (YoY, MoM, and periods back for series) are well formed, and the
//     previous period of a day, week, month, quarter or year ends the day before it starts.
#include <cstdint>
#include <string_view>

#include "core/period.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<pingan::Period> period = pingan::ParsePeriod(text);
  if (!period.ok()) {
    FUZZ_CHECK(period.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(period->first <= period->last);
  const absl::StatusOr<pingan::Period> again = pingan::ParsePeriod(pingan::FormatPeriod(*period));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->kind == period->kind && again->first == period->first && again->last == period->last);
  const pingan::Period year_ago = pingan::YearAgo(*period);
  FUZZ_CHECK(year_ago.first <= year_ago.last && year_ago.last < period->last);
  if (const std::optional<pingan::Period> previous = pingan::PreviousPeriod(*period)) {
    FUZZ_CHECK(previous->first <= previous->last);
    if (period->kind != pingan::PeriodKind::kRange) FUZZ_CHECK(previous->last == period->first - 1);
  } else {
    FUZZ_CHECK(period->kind == pingan::PeriodKind::kYearToDate);
  }
  for (int back = 0; back < 3; ++back) {
    const pingan::Period before = pingan::PeriodBefore(*period, back);
    FUZZ_CHECK(before.first <= before.last);
  }
  return 0;
}
