#include "report/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/csv.h"

namespace pingan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// --- Reading the outputs back ---

std::vector<std::vector<std::string>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  absl::Status status = ReadCsvText(text, "export.csv", [&](const CsvRow& row) {
    rows.emplace_back(row.fields.begin(), row.fields.end());
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return rows;
}

uint32_t Le(std::string_view bytes, size_t pos, size_t width) {
  uint32_t value = 0;
  for (size_t index = 0; index < width; ++index) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes.at(pos + index))) << (8 * index);
  }
  return value;
}

// The entries of a zip archive, read through its central directory (stored or deflated).
std::map<std::string, std::string> Unzip(std::string_view zip) {
  std::map<std::string, std::string> entries;
  size_t end = std::string_view::npos;
  for (size_t pos = zip.size() >= 22 ? zip.size() - 22 : 0; pos != static_cast<size_t>(-1); --pos) {
    if (Le(zip, pos, 4) == 0x06054b50) {
      end = pos;
      break;
    }
  }
  if (end == std::string_view::npos) {
    ADD_FAILURE() << "no end of central directory";
    return entries;
  }
  const uint32_t count = Le(zip, end + 10, 2);
  size_t pos = Le(zip, end + 16, 4);
  for (uint32_t entry = 0; entry < count; ++entry) {
    EXPECT_EQ(Le(zip, pos, 4), 0x02014b50u) << "central directory entry " << entry;
    const uint32_t method = Le(zip, pos + 10, 2);
    const uint32_t crc = Le(zip, pos + 16, 4);
    const uint32_t compressed_size = Le(zip, pos + 20, 4);
    const uint32_t size = Le(zip, pos + 24, 4);
    const uint32_t name_length = Le(zip, pos + 28, 2);
    const uint32_t extra_length = Le(zip, pos + 30, 2);
    const uint32_t comment_length = Le(zip, pos + 32, 2);
    const uint32_t local = Le(zip, pos + 42, 4);
    std::string name(zip.substr(pos + 46, name_length));
    pos += 46 + name_length + extra_length + comment_length;

    EXPECT_EQ(Le(zip, local, 4), 0x04034b50u) << name;
    const size_t data = local + 30 + Le(zip, local + 26, 2) + Le(zip, local + 28, 2);
    std::string_view packed = zip.substr(data, compressed_size);
    std::string content(size, '\0');
    if (method == 0) {
      content.assign(packed);
    } else {
      EXPECT_EQ(method, 8u) << name;
      z_stream stream{};
      EXPECT_EQ(inflateInit2(&stream, -MAX_WBITS), Z_OK);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
      stream.avail_in = static_cast<uInt>(packed.size());
      stream.next_out = reinterpret_cast<Bytef*>(content.data());
      stream.avail_out = static_cast<uInt>(content.size());
      EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END) << name;
      EXPECT_EQ(stream.total_out, size) << name;
      inflateEnd(&stream);
    }
    EXPECT_EQ(
        crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())),
        crc)
        << name;
    entries.emplace(std::move(name), std::move(content));
  }
  return entries;
}

std::string XmlUnescape(std::string text) {
  static const std::vector<std::pair<std::string, std::string>> kEntities = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [entity, plain] : kEntities) {
    for (size_t pos = text.find(entity); pos != std::string::npos;
         pos = text.find(entity, pos + plain.size())) {
      text.replace(pos, entity.size(), plain);
    }
  }
  return text;
}

// The elements named `tag` in `xml`, each from "<tag" to its "/>" or "</tag>" (not nested).
std::vector<std::string> Elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string> elements;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  for (size_t start = xml.find(open); start != std::string_view::npos;
       start = xml.find(open, start + 1)) {
    const char next = start + open.size() < xml.size() ? xml[start + open.size()] : '\0';
    if (next != ' ' && next != '>' && next != '/') continue;  // <cols> is not <c>
    const size_t tag_end = xml.find('>', start);
    if (tag_end == std::string_view::npos) break;
    size_t stop = tag_end + 1;
    if (xml[tag_end - 1] != '/') {
      const size_t closing = xml.find(close, tag_end);
      if (closing == std::string_view::npos) break;
      stop = closing + close.size();
    }
    elements.emplace_back(xml.substr(start, stop - start));
  }
  return elements;
}

