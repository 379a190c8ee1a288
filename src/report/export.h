// Exporting a table (a report, a series, a league table) as CSV and as XLSX, for the CLI and the
// HTTP API. The caller builds a Table of typed cells (null, integer, real number, text) with the
// header labels in the language it wants; this module only renders it.
//
// Both formats are made safe to open in Excel:
//   - a text cell that starts with = + - @ tab or CR never becomes a formula: in CSV it is
//     prefixed with a single quote (the OWASP rule for CSV injection); in XLSX it is written as
//     a string cell (shared string), which Excel shows as text, so it keeps its exact value;
//   - the table must fit Excel's limits (ValidateTable), else InvalidArgument naming the cell.
//
// Example:
//   Table table{.title = "平安法治实时报表 330106 2024-06", .columns = {"单位", "事件数", "占比"}};
//   table.rows.push_back({Cell::Text("西湖区"), Cell::Integer(42), Cell::Real(0.125, 2)});
//   PA_ASSIGN_OR_RETURN(std::string csv, TableToCsv(table));
//   PA_ASSIGN_OR_RETURN(std::string xlsx, TableToXlsx(table));
//
// Thread-safety: the functions are pure apart from TableToXlsx's private temporary files and
// may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pingan {

// Excel's limits, which both formats enforce so that a CSV opens in Excel without loss.
inline constexpr size_t kMaxExportDataRows = 1'048'575;  // 1,048,576 rows with the header
inline constexpr size_t kMaxExportColumns = 16'384;
inline constexpr size_t kMaxExportTextUnits = 32'767;  // UTF-16 code units in one cell
inline constexpr int kMaxExportDecimals = 15;
// Integers with more digits than Excel keeps (15) are written to XLSX as text, so that an
// 18-digit number is not shown rounded or in scientific notation.
inline constexpr int64_t kMaxExactXlsxInteger = 999'999'999'999'999;

// One cell: null (empty), an integer, a real number or text.
struct Cell {
  std::variant<std::monostate, int64_t, double, std::string> value;
  // For a real number: the digits to show after the point (0..kMaxExportDecimals); negative
  // means none given, the shortest text that reads back as the same double. Ignored otherwise.
  int decimals = -1;

  static Cell Null() { return Cell{}; }
  static Cell Integer(int64_t number) { return Cell{number}; }
  static Cell Real(double number, int decimals = -1) { return Cell{number, decimals}; }
  static Cell Text(std::string text) { return Cell{std::move(text)}; }

  bool operator==(const Cell&) const = default;
};

struct Table {
  std::string title;                    // the sheet name (sanitised) and document title
  std::vector<std::string> columns;     // header labels
  std::vector<std::vector<Cell>> rows;  // each row has columns.size() cells
};

// OK when `table` can be exported; else InvalidArgument naming the first problem: no columns,
// more than kMaxExportColumns columns or kMaxExportDataRows rows, a row with the wrong number
// of cells, a title, label or text cell that is not valid UTF-8, holds a NUL character or is
// longer than kMaxExportTextUnits, a real number that is not finite (Excel has no NaN or infinity;
// use null), a decimals hint above kMaxExportDecimals.
absl::Status ValidateTable(const Table& table);

// The table as RFC 4180 CSV (written with libcsv): a header record, then one record per row,
// CRLF line ends, preceded by a UTF-8 byte order mark when `utf8_bom` (Excel needs it to read
// Chinese text as UTF-8). Text is always quoted (so an empty text is "" while null is an empty
// field); numbers are unquoted and exact: integers in full, reals as the shortest round-trip
// text or with `decimals` digits after the point, rounded half away from zero on the decimal
// value (0.125 gives 0.13, as Excel shows it; printf would give 0.12). Errors: ValidateTable's.
absl::StatusOr<std::string> TableToCsv(const Table& table, bool utf8_bom = true);

// The bytes of an .xlsx workbook with one worksheet named SanitizeSheetName(title): a bold,
// frozen header row; numbers as numbers (integers with format "0", reals with "0.00..." from
// their decimals hint, else General); text as text, exact (control characters and a literal
// _xHHHH_ are escaped as Excel expects); null as blank (an empty text is blank too);
// column widths from the longest content (CJK characters counted double), between 8 and 60.
// libxlsxwriter 1.1.4 writes only to a file, so the workbook goes through a private temporary
// file in $TMPDIR (else /tmp) that is removed before returning.
// Errors: ValidateTable's; an I/O or libxlsxwriter failure, with a message naming the step.
absl::StatusOr<std::string> TableToXlsx(const Table& table);

// A worksheet name Excel accepts made from `title`: [ ] : * ? / \ and control characters become
// '_', leading and trailing apostrophes and spaces are dropped, the result is cut to 31 UTF-16
// code units on a character boundary; "Sheet1" when nothing is left, "History_" for Excel's
// reserved "History". REQUIRES: `title` is valid UTF-8.
std::string SanitizeSheetName(std::string_view title);

}  // namespace pingan
