#include "geocode/point_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "catalog/config.h"
#include "core/rng.h"
#include "sim/demo_city.h"
#include "testing/demo_registry.h"
#include "sim/division_import.h"

namespace pingan {
namespace {

AddressCode C(const char* text) { return *AddressCode::ParsePrefix(text); }

constexpr double kMetresPerDegree = 6371008.8 * 3.14159265358979323846 / 180.0;

double Metres(double lon0, double lat0, double lon1, double lat1) {
  const double x_scale = kMetresPerDegree * std::cos(lat0 * 3.14159265358979323846 / 180.0);
  const double dx = (lon1 - lon0) * x_scale, dy = (lat1 - lat0) * kMetresPerDegree;
  return std::sqrt(dx * dx + dy * dy);
}

// Zhejiang with the demo city at scale 0.01 (rectangular synthetic grids and their buildings).
class PointIndexDemoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto demo = testing::ZhejiangDemoRegistry(0.01);
    ASSERT_TRUE(demo.ok()) << demo.status();
    registry_ = new Registry(std::move(demo->registry));
    city_ = *registry_->Find(C("3301"));
    auto index = PointIndex::Create(*registry_, city_);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = index->release();
    grids_ = new std::vector<UnitId>(registry_->Descendants(city_, Level::kGrid));
  }
  static void TearDownTestSuite() {
    delete grids_;
    delete index_;
    delete registry_;
  }

  // The answer by brute force: the first grid in code order whose box holds the point, and the
  // nearest of its buildings within 30 m.
  static PointResult BruteForce(double lon, double lat) {
    PointResult result;
    for (UnitId grid : *grids_) {
      if (!registry_->box(grid).Contains(lon, lat)) continue;
      result.grid = grid;
      double best = 30;
      for (UnitId child : registry_->children(grid)) {
        if (registry_->level(child) != Level::kBuilding) continue;
        const BuildingInfo& info = registry_->building(child);
        const double distance = Metres(lon, lat, info.lon, info.lat);
        if (distance < best || (distance == best && !result.building.valid())) {
          best = distance;
          result.building = child;
          result.building_distance_m = distance;
        }
      }
      return result;
    }
    return result;
  }

  static int GridsHolding(double lon, double lat) {
    int count = 0;
    for (UnitId grid : *grids_) count += registry_->box(grid).Contains(lon, lat);
    return count;
  }

  static Registry* registry_;
  static UnitId city_;
  static PointIndex* index_;
  static std::vector<UnitId>* grids_;
};
Registry* PointIndexDemoTest::registry_ = nullptr;
UnitId PointIndexDemoTest::city_;
PointIndex* PointIndexDemoTest::index_ = nullptr;
std::vector<UnitId>* PointIndexDemoTest::grids_ = nullptr;

TEST_F(PointIndexDemoTest, IndexesEveryGridAndBuildingOfTheCity) {
  EXPECT_EQ(index_->grid_count(), grids_->size());
  EXPECT_GT(grids_->size(), 3000u);
  size_t buildings = 0;
  for (UnitId grid : *grids_) {
    for (UnitId child : registry_->children(grid)) buildings += registry_->level(child) == Level::kBuilding;
  }
  EXPECT_EQ(index_->building_count(), buildings);
  EXPECT_LT(index_->candidates_per_bucket(), 4);
  // The nation holds the same grids here (only the demo city has any).
  auto national = PointIndex::Create(*registry_, registry_->nation());
  ASSERT_TRUE(national.ok()) << national.status();
  EXPECT_EQ((*national)->grid_count(), grids_->size());
}

