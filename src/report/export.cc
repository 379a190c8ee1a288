#include "report/export.h"

#include <csv.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>

#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr size_t kMaxSheetNameUnits = 31;
constexpr double kMinColumnWidth = 8;
constexpr double kMaxColumnWidth = 60;

// Code points of valid UTF-8 (the callers validate first).
template <typename Visit>
void ForEachCodePoint(std::string_view text, Visit visit) {
  size_t pos = 0;
  while (pos < text.size()) {
    const auto lead = static_cast<uint8_t>(text[pos]);
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    length = std::min(length, text.size() - pos);
    uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t index = 1; index < length; ++index) {
      code = (code << 6) | (static_cast<uint8_t>(text[pos + index]) & 0x3F);
    }
    visit(code, text.substr(pos, length));
    pos += length;
  }
}

// Excel counts a cell's characters in UTF-16 code units: a code point above U+FFFF is two.
size_t Utf16Units(std::string_view text) {
  size_t units = 0;
  for (char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    units += (byte & 0xC0) != 0x80;
    units += byte >= 0xF0;
  }
  return units;
}

// East Asian wide and fullwidth ranges (the ones a Chinese report meets): such a character takes
// about two digit widths in Excel's default fonts.
bool IsWide(uint32_t code) {
  return (code >= 0x1100 && code <= 0x115F) || (code >= 0x2E80 && code <= 0xA4CF) ||
         (code >= 0xAC00 && code <= 0xD7A3) || (code >= 0xF900 && code <= 0xFAFF) ||
         (code >= 0xFE30 && code <= 0xFE4F) || (code >= 0xFF00 && code <= 0xFF60) ||
         (code >= 0xFFE0 && code <= 0xFFE6) || (code >= 0x20000 && code <= 0x3FFFD);
}

// Width of the longest line of `text` in digit widths.
double DisplayWidth(std::string_view text) {
  double widest = 0;
  double line = 0;
  ForEachCodePoint(text, [&](uint32_t code, std::string_view) {
    if (code == '\n') {
      line = 0;
      return;
    }
    line += IsWide(code) ? 2 : 1;
    widest = std::max(widest, line);
  });
  return widest;
}

// OWASP's rule for CSV injection: a field starting with one of these is read as a formula.
bool StartsLikeFormula(std::string_view text) {
  return !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos;
}

// `number` with `decimals` digits after the point, rounded half away from zero on its shortest
// decimal text: 0.125 gives 0.13 and 2.675 gives 2.68, as a reader rounds (四舍五入) and as
// Excel shows the cell with the "0.00" format, where printf rounds the binary value to 0.12 and
// 2.67. A result of zero carries no sign.
std::string FormatFixed(double number, int decimals) {
  // Shortest round-trip digits in scientific form, e.g. "-2.675e+00".
  std::array<char, 64> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number,
                                          std::chars_format::scientific);
  const std::string_view scientific(buffer.data(), static_cast<size_t>(end - buffer.data()));
  const bool negative = scientific.front() == '-';
  const size_t exponent_at = scientific.find('e');
  std::string digits;
  for (char c : scientific.substr(0, exponent_at)) {
    if (c >= '0' && c <= '9') digits += c;
  }
  const int exponent = std::stoi(std::string(scientific.substr(exponent_at + 1)));
  // The digits to keep: those before the point (exponent + 1) and `decimals` after it.
  const long keep = static_cast<long>(exponent) + 1 + decimals;
  std::string kept;  // the result times 10^decimals, as decimal digits
  if (keep >= 0) {
    const auto keep_size = static_cast<size_t>(keep);
    kept = digits.substr(0, std::min(keep_size, digits.size()));
    kept.resize(keep_size, '0');
    if (keep_size < digits.size() && digits[keep_size] >= '5') {
      size_t pos = kept.size();
      while (pos > 0 && kept[pos - 1] == '9') kept[--pos] = '0';
      if (pos == 0) {
        kept.insert(kept.begin(), '1');
      } else {
        ++kept[pos - 1];
      }
    }
  }
  const size_t first_nonzero = kept.find_first_not_of('0');
  kept.erase(0, std::min(first_nonzero, kept.size()));
  const bool zero = kept.empty();
  if (kept.size() < static_cast<size_t>(decimals) + 1) {
    kept.insert(0, static_cast<size_t>(decimals) + 1 - kept.size(), '0');
  }
  if (decimals > 0) kept.insert(kept.size() - static_cast<size_t>(decimals), 1, '.');
  return negative && !zero ? "-" + kept : kept;
}