// An attribute of an element's start tag, or "".
std::string Attribute(std::string_view element, std::string_view name) {
  const std::string_view start_tag = element.substr(0, element.find('>'));
  const std::string key = " " + std::string(name) + "=\"";
  const size_t pos = start_tag.find(key);
  if (pos == std::string_view::npos) return "";
  const size_t value = pos + key.size();
  return XmlUnescape(std::string(start_tag.substr(value, start_tag.find('"', value) - value)));
}

// The content of an element, between its start and end tags.
std::string Inner(std::string_view element) {
  const size_t start = element.find('>') + 1;
  const size_t stop = element.rfind("</");
  return stop == std::string_view::npos || stop < start
             ? ""
             : std::string(element.substr(start, stop - start));
}

struct XmlCell {
  std::string style;  // the s attribute: an index into cellXfs
  std::string type;   // the t attribute: "s" for a shared string, empty for a number
  std::optional<std::string> value;
  bool formula = false;
};

// An unpacked workbook with the few lookups the tests need.
struct Workbook {
  explicit Workbook(const std::string& xlsx) : files(Unzip(xlsx)) {
    for (const std::string& si : Elements(files["xl/sharedStrings.xml"], "si")) {
      const std::vector<std::string> texts = Elements(si, "t");
      shared.push_back(texts.size() == 1 ? XmlUnescape(Inner(texts[0])) : "<rich text>");
    }
    for (const std::string& c : Elements(files["xl/worksheets/sheet1.xml"], "c")) {
      XmlCell cell;
      cell.style = Attribute(c, "s");
      cell.type = Attribute(c, "t");
      cell.formula = !Elements(c, "f").empty();
      const std::vector<std::string> values = Elements(c, "v");
      if (!values.empty()) cell.value = Inner(values[0]);
      cells[Attribute(c, "r")] = cell;
    }
    const std::string& styles = files["xl/styles.xml"];
    const std::vector<std::string> cell_xfs = Elements(styles, "cellXfs");
    if (!cell_xfs.empty()) xfs = Elements(cell_xfs[0], "xf");
    const std::vector<std::string> font_list = Elements(styles, "fonts");
    if (!font_list.empty()) fonts = Elements(font_list[0], "font");
    for (const std::string& num_fmt : Elements(styles, "numFmt")) {
      num_fmts[Attribute(num_fmt, "numFmtId")] = Attribute(num_fmt, "formatCode");
    }
    for (const std::string& col : Elements(files["xl/worksheets/sheet1.xml"], "col")) {
      widths[std::stoi(Attribute(col, "min"))] = std::stod(Attribute(col, "width"));
    }
  }

  const XmlCell* Find(const std::string& ref) const {
    auto it = cells.find(ref);
    return it == cells.end() ? nullptr : &it->second;
  }

  // The text of a shared-string cell, or "<not text>".
  std::string Text(const std::string& ref) const {
    const XmlCell* cell = Find(ref);
    if (cell == nullptr || cell->type != "s" || !cell->value) return "<not text>";
    return shared.at(std::stoul(*cell->value));
  }

  // The value of a number cell, or "<not a number>".
  std::string Number(const std::string& ref) const {
    const XmlCell* cell = Find(ref);
    if (cell == nullptr || !cell->type.empty() || !cell->value) return "<not a number>";
    return *cell->value;
  }

  std::string XfAttribute(const std::string& ref, const std::string& name) const {
    const XmlCell* cell = Find(ref);
    const size_t index = cell == nullptr || cell->style.empty() ? 0 : std::stoul(cell->style);
    return Attribute(xfs.at(index), name);
  }

  bool Bold(const std::string& ref) const {
    return !Elements(fonts.at(std::stoul(XfAttribute(ref, "fontId"))), "b").empty();
  }

  // The number format code of a cell ("General" when none).
  std::string NumberFormat(const std::string& ref) const {
    const std::string id = XfAttribute(ref, "numFmtId");
    static const std::map<std::string, std::string> kBuiltIn = {
        {"0", "General"}, {"1", "0"}, {"2", "0.00"}, {"3", "#,##0"}, {"4", "#,##0.00"}};
    if (auto it = kBuiltIn.find(id); it != kBuiltIn.end()) return it->second;
    auto it = num_fmts.find(id);
    return it == num_fmts.end() ? "<unknown " + id + ">" : it->second;
  }

