#include "core/datum.h"

#include <cmath>

#include <gtest/gtest.h>

namespace pingan {
namespace {

// Expected values from another implementation, the npm package gcoord 1.x (transform from
// WGS84 to GCJ02 and to BD09), 2026-12-01: the same published formulas, written independently.
struct Case {
  LonLat wgs, gcj, bd;
};
constexpr Case kCases[] = {
    {{120.1551, 30.2741}, {120.15979447929637, 30.271771223200254}, {120.16635834855023, 30.277599218169218}},  // 杭州
    {{120.2, 30.3}, {120.20456621925572, 30.297592764217878}, {120.21109416976847, 30.303492158318768}},
    {{116.42079, 39.90105}, {116.42702207613664, 39.90244630785103}, {116.43350106967921, 39.90849972035359}},  // 北京站
    {{119.65, 29.1}, {119.65471000184036, 29.097045042912757}, {119.66115034213955, 29.103303421839758}},
    {{121.47, 31.23}, {121.47453490044272, 31.22806748194233}, {121.48107620808638, 31.233986715638547}},
    {{87.6, 43.8}, {87.60283897227161, 43.80121203029208}, {87.60921015182171, 43.80747250765041}},  // 乌鲁木齐
    {{118.1, 24.45}, {118.10497170833366, 24.447360043575266}, {118.11143322303798, 24.453448238551175}},
    // Outside China GCJ-02 is WGS-84 itself.
    {{139.7, 35.7}, {139.7, 35.7}, {139.70644644984282, 35.70620954995983}},
};

void ExpectNear(LonLat got, LonLat want, double tolerance, const char* what) {
  EXPECT_NEAR(got.lon, want.lon, tolerance) << what;
  EXPECT_NEAR(got.lat, want.lat, tolerance) << what;
}

TEST(DatumTest, ForwardAgreesWithAnIndependentImplementation) {
  for (const Case& c : kCases) {
    ExpectNear(FromWgs84(Datum::kGcj02, c.wgs), c.gcj, 1e-9, "GCJ-02");
    ExpectNear(FromWgs84(Datum::kBd09, c.wgs), c.bd, 1e-9, "BD-09");
    ExpectNear(FromWgs84(Datum::kWgs84, c.wgs), c.wgs, 0, "WGS-84");
  }
}

TEST(DatumTest, BackToWgs84WithinAMillimetre) {
  for (const Case& c : kCases) {
    ExpectNear(ToWgs84(Datum::kGcj02, c.gcj), c.wgs, 1e-8, "from GCJ-02");  // 1e-8 degrees: ~1 mm
    ExpectNear(ToWgs84(Datum::kBd09, c.bd), c.wgs, 1e-8, "from BD-09");
  }
  // Over the whole demo city's extent, and the offset is the hundreds of metres it is known for.
  for (double lon = 118.3; lon <= 120.8; lon += 0.1) {
    for (double lat = 29.2; lat <= 30.6; lat += 0.1) {
      const LonLat wgs{lon, lat};
      const LonLat gcj = FromWgs84(Datum::kGcj02, wgs);
      const double metres = std::hypot((gcj.lon - lon) * 96000, (gcj.lat - lat) * 111000);
      EXPECT_GT(metres, 300);
      EXPECT_LT(metres, 800);
      ExpectNear(ToWgs84(Datum::kGcj02, gcj), wgs, 1e-9, "round trip");
      ExpectNear(ToWgs84(Datum::kBd09, FromWgs84(Datum::kBd09, wgs)), wgs, 1e-9, "round trip");
    }
  }
}

TEST(DatumTest, NamesAreReadAsSourcesWriteThem) {
  EXPECT_EQ(ParseDatum("GCJ-02"), Datum::kGcj02);
  EXPECT_EQ(ParseDatum("gcj02"), Datum::kGcj02);
  EXPECT_EQ(ParseDatum("BD-09"), Datum::kBd09);
  EXPECT_EQ(ParseDatum("bd09"), Datum::kBd09);
  EXPECT_EQ(ParseDatum("WGS-84"), Datum::kWgs84);
  EXPECT_EQ(ParseDatum("wgs 84"), Datum::kWgs84);
  EXPECT_EQ(ParseDatum("CGCS2000"), Datum::kWgs84);
  EXPECT_EQ(ParseDatum(""), std::nullopt);
  EXPECT_EQ(ParseDatum("GCJ-03"), std::nullopt);
  EXPECT_EQ(ParseDatum("BD-09-and-then-a-lot-more"), std::nullopt);
  EXPECT_EQ(DatumName(Datum::kGcj02), "GCJ-02");
  EXPECT_EQ(DatumName(*ParseDatum("bd09")), "BD-09");
}

}  // namespace
}  // namespace pingan