std::string FormatReal(double number, int decimals) {
  // fmt's "{}" is the shortest text that reads back as the same double.
  return decimals < 0 ? fmt::format("{}", number) : FormatFixed(number, decimals);
}

std::string DescribeCell(const Table& table, size_t row_index, size_t column_index) {
  return Cat("row ", row_index + 1, ", column ", column_index + 1, " (",
             Printable(table.columns[column_index], 40), ")");
}

absl::Status ValidateText(std::string_view text, const std::string& where) {
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(Cat(where, ": text is not valid UTF-8: ", Printable(text)));
  }
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat(where, ": text holds a NUL character: ", Printable(text)));
  }
  if (const size_t units = Utf16Units(text); units > kMaxExportTextUnits) {
    return absl::InvalidArgumentError(Cat(where, ": text of ", units,
                                          " characters (UTF-16 units) is over Excel's limit of ",
                                          kMaxExportTextUnits, " per cell"));
  }
  return absl::OkStatus();
}

// --- CSV ---

// Appends `text` as one quoted field; libcsv doubles the quotes inside.
void AppendQuotedField(std::string& out, std::string_view text) {
  // csv_write writes nothing for a null source, and an empty string_view may have one.
  const char* source = text.empty() ? "" : text.data();
  const size_t needed = csv_write(nullptr, 0, source, text.size());
  const size_t start = out.size();
  out.resize(start + needed);
  csv_write(out.data() + start, needed, source, text.size());
}

void AppendTextField(std::string& out, const std::string& text) {
  if (StartsLikeFormula(text)) {
    AppendQuotedField(out, Cat("'", text));
  } else {
    AppendQuotedField(out, text);
  }
}

void AppendCellField(std::string& out, const Cell& cell) {
  if (const auto* integer = std::get_if<int64_t>(&cell.value)) {
    out += fmt::format_int(*integer).str();
  } else if (const auto* real = std::get_if<double>(&cell.value)) {
    out += FormatReal(*real, cell.decimals);
  } else if (const auto* text = std::get_if<std::string>(&cell.value)) {
    AppendTextField(out, *text);
  }
  // Null: an empty, unquoted field.
}

// --- XLSX ---

// True when `text` holds _xHHHH_ at `pos`: the form in which XLSX strings carry characters XML
// cannot (libxlsxwriter writes control characters so), decoded by Excel when it reads the file.
bool IsEscapeAt(std::string_view text, size_t pos) {
  if (text.size() - pos < 7 || text[pos] != '_' || text[pos + 1] != 'x' || text[pos + 6] != '_') {
    return false;
  }
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(pos) + 2,
                     text.begin() + static_cast<std::ptrdiff_t>(pos) + 6,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// `text` as a C string for libxlsxwriter, with a literal _xHHHH_ kept literal the way Excel saves
// it, by writing its underscore as _x005F_ (libxlsxwriter 1.1.4 does not). Uses `scratch` only
// when the text needs the change.
const char* XlsxString(const std::string& text, std::string& scratch) {
  if (text.find("_x") == std::string::npos) return text.c_str();
  scratch.clear();
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (IsEscapeAt(text, pos)) scratch += "_x005F";
    scratch += text[pos];
  }
  return scratch.c_str();
}

