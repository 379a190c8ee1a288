// libFuzzer target for reading Excel workbooks (src/core/xlsx.h). The first byte picks how the
// rest is used: below 128, as the rows of a worksheet's XML, put into a workbook (a zip made with
// libzip, with shared strings, a date style and, by the byte's low bit, the 1904 date system);
// from 128, as the bytes of the whole file. Built with clang only (cmake -DPINGAN_FUZZ=ON);
// `make fuzz` runs it.
//
// Invariants checked on every input: ReadXlsx returns (no crash, no hang, no leak under ASan);
// an error is InvalidArgument with a message; every row it gives has a positive number, at most
// max_columns cells of at most max_cell_bytes each, and cells a row was cut at mark it oversized.
#include <unistd.h>
#include <zip.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/xlsx.h"
#include "fuzz_check.h"

namespace {

const std::string& Path() {
  static const std::string path = "/tmp/pingan-xlsx-fuzz-" + std::to_string(getpid()) + ".xlsx";
  return path;
}

bool WriteWorkbook(std::string_view rows, bool date1904) {
  static const std::string shared =
      R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>警情编号</t></si>)"
      R"(<si><r><t>杭州</t></r><rPh><t>hz</t></rPh></si><si><t></t></si></sst>)";
  static const std::string styles =
      R"(<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts><numFmt numFmtId="164" formatCode="yyyy/m/d h:mm"/></numFmts>)"
      R"(<cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>)";
  const std::string workbook =
      R"(<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)" +
      std::string(date1904 ? R"(<workbookPr date1904="1"/>)" : "") + R"(<sheets><sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>)";
  static const std::string rels =
      R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>)";
  const std::string sheet =
      R"(<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>)" + std::string(rows) +
      "</sheetData></worksheet>";
  int error = 0;
  zip_t* archive = zip_open(Path().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (archive == nullptr) return false;
  const std::pair<const char*, const std::string*> parts[] = {{"xl/workbook.xml", &workbook},
                                                              {"xl/_rels/workbook.xml.rels", &rels},
                                                              {"xl/styles.xml", &styles},
                                                              {"xl/sharedStrings.xml", &shared},
                                                              {"xl/worksheets/sheet1.xml", &sheet}};
  for (const auto& [name, text] : parts) {
    zip_source_t* source = zip_source_buffer(archive, text->data(), text->size(), 0);
    if (source == nullptr || zip_file_add(archive, name, source, ZIP_FL_OVERWRITE) < 0) {
      zip_source_free(source);
      zip_discard(archive);
      return false;
    }
  }
  return zip_close(archive) == 0;
}

bool WriteBytes(std::string_view bytes) {
  FILE* file = std::fopen(Path().c_str(), "wb");
  if (file == nullptr) return false;
  const bool whole = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && whole;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool written = data[0] < 128 ? WriteWorkbook(rest, data[0] & 1) : WriteBytes(rest);
  if (!written) return 0;
  pingan::XlsxLimits limits;
  limits.max_cell_bytes = 64;
  limits.max_columns = 16;
  limits.max_shared_bytes = 1 << 16;
  const absl::Status status = pingan::ReadXlsx(Path(), limits, [&](const pingan::XlsxRow& row) {
    FUZZ_CHECK(row.number > 0);
    FUZZ_CHECK(row.cells.size() <= limits.max_columns);
    for (const std::string& cell : row.cells) FUZZ_CHECK(cell.size() <= limits.max_cell_bytes);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument || status.code() == absl::StatusCode::kResourceExhausted);
    FUZZ_CHECK(!status.message().empty());
  }
  return 0;
}
