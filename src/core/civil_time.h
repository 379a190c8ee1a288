// Times as people write them in the city's zone: "2024-06-01T08:00:00+08:00" out, a date or an
// ISO 8601 time in (the CLI's --from/--to, the API's from/to parameters).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pingan {

// The zone by IANA name; UTC+8 when no installed zone file answers to it.
absl::TimeZone ZoneOrChina(std::string_view name);
// "2024-06-01T08:00:00+08:00".
std::string FormatTime(int64_t seconds, const absl::TimeZone& zone);
// A date (its midnight) or a time in ISO 8601, in `zone` when it names no offset.
// InvalidArgument naming the text (bounded) otherwise.
absl::StatusOr<int64_t> ParseTimeBound(std::string_view text, const absl::TimeZone& zone);

}  // namespace pingan