// A private temporary file, removed on destruction. The descriptor stays open so that the
// workbook is read back from the same file that was created, whatever happens to the name.
class TempFile {
 public:
  static absl::StatusOr<TempFile> Create() {
    const char* env = std::getenv("TMPDIR");
    std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
    std::string path = Cat(dir, "/pingan-export-XXXXXX");
    const int fd = mkstemp(path.data());
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, Cat("creating a temporary file for the XLSX in ", dir));
    }
    return TempFile(std::move(dir), std::move(path), fd);
  }

  TempFile(TempFile&& other) noexcept
      : dir_(std::move(other.dir_)),
        path_(std::move(other.path_)),
        fd_(std::exchange(other.fd_, -1)) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd_ < 0) return;
    close(fd_);
    unlink(path_.c_str());
  }

  std::string& dir() { return dir_; }
  const std::string& path() const { return path_; }

  absl::StatusOr<std::string> ReadAll() const {
    struct stat info {};
    if (fstat(fd_, &info) != 0) return absl::ErrnoToStatus(errno, Cat("reading back ", path_));
    std::string bytes(static_cast<size_t>(info.st_size), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t got =
          pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return absl::ErrnoToStatus(errno, Cat("reading back ", path_));
      if (got == 0) return absl::DataLossError(Cat("reading back ", path_, ": file shrank"));
      done += static_cast<size_t>(got);
    }
    if (bytes.empty()) return absl::DataLossError(Cat("reading back ", path_, ": file is empty"));
    return bytes;
  }

 private:
  TempFile(std::string dir, std::string path, int fd)
      : dir_(std::move(dir)), path_(std::move(path)), fd_(fd) {}

  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

// A workbook abandoned after an error is freed without being written; the success path
// releases it to workbook_close, which writes and frees.
struct WorkbookFree {
  void operator()(lxw_workbook* workbook) const { lxw_workbook_free(workbook); }
};
using WorkbookPtr = std::unique_ptr<lxw_workbook, WorkbookFree>;

absl::Status XlsxError(lxw_error error, std::string_view what) {
  return absl::InternalError(Cat("libxlsxwriter: ", what, ": ", lxw_strerror(error)));
}

class SheetWriter {
 public:
  SheetWriter(lxw_workbook* workbook, lxw_worksheet* sheet, const Table& table)
      : workbook_(workbook), sheet_(sheet), table_(table), widths_(table.columns.size(), 0) {
    header_format_ = workbook_add_format(workbook_);
    format_set_bold(header_format_);
  }

  absl::Status Write() {
    for (size_t column_index = 0; column_index < table_.columns.size(); ++column_index) {
      const std::string& label = table_.columns[column_index];
      // A bold header reads a little wider than its characters.
      Widen(column_index, DisplayWidth(label) * 1.1);
      PA_RETURN_IF_ERROR(Check(worksheet_write_string(sheet_, 0, Column(column_index),
                                                      XlsxString(label, scratch_), header_format_),
                               0, column_index));
    }
    for (size_t row_index = 0; row_index < table_.rows.size(); ++row_index) {
      const std::vector<Cell>& row = table_.rows[row_index];
      for (size_t column_index = 0; column_index < row.size(); ++column_index) {
        PA_RETURN_IF_ERROR(WriteCell(row_index, column_index, row[column_index]));
      }
    }
    worksheet_freeze_panes(sheet_, 1, 0);
    for (size_t column_index = 0; column_index < widths_.size(); ++column_index) {
      const double width = std::clamp(widths_[column_index] + 2, kMinColumnWidth, kMaxColumnWidth);
      const lxw_col_t column = Column(column_index);
      PA_RETURN_IF_ERROR(
          Check(worksheet_set_column(sheet_, column, column, width, nullptr), 0, column_index));
    }
    return absl::OkStatus();
  }

 private:
  static lxw_col_t Column(size_t column_index) { return static_cast<lxw_col_t>(column_index); }

