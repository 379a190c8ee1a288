#include "core/xlsx.h"

#include <xlsxwriter.h>
#include <zip.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace pingan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<XlsxRow> ReadAll(const std::filesystem::path& path, absl::Status* status = nullptr,
                             const XlsxLimits& limits = {}) {
  std::vector<XlsxRow> rows;
  absl::Status read = ReadXlsx(path, limits, [&](const XlsxRow& row) {
    rows.push_back(row);
    return absl::OkStatus();
  });
  if (status != nullptr) *status = read;
  else EXPECT_TRUE(read.ok()) << read;
  return rows;
}

// A workbook as Excel or a system's export writes one (libxlsxwriter: shared strings, or inline
// strings in its constant-memory mode), with a second sheet that must not be read.
std::filesystem::path WriteWorkbook(const testing::TempDir& dir, const std::string& name, bool inline_strings) {
  const std::string path = (dir.path() / name).string();
  lxw_workbook_options options{};
  options.constant_memory = inline_strings ? LXW_TRUE : LXW_FALSE;
  lxw_workbook* book = workbook_new_opt(path.c_str(), &options);
  lxw_worksheet* sheet = workbook_add_worksheet(book, "警情");
  lxw_format* when = workbook_add_format(book);
  format_set_num_format(when, "yyyy-mm-dd hh:mm:ss");
  lxw_format* day = workbook_add_format(book);
  format_set_num_format_index(day, 14);  // the built-in short date
  lxw_format* chinese = workbook_add_format(book);
  format_set_num_format(chinese, "yyyy\"年\"m\"月\"d\"日\"");
  lxw_format* money = workbook_add_format(book);
  format_set_num_format(money, "#,##0.00");
  const char* header[] = {"警情编号", "案件类别", "发案时间", "发案地址", "经度", "损失金额", "是否破案", "备注"};
  for (int col = 0; col < 8; ++col) worksheet_write_string(sheet, 0, col, header[col], nullptr);
  lxw_datetime at{2024, 6, 1, 8, 30, 15};
  worksheet_write_string(sheet, 1, 0, "JJ-1", nullptr);
  worksheet_write_string(sheet, 1, 1, "0103", nullptr);
  worksheet_write_datetime(sheet, 1, 2, &at, when);
  worksheet_write_string(sheet, 1, 3, "杭州市西湖区文三路478号", nullptr);
  worksheet_write_number(sheet, 1, 4, 120.1537, nullptr);
  worksheet_write_number(sheet, 1, 5, 1200.5, money);
  worksheet_write_boolean(sheet, 1, 6, 1, nullptr);
  // Row 3 is empty; row 4 skips columns B and E-H.
  lxw_datetime date{2023, 12, 31, 0, 0, 0};
  worksheet_write_string(sheet, 3, 0, "JJ-2", nullptr);
  worksheet_write_datetime(sheet, 3, 2, &date, day);
  worksheet_write_string(sheet, 3, 3, "浙江省杭州市\n萧山区", nullptr);
  lxw_datetime chinese_date{2022, 2, 3, 0, 0, 0};
  worksheet_write_string(sheet, 4, 0, "JJ-3", nullptr);
  worksheet_write_datetime(sheet, 4, 2, &chinese_date, chinese);
  worksheet_write_number(sheet, 4, 4, 330106004001, nullptr);
  worksheet_write_boolean(sheet, 4, 6, 0, nullptr);
  lxw_worksheet* other = workbook_add_worksheet(book, "说明");
  worksheet_write_string(other, 0, 0, "not a record", nullptr);
  EXPECT_EQ(workbook_close(book), LXW_NO_ERROR);
  return path;
}

TEST(XlsxTest, ReadsTheFirstSheetsRowsAsTheirCellsShowThem) {
  testing::TempDir dir;
  for (bool inline_strings : {false, true}) {
    SCOPED_TRACE(inline_strings ? "inline strings" : "shared strings");
    const std::vector<XlsxRow> rows = ReadAll(WriteWorkbook(dir, inline_strings ? "i.xlsx" : "s.xlsx", inline_strings));
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].number, 1);
    EXPECT_THAT(rows[0].cells, ElementsAre("警情编号", "案件类别", "发案时间", "发案地址", "经度", "损失金额", "是否破案", "备注"));
    EXPECT_EQ(rows[1].number, 2);
    EXPECT_THAT(rows[1].cells,
                ElementsAre("JJ-1", "0103", "2024-06-01 08:30:15", "杭州市西湖区文三路478号", "120.1537", "1200.5", "true"));
    EXPECT_EQ(rows[2].number, 4);  // the empty row 3 is not given
    EXPECT_THAT(rows[2].cells, ElementsAre("JJ-2", "", "2023-12-31 00:00:00", "浙江省杭州市\n萧山区"));
    EXPECT_THAT(rows[3].cells, ElementsAre("JJ-3", "", "2022-02-03 00:00:00", "", "330106004001", "", "false"));
    for (const XlsxRow& row : rows) EXPECT_FALSE(row.oversized);
  }
}

