// Helpers shared by the commands: the city's times on the command line, the local operator,
// and the auth store as the CLI opens it (actor "cli", the OS user in every audit entry).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth/auth.h"
#include "catalog/deployment.h"
#include "core/civil_time.h"
#include "cli/commands.h"

namespace pingan::cli {

// The actor of audit entries written from the command line.
inline constexpr char kCliActor[] = "cli";

// The city's zone for printing and parsing times of the command line (UTC+8 when the
// deployment names an unknown zone).
absl::TimeZone ZoneOf(const Deployment& deployment);
using pingan::FormatTime;  // "2024-06-01T08:00:00+08:00" (core/civil_time.h)
// --from/--to: a date (its midnight) or a time in ISO 8601, in the city's zone without offset.
absl::StatusOr<int64_t> ParseBound(const std::string& text, const absl::TimeZone& zone);
// The OS user running the command (SUDO_USER, USER, LOGNAME, else the uid).
std::string OperatorName();
// The auth tables of the context's data directory, auditing as "cli" with "os_user=NAME".
absl::StatusOr<std::unique_ptr<AuthStore>> OpenCliAuth(const Context& context);

}  // namespace pingan::cli
