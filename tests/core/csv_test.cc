#include "core/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pingan {
namespace {

std::vector<std::vector<std::string>> Parse(std::string_view text, absl::Status* status = nullptr,
                                            CsvLimits limits = {}) {
  std::vector<std::vector<std::string>> rows;
  absl::Status result = ReadCsvText(text, "test.csv", [&](const CsvRow& row) {
    rows.emplace_back(row.fields.begin(), row.fields.end());
    return absl::OkStatus();
  }, limits);
  if (status) *status = result;
  return rows;
}

TEST(Csv, ReadsQuotedFieldsWithCommasAndNewlines) {
  auto rows = Parse("code,name\n330106,\"西湖区, 杭州\"\n1,\"two\nlines\"\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][1], "西湖区, 杭州");
  EXPECT_EQ(rows[2][1], "two\nlines");
}

TEST(Csv, LastRecordWithoutNewlineIsRead) {
  auto rows = Parse("a,b\n1,2");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "2");
}

TEST(Csv, MalformedQuotingIsAnErrorNamingTheRecord) {
  absl::Status status;
  Parse("a,b\n1,\"unterminated\n", &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("test.csv: record 2"), absl::string_view::npos) << status;
}

TEST(Csv, OversizedFieldIsRefused) {
  absl::Status status;
  Parse("a\n" + std::string(100, 'x') + "\n", &status, CsvLimits{.max_field_bytes = 50});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("over the limit"), absl::string_view::npos) << status;
}

TEST(Csv, CallbackErrorStopsTheRead) {
  int seen = 0;
  absl::Status status = ReadCsvText("a\n1\n2\n3\n", "t", [&](const CsvRow& row) {
    ++seen;
    return row.number == 2 ? absl::InvalidArgumentError("stop") : absl::OkStatus();
  });
  EXPECT_EQ(status.message(), "stop");
  EXPECT_EQ(seen, 2);
}

TEST(Csv, MissingFileIsNotFound) {
  absl::Status status = ReadCsvFile("/nonexistent/x.csv", [](const CsvRow&) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pingan
