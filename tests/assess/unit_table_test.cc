#include "assess/unit_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/temp_dir.h"

namespace pingan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<UnitTable> Read(const std::string& text) {
  return ReadUnitTableText(text, "units.csv");
}

TEST(UnitTable, ColumnsInAnyOrderWithNeighbours) {
  auto table = Read(
      "\xEF\xBB\xBF neighbours , count,note,id,exposure\n"
      "\"New Hanover; b \",3,x,a,1200\n"
      "a,1,,b,80.5\n"
      "a;,0,,New Hanover,5e3\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->ids, ElementsAre("a", "b", "New Hanover"));
  EXPECT_THAT(table->counts, ElementsAre(3, 1, 0));
  EXPECT_THAT(table->exposures, ElementsAre(1200, 80.5, 5000));
  ASSERT_TRUE(table->has_neighbours);
  EXPECT_THAT(table->neighbours.of(0), ElementsAre(2, 1));
  EXPECT_THAT(table->neighbours.of(1), ElementsAre(0));
  EXPECT_THAT(table->neighbours.of(2), ElementsAre(0));
}

TEST(UnitTable, WithoutNeighboursColumnAndFromAFile) {
  testing::TempDir dir;
  const auto path = dir.Write("units.csv", "id,exposure,count\r\nx,10,0\r\ny,0,0\r\n");
  auto table = ReadUnitTable(path.string());
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_FALSE(table->has_neighbours);
  EXPECT_EQ(table->neighbours.units(), 2u);
  EXPECT_EQ(table->neighbours.total(), 0u);
  EXPECT_THAT(table->exposures, ElementsAre(10, 0));
  EXPECT_EQ(ReadUnitTable((dir.path() / "missing.csv").string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(UnitTable, ErrorsNameTheLineAndColumn) {
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"", "units.csv: empty file, no header"},
           {"id,exposure,count\n", "units.csv: no units below the header"},
           {"id,count\na,1\n",
            "units.csv: line 1: no column 'exposure' (the header must name id, exposure and "
            "count)"},
           {"id,exposure,count,count\na,1,1,1\n",
            "units.csv: line 1, column 'count': the column appears twice"},
           {"id,exposure,count\na,1\n", "units.csv: line 2: 2 fields where the header has 3"},
           {"id,exposure,count\n ,1,1\n", "units.csv: line 2, column 'id': empty id"},
           {"id,exposure,count\na,1,1\nb,1,1\na,2,2\n",
            "units.csv: line 4, column 'id': 'a' again (first on line 2)"},
           {"id,exposure,count\na,1,x1\n",
            "units.csv: line 2, column 'count': 'x1' is not a number"},
           {"id,exposure,count\na,,1\n", "units.csv: line 2, column 'exposure': empty"},
           {"id,exposure,count\na,1,-2\n", "units.csv: line 2, column 'count': -2 is negative"},
           {"id,exposure,count\na,-1,2\n", "units.csv: line 2, column 'exposure': -1 is negative"},
           {"id,exposure,count\na,nan,2\n",
            "units.csv: line 2, column 'exposure': nan is not a finite number"},
           {"id,exposure,count\na,1e400,2\n",
            "units.csv: line 2, column 'exposure': inf is not a finite number"},
           {"id,exposure,count\na,1e16,2\n",
            "units.csv: line 2, column 'exposure': 1e+16 is over the limit of 1e+15"},
           {"id,exposure,count\na,0,2\n", "units.csv: line 2, column 'exposure': 0 with 2 events"},
           {"id,exposure,count,neighbours\na,1,1,b\nb,1,1,c\n",
            "units.csv: line 3, column 'neighbours': unknown id 'c'"},
           {"id,exposure,count,neighbours\na,1,1,b\nb,1,1,b\n",
            "units.csv: line 3, column 'neighbours': 'b' is the unit itself"},
           {"id,exposure,count,neighbours\na,1,1,b; b\nb,1,1,\n",
            "units.csv: line 2, column 'neighbours': 'b' listed twice"},
           {"id,exposure,count\n\"a,1,1\n", "units.csv: record 2"},
       }) {
    const absl::Status status = Read(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message));
  }
}

TEST(UnitTable, Bounded) {
  const std::string long_id(kMaxTableFieldBytes + 1, 'x');
  EXPECT_THAT(std::string(Read("id,exposure,count\n" + long_id + ",1,1\n").status().message()),
              HasSubstr("over the limit"));
  // Ids of control characters are escaped in messages.
  EXPECT_THAT(
      std::string(Read("id,exposure,count,neighbours\na,1,1,\"\x01\"\n").status().message()),
      HasSubstr("unknown id '\\x01'"));
}

}  // namespace
}  // namespace pingan