  absl::Status WriteCell(size_t row_index, size_t column_index, const Cell& cell) {
    const auto row = static_cast<lxw_row_t>(row_index + 1);
    const lxw_col_t column = Column(column_index);
    lxw_error error = LXW_NO_ERROR;
    if (const auto* integer = std::get_if<int64_t>(&cell.value)) {
      const std::string text = fmt::format_int(*integer).str();
      Widen(column_index, static_cast<double>(text.size()));
      if (*integer > kMaxExactXlsxInteger || *integer < -kMaxExactXlsxInteger) {
        error = worksheet_write_string(sheet_, row, column, text.c_str(), nullptr);
      } else {
        error = worksheet_write_number(sheet_, row, column, static_cast<double>(*integer),
                                       DecimalsFormat(0));
      }
    } else if (const auto* real = std::get_if<double>(&cell.value)) {
      // Excel's General format shows at most 11 characters of a number.
      const std::string shown = FormatReal(*real, cell.decimals);
      Widen(column_index, static_cast<double>(cell.decimals < 0 ? std::min<size_t>(shown.size(), 11)
                                                                : shown.size()));
      error = worksheet_write_number(sheet_, row, column, *real,
                                     cell.decimals < 0 ? nullptr : DecimalsFormat(cell.decimals));
    } else if (const auto* text = std::get_if<std::string>(&cell.value)) {
      Widen(column_index, DisplayWidth(*text));
      // Always a string cell, never a formula, whatever the text starts with.
      error = worksheet_write_string(sheet_, row, column, XlsxString(*text, scratch_), nullptr);
    }
    return Check(error, row_index + 1, column_index);
  }

  lxw_format* DecimalsFormat(int decimals) {
    std::optional<lxw_format*>& slot = decimals_formats_[static_cast<size_t>(decimals)];
    if (!slot) {
      lxw_format* format = workbook_add_format(workbook_);
      const std::string code = decimals == 0 ? "0" : Cat("0.", std::string(decimals, '0'));
      format_set_num_format(format, code.c_str());
      slot = format;
    }
    return *slot;
  }

  void Widen(size_t column_index, double width) {
    widths_[column_index] = std::max(widths_[column_index], width);
  }

  absl::Status Check(lxw_error error, size_t sheet_row, size_t column_index) const {
    if (error == LXW_NO_ERROR) return absl::OkStatus();
    return XlsxError(error,
                     Cat("writing sheet row ", sheet_row + 1, ", column ", column_index + 1));
  }

  lxw_workbook* workbook_;
  lxw_worksheet* sheet_;
  const Table& table_;
  lxw_format* header_format_ = nullptr;
  std::array<std::optional<lxw_format*>, kMaxExportDecimals + 1> decimals_formats_{};
  std::vector<double> widths_;
  std::string scratch_;
};

}  // namespace

