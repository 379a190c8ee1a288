#include "core/xlsx.h"

#include <expat.h>
#include <zip.h>

#include <array>
#include <charconv>
#include <cmath>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "absl/time/civil_time.h"
#include "core/strings.h"

namespace pingan {
namespace {

constexpr size_t kMaxPartBytes = size_t{64} << 20;  // workbook.xml, its relationships, styles.xml

// The local part of a name as written ("x:c" -> "c"). Elements are matched by local name, whatever
// prefix a writer gives the SpreadsheetML namespace: the parser does no namespace processing,
// whose "uri|local" names cost a strlen of the URI on every element (a tenth of reading a sheet).
std::string_view Local(const XML_Char* name) {
  std::string_view text(name);
  const size_t colon = text.rfind(':');
  return colon == std::string_view::npos ? text : text.substr(colon + 1);
}

// The value of the attribute whose local name is `local` (with a prefix when `prefixed`: r:id),
// or nullptr.
const XML_Char* Attribute(const XML_Char** attributes, std::string_view local, bool prefixed = false) {
  for (const XML_Char** at = attributes; *at != nullptr; at += 2) {
    const std::string_view name(at[0]);
    if (Local(at[0]) == local && (!prefixed || name.find(':') != std::string_view::npos)) return at[1];
  }
  return nullptr;
}

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
struct ParserFree {
  void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
};
using Parser = std::unique_ptr<std::remove_pointer_t<XML_Parser>, ParserFree>;

Parser NewParser(void* state, XML_StartElementHandler start, XML_EndElementHandler end,
                 XML_CharacterDataHandler text) {
  Parser parser(XML_ParserCreate(nullptr));
  if (parser == nullptr) return parser;
  XML_SetUserData(parser.get(), state);
  XML_SetElementHandler(parser.get(), start, end);
  if (text != nullptr) XML_SetCharacterDataHandler(parser.get(), text);
  return parser;
}

class Workbook {
 public:
  absl::Status Open(const std::filesystem::path& path) {
    int error = 0;
    archive_.reset(zip_open(path.c_str(), ZIP_RDONLY, &error));
    if (archive_ == nullptr) {
      zip_error_t detail;
      zip_error_init_with_code(&detail, error);
      std::string message = Cat(path.string(), ": not an XLSX workbook (", zip_error_strerror(&detail), ")");
      zip_error_fini(&detail);
      return absl::InvalidArgumentError(message);
    }
    name_ = path.string();
    return absl::OkStatus();
  }

  absl::Status OpenBytes(std::string_view bytes, std::string_view name) {
    name_ = std::string(name);
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (source != nullptr) archive_.reset(zip_open_from_source(source, ZIP_RDONLY, &error));
    if (archive_ == nullptr) {
      if (source != nullptr) zip_source_free(source);
      std::string message = Cat(name_, ": not an XLSX workbook (", zip_error_strerror(&error), ")");
      zip_error_fini(&error);
      return absl::InvalidArgumentError(message);
    }
    zip_error_fini(&error);
    return absl::OkStatus();
  }

  bool Has(const std::string& part) const { return zip_name_locate(archive_.get(), part.c_str(), 0) >= 0; }

  // Feeds the part to `parser` as it inflates. `stopped` is the status a handler stopped on.
  absl::Status Parse(const std::string& part, XML_Parser parser, const absl::Status& stopped,
                     size_t max_bytes = SIZE_MAX) {
    std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen(archive_.get(), part.c_str(), 0));
    if (file == nullptr) return Damaged(part, zip_error_strerror(zip_get_error(archive_.get())));
    std::array<char, 64 << 10> buffer;
    size_t total = 0;
    while (true) {
      const zip_int64_t got = zip_fread(file.get(), buffer.data(), buffer.size());
      if (got < 0) return Damaged(part, zip_file_strerror(file.get()));
      total += static_cast<size_t>(got);
      if (total > max_bytes) {
        return absl::InvalidArgumentError(Cat(name_, ": ", part, " is over ", max_bytes >> 20, " MiB"));
      }
      if (XML_Parse(parser, buffer.data(), static_cast<int>(got), got == 0) == XML_STATUS_ERROR) {
        if (!stopped.ok()) return stopped;
        return absl::InvalidArgumentError(Cat(name_, ": ", part, " line ", XML_GetCurrentLineNumber(parser), ": ",
                                              XML_ErrorString(XML_GetErrorCode(parser))));
      }
      if (!stopped.ok()) return stopped;
      if (got == 0) return absl::OkStatus();
    }
  }