// A zip holding the given parts, for what no spreadsheet program writes.
std::filesystem::path WriteZip(const testing::TempDir& dir, const std::string& name,
                               const std::vector<std::pair<std::string, std::string>>& parts) {
  const std::string path = (dir.path() / name).string();
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  EXPECT_NE(archive, nullptr);
  for (const auto& [part, text] : parts) {
    zip_source_t* source = zip_source_buffer(archive, text.data(), text.size(), 0);
    EXPECT_GE(zip_file_add(archive, part.c_str(), source, ZIP_FL_ENC_UTF_8), 0);
  }
  EXPECT_EQ(zip_close(archive), 0);
  return path;
}

std::string Sheet(const std::string& rows) {
  return R"(<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>)" +
         rows + "</sheetData></worksheet>";
}

TEST(XlsxTest, ReadsWhatOtherWritersWriteTheirWay) {
  testing::TempDir dir;
  // No workbook.xml (sheet1 by default), a namespace prefix on every element, cells without
  // references, an inline string with a phonetic run, a rich shared string, a formula's string,
  // an error value, and the 1904 date system ignored without a workbook saying so.
  const std::string sheet =
      R"(<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>)"
      R"(<x:row r="2"><x:c t="inlineStr"><x:is><x:r><x:t>杭州</x:t></x:r><x:r><x:t>市</x:t></x:r><x:rPh><x:t>ハンジョウ</x:t></x:rPh></x:is></x:c>)"
      R"(<x:c t="s"><x:v>0</x:v></x:c><x:c t="str"><x:f>A1</x:f><x:v>公式</x:v></x:c><x:c t="e"><x:v>#N/A</x:v></x:c></x:row>)"
      R"(</x:sheetData></x:worksheet>)";
  const std::string shared =
      R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><r><t>西湖</t></r><r><t>区</t></r><rPh><t>xi hu</t></rPh></si></sst>)";
  const std::vector<XlsxRow> rows =
      ReadAll(WriteZip(dir, "odd.xlsx", {{"xl/worksheets/sheet1.xml", sheet}, {"xl/sharedStrings.xml", shared}}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].number, 2);
  EXPECT_THAT(rows[0].cells, ElementsAre("杭州市", "西湖区", "公式", "#N/A"));

  // The 1904 date system, a custom date format, and a date serial no calendar holds.
  const std::string workbook =
      R"(<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)"
      R"(<workbookPr date1904="1"/><sheets><sheet name="a" sheetId="7" r:id="rId9"/></sheets></workbook>)";
  const std::string rels =
      R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Target="worksheets/data.xml" Type="x"/></Relationships>)";
  const std::string styles =
      R"(<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts><numFmt numFmtId="170" formatCode="[$-804]yyyy/m/d\ h:mm"/><numFmt numFmtId="171" formatCode="&quot;day&quot;0"/></numFmts>)"
      R"(<cellStyleXfs><xf numFmtId="170"/></cellStyleXfs><cellXfs><xf numFmtId="0"/><xf numFmtId="170"/><xf numFmtId="171"/></cellXfs></styleSheet>)";
  const std::string data = Sheet(R"(<row r="1"><c r="A1" s="1"><v>43616.5</v></c><c r="B1" s="2"><v>43616.5</v></c>)"
                                 R"(<c r="C1" s="1"><v>9999999</v></c><c r="D1" s="1"><v>-1</v></c></row>)");
  const std::vector<XlsxRow> dated = ReadAll(WriteZip(
      dir, "1904.xlsx",
      {{"xl/workbook.xml", workbook}, {"xl/_rels/workbook.xml.rels", rels}, {"xl/styles.xml", styles},
       {"xl/worksheets/data.xml", data}, {"xl/worksheets/sheet1.xml", Sheet(R"(<row><c t="inlineStr"><is><t>wrong sheet</t></is></c></row>)")}}));
  ASSERT_EQ(dated.size(), 1u);
  // 43616.5 days after 1904-01-01: 2023-06-01 12:00 (in the 1900 system it would be 2019-05-31).
  EXPECT_THAT(dated[0].cells, ElementsAre("2023-06-01 12:00:00", "43616.5", "9999999", "-1"));
}

