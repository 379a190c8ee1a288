#include "core/string_column.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pingan {
namespace {

TEST(StringColumn, AppendsAndReadsBackByIndex) {
  StringColumn column;
  EXPECT_EQ(column.size(), 0u);
  const std::vector<std::string> texts = {"西湖区", "", "浦沿街道", std::string(1000, 'x'), "12幢"};
  for (const std::string& text : texts) ASSERT_TRUE(column.Append(text));
  ASSERT_EQ(column.size(), texts.size());
  for (size_t at = 0; at < texts.size(); ++at) EXPECT_EQ(column[at], texts[at]) << at;
  // The packed form: offsets from 0 to the buffer's end, one more than the strings.
  EXPECT_EQ(column.offsets().size(), texts.size() + 1);
  EXPECT_EQ(column.offsets().front(), 0u);
  EXPECT_EQ(column.offsets().back(), column.blob().size());
}

TEST(StringColumn, AdoptTakesAPackedFormAndRefusesABrokenOne) {
  StringColumn built;
  for (const char* text : {"杭州市", "上城区", ""}) ASSERT_TRUE(built.Append(text));
  StringColumn adopted;
  ASSERT_TRUE(adopted.Adopt(built.offsets(), built.blob()));
  ASSERT_EQ(adopted.size(), 3u);
  EXPECT_EQ(adopted[1], "上城区");
  EXPECT_EQ(adopted[2], "");

  const std::string blob = "abcdef";
  for (const std::vector<uint32_t>& offsets : {std::vector<uint32_t>{}, std::vector<uint32_t>{1, 6},
                                               std::vector<uint32_t>{0, 4, 2, 6}, std::vector<uint32_t>{0, 3},
                                               std::vector<uint32_t>{0, 7}}) {
    StringColumn column;
    ASSERT_TRUE(column.Append("kept"));
    EXPECT_FALSE(column.Adopt(offsets, blob)) << offsets.size();
    // A refused form leaves the column as it was.
    ASSERT_EQ(column.size(), 1u);
    EXPECT_EQ(column[0], "kept");
  }
}

}  // namespace
}  // namespace pingan
