#include "sim/tessellate.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace pingan {
namespace {

void Split(const BoundingBox& box, std::span<const double> weights, size_t offset,
           std::vector<BoundingBox>& out) {
  if (weights.size() == 1) {
    out[offset] = box;
    return;
  }
  double total = 0;
  for (double weight : weights) total += weight;
  // Cut where the running sum comes closest to half, keeping both sides non-empty.
  size_t cut = 1;
  double running = weights[0];
  double best = std::abs(running - total / 2);
  double best_running = running;
  for (size_t index = 1; index + 1 < weights.size(); ++index) {
    running += weights[index];
    double distance = std::abs(running - total / 2);
    if (distance < best) best = distance, cut = index + 1, best_running = running;
  }
  double share = best_running / total;
  double mid_lat = (box.min_lat + box.max_lat) / 2;
  double width_km = (box.max_lon - box.min_lon) * std::cos(mid_lat * M_PI / 180.0);
  double height_km = box.max_lat - box.min_lat;
  BoundingBox first = box;
  BoundingBox second = box;
  if (width_km >= height_km) {
    double x = box.min_lon + (box.max_lon - box.min_lon) * share;
    first.max_lon = x, second.min_lon = x;
  } else {
    double y = box.max_lat - (box.max_lat - box.min_lat) * share;  // first part on top (north)
    first.min_lat = y, second.max_lat = y;
  }
  Split(first, weights.subspan(0, cut), offset, out);
  Split(second, weights.subspan(cut), offset + cut, out);
}

}  // namespace

std::vector<BoundingBox> Tessellate(const BoundingBox& box, std::span<const double> weights) {
  std::vector<BoundingBox> out(weights.size());
  if (!weights.empty()) Split(box, weights, 0, out);
  return out;
}

std::string BoxToGeoJson(const BoundingBox& box) {
  return absl::StrFormat(
      "{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}",
      box.min_lon, box.min_lat, box.max_lon, box.min_lat, box.max_lon, box.max_lat, box.min_lon,
      box.max_lat, box.min_lon, box.min_lat);
}

}  // namespace pingan