absl::Status ValidateTable(const Table& table) {
  PA_RETURN_IF_ERROR(ValidateText(table.title, "title"));
  if (table.columns.empty()) return absl::InvalidArgumentError("table has no columns");
  if (table.columns.size() > kMaxExportColumns) {
    return absl::InvalidArgumentError(Cat("table has ", table.columns.size(),
                                          " columns, over Excel's limit of ", kMaxExportColumns));
  }
  if (table.rows.size() > kMaxExportDataRows) {
    return absl::InvalidArgumentError(Cat("table has ", table.rows.size(),
                                          " rows, over Excel's limit of ", kMaxExportDataRows,
                                          " below the header"));
  }
  for (size_t column_index = 0; column_index < table.columns.size(); ++column_index) {
    PA_RETURN_IF_ERROR(
        ValidateText(table.columns[column_index], Cat("header of column ", column_index + 1)));
  }
  for (size_t row_index = 0; row_index < table.rows.size(); ++row_index) {
    const std::vector<Cell>& row = table.rows[row_index];
    if (row.size() != table.columns.size()) {
      return absl::InvalidArgumentError(Cat("row ", row_index + 1, " has ", row.size(),
                                            " cells for ", table.columns.size(), " columns"));
    }
    for (size_t column_index = 0; column_index < row.size(); ++column_index) {
      const Cell& cell = row[column_index];
      if (const auto* text = std::get_if<std::string>(&cell.value)) {
        PA_RETURN_IF_ERROR(ValidateText(*text, DescribeCell(table, row_index, column_index)));
      } else if (const auto* real = std::get_if<double>(&cell.value)) {
        if (!std::isfinite(*real)) {
          return absl::InvalidArgumentError(Cat(DescribeCell(table, row_index, column_index),
                                                ": number is not finite (", *real,
                                                "); export it as null"));
        }
        if (cell.decimals > kMaxExportDecimals) {
          return absl::InvalidArgumentError(Cat(DescribeCell(table, row_index, column_index),
                                                ": decimals hint ", cell.decimals,
                                                " is over the limit of ", kMaxExportDecimals));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TableToCsv(const Table& table, bool utf8_bom) {
  PA_RETURN_IF_ERROR(ValidateTable(table));
  std::string out;
  if (utf8_bom) out += kUtf8Bom;
  for (size_t column_index = 0; column_index < table.columns.size(); ++column_index) {
    if (column_index > 0) out += ',';
    AppendTextField(out, table.columns[column_index]);
  }
  out += "\r\n";
  for (const std::vector<Cell>& row : table.rows) {
    for (size_t column_index = 0; column_index < row.size(); ++column_index) {
      if (column_index > 0) out += ',';
      AppendCellField(out, row[column_index]);
    }
    out += "\r\n";
  }
  return out;
}

absl::StatusOr<std::string> TableToXlsx(const Table& table) {
  PA_RETURN_IF_ERROR(ValidateTable(table));
  PA_ASSIGN_OR_RETURN(TempFile file, TempFile::Create());
  {
    // libxlsxwriter keeps its own scratch files beside ours rather than in tmpfile()'s /tmp.
    lxw_workbook_options options{
        .constant_memory = LXW_FALSE, .tmpdir = file.dir().data(), .use_zip64 = LXW_FALSE};
    WorkbookPtr workbook(workbook_new_opt(file.path().c_str(), &options));
    if (workbook == nullptr) {
      return absl::InternalError(Cat("libxlsxwriter: cannot create a workbook for ", file.path()));
    }
    const std::string sheet_name = SanitizeSheetName(table.title);
    lxw_worksheet* sheet = workbook_add_worksheet(workbook.get(), sheet_name.c_str());
    if (sheet == nullptr) {
      return absl::InternalError(
          Cat("libxlsxwriter: cannot add a worksheet named '", Printable(sheet_name), "'"));
    }
    std::string title = table.title;
    lxw_doc_properties properties{};
    properties.title = title.data();
    if (lxw_error error = workbook_set_properties(workbook.get(), &properties);
        error != LXW_NO_ERROR) {
      return XlsxError(error, "setting the document title");
    }
    PA_RETURN_IF_ERROR(SheetWriter(workbook.get(), sheet, table).Write());
    if (lxw_error error = workbook_close(workbook.release()); error != LXW_NO_ERROR) {
      return XlsxError(error, Cat("writing the workbook to ", file.path()));
    }
  }
  return file.ReadAll();
}

std::string SanitizeSheetName(std::string_view title) {
  const auto trimmed = [](char c) { return c == ' ' || c == '\''; };
  while (!title.empty() && trimmed(title.front())) title.remove_prefix(1);
  std::string name;
  size_t units = 0;
  ForEachCodePoint(title, [&](uint32_t code, std::string_view bytes) {
    const size_t code_units = code > 0xFFFF ? 2 : 1;
    if (units + code_units > kMaxSheetNameUnits) {
      units = kMaxSheetNameUnits + 1;  // stop at the first character that does not fit
      return;
    }
    units += code_units;
    const bool control = code < 0x20 || code == 0x7F;
    const bool forbidden =
        code < 0x80 &&
        std::string_view("[]:*?/\\").find(static_cast<char>(code)) != std::string_view::npos;
    if (control || forbidden) {
      name += '_';
    } else {
      name.append(bytes);
    }
  });
  // Trailing ones are trimmed after cutting, which may leave a new one at the end.
  while (!name.empty() && trimmed(name.back())) name.pop_back();
  if (name.empty()) return "Sheet1";
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (lower == "history") name += '_';
  return name;
}

}  // namespace pingan
