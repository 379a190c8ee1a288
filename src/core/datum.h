// Points as Chinese systems write them. pingan keeps every point in WGS-84 (the canonical form,
// INDICATORS.md), but many source systems do not: maps from AutoNavi (高德), Tencent and most
// apps built on them give GCJ-02 (国测局坐标, the "Mars" offset of 300-700 m that Chinese law
// requires of public maps), and Baidu's give BD-09 (百度坐标, a further offset on GCJ-02).
// A point read in the wrong one lands hundreds of metres away: often in the next grid.
//
// GCJ-02 is the published obfuscation (a polynomial and sine offset on the Krasovsky ellipsoid),
// applied only inside China's bounding box; it has no closed inverse, so ToWgs84 inverts it by
// fixed-point iteration to well under a millimetre. BD-09 is a further small rotation and scale
// of GCJ-02, inverted the same way. CGCS2000 (the national geodetic system, used by 警用地理
// 信息 PGIS and the surveying offices) differs from WGS-84 by centimetres, below what a grid or a
// building can tell, and is read as WGS-84.
#pragma once

#include <optional>
#include <string_view>

namespace pingan {

enum class Datum { kWgs84, kGcj02, kBd09 };

struct LonLat {
  double lon = 0, lat = 0;
};

// "WGS-84", "WGS84", "CGCS2000", "GCJ-02", "GCJ02", "BD-09", "BD09" (any case); nullopt otherwise.
std::optional<Datum> ParseDatum(std::string_view name);
// "WGS-84", "GCJ-02", "BD-09".
std::string_view DatumName(Datum datum);

// A WGS-84 point in `datum`.
LonLat FromWgs84(Datum datum, LonLat point);
// A point in `datum` in WGS-84 (FromWgs84's inverse: FromWgs84(d, ToWgs84(d, p)) is p within
// 1e-9 degrees).
LonLat ToWgs84(Datum datum, LonLat point);

}  // namespace pingan