TEST_F(PointIndexDemoTest, EveryBuildingLocatesToItsGridAndItself) {
  size_t checked = 0;
  for (UnitId grid : *grids_) {
    for (UnitId child : registry_->children(grid)) {
      if (registry_->level(child) != Level::kBuilding) continue;
      const BuildingInfo& info = registry_->building(child);
      PointResult result = index_->Locate(info.lon, info.lat);
      ASSERT_EQ(result.grid, grid) << registry_->code(child).ToString();
      ASSERT_TRUE(result.building.valid());
      // Itself, or another building at exactly the same point.
      if (result.building != child) {
        const BuildingInfo& other = registry_->building(result.building);
        EXPECT_EQ(other.lon, info.lon);
        EXPECT_EQ(other.lat, info.lat);
      }
      EXPECT_EQ(result.building_distance_m, 0);
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST_F(PointIndexDemoTest, PointsOnSharedEdgesBelongToExactlyOneGrid) {
  const BoundingBox& city = registry_->box(city_);
  size_t on_edges = 0;
  for (UnitId grid : *grids_) {
    const BoundingBox& box = registry_->box(grid);
    const double mid_lon = (box.min_lon + box.max_lon) / 2, mid_lat = (box.min_lat + box.max_lat) / 2;
    // The lower-left corner and the left and bottom edges are the grid's own.
    EXPECT_EQ(index_->LocateGrid(box.min_lon, box.min_lat), grid);
    EXPECT_EQ(index_->LocateGrid(box.min_lon, mid_lat), grid);
    EXPECT_EQ(index_->LocateGrid(mid_lon, box.min_lat), grid);
    // The right and top edges belong to a neighbour, or to nobody on the city's border.
    for (auto [lon, lat] : {std::pair{box.max_lon, mid_lat}, std::pair{mid_lon, box.max_lat},
                            std::pair{box.max_lon, box.max_lat}}) {
      UnitId found = index_->LocateGrid(lon, lat);
      EXPECT_NE(found, grid);
      const int holding = GridsHolding(lon, lat);
      ASSERT_LE(holding, 1) << lon << "," << lat;
      EXPECT_EQ(found.valid(), holding == 1);
      if (lon < city.max_lon && lat < city.max_lat) {
        EXPECT_EQ(holding, 1) << "a gap at " << lon << "," << lat;
      }
      ++on_edges;
    }
  }
  EXPECT_GT(on_edges, 9000u);
}

TEST_F(PointIndexDemoTest, PointsOutsideEveryGridFindNothing) {
  const BoundingBox& city = registry_->box(city_);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (auto [lon, lat] : {std::pair{0.0, 0.0}, std::pair{city.min_lon - 1e-9, city.min_lat},
                          std::pair{city.max_lon, city.min_lat}, std::pair{city.min_lon, city.max_lat},
                          std::pair{116.4, 39.9}, std::pair{-180.0, -90.0}, std::pair{180.0, 90.0},
                          std::pair{nan, 30.0}, std::pair{120.1, nan}, std::pair{inf, 30.0},
                          std::pair{-inf, -inf}}) {
    PointResult result = index_->Locate(lon, lat);
    EXPECT_FALSE(result.grid.valid()) << lon << "," << lat;
    EXPECT_FALSE(result.building.valid());
  }
}

TEST_F(PointIndexDemoTest, AgreesWithABruteForceScanOnRandomPoints) {
  const BoundingBox& city = registry_->box(city_);
  Rng rng(42);
  std::vector<Point> points;
  // Uniform in a box a little larger than the city, points near buildings, and points on
  // grid edges (50,000 in all: each is checked against a scan of every grid and building,
  // ~0.9 ms apiece under the sanitizers).
  std::vector<UnitId> buildings;
  for (UnitId grid : *grids_) {
    for (UnitId child : registry_->children(grid)) {
      if (registry_->level(child) == Level::kBuilding) buildings.push_back(child);
    }
  }
  const double margin = 0.01;
  for (int at = 0; at < 30000; ++at) {
    points.push_back({rng.Uniform(city.min_lon - margin, city.max_lon + margin),
                      rng.Uniform(city.min_lat - margin, city.max_lat + margin)});
  }
  for (int at = 0; at < 15000; ++at) {
    const BuildingInfo& info = registry_->building(buildings[rng.Int(0, buildings.size() - 1)]);
    points.push_back({info.lon + rng.Uniform(-2e-4, 2e-4), info.lat + rng.Uniform(-2e-4, 2e-4)});
  }
  for (int at = 0; at < 5000; ++at) {
    const BoundingBox& box = registry_->box((*grids_)[rng.Int(0, grids_->size() - 1)]);
    const double lon = rng.Chance(0.5) ? box.min_lon : box.max_lon;
    points.push_back({lon, rng.Uniform(box.min_lat, box.max_lat)});
  }
  std::vector<PointResult> many(points.size());
  index_->LocateMany(points, many);
  size_t in_grid = 0, with_building = 0;
  for (size_t at = 0; at < points.size(); ++at) {
    const Point& point = points[at];
    const PointResult expected = BruteForce(point.lon, point.lat);
    const PointResult result = index_->Locate(point.lon, point.lat);
    ASSERT_EQ(result.grid, expected.grid) << "point " << at << ": " << point.lon << "," << point.lat;
    if (result.building != expected.building) {  // only a tie may differ
      ASSERT_TRUE(result.building.valid() && expected.building.valid()) << "point " << at;
      ASSERT_NEAR(result.building_distance_m, expected.building_distance_m, 1e-6) << "point " << at;
    } else if (result.building.valid()) {
      ASSERT_NEAR(result.building_distance_m, expected.building_distance_m, 1e-6);
    }
    ASSERT_EQ(many[at].grid, result.grid);
    ASSERT_EQ(many[at].building, result.building);
    ASSERT_EQ(many[at].building_distance_m, result.building_distance_m);
    in_grid += result.grid.valid();
    with_building += result.building.valid();
  }
  // Both cases are exercised.
  EXPECT_GT(in_grid, 25000u);
  EXPECT_LT(in_grid, points.size());
  EXPECT_GT(with_building, 10000u);
}

TEST_F(PointIndexDemoTest, BuildingDistanceIsAnOption) {
  auto none = PointIndex::Create(*registry_, city_, PointIndexOptions{.building_distance_m = 0});
  ASSERT_TRUE(none.ok());
  const BuildingInfo& info = registry_->building(registry_->children((*grids_)[0])[0]);
  EXPECT_TRUE((*none)->Locate(info.lon, info.lat).grid.valid());
  EXPECT_FALSE((*none)->Locate(info.lon, info.lat).building.valid());
  // 50 m north of a building: found with a 100 m reach (unless another is nearer), not with 30 m
  // when nothing else is near.
  auto far = PointIndex::Create(*registry_, city_, PointIndexOptions{.building_distance_m = 100});
  ASSERT_TRUE(far.ok());
  PointResult reach = (*far)->Locate(info.lon, info.lat + 50 / kMetresPerDegree);
  ASSERT_TRUE(reach.building.valid());
  EXPECT_LE(reach.building_distance_m, 50 + 1e-6);
  EXPECT_FALSE(PointIndex::Create(*registry_, city_, PointIndexOptions{.building_distance_m = -1}).ok());
  EXPECT_FALSE(PointIndex::Create(*registry_, city_, PointIndexOptions{.building_distance_m = NAN}).ok());
  EXPECT_FALSE(PointIndex::Create(*registry_, UnitId{static_cast<uint32_t>(registry_->size())}).ok());
}

// Imported grids with polygons, in two communities so that each can be indexed alone:
//   community A: triangle (120,30) (120.1,30) (120,30.1), and a square with a square hole;
//   community B: the other half of the square [120,120.1]x[30,30.1] (sharing the hypotenuse)
//                and a synthetic rectangle [120.1,120.2)x[30,30.1).
class PointIndexPolygonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistryBuilder builder;
    UnitId zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
    UnitId hz = builder.Add({.code = C("3301"), .level = Level::kCity, .name = "杭州市", .parent = zj});
    UnitId xh = builder.Add({.code = C("330106"), .level = Level::kDistrict, .name = "西湖区", .parent = hz});
    UnitId town = builder.Add({.code = C("330106004"), .level = Level::kTown, .name = "西溪街道", .parent = xh});
    community_a = builder.Add({.code = C("330106004001"), .level = Level::kCommunity, .name = "甲社区", .parent = town});
    community_b = builder.Add({.code = C("330106004002"), .level = Level::kCommunity, .name = "乙社区", .parent = town});
    lower = builder.Add({.code = C("330106004001001"), .level = Level::kGrid, .name = "下三角", .parent = community_a,
                         .kind = UnitKind::kImported, .box = {120, 30, 120.1, 30.1},
                         .geometry = R"({"type":"Polygon","coordinates":[[[120,30],[120.1,30],[120,30.1],[120,30]]]})"});
    ring = builder.Add({.code = C("330106004001002"), .level = Level::kGrid, .name = "回字", .parent = community_a,
                        .kind = UnitKind::kImported, .box = {121, 30, 121.3, 30.3},
                        .geometry = R"({"type":"MultiPolygon","coordinates":[[)"
                                    R"([[121,30],[121.3,30],[121.3,30.3],[121,30.3],[121,30]],)"
                                    R"([[121.1,30.1],[121.1,30.2],[121.2,30.2],[121.2,30.1],[121.1,30.1]]]]})"});
    upper = builder.Add({.code = C("330106004002001"), .level = Level::kGrid, .name = "上三角", .parent = community_b,
                         .kind = UnitKind::kImported, .box = {120, 30, 120.1, 30.1},
                         .geometry = R"({"type":"Polygon","coordinates":[[[120.1,30],[120.1,30.1],[120,30.1],[120.1,30]]]})"});
    rectangle = builder.Add({.code = C("330106004002002"), .level = Level::kGrid, .name = "矩形", .parent = community_b,
                             .kind = UnitKind::kSynthetic, .box = {120.1, 30, 120.2, 30.1}});
    building = builder.Add({.code = C("33010600400100100001"), .level = Level::kBuilding, .parent = lower,
                            .kind = UnitKind::kImported, .building = {.lon = 120.01, .lat = 30.01}});
    auto registry = std::move(builder).Build();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::make_unique<Registry>(*std::move(registry));
    auto all = PointIndex::Create(*registry_, hz);
    auto a = PointIndex::Create(*registry_, community_a);
    auto b = PointIndex::Create(*registry_, community_b);
    ASSERT_TRUE(all.ok() && a.ok() && b.ok()) << all.status() << a.status() << b.status();
    all_ = *std::move(all), a_ = *std::move(a), b_ = *std::move(b);
  }

  UnitId community_a, community_b, lower, ring, upper, rectangle, building;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<PointIndex> all_, a_, b_;
};

TEST_F(PointIndexPolygonTest, PolygonsAreTestedExactly) {
  EXPECT_EQ(all_->grid_count(), 4u);
  EXPECT_EQ(all_->LocateGrid(120.02, 30.02), lower);
  // Inside the triangle's box but not the triangle.
  EXPECT_EQ(all_->LocateGrid(120.08, 30.08), upper);
  EXPECT_FALSE(a_->LocateGrid(120.08, 30.08).valid());
  EXPECT_EQ(all_->LocateGrid(120.15, 30.05), rectangle);
  // The hole.
  EXPECT_EQ(all_->LocateGrid(121.05, 30.05), ring);
  EXPECT_FALSE(all_->LocateGrid(121.15, 30.15).valid());
  EXPECT_EQ(all_->LocateGrid(121.25, 30.25), ring);
  // The building of the triangle.
  PointResult near = all_->Locate(120.01, 30.01 + 10 / kMetresPerDegree);
  EXPECT_EQ(near.grid, lower);
  EXPECT_EQ(near.building, building);
  EXPECT_NEAR(near.building_distance_m, 10, 1e-6);
  EXPECT_FALSE(all_->Locate(120.01, 30.01 + 40 / kMetresPerDegree).building.valid());
}

TEST_F(PointIndexPolygonTest, PointsOnSharedEdgesBelongToExactlyOneGrid) {
  Rng rng(3);
  auto exactly_one = [&](double lon, double lat) {
    const bool in_a = a_->LocateGrid(lon, lat).valid(), in_b = b_->LocateGrid(lon, lat).valid();
    EXPECT_NE(in_a, in_b) << lon << "," << lat;
    EXPECT_TRUE(all_->LocateGrid(lon, lat).valid()) << lon << "," << lat;
  };
  // The hypotenuse, its ends excluded where they are on the square's right or top edge.
  for (int at = 1; at < 2000; ++at) {
    const double t = rng.Uniform(0.001, 0.999);
    exactly_one(120 + t * 0.1, 30.1 - t * 0.1);
    exactly_one(120 + 0.1 * at / 2000.0, 30.1 - 0.1 * at / 2000.0);
  }
  // The triangle's vertical edge against the rectangle: the upper triangle's edge at 120.1.
  for (int at = 1; at < 100; ++at) {  // at 30 exactly, just left of 120.1 is the lower triangle's
    const double lat = 30 + 0.1 * at / 100.0;
    EXPECT_EQ(all_->LocateGrid(120.1, lat), rectangle) << lat;
    EXPECT_EQ(all_->LocateGrid(std::nextafter(120.1, 0.0), lat), upper) << lat;
  }
  // The left and bottom edges of the square are inside, the right and top ones outside.
  EXPECT_EQ(all_->LocateGrid(120, 30.05), lower);
  EXPECT_EQ(all_->LocateGrid(120.05, 30), lower);
  EXPECT_EQ(all_->LocateGrid(120, 30), lower);
  EXPECT_FALSE(all_->LocateGrid(120.05, 30.1).valid());
  EXPECT_FALSE(all_->LocateGrid(120.2, 30.05).valid());
  EXPECT_EQ(all_->LocateGrid(121, 30.05), ring);
  EXPECT_FALSE(all_->LocateGrid(121.3, 30.05).valid());
  // The hole's edges: its left edge (x = 121.1) is the ring's right edge there: outside.
  EXPECT_FALSE(all_->LocateGrid(121.1, 30.15).valid());
  EXPECT_EQ(all_->LocateGrid(121.2, 30.15), ring);
}

TEST(PointIndexPolygon, UnreadablePolygonsAreRefused) {
  RegistryBuilder builder;
  UnitId zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
  UnitId hz = builder.Add({.code = C("3301"), .level = Level::kCity, .name = "杭州市", .parent = zj});
  UnitId xh = builder.Add({.code = C("330106"), .level = Level::kDistrict, .name = "西湖区", .parent = hz});
  UnitId town = builder.Add({.code = C("330106004"), .level = Level::kTown, .name = "西溪街道", .parent = xh});
  UnitId community = builder.Add({.code = C("330106004001"), .level = Level::kCommunity, .name = "甲社区", .parent = town});
  builder.Add({.code = C("330106004001001"), .level = Level::kGrid, .name = "坏", .parent = community,
               .kind = UnitKind::kImported, .box = {120, 30, 120.1, 30.1},
               .geometry = R"({"type":"Point","coordinates":[120,30]})"});
  auto registry = std::move(builder).Build();
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto index = PointIndex::Create(*registry, hz);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.status().message().find("330106004001001"), std::string_view::npos) << index.status();
}

}  // namespace
}  // namespace pingan