  std::map<std::string, std::string> files;
  std::vector<std::string> shared;
  std::map<std::string, XmlCell> cells;
  std::vector<std::string> xfs;    // each cellXfs entry
  std::vector<std::string> fonts;  // each font entry
  std::map<std::string, std::string> num_fmts;
  std::map<int, double> widths;  // by 1-based column
};

Table SampleTable() {
  Table table;
  table.title = "平安法治实时报表 330106 2024/06";
  table.columns = {"单位", "事件数", "占比", "备注"};
  table.rows.push_back({Cell::Text("西湖区"), Cell::Integer(42), Cell::Real(0.125, 2),
                        Cell::Text("含逗号, \"引号\"\n和换行")});
  table.rows.push_back(
      {Cell::Text("上城区"), Cell::Integer(-7), Cell::Real(2.0 / 3.0), Cell::Null()});
  table.rows.push_back(
      {Cell::Text(""), Cell::Integer(INT64_MAX), Cell::Real(1e-7, -1), Cell::Text("=SUM(A1:A2)")});
  return table;
}

// --- CSV ---

TEST(TableToCsv, RoundTripsThroughTheCsvReader) {
  absl::StatusOr<std::string> csv = TableToCsv(SampleTable());
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_EQ(csv->substr(0, 3), "\xEF\xBB\xBF");
  auto rows = ParseCsv(std::string_view(*csv).substr(3));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_THAT(rows[0], ElementsAre("单位", "事件数", "占比", "备注"));
  EXPECT_THAT(rows[1], ElementsAre("西湖区", "42", "0.13", "含逗号, \"引号\"\n和换行"));
  EXPECT_THAT(rows[2], ElementsAre("上城区", "-7", "0.6666666666666666", ""));
  EXPECT_THAT(rows[3], ElementsAre("", "9223372036854775807", "1e-07", "'=SUM(A1:A2)"));
  // Shortest round-trip: the text reads back as the very same double.
  EXPECT_EQ(std::strtod(rows[2][2].c_str(), nullptr), 2.0 / 3.0);
  EXPECT_EQ(std::strtod(rows[3][2].c_str(), nullptr), 1e-7);
}

TEST(TableToCsv, UsesCrlfQuotesTextAndLeavesNullEmpty) {
  Table table{.title = "t", .columns = {"a", "b", "c", "d"}};
  table.rows.push_back({Cell::Integer(1), Cell::Null(), Cell::Text(""), Cell::Real(3.5)});
  absl::StatusOr<std::string> csv = TableToCsv(table, /*utf8_bom=*/false);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(*csv, "\"a\",\"b\",\"c\",\"d\"\r\n1,,\"\",3.5\r\n");
}

TEST(TableToCsv, DecimalsHintFixesTheDigits) {
  Table table{.title = "t", .columns = {"x"}};
  // Half away from zero on the shortest decimal text, as Excel shows these with "0.00".
  const std::vector<std::pair<Cell, std::string>> cases = {
      {Cell::Real(0.125, 2), "0.13"},
      {Cell::Real(2.675, 2), "2.68"},
      {Cell::Real(-2.675, 2), "-2.68"},
      {Cell::Real(2.5, 0), "3"},
      {Cell::Real(-2.5, 0), "-3"},
      {Cell::Real(0.5, 0), "1"},
      {Cell::Real(0.4, 0), "0"},
      {Cell::Real(9.995, 2), "10.00"},
      {Cell::Real(99.96, 1), "100.0"},
      {Cell::Real(1.0, 3), "1.000"},
      {Cell::Real(0.0, 2), "0.00"},
      {Cell::Real(-0.0001, 2), "0.00"},
      {Cell::Real(0.004, 2), "0.00"},
      {Cell::Real(0.005, 2), "0.01"},
      {Cell::Real(1e-7, 2), "0.00"},
      {Cell::Real(123456.789, 1), "123456.8"},
      {Cell::Real(1e20, 2), "100000000000000000000.00"},
      {Cell::Real(0.1 + 0.2, 15), "0.300000000000000"},
      {Cell::Real(100.0), "100"},
      {Cell::Real(0.1 + 0.2), "0.30000000000000004"},
      {Cell::Real(-0.0), "-0"},
  };
  std::string expected = "\"x\"\r\n";
  for (const auto& [cell, text] : cases) {
    table.rows.push_back({cell});
    expected += text + "\r\n";
  }
  absl::StatusOr<std::string> csv = TableToCsv(table, false);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(*csv, expected);
}

