#include "address/names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(ZoneNames, DropThePlacesBeforeAndAbbreviateTheKind) {
  const std::vector<std::string> hebei = {"河北省", "河北", "石家庄市", "石家庄", "唐山市", "唐山"};
  EXPECT_EQ(ZoneNames("石家庄高新技术产业开发区", hebei), (std::vector<std::string>{"高新技术产业开发区", "高新区"}));
  EXPECT_EQ(ZoneNames("河北唐山芦台经济开发区", hebei),
            (std::vector<std::string>{"芦台经济开发区", "芦台经开区", "芦台开发区"}));
  const std::vector<std::string> hefei = {"安徽省", "安徽", "合肥市", "合肥"};
  EXPECT_EQ(ZoneNames("合肥新站高新技术产业开发区", hefei),
            (std::vector<std::string>{"新站高新技术产业开发区", "新站高新区", "新站区"}));
  EXPECT_EQ(ZoneNames("合肥经济技术开发区", hefei),
            (std::vector<std::string>{"经济技术开发区", "经开区", "经济开发区", "开发区"}));
  // A city written with 市, and a zone named after no place above it.
  EXPECT_EQ(ZoneNames("秦皇岛市经济技术开发区", std::vector<std::string>{"秦皇岛市", "秦皇岛"})[0], "经济技术开发区");
  EXPECT_EQ(ZoneNames("中新苏滁高新技术产业开发区", hefei)[0], "中新苏滁高新区");
  const std::vector<std::string> suzhou = {"江苏省", "江苏", "苏州市", "苏州"};
  EXPECT_EQ(ZoneNames("苏州工业园区", suzhou), (std::vector<std::string>{"工业园区"}));
  // A place name is not removed when nothing but the kind would be left of a longer name.
  EXPECT_EQ(ZoneNames("经济开发区", hefei), (std::vector<std::string>{"经开区", "开发区"}));
  // Not a zone.
  EXPECT_TRUE(ZoneNames("西湖区", hefei).empty());
  EXPECT_TRUE(ZoneNames("滨海新区", hefei).empty());
}

TEST(AutonomousNames, ThePlaceWithoutThePeoples) {
  EXPECT_EQ(AutonomousNames("恩施土家族苗族自治州"), (std::vector<std::string>{"恩施州", "恩施"}));
  EXPECT_EQ(AutonomousNames("西双版纳傣族自治州"), (std::vector<std::string>{"西双版纳州", "西双版纳"}));
  EXPECT_EQ(AutonomousNames("红河哈尼族彝族自治州"), (std::vector<std::string>{"红河州", "红河"}));
  EXPECT_EQ(AutonomousNames("巴音郭楞蒙古自治州"), (std::vector<std::string>{"巴音郭楞州", "巴音郭楞"}));
  EXPECT_EQ(AutonomousNames("景宁畲族自治县"), (std::vector<std::string>{"景宁县", "景宁"}));
  EXPECT_EQ(AutonomousNames("长阳土家族自治县"), (std::vector<std::string>{"长阳县", "长阳"}));
  EXPECT_EQ(AutonomousNames("莫力达瓦达斡尔族自治旗"), (std::vector<std::string>{"莫力达瓦旗", "莫力达瓦"}));
  // 回 and 白 inside a place name before the people's (大理白族: 白 is the people).
  EXPECT_EQ(AutonomousNames("大理白族自治州"), (std::vector<std::string>{"大理州", "大理"}));
  EXPECT_EQ(AutonomousNames("昌吉回族自治州"), (std::vector<std::string>{"昌吉州", "昌吉"}));
  // Not an autonomous area, or a place of one character.
  EXPECT_TRUE(AutonomousNames("西湖区").empty());
  EXPECT_TRUE(AutonomousNames("广西壮族自治区").empty());
}

}  // namespace
}  // namespace pingan
