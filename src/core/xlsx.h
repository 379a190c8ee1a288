// Rows of an Excel workbook (.xlsx, Office Open XML SpreadsheetML): what a source system's
// export or an analyst's spreadsheet holds, read without converting it to CSV first.
//
// The first worksheet, row by row in order, each as its cells' text: shared and inline strings
// as written (phonetic runs left out), numbers as Excel stored them ("120.1538"), booleans as
// true/false, error values as shown (#N/A), and cells formatted as dates or times (the built-in
// date formats, the CJK ones included, and custom formats of y/m/d/h/s) as "YYYY-MM-DD HH:MM:SS"
// local time, from the 1900 or the 1904 date system. Columns skipped in the file are empty
// cells; rows with no cell are not given.
//
// The zip container through libzip, the XML through expat (SAX, streamed: a sheet is never held
// whole). Bounds: a cell over `max_cell_bytes` or a column past `max_columns` marks its row
// oversized (the cell is cut, never grown); the shared strings over `max_shared_bytes` stop the
// read with an error, as does anything that is not a workbook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace pingan {

struct XlsxLimits {
  size_t max_cell_bytes = 64 << 10;
  size_t max_columns = 1024;
  size_t max_shared_bytes = size_t{256} << 20;
  // The most a sheet's or the shared strings' XML may inflate to (a workbook from the network:
  // a few MiB of zip can stand for gigabytes of rows); unbounded by default (a file of one's own).
  size_t max_part_bytes = SIZE_MAX;
};

struct XlsxRow {
  int64_t number = 0;              // the row's number in the sheet (1-based, as Excel shows it)
  std::vector<std::string> cells;  // from column A
  bool oversized = false;
};

// Calls on_row for each row of the first worksheet; stops at its first error.
absl::Status ReadXlsx(const std::filesystem::path& path, const XlsxLimits& limits,
                      const std::function<absl::Status(const XlsxRow&)>& on_row);
// The same for a workbook held in memory (an HTTP body), named `name` in errors.
absl::Status ReadXlsxBytes(std::string_view bytes, std::string_view name, const XlsxLimits& limits,
                           const std::function<absl::Status(const XlsxRow&)>& on_row);

}  // namespace pingan