TEST(XlsxTest, BoundsCellsAndColumns) {
  testing::TempDir dir;
  const std::string big(100, 'x');
  const std::string data =
      Sheet(R"(<row r="1"><c t="inlineStr"><is><t>)" + big + R"(</t></is></c><c><v>1</v></c></row>)"
            R"(<row r="2"><c r="XFD2"><v>1</v></c><c r="A2"><v>2</v></c></row>)"
            R"(<row r="3"><c r="ABCD3"><v>1</v></c></row>)"
            R"(<row r="4"><c><v>)" + big + R"(</v></c></row>)");
  XlsxLimits limits;
  limits.max_cell_bytes = 10;
  limits.max_columns = 100;
  absl::Status status;
  const std::vector<XlsxRow> rows = ReadAll(WriteZip(dir, "big.xlsx", {{"xl/worksheets/sheet1.xml", data}}), &status, limits);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows[0].oversized);
  EXPECT_EQ(rows[0].cells[0], std::string(10, 'x'));  // cut, never grown
  EXPECT_EQ(rows[0].cells[1], "1");
  EXPECT_TRUE(rows[1].oversized);  // column XFD is past 100
  EXPECT_EQ(rows[1].cells[0], "2");
  EXPECT_TRUE(rows[2].oversized);  // four letters: no column
  EXPECT_TRUE(rows[3].oversized);
  // Shared strings past their bound stop the read.
  std::string many = R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">)";
  for (int i = 0; i < 100; ++i) many += "<si><t>" + big + "</t></si>";
  many += "</sst>";
  // A sheet past its part bound stops the read (a workbook from the network), rows read or not.
  XlsxLimits parts;
  parts.max_part_bytes = 2000;
  std::string long_sheet;
  for (int row = 1; row <= 100; ++row) long_sheet += "<row r=\"" + std::to_string(row) + "\"><c><v>1</v></c></row>";
  ReadAll(WriteZip(dir, "long.xlsx", {{"xl/worksheets/sheet1.xml", Sheet(long_sheet)}}), &status, parts);
  EXPECT_THAT(std::string(status.message()), HasSubstr("xl/worksheets/sheet1.xml is over"));
  limits.max_shared_bytes = 5000;
  ReadAll(WriteZip(dir, "sst.xlsx", {{"xl/worksheets/sheet1.xml", Sheet("")}, {"xl/sharedStrings.xml", many}}), &status,
          limits);
  EXPECT_THAT(std::string(status.message()), HasSubstr("shared strings are over"));
}

TEST(XlsxTest, RefusesWhatIsNoWorkbookWithAClearError) {
  testing::TempDir dir;
  absl::Status status;
  auto expect_refused = [&](const std::filesystem::path& path, const std::string& words) {
    SCOPED_TRACE(path.filename().string());
    const std::vector<XlsxRow> rows = ReadAll(path, &status);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(words));
  };
  expect_refused(dir.Write("text.xlsx", "警情编号,案件类别\nJJ-1,0103\n"), "not an XLSX workbook");
  expect_refused(dir.Write("empty.xlsx", ""), "not an XLSX workbook");
  expect_refused(dir.Write("old.xls", "\xD0\xCF\x11\xE0"), "Excel 97-2003");
  expect_refused(WriteZip(dir, "nosheet.xlsx", {{"hello.txt", "hi"}}), "no worksheet");
  expect_refused(WriteZip(dir, "badxml.xlsx", {{"xl/worksheets/sheet1.xml", Sheet("<row><c><v>1</v></row>")}}),
                 "xl/worksheets/sheet1.xml line 1: mismatched tag");
  expect_refused(WriteZip(dir, "index.xlsx", {{"xl/worksheets/sheet1.xml", Sheet(R"(<row r="7"><c t="s"><v>3</v></c></row>)")}}),
                 "row 7: a shared string index out of range");
  // A real workbook cut short: the zip's directory is at its end.
  const std::filesystem::path whole = WriteWorkbook(dir, "whole.xlsx", false);
  std::ifstream in(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  expect_refused(dir.Write("cut.xlsx", bytes.substr(0, bytes.size() / 2)), "not an XLSX workbook");
  // The same bytes from memory (an HTTP body) give the same rows; other bytes the same refusal.
  std::vector<XlsxRow> from_memory;
  ASSERT_TRUE(ReadXlsxBytes(bytes, "body", {}, [&](const XlsxRow& row) {
                from_memory.push_back(row);
                return absl::OkStatus();
              }).ok());
  const std::vector<XlsxRow> from_file = ReadAll(whole);
  ASSERT_EQ(from_memory.size(), from_file.size());
  for (size_t at = 0; at < from_file.size(); ++at) EXPECT_EQ(from_memory[at].cells, from_file[at].cells);
  status = ReadXlsxBytes(bytes.substr(0, 100), "body", {}, [](const XlsxRow&) { return absl::OkStatus(); });
  EXPECT_THAT(std::string(status.message()), HasSubstr("body: not an XLSX workbook"));
  status = ReadXlsxBytes("", "body", {}, [](const XlsxRow&) { return absl::OkStatus(); });
  EXPECT_FALSE(status.ok());
  // A row the caller refuses stops the read with the caller's error.
  absl::Status stopped = ReadXlsx(whole, {}, [](const XlsxRow& row) {
    return row.number == 2 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace pingan