  const std::string& name() const { return name_; }

 private:
  absl::Status Damaged(const std::string& part, const char* why) const {
    return absl::InvalidArgumentError(Cat(name_, ": the workbook is damaged (", part, ": ", why, ")"));
  }

  std::unique_ptr<zip_t, ZipCloser> archive_;
  std::string name_;
};

// --- workbook.xml and its relationships: which part is the first sheet --------------------------

struct SheetFinder {
  std::string first_sheet_id;  // the relationship id of the first <sheet>
  bool date1904 = false;
  std::unordered_map<std::string, std::string> targets;  // relationship id -> target

  static void Start(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto* self = static_cast<SheetFinder*>(data);
    const std::string_view local = Local(name);
    if (local == "sheet" && self->first_sheet_id.empty()) {
      if (const XML_Char* id = Attribute(attributes, "id", /*prefixed=*/true)) self->first_sheet_id = id;
    } else if (local == "workbookPr") {
      const XML_Char* value = Attribute(attributes, "date1904");
      self->date1904 = value != nullptr && (std::string_view(value) == "1" || std::string_view(value) == "true");
    } else if (local == "Relationship") {
      const XML_Char* id = Attribute(attributes, "Id");
      const XML_Char* target = Attribute(attributes, "Target");
      if (id != nullptr && target != nullptr) self->targets.emplace(id, target);
    }
  }
  static void End(void*, const XML_Char*) {}
};

// --- styles.xml: which cell styles show dates ------------------------------------------------------

// Whether a number format shows a date or time: a built-in one (with the CJK locales' own), or a
// custom code with y, m, d, h or s outside quoted text, [brackets] and escaped characters.
bool IsDateFormat(int id, std::string_view code) {
  if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58)) return true;
  bool quoted = false;
  int bracket = 0;
  for (size_t at = 0; at < code.size(); ++at) {
    const char c = code[at];
    if (quoted) {
      quoted = c != '"';
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[') {
      ++bracket;
    } else if (c == ']') {
      bracket = std::max(0, bracket - 1);
    } else if (bracket == 0 && (c == '\\' || c == '_' || c == '*')) {
      ++at;  // the next character is shown as is (or pads)
    } else if (bracket == 0) {
      switch (c) {
        case 'y': case 'Y': case 'm': case 'M': case 'd': case 'D': case 'h': case 'H': case 's': case 'S':
          return true;
        default: break;
      }
    }
  }
  return false;
}

struct StyleReader {
  std::unordered_map<int, std::string> custom;  // numFmtId -> formatCode
  std::vector<int> cell_formats;                // cellXfs' numFmtId, by style index
  int depth_in_cell_xfs = 0;

  static int Number(const XML_Char* text) {
    int value = -1;
    if (text != nullptr) std::from_chars(text, text + std::char_traits<char>::length(text), value);
    return value;
  }
  static void Start(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto* self = static_cast<StyleReader*>(data);
    const std::string_view local = Local(name);
    if (local == "numFmt") {
      const XML_Char* code = Attribute(attributes, "formatCode");
      self->custom[Number(Attribute(attributes, "numFmtId"))] = code != nullptr ? code : "";
    } else if (local == "cellXfs") {
      self->depth_in_cell_xfs = 1;
    } else if (local == "xf" && self->depth_in_cell_xfs > 0) {
      self->cell_formats.push_back(Number(Attribute(attributes, "numFmtId")));
    }
  }
  static void End(void* data, const XML_Char* name) {
    if (Local(name) == "cellXfs") static_cast<StyleReader*>(data)->depth_in_cell_xfs = 0;
  }
  std::vector<bool> DateStyles() const {
    std::vector<bool> dates(cell_formats.size());
    for (size_t style = 0; style < cell_formats.size(); ++style) {
      auto it = custom.find(cell_formats[style]);
      dates[style] = IsDateFormat(cell_formats[style], it != custom.end() ? std::string_view(it->second) : "");
    }
    return dates;
  }
};

