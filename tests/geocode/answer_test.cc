#include "geocode/answer.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pingan
