// Reading CSV (RFC 4180: quoted fields, embedded commas and newlines) through libcsv.
//
// Example:
//   PA_RETURN_IF_ERROR(ReadCsvFile("villages.csv", [&](const CsvRow& row) {
//     if (row.fields.size() < 3) return absl::InvalidArgumentError("short row");
//     ...
//     return absl::OkStatus();
//   }));
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace pingan {

struct CsvRow {
  size_t number = 0;                    // 1-based record number (the header is record 1)
  std::vector<std::string_view> fields; // valid until the callback returns
};

using CsvRowCallback = std::function<absl::Status(const CsvRow&)>;

struct CsvLimits {
  size_t max_field_bytes = 1 << 20;  // a longer field is an error naming the record
  size_t max_fields = 4096;
};

// Reads `path` record by record. Stops at the first error from the parser or the callback and
// returns it (prefixed with the file name and record number for parser errors).
absl::Status ReadCsvFile(const std::string& path, const CsvRowCallback& on_row,
                         CsvLimits limits = {});
// Same, over text in memory.
absl::Status ReadCsvText(std::string_view text, std::string_view name, const CsvRowCallback& on_row,
                         CsvLimits limits = {});

}  // namespace pingan