// --- sharedStrings.xml ---------------------------------------------------------------------------

struct SharedStrings {
  std::vector<std::string> strings;
  std::string current;
  size_t bytes = 0, max_bytes = 0;
  int phonetic = 0;  // inside <rPh>: a reading aid, not the text
  bool in_text = false;
  absl::Status stopped;
  XML_Parser parser = nullptr;

  static void Start(void* data, const XML_Char* name, const XML_Char**) {
    auto* self = static_cast<SharedStrings*>(data);
    const std::string_view local = Local(name);
    if (local == "si") self->current.clear();
    if (local == "rPh") ++self->phonetic;
    if (local == "t") self->in_text = self->phonetic == 0;
  }
  static void End(void* data, const XML_Char* name) {
    auto* self = static_cast<SharedStrings*>(data);
    const std::string_view local = Local(name);
    if (local == "t") self->in_text = false;
    if (local == "rPh") --self->phonetic;
    if (local == "si") self->strings.push_back(std::move(self->current));
  }
  static void Text(void* data, const XML_Char* text, int length) {
    auto* self = static_cast<SharedStrings*>(data);
    if (!self->in_text || !self->stopped.ok()) return;
    self->bytes += static_cast<size_t>(length);
    if (self->bytes > self->max_bytes) {
      self->stopped = absl::InvalidArgumentError(Cat("the workbook's shared strings are over ", self->max_bytes >> 20, " MiB"));
      XML_StopParser(self->parser, XML_FALSE);
      return;
    }
    self->current.append(text, static_cast<size_t>(length));
  }
};

// --- the sheet -----------------------------------------------------------------------------------

// "2024-06-01 08:00:00" for a date serial, in the 1900 (days since 1899-12-30, Lotus's leap day
// included) or the 1904 date system; empty when it is no date Excel can show.
std::string SerialToText(std::string_view value, bool date1904) {
  double serial = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), serial);
  if (error != std::errc() || end != value.data() + value.size() || !std::isfinite(serial) || serial < 0 ||
      serial >= 2958466) {
    return "";
  }
  const int64_t seconds = std::llround(serial * 86400.0);
  const absl::CivilSecond base = date1904 ? absl::CivilSecond(1904, 1, 1) : absl::CivilSecond(1899, 12, 30);
  const absl::CivilSecond at = base + seconds;
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", static_cast<int>(at.year()), at.month(), at.day(),
                at.hour(), at.minute(), at.second());
  return text;
}

struct SheetReader {
  const XlsxLimits* limits = nullptr;
  const std::vector<std::string>* shared = nullptr;
  const std::vector<bool>* date_styles = nullptr;
  bool date1904 = false;
  const std::function<absl::Status(const XlsxRow&)>* on_row = nullptr;
  XML_Parser parser = nullptr;
  absl::Status stopped;

  XlsxRow row;
  size_t next_column = 0;
  // The cell being read.
  size_t column = 0;
  bool column_ok = true;
  std::string type;
  size_t style = 0;
  std::string value;    // <v>
  std::string inline_;  // <is><t>
  bool in_value = false, in_inline = false, in_text = false, cut = false;
  int phonetic = 0;

  void Stop(absl::Status status) {
    if (stopped.ok()) stopped = std::move(status);
    XML_StopParser(parser, XML_FALSE);
  }

  // Column index of a cell reference ("C12" -> 2); false past three letters.
  static bool ColumnOf(std::string_view reference, size_t& out) {
    size_t index = 0, letters = 0;
    for (char c : reference) {
      if (c >= 'A' && c <= 'Z') {
        index = index * 26 + static_cast<size_t>(c - 'A' + 1);
      } else if (c >= 'a' && c <= 'z') {
        index = index * 26 + static_cast<size_t>(c - 'a' + 1);
      } else {
        break;
      }
      if (++letters > 3) return false;
    }
    if (letters == 0) return false;
    out = index - 1;
    return true;
  }

