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
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace pingan {

struct CsvRow {
  size_t number = 0;                    // 1-based record number (the header is record 1)
  std::vector<std::string_view> fields; // valid until the callback returns
  bool oversized = false;               // lenient mode: a field or the field count was over a limit
};

using CsvRowCallback = std::function<absl::Status(const CsvRow&)>;

struct CsvLimits {
  size_t max_field_bytes = 1 << 20;  // a longer field is an error naming the record
  size_t max_fields = 4096;
  // Lenient (for ingesting feeds): quotes are read as libcsv does without CSV_STRICT, and a row
  // over a limit is delivered with `oversized` set (its long fields cut at the limit) instead of
  // stopping the file.
  bool lenient = false;
};

// Parses CSV fed in pieces (a stream, a decompressed file): Feed as data arrives, then Finish.
// Feed and Finish return the first error from the parser or the callback; after an error the
// parser must not be fed again.
class CsvStreamParser {
 public:
  CsvStreamParser(std::string_view name, const CsvRowCallback& on_row, CsvLimits limits = {});
  ~CsvStreamParser();
  CsvStreamParser(const CsvStreamParser&) = delete;
  CsvStreamParser& operator=(const CsvStreamParser&) = delete;

  absl::Status Feed(const char* data, size_t size);
  absl::Status Finish();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// Reads `path` record by record. Stops at the first error from the parser or the callback and
// returns it (prefixed with the file name and record number for parser errors).
absl::Status ReadCsvFile(const std::string& path, const CsvRowCallback& on_row,
                         CsvLimits limits = {});
// Same, over text in memory.
absl::Status ReadCsvText(std::string_view text, std::string_view name, const CsvRowCallback& on_row,
                         CsvLimits limits = {});

}  // namespace pingan
