// R's empirical Bayes rates on the North Carolina SIDS data (tests/assess/nc_sids_eb.csv,
// written by eb_reference.R from spdep's EBest and EBlocal), and the comparison against them.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "assess/unit_table.h"
#include "core/csv.h"
#include "core/status.h"

namespace pingan::testing {

inline std::string NcSidsReferencePath() {
  return std::string(PINGAN_SOURCE_DIR) + "/tests/assess/nc_sids_eb.csv";
}

struct EbReference {
  UnitTable table;  // SID74 as counts, BIR74 as exposures, ncCR85.nb as neighbours
  std::vector<double> raw, eb_global, eb_local;
};

inline absl::StatusOr<EbReference> LoadEbReference(const std::string& path) {
  EbReference reference;
  PA_ASSIGN_OR_RETURN(reference.table,
                      ReadUnitTable(path, UnitTableColumns{.exposure = "BIR74", .count = "SID74"}));
  // R's columns 4, 5 and 6 (after id, SID74, BIR74, neighbours).
  PA_RETURN_IF_ERROR(ReadCsvFile(path, [&](const CsvRow& row) {
    if (row.number == 1) return absl::OkStatus();
    double values[3];
    for (int column = 0; column < 3; ++column) {
      const std::string_view field = row.fields.at(4 + column);
      if (!absl::SimpleAtod(absl::string_view(field.data(), field.size()), &values[column])) {
        return absl::InvalidArgumentError(fmt::format("{}: line {}: bad number", path, row.number));
      }
    }
    reference.raw.push_back(values[0]);
    reference.eb_global.push_back(values[1]);
    reference.eb_local.push_back(values[2]);
    return absl::OkStatus();
  }));
  return reference;
}

// How far `got` is from `want`, unit by unit: the largest absolute and relative differences,
// and the units more than `tolerance` apart relative to R's value (exactly, where R's is 0).
struct Agreement {
  double max_absolute = 0, max_relative = 0;
  std::vector<std::string> failures;
};

inline Agreement Compare(std::span<const double> got, std::span<const double> want,
                         double tolerance = 1e-9) {
  Agreement agreement;
  for (size_t unit = 0; unit < want.size(); ++unit) {
    const double difference = std::fabs(got[unit] - want[unit]);
    agreement.max_absolute = std::max(agreement.max_absolute, difference);
    if (want[unit] != 0) {
      agreement.max_relative = std::max(agreement.max_relative, difference / std::fabs(want[unit]));
    }
    if (!(difference <= tolerance * std::fabs(want[unit]))) {
      agreement.failures.push_back(
          fmt::format("unit {}: got {}, R {}", unit, got[unit], want[unit]));
    }
  }
  if (got.size() != want.size()) agreement.failures.push_back("different sizes");
  return agreement;
}

}  // namespace pingan::testing