  static void Start(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto* self = static_cast<SheetReader*>(data);
    const std::string_view local = Local(name);
    if (local == "row") {
      const XML_Char* number = Attribute(attributes, "r");
      int64_t value = 0;  // 1-based; a row without a number (or a bad one) follows the one before
      if (number != nullptr) std::from_chars(number, number + std::char_traits<char>::length(number), value);
      self->row.number = value > 0 ? value : self->row.number + 1;
      self->row.cells.clear();
      self->row.oversized = false;
      self->next_column = 0;
    } else if (local == "c") {
      const XML_Char* reference = Attribute(attributes, "r");
      self->column = self->next_column;
      self->column_ok = reference == nullptr || ColumnOf(reference, self->column);
      const XML_Char* type = Attribute(attributes, "t");
      self->type = type != nullptr ? type : "n";
      const XML_Char* style = Attribute(attributes, "s");
      self->style = 0;
      if (style != nullptr) std::from_chars(style, style + std::char_traits<char>::length(style), self->style);
      self->value.clear();
      self->inline_.clear();
      self->cut = false;
    } else if (local == "v") {
      self->in_value = true;
    } else if (local == "is") {
      self->in_inline = true;
    } else if (local == "rPh") {
      ++self->phonetic;
    } else if (local == "t" && self->in_inline) {
      self->in_text = self->phonetic == 0;
    }
  }

  static void End(void* data, const XML_Char* name) {
    auto* self = static_cast<SheetReader*>(data);
    const std::string_view local = Local(name);
    if (local == "v") {
      self->in_value = false;
    } else if (local == "t") {
      self->in_text = false;
    } else if (local == "rPh") {
      --self->phonetic;
    } else if (local == "is") {
      self->in_inline = false;
    } else if (local == "c") {
      self->EndCell();
    } else if (local == "row") {
      bool any = false;
      for (const std::string& cell : self->row.cells) any = any || !cell.empty();
      if (any || self->row.oversized) {
        if (absl::Status status = (*self->on_row)(self->row); !status.ok()) self->Stop(std::move(status));
      }
    }
  }

  void EndCell() {
    next_column = column + 1;
    if (!column_ok || column >= limits->max_columns) {
      row.oversized = true;
      return;
    }
    std::string text;
    if (type == "s") {
      size_t index = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), index);
      if (error != std::errc() || end != value.data() + value.size() || index >= shared->size()) {
        return Stop(absl::InvalidArgumentError(Cat("row ", row.number, ": a shared string index out of range")));
      }
      text = (*shared)[index];
    } else if (type == "inlineStr") {
      text = std::move(inline_);
    } else if (type == "b") {
      text = value == "1" ? "true" : value.empty() ? "" : "false";
    } else if (type == "n" && !value.empty() && style < date_styles->size() && (*date_styles)[style]) {
      text = SerialToText(value, date1904);
      if (text.empty()) text = std::move(value);
    } else {
      text = std::move(value);  // numbers as stored, str (a formula's text), e (#N/A), d (ISO 8601)
    }
    if (cut || text.size() > limits->max_cell_bytes) {
      row.oversized = true;
      text.resize(std::min(text.size(), limits->max_cell_bytes));
    }
    if (row.cells.size() <= column) row.cells.resize(column + 1);
    row.cells[column] = std::move(text);
  }

  static void Text(void* data, const XML_Char* text, int length) {
    auto* self = static_cast<SheetReader*>(data);
    std::string* into = self->in_value ? &self->value : self->in_text ? &self->inline_ : nullptr;
    if (into == nullptr) return;
    const size_t room = self->limits->max_cell_bytes + 1 - std::min(into->size(), self->limits->max_cell_bytes + 1);
    if (static_cast<size_t>(length) > room) self->cut = true;
    into->append(text, std::min(static_cast<size_t>(length), room));
  }
};

}  // namespace