TEST(TableToCsv, TextThatLooksLikeAFormulaGetsAnApostrophe) {
  Table table{.title = "t", .columns = {"=HEADER()", "value"}};
  const std::vector<std::string> dangerous = {
      "=1+1", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=HYPERLINK(\"http://x\",\"y\")"};
  for (const std::string& text : dangerous)
    table.rows.push_back({Cell::Text(text), Cell::Integer(-5)});
  table.rows.push_back({Cell::Text("a=b"), Cell::Real(-1.5)});
  table.rows.push_back({Cell::Text("'quoted"), Cell::Null()});
  absl::StatusOr<std::string> csv = TableToCsv(table);
  ASSERT_TRUE(csv.ok()) << csv.status();
  auto rows = ParseCsv(std::string_view(*csv).substr(3));
  ASSERT_EQ(rows.size(), dangerous.size() + 3);
  EXPECT_EQ(rows[0][0], "'=HEADER()");
  for (size_t index = 0; index < dangerous.size(); ++index) {
    EXPECT_EQ(rows[index + 1][0], "'" + dangerous[index]);
    EXPECT_EQ(rows[index + 1][1], "-5") << "numbers are not text and keep their sign";
  }
  EXPECT_EQ(rows[dangerous.size() + 1][0], "a=b");
  EXPECT_EQ(rows[dangerous.size() + 1][1], "-1.5");
  EXPECT_EQ(rows[dangerous.size() + 2][0], "'quoted");
}

// --- XLSX ---

TEST(TableToXlsx, WritesNumbersTextHeaderAndLayout) {
  absl::StatusOr<std::string> xlsx = TableToXlsx(SampleTable());
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  ASSERT_EQ(xlsx->substr(0, 4), std::string("PK\x03\x04", 4));
  Workbook book(*xlsx);
  ASSERT_TRUE(book.files.count("xl/worksheets/sheet1.xml"));
  ASSERT_TRUE(book.files.count("xl/sharedStrings.xml"));
  const std::string& sheet = book.files["xl/worksheets/sheet1.xml"];

  // Header: text, bold, frozen.
  EXPECT_EQ(book.Text("A1"), "单位");
  EXPECT_EQ(book.Text("B1"), "事件数");
  EXPECT_EQ(book.Text("D1"), "备注");
  EXPECT_TRUE(book.Bold("A1"));
  EXPECT_TRUE(book.Bold("D1"));
  EXPECT_FALSE(book.Bold("A2"));
  EXPECT_THAT(sheet, HasSubstr("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" "
                               "state=\"frozen\"/>"));

  // Numbers are <v> numbers with their formats.
  EXPECT_EQ(book.Number("B2"), "42");
  EXPECT_EQ(book.NumberFormat("B2"), "0");
  EXPECT_EQ(book.Number("B3"), "-7");
  EXPECT_EQ(book.Number("C2"), "0.125");
  EXPECT_EQ(book.NumberFormat("C2"), "0.00");
  EXPECT_NEAR(std::stod(book.Number("C3")), 2.0 / 3.0, 1e-15);
  EXPECT_EQ(book.NumberFormat("C3"), "General");
  EXPECT_EQ(std::stod(book.Number("C4")), 1e-7);
  // Beyond Excel's 15 digits an integer is kept exact as text.
  EXPECT_EQ(book.Text("B4"), "9223372036854775807");

  // Text, and null or empty text as no cell at all.
  EXPECT_EQ(book.Text("A2"), "西湖区");
  EXPECT_EQ(book.Text("D2"), "含逗号, \"引号\"\n和换行");
  EXPECT_EQ(book.Find("D3"), nullptr);
  EXPECT_EQ(book.Find("A4"), nullptr);

  // A formula-like text is a plain shared string with its exact value, never a formula.
  EXPECT_EQ(book.Text("D4"), "=SUM(A1:A2)");
  EXPECT_THAT(sheet, Not(HasSubstr("<f>")));
  for (const auto& [ref, cell] : book.cells) EXPECT_FALSE(cell.formula) << ref;

  // Widths: the Chinese text column is wider than the minimum of 8, all within 60.
  ASSERT_EQ(book.widths.size(), 4u);
  EXPECT_GT(book.widths[4], 12.0);
  EXPECT_GE(book.widths[2], 19.0) << "19 digits of INT64_MAX";
  for (const auto& [column, width] : book.widths) {
    EXPECT_GE(width, 8.0) << column;
    EXPECT_LE(width, 60.0) << column;
  }

  // The sheet is named from the title with '/' replaced; the title is the document title.
  EXPECT_THAT(book.files["xl/workbook.xml"],
              HasSubstr("<sheet name=\"平安法治实时报表 330106 2024_06\""));
  EXPECT_THAT(book.files["docProps/core.xml"],
              HasSubstr("<dc:title>平安法治实时报表 330106 2024/06</dc:title>"));
}

TEST(TableToXlsx, EscapesMarkupInText) {
  Table table{.title = "a&b <c>", .columns = {"<tag>", "x"}};
  table.rows.push_back({Cell::Text("Tom & \"Jerry\" <b>"), Cell::Real(12.5, 3)});
  table.rows.push_back({Cell::Text("bell\x07"
                                   "end"),
                        Cell::Null()});
  table.rows.push_back({Cell::Text("_x0041_ stays, _x12_ too"), Cell::Null()});
  absl::StatusOr<std::string> xlsx = TableToXlsx(table);
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  Workbook book(*xlsx);
  EXPECT_EQ(book.Text("A1"), "<tag>");
  EXPECT_EQ(book.Text("A2"), "Tom & \"Jerry\" <b>");
  EXPECT_EQ(book.Number("B2"), "12.5");
  EXPECT_EQ(book.NumberFormat("B2"), "0.000");
  // XLSX strings carry control characters as _xHHHH_, so a literal _xHHHH_ is escaped in turn.
  EXPECT_EQ(book.Text("A3"), "bell_x0007_end");
  EXPECT_EQ(book.Text("A4"), "_x005F_x0041_ stays, _x12_ too");
  EXPECT_THAT(book.files["xl/workbook.xml"], HasSubstr("<sheet name=\"a&amp;b &lt;c&gt;\""));
}

class ScratchDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "export_test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    const char* old = std::getenv("TMPDIR");
    if (old != nullptr) old_tmpdir_ = old;
  }
  void TearDown() override {
    if (old_tmpdir_) {
      setenv("TMPDIR", old_tmpdir_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::optional<std::string> old_tmpdir_;
};

TEST_F(ScratchDir, XlsxLeavesNoTemporaryFiles) {
  setenv("TMPDIR", dir_.c_str(), 1);
  absl::StatusOr<std::string> xlsx = TableToXlsx(SampleTable());
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(ScratchDir, XlsxReportsAnUnusableTemporaryDirectory) {
  const std::string missing = (dir_ / "missing").string();
  setenv("TMPDIR", missing.c_str(), 1);
  absl::StatusOr<std::string> xlsx = TableToXlsx(SampleTable());
  EXPECT_EQ(xlsx.status().code(), absl::StatusCode::kNotFound) << xlsx.status();
  EXPECT_THAT(xlsx.status().message(), HasSubstr(missing));
}

// --- Sheet names ---

TEST(SanitizeSheetName, FollowsExcelRules) {
  EXPECT_EQ(SanitizeSheetName("平安法治实时报表 330106 2024-06"),
            "平安法治实时报表 330106 2024-06");
  EXPECT_EQ(SanitizeSheetName("a[b]c:d*e?f/g\\h"), "a_b_c_d_e_f_g_h");
  EXPECT_EQ(SanitizeSheetName("tab\there"), "tab_here");
  EXPECT_EQ(SanitizeSheetName(" 'quoted' "), "quoted");
  EXPECT_EQ(SanitizeSheetName(""), "Sheet1");
  EXPECT_EQ(SanitizeSheetName("''"), "Sheet1");
  EXPECT_EQ(SanitizeSheetName("History"), "History_");
  EXPECT_EQ(SanitizeSheetName("HISTORY"), "HISTORY_");
  EXPECT_EQ(SanitizeSheetName(std::string(40, 'x')), std::string(31, 'x'));
  // 31 UTF-16 units: 30 ASCII letters leave no room for a two-unit emoji.
  EXPECT_EQ(SanitizeSheetName(std::string(30, 'x') + "😀yz"), std::string(30, 'x'));
  EXPECT_EQ(SanitizeSheetName(std::string(29, 'x') + "😀yz"), std::string(29, 'x') + "😀");
  // Chinese characters are one unit each: 40 in, 31 out, cut on a character boundary.
  std::string chinese;
  for (int index = 0; index < 40; ++index) chinese += "区";
  EXPECT_EQ(SanitizeSheetName(chinese).size(), 31u * 3);
  // A cut that ends on a space drops it.
  EXPECT_EQ(SanitizeSheetName(std::string(30, 'x') + " y"), std::string(30, 'x'));
}

// --- Errors ---

void ExpectInvalid(const Table& table, const std::string& fragment) {
  absl::StatusOr<std::string> csv = TableToCsv(table);
  EXPECT_EQ(csv.status().code(), absl::StatusCode::kInvalidArgument) << csv.status();
  EXPECT_THAT(csv.status().message(), HasSubstr(fragment));
  absl::StatusOr<std::string> xlsx = TableToXlsx(table);
  EXPECT_EQ(xlsx.status().code(), absl::StatusCode::kInvalidArgument) << xlsx.status();
  EXPECT_THAT(xlsx.status().message(), HasSubstr(fragment));
}

TEST(ExportErrors, RowWithTheWrongNumberOfCells) {
  Table table{.title = "t", .columns = {"名称", "数量"}};
  table.rows.push_back({Cell::Text("a"), Cell::Integer(1)});
  table.rows.push_back({Cell::Text("b")});
  ExpectInvalid(table, "row 2 has 1 cells for 2 columns");
}

TEST(ExportErrors, InvalidUtf8NamesTheCell) {
  Table table{.title = "t", .columns = {"名称", "数量"}};
  table.rows.push_back({Cell::Integer(1), Cell::Text("bad \xC3\x28 byte")});
  ExpectInvalid(table, "row 1, column 2 (数量): text is not valid UTF-8");
  Table header{.title = "t", .columns = {"ok", "\xFF"}};
  ExpectInvalid(header, "header of column 2: text is not valid UTF-8");
  Table title{.title = "\xE5\xB9", .columns = {"a"}};
  ExpectInvalid(title, "title: text is not valid UTF-8");
}

TEST(ExportErrors, NulInText) {
  Table table{.title = "t", .columns = {"a"}};
  table.rows.push_back({Cell::Text(std::string("x\0y", 3))});
  ExpectInvalid(table, "row 1, column 1 (a): text holds a NUL character");
}

TEST(ExportErrors, TextOverExcelsCellLimit) {
  Table table{.title = "t", .columns = {"a"}};
  table.rows.push_back({Cell::Text(std::string(kMaxExportTextUnits, 'x'))});
  EXPECT_TRUE(TableToCsv(table).ok());
  EXPECT_TRUE(TableToXlsx(table).ok());
  table.rows.push_back({Cell::Text(std::string(kMaxExportTextUnits + 1, 'x'))});
  ExpectInvalid(table, "row 2, column 1 (a): text of 32768 characters");
  // Emoji count two UTF-16 units each, as in Excel: 16,384 of them are over the limit.
  Table emoji{.title = "t", .columns = {"a"}};
  std::string text;
  for (int index = 0; index < 16'384; ++index) text += "😀";
  emoji.rows.push_back({Cell::Text(text)});
  ExpectInvalid(emoji, "over Excel's limit of 32767 per cell");
}

TEST(ExportErrors, TooManyRows) {
  Table table{.title = "t", .columns = {"a"}};
  // The row count is checked before the cells, so empty rows are enough.
  table.rows.resize(kMaxExportDataRows + 1);
  ExpectInvalid(table, "table has 1048576 rows, over Excel's limit of 1048575 below the header");
}

TEST(ExportErrors, NonFiniteNumbersAndBadHints) {
  Table table{.title = "t", .columns = {"ratio"}};
  table.rows.push_back({Cell::Real(std::numeric_limits<double>::quiet_NaN())});
  ExpectInvalid(table, "row 1, column 1 (ratio): number is not finite (nan); export it as null");
  table.rows[0][0] = Cell::Real(std::numeric_limits<double>::infinity());
  ExpectInvalid(table, "number is not finite (inf)");
  table.rows[0][0] = Cell::Real(1.5, kMaxExportDecimals + 1);
  ExpectInvalid(table, "decimals hint 16 is over the limit of 15");
}

TEST(ExportErrors, NoColumns) { ExpectInvalid(Table{.title = "t"}, "table has no columns"); }

}  // namespace
}  // namespace pingan
