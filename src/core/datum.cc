#include "core/datum.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>
#include <string>

namespace pingan {
namespace {

constexpr double kPi = std::numbers::pi;
// GCJ-02 works on the Krasovsky 1940 ellipsoid.
constexpr double kKrasovskyA = 6378245.0;
constexpr double kKrasovskyE2 = 0.00669342162296594323;

bool InChina(LonLat p) { return p.lon >= 72.004 && p.lon <= 137.8347 && p.lat >= 0.8293 && p.lat <= 55.8271; }

LonLat Gcj02FromWgs84(LonLat p) {
  if (!InChina(p)) return p;
  const double x = p.lon - 105.0, y = p.lat - 35.0;
  const double shared = (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  double dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::abs(x)) + shared +
                (20.0 * std::sin(y * kPi) + 40.0 * std::sin(y / 3.0 * kPi)) * 2.0 / 3.0 +
                (160.0 * std::sin(y / 12.0 * kPi) + 320.0 * std::sin(y / 30.0 * kPi)) * 2.0 / 3.0;
  double dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::abs(x)) + shared +
                (20.0 * std::sin(x * kPi) + 40.0 * std::sin(x / 3.0 * kPi)) * 2.0 / 3.0 +
                (150.0 * std::sin(x / 12.0 * kPi) + 300.0 * std::sin(x / 30.0 * kPi)) * 2.0 / 3.0;
  const double radians = p.lat / 180.0 * kPi;
  const double w = 1.0 - kKrasovskyE2 * std::sin(radians) * std::sin(radians);
  const double root = std::sqrt(w);
  dlat = dlat * 180.0 / (kKrasovskyA * (1.0 - kKrasovskyE2) / (w * root) * kPi);
  dlon = dlon * 180.0 / (kKrasovskyA / root * std::cos(radians) * kPi);
  return {p.lon + dlon, p.lat + dlat};
}

constexpr double kBaiduPi = kPi * 3000.0 / 180.0;

LonLat Bd09FromGcj02(LonLat p) {
  const double z = std::sqrt(p.lon * p.lon + p.lat * p.lat) + 0.00002 * std::sin(p.lat * kBaiduPi);
  const double theta = std::atan2(p.lat, p.lon) + 0.000003 * std::cos(p.lon * kBaiduPi);
  return {z * std::cos(theta) + 0.0065, z * std::sin(theta) + 0.006};
}

// The point `forward` takes to `target`: forward moves points by a small, slowly varying offset,
// so p <- p - (forward(p) - target) converges from p = target in a few steps.
template <typename Forward>
LonLat Invert(Forward forward, LonLat target) {
  LonLat p = target;
  for (int step = 0; step < 30; ++step) {
    const LonLat image = forward(p);
    const double dlon = image.lon - target.lon, dlat = image.lat - target.lat;
    p.lon -= dlon;
    p.lat -= dlat;
    if (std::abs(dlon) < 1e-12 && std::abs(dlat) < 1e-12) break;
  }
  return p;
}

}  // namespace

std::optional<Datum> ParseDatum(std::string_view name) {
  if (name.size() > 16) return std::nullopt;
  std::string key;
  for (char c : name) {
    if (c != '-' && c != '_' && c != ' ') key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (key == "WGS84" || key == "CGCS2000") return Datum::kWgs84;
  if (key == "GCJ02") return Datum::kGcj02;
  if (key == "BD09") return Datum::kBd09;
  return std::nullopt;
}

std::string_view DatumName(Datum datum) {
  switch (datum) {
    case Datum::kGcj02: return "GCJ-02";
    case Datum::kBd09: return "BD-09";
    default: return "WGS-84";
  }
}

LonLat FromWgs84(Datum datum, LonLat point) {
  switch (datum) {
    case Datum::kGcj02: return Gcj02FromWgs84(point);
    case Datum::kBd09: return Bd09FromGcj02(Gcj02FromWgs84(point));
    default: return point;
  }
}

LonLat ToWgs84(Datum datum, LonLat point) {
  switch (datum) {
    case Datum::kGcj02: return Invert(Gcj02FromWgs84, point);
    case Datum::kBd09: return Invert(Gcj02FromWgs84, Invert(Bd09FromGcj02, point));
    default: return point;
  }
}

}  // namespace pingan