namespace {

absl::Status ReadBook(Workbook& book, const XlsxLimits& limits, const std::function<absl::Status(const XlsxRow&)>& on_row) {
  const absl::Status none;

  // The first sheet, through the workbook's relationships; sheet1.xml when they say nothing.
  SheetFinder finder;
  std::string sheet = "xl/worksheets/sheet1.xml";
  if (book.Has("xl/workbook.xml")) {
    Parser parser = NewParser(&finder, SheetFinder::Start, SheetFinder::End, nullptr);
    if (parser == nullptr) return absl::ResourceExhaustedError("expat could not start");
    if (absl::Status read = book.Parse("xl/workbook.xml", parser.get(), none, kMaxPartBytes); !read.ok()) return read;
    if (book.Has("xl/_rels/workbook.xml.rels")) {
      Parser rels = NewParser(&finder, SheetFinder::Start, SheetFinder::End, nullptr);
      if (rels == nullptr) return absl::ResourceExhaustedError("expat could not start");
      if (absl::Status read = book.Parse("xl/_rels/workbook.xml.rels", rels.get(), none, kMaxPartBytes); !read.ok()) {
        return read;
      }
    }
    if (auto it = finder.targets.find(finder.first_sheet_id); it != finder.targets.end()) {
      sheet = it->second.starts_with('/') ? it->second.substr(1) : "xl/" + it->second;
    }
  }
  if (!book.Has(sheet)) return absl::InvalidArgumentError(Cat(book.name(), ": the workbook has no worksheet"));

  StyleReader styles;
  if (book.Has("xl/styles.xml")) {
    Parser parser = NewParser(&styles, StyleReader::Start, StyleReader::End, nullptr);
    if (parser == nullptr) return absl::ResourceExhaustedError("expat could not start");
    if (absl::Status read = book.Parse("xl/styles.xml", parser.get(), none, kMaxPartBytes); !read.ok()) return read;
  }
  const std::vector<bool> date_styles = styles.DateStyles();

  SharedStrings shared;
  shared.max_bytes = limits.max_shared_bytes;
  if (book.Has("xl/sharedStrings.xml")) {
    Parser parser = NewParser(&shared, SharedStrings::Start, SharedStrings::End, SharedStrings::Text);
    if (parser == nullptr) return absl::ResourceExhaustedError("expat could not start");
    shared.parser = parser.get();
    if (absl::Status read = book.Parse("xl/sharedStrings.xml", parser.get(), shared.stopped, limits.max_part_bytes);
        !read.ok()) {
      return read;
    }
  }

  SheetReader reader;
  reader.limits = &limits;
  reader.shared = &shared.strings;
  reader.date_styles = &date_styles;
  reader.date1904 = finder.date1904;
  reader.on_row = &on_row;
  Parser parser = NewParser(&reader, SheetReader::Start, SheetReader::End, SheetReader::Text);
  if (parser == nullptr) return absl::ResourceExhaustedError("expat could not start");
  reader.parser = parser.get();
  return book.Parse(sheet, parser.get(), reader.stopped, limits.max_part_bytes);
}

}  // namespace

absl::Status ReadXlsx(const std::filesystem::path& path, const XlsxLimits& limits,
                      const std::function<absl::Status(const XlsxRow&)>& on_row) {
  if (path.extension() == ".xls") {
    return absl::InvalidArgumentError(
        Cat(path.string(), ": an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx or .csv"));
  }
  Workbook book;
  if (absl::Status opened = book.Open(path); !opened.ok()) return opened;
  return ReadBook(book, limits, on_row);
}

absl::Status ReadXlsxBytes(std::string_view bytes, std::string_view name, const XlsxLimits& limits,
                           const std::function<absl::Status(const XlsxRow&)>& on_row) {
  Workbook book;
  if (absl::Status opened = book.OpenBytes(bytes, name); !opened.ok()) return opened;
  return ReadBook(book, limits, on_row);
}

}  // namespace pingan
