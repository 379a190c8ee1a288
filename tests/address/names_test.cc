#include "address/names.h"

#include <gtest/gtest.h>

namespace pingan {
namespace {

TEST(DisplayName, DropsCommitteeSuffixesEvenWhenDoubled) {
  EXPECT_EQ(DisplayName("多福巷社区居委会"), "多福巷社区");
  EXPECT_EQ(DisplayName("沈冠村村委会村委会"), "沈冠村");
  EXPECT_EQ(DisplayName("新生社区居民委员会"), "新生社区");
  EXPECT_EQ(DisplayName("东山村民委员会"), "东山村");
  EXPECT_EQ(DisplayName("西湖区"), "西湖区");
}

TEST(ShortName, StripsTheLevelSuffixButKeepsTwoCharacters) {
  EXPECT_EQ(ShortName("西湖区", Level::kDistrict), "西湖");
  EXPECT_EQ(ShortName("浦沿街道", Level::kTown), "浦沿");
  EXPECT_EQ(ShortName("三墩镇", Level::kTown), "三墩");
  EXPECT_EQ(ShortName("浙江省", Level::kProvince), "浙江");
  EXPECT_EQ(ShortName("广西壮族自治区", Level::kProvince), "广西");
  EXPECT_EQ(ShortName("多福巷社区居委会", Level::kCommunity), "多福巷");
  EXPECT_EQ(ShortName("沈冠村村委会村委会", Level::kCommunity), "沈冠");
  EXPECT_EQ(ShortName("新村村委会", Level::kCommunity), "新村");  // would leave one character
  EXPECT_EQ(ShortName("东区", Level::kDistrict), "东区");
}

}  // namespace
}  // namespace pingan
