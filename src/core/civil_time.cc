#include "core/civil_time.h"

#include "core/strings.h"
#include "core/text.h"

namespace pingan {

absl::TimeZone ZoneOrChina(std::string_view name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(std::string(name), &zone)) zone = absl::FixedTimeZone(8 * 3600);
  return zone;
}

std::string FormatTime(int64_t seconds, const absl::TimeZone& zone) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(seconds), zone);
}

absl::StatusOr<int64_t> ParseTimeBound(std::string_view text, const absl::TimeZone& zone) {
  absl::Time time;
  std::string error;
  for (const char* format : {"%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%Ez"}) {
    if (absl::ParseTime(format, absl::string_view(text.data(), text.size()), zone, &time, &error)) {
      return absl::ToUnixSeconds(time);
    }
  }
  return absl::InvalidArgumentError(Cat("'", Printable(text, 40), "' is not a date (2024-06-01) or an ISO 8601 time"));
}

}  // namespace pingan
