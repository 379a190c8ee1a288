#include "cli/cli_common.h"

#include <unistd.h>

#include <cstdlib>

#include "core/strings.h"
#include "core/text.h"

namespace pingan::cli {

absl::TimeZone ZoneOf(const Deployment& deployment) { return ZoneOrChina(deployment.time_zone); }

absl::StatusOr<int64_t> ParseBound(const std::string& text, const absl::TimeZone& zone) {
  return ParseTimeBound(text, zone);
}

std::string OperatorName() {
  for (const char* name : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return value;
  }
  return std::to_string(::getuid());
}

absl::StatusOr<std::unique_ptr<AuthStore>> OpenCliAuth(const Context& context) {
  return AuthStore::Open(context.data_dir, AuthOptions{.audit_note = Cat("os_user=", OperatorName())});
}

}  // namespace pingan::cli
