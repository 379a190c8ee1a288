#include "geocode/answer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/demo_registry.h"

namespace pingan {
namespace {

using nlohmann::json;

// The writer renders paths from caches (whole paths per area, single steps per unit): whatever
// the order places come in, and however many share their upper steps, each answer's path is
// PathJson's, the uncached reference.
TEST(GeocodeAnswerWriter, CachedPathsAreTheReferencePathsInAnyOrder) {
  auto demo = testing::ZhejiangDemoRegistry(0.002);
  ASSERT_TRUE(demo.ok()) << demo.status();
  const Registry& registry = demo->registry;
  const UnitId district = *registry.Find(*AddressCode::ParsePrefix("330106"));

  std::vector<Place> places;
  for (UnitId building : registry.Descendants(district, Level::kBuilding)) {
    places.push_back(Place{building, Level::kBuilding});
    const BuildingInfo& info = registry.building(building);
    if (info.entrances > 0 && info.floors > 0 && info.rooms_per_floor > 0) {
      places.push_back(Place{building, Level::kRoom, 1, 101});
      places.push_back(Place{building, Level::kUnit, 1, 0});
    }
    if (places.size() > 3000) break;
  }
  for (UnitId community : registry.Descendants(district, Level::kCommunity)) places.push_back(Place{community, Level::kCommunity});
  // Units a management unit governs carry `governed_by` in their steps.
  size_t governed = 0;
  for (size_t id = 1; id < registry.size() && governed < 50; ++id) {
    const UnitId unit{static_cast<uint32_t>(id)};
    if (registry.retired(unit) || registry.parent(unit) == registry.stat_parent(unit)) continue;
    places.push_back(Place{unit, registry.level(unit)});
    ++governed;
  }
  ASSERT_GT(places.size(), 500u);
  ASSERT_GT(governed, 0u);

  GeocodeAnswerWriter writer(registry);
  std::string out;
  size_t checked = 0;
  // Twice over, forwards then backwards: fresh paths from cached steps, then cached paths.
  for (int round = 0; round < 2; ++round) {
    for (size_t at = 0; at < places.size(); ++at) {
      const Place& place = places[round == 0 ? at : places.size() - 1 - at];
      MatchResult result;
      result.status = MatchStatus::kMatched;
      result.place = place;
      result.confidence = 0.99;
      // Alternatives: the places next to it in the list, as units (rendered from the same caches).
      for (size_t other = at + 1; other < std::min(places.size(), at + 3); ++other) {
        result.alternatives.push_back(places[other].unit);
      }
      writer.Write("某地址", result, out);
      const json answer = json::parse(out);
      ASSERT_EQ(answer["path"], PathJson(registry, place)) << out;
      EXPECT_EQ(answer["path"].back()["code"], registry.PlaceCode(place).ToString());
      ASSERT_EQ(answer.contains("alternatives"), !result.alternatives.empty()) << out;
      for (size_t index = 0; index < result.alternatives.size(); ++index) {
        const UnitId unit = result.alternatives[index];
        const json& alternative = answer["alternatives"][index];
        EXPECT_EQ(alternative["code"], registry.code(unit).ToString());
        EXPECT_EQ(alternative["name"], registry.name(unit));
        EXPECT_EQ(alternative["level"], LevelName(registry.level(unit)));
        ASSERT_EQ(alternative["path"], PathJson(registry, Place{unit, registry.level(unit)})) << out;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * places.size());
}

// JsonQuoted copies text with nothing to escape between quotes and hands the rest to nlohmann:
// either way, the result is nlohmann's dump. Random strings of the bytes that matter — quotes,
// backslashes, control bytes, DEL, multi-byte characters, broken sequences — at every offset of
// the eight-byte words the fast check reads.
TEST(JsonQuoted, IsNlohmannsDumpOfTheString) {
  const std::vector<std::string> pieces = {
      "a", "Z", "0", " ", "\"", "\\", std::string(1, '\0'), "\x01", "\t", "\n", "\x1F", "\x7F",
      "西", "湖", "é", "\xF0\x9F\x98\x80", "\x80", "\xC0\xAF", "\xED\xA0\x80", "\xE6\x9D", "\xFF", "~"};
  std::mt19937 random(7);
  size_t escaped = 0, plain = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t count = random() % 24;
    // Mostly plain pieces, so that long runs reach the word loop with one odd byte somewhere.
    const bool plain_only = random() % 3 == 0;
    for (size_t at = 0; at < count; ++at) {
      text += pieces[plain_only ? std::vector<size_t>{0, 1, 2, 3, 12, 13, 14, 15, 21}[random() % 9]
                                : random() % pieces.size()];
    }
    const std::string expected = json(text).dump(-1, ' ', false, json::error_handler_t::replace);
    ASSERT_EQ(JsonQuoted(text), expected) << json(text).dump(-1, ' ', true, json::error_handler_t::replace);
    (expected.size() == text.size() + 2 ? plain : escaped)++;
  }
  EXPECT_GT(plain, 5000u);
  EXPECT_GT(escaped, 5000u);
}

// The fields written by hand (reason, formerly) read back as what they hold.
TEST(GeocodeAnswerWriter, ReasonAndFormerNameReadBack) {
  auto demo = testing::ZhejiangDemoRegistry(0.002);
  ASSERT_TRUE(demo.ok()) << demo.status();
  const Registry& registry = demo->registry;
  GeocodeAnswerWriter writer(registry);
  HistoryChange change;
  change.name = "江干区 \"旧\"";
  change.code = *AddressCode::ParsePrefix("330104");
  change.date = "2021-04-09";
  MatchResult result;
  result.status = MatchStatus::kPartial;
  result.place = Place{*registry.Find(*AddressCode::ParsePrefix("330106")), Level::kDistrict};
  result.confidence = 0.9;
  result.formerly = &change;
  result.reason = "a \"road\" not in the registry";
  std::string out;
  writer.Write("杭州市\t江干区 13800000000", result, out);
  const json answer = json::parse(out);
  EXPECT_EQ(answer["input"], "杭州市\t江干区 ***********");
  EXPECT_EQ(answer["status"], "partial");
  EXPECT_EQ(answer["reason"], "a \"road\" not in the registry");
  EXPECT_EQ(answer["formerly"], (json{{"name", change.name}, {"code", change.code.ToString()}, {"until", "2021-04-09"}}));
  EXPECT_EQ(answer["confidence"], 0.9);
  EXPECT_EQ(answer["code"], registry.PlaceCode(result.place).ToString());
}

}  // namespace
}  // namespace pingan
