#include "geocode/matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "address/names.h"
#include "core/text.h"
#include "catalog/config.h"
#include "core/strings.h"
#include "testing/demo_registry.h"

namespace pingan {
namespace {

// Zhejiang (names shared by several of its cities: 城东街道), the demo city, the history and the
// configured aliases.
class MatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto demo = testing::ZhejiangDemoRegistry(0.002);
    ASSERT_TRUE(demo.ok()) << demo.status();
    registry_ = new Registry(std::move(demo->registry));
    std::vector<Alias> aliases;
    for (const AliasConfig& alias : demo->config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
    auto matcher = Matcher::Create(*registry_, *AddressCode::ParsePrefix("3301"), aliases);
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    matcher_ = matcher->release();
  }
  static void TearDownTestSuite() {
    delete matcher_;
    delete registry_;
  }

  static std::string CodeOf(const MatchResult& result, int digits) {
    return result.unit().valid() ? registry_->code(result.unit()).ToString().substr(0, digits) : "none";
  }

  static Registry* registry_;
  static Matcher* matcher_;
};
Registry* MatcherTest::registry_ = nullptr;
Matcher* MatcherTest::matcher_ = nullptr;

TEST_F(MatcherTest, FullAddressDownToTheCommunity) {
  MatchResult result = matcher_->Match("浙江省杭州市西湖区西溪街道石灰桥社区");
  EXPECT_EQ(result.status, MatchStatus::kMatched);
  EXPECT_EQ(CodeOf(result, 12), "330106004053");
  EXPECT_GT(result.confidence, 0.9);
}

TEST_F(MatcherTest, MissingUpperLevelsAreInferredAndTheHomeCityPreferred) {
  MatchResult result = matcher_->Match("新生社区");
  EXPECT_EQ(result.status, MatchStatus::kMatched);
  EXPECT_EQ(registry_->name(registry_->AncestorAt(result.unit(), Level::kTown)), "浦沿街道");
  EXPECT_LT(result.confidence, 0.9);  // decided by the home city, not by the text
  EXPECT_FALSE(result.alternatives.empty());
}

TEST_F(MatcherTest, AbbreviationsAndSeparators) {
  EXPECT_EQ(CodeOf(matcher_->Match("五常"), 9), "330110005");
  EXPECT_EQ(CodeOf(matcher_->Match("浙江省-杭州市-西湖区"), 6), "330106");
  EXPECT_EQ(CodeOf(matcher_->Match("余杭"), 6), "330110");
}

TEST_F(MatcherTest, FormerNamesLandOnTodaysUnitsByTown) {
  MatchResult jiubao = matcher_->Match("江干区九堡街道");
  EXPECT_EQ(CodeOf(jiubao, 9), "330102018");
  ASSERT_NE(jiubao.formerly, nullptr);
  EXPECT_EQ(jiubao.formerly->name, "江干区");
  EXPECT_EQ(CodeOf(matcher_->Match("江干区下沙"), 6), "330114");
  EXPECT_EQ(CodeOf(matcher_->Match("余杭区临平街道"), 9), "330113001");
  EXPECT_EQ(CodeOf(matcher_->Match("富阳市富春街道"), 9), "330111001");
  EXPECT_EQ(CodeOf(matcher_->Match("下城区"), 6), "330105");
  MatchResult jianggan = matcher_->Match("江干区");  // split: ambiguous, 上城区 first
  EXPECT_EQ(jianggan.status, MatchStatus::kAmbiguous);
  EXPECT_EQ(CodeOf(jianggan, 6), "330102");
  ASSERT_EQ(jianggan.alternatives.size(), 1u);
  EXPECT_EQ(registry_->code(jianggan.alternatives[0]).ToString().substr(0, 6), "330114");
  EXPECT_EQ(registry_->code(jianggan.common).ToString().substr(0, 6), "330100");  // both lie in 杭州市
  // 萧山区 still exists: its name alone is 萧山区, not the piece it gave to 钱塘区.
  MatchResult xiaoshan = matcher_->Match("萧山区");
  EXPECT_EQ(xiaoshan.status, MatchStatus::kMatched);
  EXPECT_EQ(CodeOf(xiaoshan, 6), "330109");
}

TEST_F(MatcherTest, AnAmbiguousAnswerNamesTheUnitHoldingEveryCandidate) {
  // The compound name with the most namesakes in the demo city: more than the 5 alternatives.
  std::map<std::string, std::vector<UnitId>> by_name;
  for (const Compound& compound : registry_->compounds()) by_name[compound.name].push_back(compound.community);
  auto most = std::max_element(by_name.begin(), by_name.end(),
                               [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  ASSERT_GT(most->second.size(), 6u);
  MatchResult result = matcher_->Match(most->first);
  ASSERT_EQ(result.status, MatchStatus::kAmbiguous);
  EXPECT_EQ(result.alternatives.size(), 5u);
  for (UnitId community : most->second) EXPECT_TRUE(registry_->IsWithin(community, result.common));
  // The deepest such unit: two of the namesakes lie in different children of it.
  bool split = false;
  for (UnitId child : registry_->children(result.common)) {
    size_t inside = 0;
    for (UnitId community : most->second) inside += registry_->IsWithin(community, child);
    split |= inside > 0 && inside < most->second.size();
    EXPECT_LT(inside, most->second.size());
  }
  EXPECT_TRUE(split);
}

TEST_F(MatcherTest, AliasesFromConfig) {
  EXPECT_EQ(CodeOf(matcher_->Match("钱江世纪城"), 9), "330109505");
  EXPECT_EQ(CodeOf(matcher_->Match("下沙"), 9), "330114001");
}

TEST_F(MatcherTest, PlaceNamesInsideRoadNamesAreNotPlaces) {
  EXPECT_EQ(matcher_->Match("西湖大道").status, MatchStatus::kUnmatched);
  MatchResult road = matcher_->Match("杭州市余杭区五常街道文一西路969号");
  EXPECT_EQ(road.status, MatchStatus::kPartial);  // the road is not matched yet
  EXPECT_EQ(CodeOf(road, 9), "330110005");
}

TEST_F(MatcherTest, SharedNamesAreAmbiguousWhereNothingDecides) {
  // Several towns of Zhejiang outside Hangzhou are called 城东街道.
  MatchResult result = matcher_->Match("城东街道");
  EXPECT_EQ(result.status, MatchStatus::kAmbiguous);
  EXPECT_GE(result.alternatives.size(), 2u);
  // The rest of the address decides.
  MatchResult decided = matcher_->Match("温州市乐清市城东街道");
  EXPECT_EQ(decided.status, MatchStatus::kMatched);
  EXPECT_EQ(registry_->name(registry_->AncestorAt(decided.unit(), Level::kDistrict)), "乐清市");
}

TEST_F(MatcherTest, NothingKnownIsUnmatchedWithAReason) {
  MatchResult result = matcher_->Match("abc123");
  EXPECT_EQ(result.status, MatchStatus::kUnmatched);
  EXPECT_FALSE(result.reason.empty());
  EXPECT_EQ(matcher_->Match("").status, MatchStatus::kUnmatched);
}

}  // namespace
}  // namespace pingan

namespace pingan {
namespace {

// Addresses written from the registry's own buildings: every level down to the room.
class MatcherDetailTest : public MatcherTest {
 protected:
  // Buildings of compounds (with entrances) and of roads, a few of each kind.
  static std::vector<UnitId> Buildings(bool in_compound, size_t count) {
    std::vector<UnitId> out;
    for (uint32_t index = 0; index < registry_->size() && out.size() < count; index += 7) {
      UnitId id{index};
      if (registry_->level(id) != Level::kBuilding) continue;
      const BuildingInfo& info = registry_->building(id);
      if (in_compound != (info.compound != UINT32_MAX)) continue;
      if (info.entrances == 0) continue;
      out.push_back(id);
    }
    return out;
  }
  static std::string TownAndCommunity(UnitId building) {
    return registry_->name(registry_->AncestorAt(building, Level::kTown)) +
           registry_->name(registry_->AncestorAt(building, Level::kCommunity));
  }
};

TEST_F(MatcherDetailTest, CompoundBuildingEntranceAndRoomInEveryForm) {
  const std::vector<UnitId> buildings = Buildings(true, 60);
  ASSERT_GE(buildings.size(), 30u);
  for (UnitId building : buildings) {
    const BuildingInfo& info = registry_->building(building);
    const std::string compound = registry_->compounds()[info.compound].name;
    const Place room{building, Level::kRoom, info.entrances, info.floors * 100u + info.rooms_per_floor};
    const std::string code = registry_->PlaceCode(room).ToString();
    const std::string prefix = TownAndCommunity(building) + compound;
    for (const std::string& text :
         {Cat(prefix, info.number, "幢", info.entrances, "单元", room.room, "室"),
          Cat(prefix, info.number, "-", info.entrances, "-", room.room),
          Cat(prefix, info.number, "号楼", info.entrances, "单元", room.room),
          // The floor written before its room, as people often do.
          Cat(prefix, info.number, "幢", info.entrances, "单元", info.floors, "楼", room.room, "室"),
          Cat(prefix, info.number, "栋", info.entrances, "单元", info.floors, "层", room.room)}) {
      MatchResult result = matcher_->Match(text);
      EXPECT_EQ(result.status, MatchStatus::kMatched) << text;
      EXPECT_EQ(result.level(), Level::kRoom) << text;
      EXPECT_EQ(registry_->PlaceCode(result.place).ToString(), code) << text;
    }
    // A building number the compound does not have: the compound's place, partial.
    MatchResult missing = matcher_->Match(Cat(prefix, 900 + info.number, "幢"));
    EXPECT_EQ(missing.status, MatchStatus::kPartial) << prefix;
    EXPECT_LT(missing.level(), Level::kBuilding);
    EXPECT_FALSE(missing.reason.empty());
    // A floor that its room's number contradicts: no room is taken.
    if (info.floors > 1) {
      MatchResult other_floor =
          matcher_->Match(Cat(prefix, info.number, "幢", info.entrances, "单元", info.floors - 1, "楼", room.room, "室"));
      EXPECT_EQ(other_floor.status, MatchStatus::kPartial);
      EXPECT_LT(other_floor.level(), Level::kRoom);
    }
    // A room on a floor above the roof is not a room.
    MatchResult roof = matcher_->Match(Cat(prefix, info.number, "幢", info.entrances, "单元", info.floors + 1, "01室"));
    EXPECT_EQ(roof.status, MatchStatus::kPartial);
    EXPECT_EQ(roof.unit(), building);
  }
}

TEST_F(MatcherDetailTest, RoadHouseNumbers) {
  const std::vector<UnitId> buildings = Buildings(false, 60);
  ASSERT_GE(buildings.size(), 30u);
  for (UnitId building : buildings) {
    const BuildingInfo& info = registry_->building(building);
    const std::string road = registry_->roads()[info.road].name;
    const std::string town = registry_->name(registry_->AncestorAt(building, Level::kTown));
    MatchResult result = matcher_->Match(Cat(town, road, info.house_number, "号"));
    EXPECT_EQ(result.status, MatchStatus::kMatched) << town << road << info.house_number;
    EXPECT_EQ(result.unit(), building) << town << road << info.house_number;
    EXPECT_EQ(result.level(), Level::kBuilding);
  }
}

TEST_F(MatcherTest, OneCharacterWrongIsReadWithLowerConfidence) {
  MatchResult homophone = matcher_->Match("肖山区城厢街道");
  EXPECT_EQ(CodeOf(homophone, 9), "330109001");
  EXPECT_TRUE(homophone.corrected);
  EXPECT_LE(homophone.confidence, 0.9);
  MatchResult district = matcher_->Match("余航区");
  EXPECT_EQ(CodeOf(district, 6), "330110");
  EXPECT_TRUE(district.corrected);
  // Spelled right, nothing is corrected.
  MatchResult right = matcher_->Match("萧山区城厢街道");
  EXPECT_EQ(CodeOf(right, 9), "330109001");
  EXPECT_FALSE(right.corrected);
  EXPECT_GT(right.confidence, homophone.confidence);
}

}  // namespace
}  // namespace pingan

namespace pingan {
namespace {

TEST_F(MatcherTest, ABareShortNameMeansTheLargerUnit) {
  MatchResult xihu = matcher_->Match("西湖");
  EXPECT_EQ(xihu.level(), Level::kDistrict);
  EXPECT_EQ(CodeOf(xihu, 6), "330106");
  MatchResult donghu = matcher_->Match("临平东湖");
  EXPECT_EQ(donghu.level(), Level::kTown);
  EXPECT_EQ(registry_->name(donghu.unit()), "东湖街道");
}

TEST_F(MatcherTest, DetailBeforeUnrelatedWordsIsStillUnread) {
  // 城东 names towns elsewhere in Zhejiang: it explains nothing of 西湖区, and 人民路88号 (no such
  // road here) stays unread.
  MatchResult result = matcher_->Match("西湖区人民路88号城东");
  EXPECT_EQ(CodeOf(result, 6), "330106");
  EXPECT_EQ(result.status, MatchStatus::kPartial);
}

TEST_F(MatcherTest, ZonesAndAutonomousCountiesByTheNamesPeopleWrite) {
  // 萧山经济技术开发区, a town-level unit of 萧山区: 经开区 and 经济开发区 inside 萧山.
  for (const char* text : {"杭州市萧山区经开区", "萧山经济开发区", "萧山区经济技术开发区"}) {
    MatchResult result = matcher_->Match(text);
    EXPECT_EQ(result.status, MatchStatus::kMatched) << text;
    EXPECT_EQ(registry_->name(result.unit()), "萧山经济技术开发区") << text;
  }
  // An autonomous county by its place and kind: 景宁县 for 景宁畲族自治县 (not 甘肃's 宁县).
  EXPECT_EQ(CodeOf(matcher_->Match("景宁县"), 6), "331127");
  EXPECT_EQ(CodeOf(matcher_->Match("丽水景宁县鹤溪街道"), 6), "331127");
  // 慈溪市's 滨海经济开发区 under its own short form.
  EXPECT_EQ(registry_->name(matcher_->Match("宁波慈溪滨海经开区").unit()), "滨海经济开发区");
}

TEST_F(MatcherTest, ACityWrittenOutIsNotOverruledByAPlaceOutsideIt) {
  // 五常街道 is only in Hangzhou: in a text that says 温州市 it is detail not found, not the answer.
  MatchResult result = matcher_->Match("温州市五常街道");
  EXPECT_EQ(CodeOf(result, 4), "3303");
  EXPECT_EQ(result.level(), Level::kCity);
  EXPECT_EQ(result.status, MatchStatus::kPartial);  // a town was named and not found there
  EXPECT_FALSE(result.reason.empty());
  // A road called 道 (天津's 黑牛城道, 石家庄's 湘江道) not in the registry is unread detail.
  EXPECT_EQ(matcher_->Match("杭州市西湖区湘江道").status, MatchStatus::kPartial);
  // Without the city, the street is read as before.
  EXPECT_EQ(CodeOf(matcher_->Match("五常街道"), 9), "330110005");
}

TEST_F(MatcherTest, ATypoReadingOutsideTheCityWrittenIsNotTheAnswer) {
  // 卢湾区 (上海, merged in 2011) is in no registry: read with one character wrong it is 温州's
  // 龙湾区, outside the city the text names.
  MatchResult result = matcher_->Match("杭州市卢湾区");
  EXPECT_EQ(CodeOf(result, 4), "3301");
  EXPECT_EQ(result.level(), Level::kCity);
  // Inside it, the same reading stands.
  EXPECT_EQ(CodeOf(matcher_->Match("温州市卢湾区"), 6), "330303");
}

TEST_F(MatcherTest, AFormerNameOfAUnitStillInPlaceMeansThatUnit) {
  // 萧山区 gave towns to 钱塘区 in 2021 and is still 萧山区: alone it means itself, not the piece.
  MatchResult xiaoshan = matcher_->Match("浙江省杭州市萧山区");
  EXPECT_EQ(xiaoshan.status, MatchStatus::kMatched);
  EXPECT_EQ(CodeOf(xiaoshan, 6), "330109");
  // A town of the piece still leads there.
  EXPECT_EQ(CodeOf(matcher_->Match("杭州市萧山区义蓬街道"), 6), "330114");
}

// A town written, then a street or compound the registry has only in another town: the text is
// about the town written (real records name their town; a street's name is shared by many
// places), and the street is detail not found there.
TEST_F(MatcherTest, ATownWrittenBeatsAStreetOnlyFoundElsewhere) {
  const Registry& r = *registry_;
  std::map<std::string, int> uses;
  for (const Road& road : r.roads()) ++uses[road.name];
  for (const Compound& compound : r.compounds()) ++uses[compound.name];
  // Another unit of the same level under the same parent (another town of the district, another
  // community of the town), neither of whose names is inside the other's.
  auto sibling = [&](UnitId unit) {
    for (UnitId other : r.children(r.parent(unit))) {
      if (other != unit && r.level(other) == r.level(unit) && r.name(other).find(r.name(unit)) == std::string::npos &&
          r.name(unit).find(r.name(other)) == std::string::npos) {
        return other;
      }
    }
    return UnitId{};
  };
  // The text is answered at the town (or community) written, partial (the street is not found
  // there).
  auto expect_written_town = [&](const std::string& text, UnitId written) {
    SCOPED_TRACE(text);
    const MatchResult result = matcher_->Match(text);
    EXPECT_EQ(result.unit(), written);
    EXPECT_EQ(result.status, MatchStatus::kPartial);
  };
  int checked = 0;
  for (const Road& road : r.roads()) {
    if (checked == 3) break;
    if (uses[road.name] != 1 || !road.town.valid()) continue;
    const UnitId written = sibling(road.town);
    if (!written.valid()) continue;
    const UnitId district = r.parent(road.town);
    expect_written_town(r.name(district) + r.name(written) + road.name, written);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  // Compounds whose name is the registry's only one, three checked: how many `check` accepted.
  auto three_unique_compounds = [&](auto check) {
    int accepted = 0;
    for (size_t index = 0; index < r.compounds().size() && accepted < 3; ++index) {
      const Compound& compound = r.compounds()[index];
      if (uses[compound.name] == 1 && compound.community.valid() && check(compound, index)) ++accepted;
    }
    return accepted;
  };
  // A compound with a building number that exists there: the town written still decides.
  EXPECT_EQ(three_unique_compounds([&](const Compound& compound, size_t index) {
              const UnitId town = r.parent(compound.community);
              const UnitId written = sibling(town);
              if (!written.valid()) return false;
              // One of its buildings' numbers.
              uint32_t number = 0;
              for (UnitId grid : r.children(compound.community)) {
                for (UnitId building : r.children(grid)) {
                  if (r.level(building) == Level::kBuilding && r.building(building).compound == index &&
                      r.building(building).number != 0) {
                    number = r.building(building).number;
                  }
                }
              }
              if (number == 0) return false;
              expect_written_town(Cat(r.name(r.parent(town)), r.name(written), compound.name, number, "幢"), written);
              return true;
            }),
            3);
  // So does a community written by its full name against a compound of another community.
  EXPECT_EQ(three_unique_compounds([&](const Compound& compound, size_t) {
              const UnitId written = sibling(compound.community);
              if (!written.valid()) return false;
              expect_written_town(r.name(r.parent(written)) + r.name(written) + compound.name, written);
              return true;
            }),
            3);
  // Where the street does lie in the town written, it is read down to its building as before.
  for (const Road& road : r.roads()) {
    if (uses[road.name] != 1 || !road.town.valid()) continue;
    const MatchResult result = matcher_->Match(r.name(r.parent(road.town)) + r.name(road.town) + road.name);
    EXPECT_EQ(result.status, MatchStatus::kMatched) << road.name;
    EXPECT_TRUE(result.unit() == road.town || r.IsWithin(result.unit(), road.town)) << road.name;
    break;
  }
}

// A town seat's village or community often has the town's name: written after the town, the
// short name is that village or community, not the town a second time (戴村镇戴村: 戴村村委会;
// 莲花镇莲花: 莲花居委会).
TEST_F(MatcherTest, AVillageNamedLikeItsTownIsReadAfterTheTown) {
  const Registry& r = *registry_;
  int checked = 0;
  for (uint32_t id = 0; id < r.size() && checked < 20; ++id) {
    const UnitId village{id};
    if (r.level(village) != Level::kCommunity) continue;
    const UnitId town = r.parent(village);
    if (r.level(town) != Level::kTown) continue;
    const std::string written = DisplayName(r.name(village));
    if (written != ShortName(r.name(town), Level::kTown)) continue;
    bool unique = true;  // no other community of the town written the same way
    for (UnitId other : r.children(town)) unique = unique && (other == village || DisplayName(r.name(other)) != written);
    if (!unique) continue;
    const std::string text = r.name(r.parent(town)) + r.name(town) + written;
    const MatchResult result = matcher_->Match(text);
    EXPECT_TRUE(result.unit() == village || r.IsWithin(result.unit(), village)) << text << " -> " << CodeOf(result, 12);
    EXPECT_EQ(result.status, MatchStatus::kMatched) << text;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// A village or community written after the answer that the registry does not hold makes the
// answer partial: the text names something deeper than what was found.
TEST_F(MatcherTest, AnUnknownVillageOrCommunityAfterTheAnswerMakesItPartial) {
  const MatchResult town = matcher_->Match("西湖区西溪街道");
  ASSERT_EQ(town.status, MatchStatus::kMatched);
  for (const char* text : {"西湖区西溪街道子虚村", "西湖区西溪街道乌有社区"}) {
    const MatchResult result = matcher_->Match(text);
    EXPECT_EQ(result.unit(), town.unit()) << text;
    EXPECT_EQ(result.status, MatchStatus::kPartial) << text;
    EXPECT_NE(std::string(result.reason).find("village or community"), std::string::npos) << result.reason;
  }
}

// A villager group (3组; 五组, which the normaliser makes 5组; 第3村民小组) is below the village and not in the registry: the
// village, partial, with that reason; its number is no house number of the village's lane.
TEST_F(MatcherTest, AVillagerGroupIsNotReadAsAHouseNumber) {
  const MatchResult village = matcher_->Match("余杭区黄湖镇青山村");
  ASSERT_EQ(village.status, MatchStatus::kMatched);
  const UnitId community = registry_->AncestorAt(village.unit(), Level::kCommunity);
  for (const char* text : {"余杭区黄湖镇青山村3组", "余杭区黄湖镇青山村5组", "余杭区黄湖镇青山村第3村民小组",
                           "余杭区黄湖镇青山村3组15号", "余杭区黄湖镇青山村1组1号"}) {
    const MatchResult result = matcher_->Match(text);
    EXPECT_EQ(result.status, MatchStatus::kPartial) << text;
    EXPECT_EQ(registry_->AncestorAt(result.unit(), Level::kCommunity), community) << text;
    EXPECT_LE(result.level(), Level::kGrid) << text;  // no building of the lane
    EXPECT_EQ(std::string(result.reason), "a villager group (组) is not in the registry") << text;
  }
}

// Hong Kong, Macao and Taiwan have no codes in the division scheme: an address there is
// unmatched with that reason, not a namesake's (九龙城区's 龙城区 is in 辽宁).
TEST_F(MatcherTest, HongKongMacaoAndTaiwanAreNotForcedIntoTheMainland) {
  for (const char* text : {"香港特别行政区九龙城区", "澳门特别行政区氹仔", "台湾省台北市", "中国台湾台北市信义区", "中国香港"}) {
    const MatchResult result = matcher_->Match(text);
    EXPECT_EQ(result.status, MatchStatus::kUnmatched) << text;
    EXPECT_FALSE(result.unit().valid()) << text;
    EXPECT_NE(std::string(result.reason).find("Hong Kong, Macao and Taiwan"), std::string::npos) << text;
  }
  // 中国 before a province is no region; a region's name inside a mainland address is not the
  // region (宁波's 台湾路 is not 台湾省).
  EXPECT_EQ(matcher_->Match("中国浙江省杭州市").status, MatchStatus::kMatched);
  EXPECT_NE(std::string(matcher_->Match("杭州市西湖区香港路").reason).find("Hong Kong"), 0u);
}

// A name that would take the level suffix of the official name before it (镇中 across
// 瓜沥镇|中沙社区) is no reading, even where the district supports it (党湾镇 has a 镇中村):
// 瓜沥镇中沙社区 is 瓜沥镇's 中沙村 written as a community, not 党湾镇's 镇中村.
TEST_F(MatcherTest, ANameDoesNotShareTheSuffixOfTheOfficialNameBeforeIt) {
  const MatchResult village = matcher_->Match("萧山区瓜沥镇中沙村");
  ASSERT_EQ(village.status, MatchStatus::kMatched);
  ASSERT_GE(village.level(), Level::kCommunity);  // its grid, where the village's lane is one grid's
  const MatchResult as_community = matcher_->Match("萧山区瓜沥镇中沙社区");
  EXPECT_EQ(as_community.unit(), registry_->AncestorAt(village.unit(), Level::kCommunity));
  EXPECT_EQ(as_community.status, MatchStatus::kMatched);
  const MatchResult town = matcher_->Match("萧山区瓜沥镇");
  EXPECT_TRUE(registry_->IsWithin(as_community.unit(), town.unit()));
  // Nor with nothing after it to straddle: 市中 of 杭州市中级人民法院 is no 市中社区 (新昌县), and
  // 人民 before 法院 no 人民社区: the court is the city's.
  const MatchResult city = matcher_->Match("浙江省杭州市");
  const MatchResult court = matcher_->Match("浙江省杭州市中级人民法院");
  EXPECT_EQ(court.unit(), city.unit());
  EXPECT_EQ(court.status, MatchStatus::kMatched);
  const MatchResult district = matcher_->Match("杭州市西湖区");
  EXPECT_EQ(matcher_->Match("杭州市西湖区人民法院").unit(), district.unit());
  // A third name that begins inside the one before is no such name before: 道县 (湖南) inside
  // 玉城街道 does not take 县前社区 away.
  const MatchResult xianqian = matcher_->Match("浙江台州市玉环市玉城街道县前社区");
  EXPECT_EQ(xianqian.status, MatchStatus::kMatched);
  EXPECT_EQ(xianqian.level(), Level::kCommunity);
}

// Villages turned communities (村改居) are still written by their old names: 留下街道东岳村 is the
// town's 东岳社区 (the registry has no village 东岳村 there), matched at 0.9. Checked on every
// community of a few towns whose name ends in 社区 and that no village of the town shares.
TEST_F(MatcherTest, AVillageTurnedCommunityIsFoundByItsOldName) {
  const Registry& r = *registry_;
  const MatchResult dongyue = matcher_->Match("西湖区留下街道东岳村");
  EXPECT_EQ(dongyue.status, MatchStatus::kMatched);
  EXPECT_EQ(dongyue.level(), Level::kCommunity);
  EXPECT_EQ(r.name(dongyue.unit()), "东岳社区");
  EXPECT_DOUBLE_EQ(dongyue.confidence, 0.9);
  int checked = 0;
  for (const char* town_code : {"330106009", "330106010", "330110005"}) {
    const UnitId town = *r.Find(*AddressCode::ParsePrefix(town_code));
    std::set<std::string> names;
    for (UnitId unit : r.Descendants(town, Level::kCommunity)) names.insert(r.name(unit));
    for (UnitId unit : r.Descendants(town, Level::kCommunity)) {
      const std::string name = r.name(unit);
      if (!name.ends_with("社区")) continue;
      const std::string stem = name.substr(0, name.size() - std::string("社区").size());
      if (names.contains(stem + "村委会") || names.contains(stem + "村村委会") || names.contains(stem + "村民委员会")) continue;
      const std::string text = r.name(r.parent(town)) + r.name(town) + stem + "村";
      const MatchResult result = matcher_->Match(text);
      // Read by its short name (清波门 of 清波门社区) the community was found before, but partial
      // for the 村 after it; now matched either way, at 0.9 at most.
      EXPECT_EQ(result.unit(), unit) << text;
      EXPECT_EQ(result.status, MatchStatus::kMatched) << text;
      EXPECT_LE(result.confidence, 0.9) << text;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
  // Not when two communities of the town would fit, nor outside the town named.
  const MatchResult elsewhere = matcher_->Match("西湖区西溪街道东岳村");
  EXPECT_NE(elsewhere.unit(), dongyue.unit());
  // The other way: a village the registry has, written as the community it has become since
  // (三墩镇绕城社区 for 绕城村; 横村镇元村社区 for 元村, whose 村 is its name's).
  int villages = 0;
  for (const char* town_code : {"330106109", "330110005", "330122102"}) {
    const UnitId town = *r.Find(*AddressCode::ParsePrefix(town_code));
    std::map<std::string, int> stems;
    std::vector<std::pair<UnitId, std::string>> written;
    for (UnitId unit : r.Descendants(town, Level::kCommunity)) {
      const std::string display = DisplayName(r.name(unit));
      if (!display.ends_with("村")) continue;
      const std::string stem = display.substr(0, display.size() - std::string("村").size());
      // 元村 is written 元村社区; 绕城村, 绕城社区 (a stem of one character keeps its 村).
      const std::string as_community = (Utf8Length(stem) < 2 ? display : stem) + "社区";
      ++stems[as_community];
      written.emplace_back(unit, as_community);
    }
    for (const auto& [unit, as_community] : written) {
      if (stems[as_community] > 1) continue;
      const std::string text = r.name(r.parent(town)) + r.name(town) + as_community;
      const MatchResult result = matcher_->Match(text);
      if (result.level() == Level::kCommunity && result.unit() != unit) continue;  // a community of that name exists
      EXPECT_EQ(result.unit(), unit) << text;
      EXPECT_EQ(result.status, MatchStatus::kMatched) << text;
      ++villages;
    }
  }
  EXPECT_GT(villages, 20);
}

// A road runs through its town; its house numbers lie in one community or another. A text that
// names a community and a number the registry has in another community of the town is answered
// at the community named, partial — not at the other community's building.
TEST_F(MatcherTest, AHouseNumberInAnotherCommunityThanTheOneNamedIsNotTaken) {
  const Registry& r = *registry_;
  std::map<std::string, int> uses;
  for (const Road& road : r.roads()) ++uses[road.name];
  int checked = 0;
  std::set<uint32_t> roads_seen;
  for (uint32_t id = 0; id < r.size() && checked < 5; ++id) {
    const UnitId building{id};
    if (r.level(building) != Level::kBuilding) continue;
    const BuildingInfo& info = r.building(building);
    if (info.house_number == 0 || info.road >= r.roads().size() || !roads_seen.insert(info.road).second) continue;
    const Road& road = r.roads()[info.road];
    if (uses[road.name] != 1 || !road.town.valid()) continue;
    const UnitId home = r.AncestorAt(building, Level::kCommunity);
    if (!home.valid() || r.parent(home) != road.town) continue;
    // Another community of the town, neither name inside the other.
    UnitId other;
    for (UnitId kid : r.children(road.town)) {
      if (kid != home && r.level(kid) == Level::kCommunity && r.name(kid).find(r.name(home)) == std::string::npos &&
          r.name(home).find(r.name(kid)) == std::string::npos && r.name(kid).find(road.name) == std::string::npos) {
        other = kid;
        break;
      }
    }
    if (!other.valid()) continue;
    const std::string prefix = r.name(r.parent(road.town)) + r.name(road.town);
    const std::string detail = Cat(road.name, info.house_number, "号");
    SCOPED_TRACE(prefix + "|" + detail);
    // With the community that holds the number, the place of the number in it (a compound's
    // number: its grid).
    const MatchResult there = matcher_->Match(prefix + r.name(home) + detail);
    EXPECT_EQ(there.status, MatchStatus::kMatched);
    EXPECT_GT(there.level(), Level::kCommunity);
    EXPECT_TRUE(r.IsWithin(there.unit(), home));
    // With another community of the town: that community, partial, and why.
    const MatchResult named = matcher_->Match(prefix + r.name(other) + detail);
    EXPECT_EQ(named.unit(), other);
    EXPECT_EQ(named.level(), Level::kCommunity);
    EXPECT_EQ(named.status, MatchStatus::kPartial);
    EXPECT_NE(std::string(named.reason).find("outside the community"), std::string::npos) << named.reason;
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

}  // namespace
}  // namespace pingan

namespace pingan {
namespace {

// Two villages of one name in two towns of the home city, each with its road of that name (as
// village houses are numbered, 光明村12号). One village has two grids, so its road is held by
// the village; the other has one, so its road is held by that grid, a level deeper. The bare
// name says nothing to choose between them: ambiguous, whatever depth the holders have. The
// town written decides.
TEST(MatcherNamesakes, AVillageRoadHeldByAGridDoesNotOutrankItsNamesake) {
  auto C = [](const char* text) { return *AddressCode::ParsePrefix(text); };
  RegistryBuilder builder;
  const UnitId zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
  const UnitId hz = builder.Add({.code = C("3301"), .level = Level::kCity, .name = "杭州市", .parent = zj});
  const UnitId xs = builder.Add({.code = C("330109"), .level = Level::kDistrict, .name = "萧山区", .parent = hz});
  const UnitId heshang = builder.Add({.code = C("330109101"), .level = Level::kTown, .name = "河上镇", .parent = xs});
  const UnitId louta = builder.Add({.code = C("330109102"), .level = Level::kTown, .name = "楼塔镇", .parent = xs});
  const UnitId two_grids =
      builder.Add({.code = C("330109101201"), .level = Level::kCommunity, .name = "光明村委会", .parent = heshang});
  const UnitId one_grid =
      builder.Add({.code = C("330109102201"), .level = Level::kCommunity, .name = "光明村委会", .parent = louta});
  const uint32_t road_a = builder.AddRoad(Road{.name = "光明村", .town = heshang});
  const uint32_t road_b = builder.AddRoad(Road{.name = "光明村", .town = louta});
  auto grid = [&](const char* code, UnitId village) {
    return builder.Add({.code = C(code), .level = Level::kGrid, .name = "光明村网格", .parent = village,
                        .kind = UnitKind::kSynthetic, .box = {120, 30, 120.1, 30.1}});
  };
  auto house = [&](const char* code, UnitId at, uint32_t road, uint32_t number) {
    builder.Add({.code = C(code), .level = Level::kBuilding, .parent = at, .kind = UnitKind::kSynthetic,
                 .building = {.road = road, .house_number = number, .lon = 120.05, .lat = 30.05}});
  };
  const UnitId a1 = grid("330109101201001", two_grids), a2 = grid("330109101201002", two_grids);
  const UnitId b1 = grid("330109102201001", one_grid);
  house("33010910120100100001", a1, road_a, 1);
  house("33010910120100200001", a2, road_a, 2);
  house("33010910220100100001", b1, road_b, 1);
  auto registry = std::move(builder).Build();
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto matcher = Matcher::Create(*registry, C("3301"), {});
  ASSERT_TRUE(matcher.ok()) << matcher.status();
  auto within = [&](UnitId unit, UnitId village) { return unit == village || registry->IsWithin(unit, village); };

  const MatchResult bare = (*matcher)->Match("光明村");
  EXPECT_EQ(bare.status, MatchStatus::kAmbiguous);
  ASSERT_EQ(bare.alternatives.size(), 1u);
  EXPECT_TRUE((within(bare.unit(), two_grids) && within(bare.alternatives[0], one_grid)) ||
              (within(bare.unit(), one_grid) && within(bare.alternatives[0], two_grids)));
  for (const auto& [text, village] : {std::pair<const char*, UnitId>{"河上镇光明村", two_grids}, {"楼塔镇光明村", one_grid}}) {
    const MatchResult decided = (*matcher)->Match(text);
    EXPECT_EQ(decided.status, MatchStatus::kMatched) << text;
    EXPECT_TRUE(within(decided.unit(), village)) << text;
  }
}

}  // namespace
}  // namespace pingan
