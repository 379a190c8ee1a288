#include "sim/tessellate.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"

namespace pingan {
namespace {

double Area(const BoundingBox& box) { return (box.max_lon - box.min_lon) * (box.max_lat - box.min_lat); }

double Overlap(const BoundingBox& a, const BoundingBox& b) {
  double width = std::min(a.max_lon, b.max_lon) - std::max(a.min_lon, b.min_lon);
  double height = std::min(a.max_lat, b.max_lat) - std::max(a.min_lat, b.min_lat);
  return width > 0 && height > 0 ? width * height : 0;
}

TEST(Tessellate, TilesTheBoxWithAreasProportionalToWeights) {
  const BoundingBox city{118.34, 29.19, 120.72, 30.57};
  Rng rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> weights;
    int count = static_cast<int>(rng.Int(1, 60));
    double total = 0;
    for (int index = 0; index < count; ++index) weights.push_back(rng.Uniform(0.1, 10)), total += weights.back();
    std::vector<BoundingBox> boxes = Tessellate(city, weights);
    ASSERT_EQ(boxes.size(), weights.size());
    double area_sum = 0;
    for (size_t index = 0; index < boxes.size(); ++index) {
      const BoundingBox& box = boxes[index];
      ASSERT_FALSE(box.empty());
      EXPECT_GE(box.min_lon, city.min_lon - 1e-12);
      EXPECT_LE(box.max_lon, city.max_lon + 1e-12);
      EXPECT_GE(box.min_lat, city.min_lat - 1e-12);
      EXPECT_LE(box.max_lat, city.max_lat + 1e-12);
      area_sum += Area(box);
      for (size_t other = index + 1; other < boxes.size(); ++other) {
        ASSERT_LT(Overlap(box, boxes[other]), 1e-12) << index << " overlaps " << other;
      }
    }
    EXPECT_NEAR(area_sum, Area(city), 1e-9);
    // Exact proportionality holds for two pieces; more pieces follow the halving.
    if (count == 2) {
      EXPECT_NEAR(Area(boxes[0]) / Area(city), weights[0] / total, 1e-9);
    }
  }
}

TEST(Tessellate, EveryPointFallsInExactlyOnePiece) {
  const BoundingBox box{0, 0, 1, 1};
  std::vector<double> weights{1, 2, 3, 4, 5};
  auto pieces = Tessellate(box, weights);
  Rng rng(11);
  for (int sample = 0; sample < 2000; ++sample) {
    double lon = rng.Uniform(), lat = rng.Uniform();
    int hits = 0;
    for (const BoundingBox& piece : pieces) hits += piece.Contains(lon, lat);
    ASSERT_EQ(hits, 1) << lon << "," << lat;
  }
}

TEST(Tessellate, GeoJsonIsAClosedRing) {
  std::string json = BoxToGeoJson(BoundingBox{120, 30, 120.5, 30.25});
  EXPECT_EQ(json.rfind("{\"type\":\"Polygon\"", 0), 0u);
  EXPECT_NE(json.find("[120.0000000,30.0000000],[120.5000000,30.0000000]"), std::string::npos);
  EXPECT_NE(json.find("[120.0000000,30.0000000]]]}"), std::string::npos);
}

}  // namespace
}  // namespace pingan
