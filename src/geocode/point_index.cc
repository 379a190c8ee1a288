#include "geocode/point_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace pingan {
namespace {

using nlohmann::json;

// Metres per degree of latitude (mean Earth radius 6,371,008.8 m).
constexpr double kMetresPerDegree = 6371008.8 * 3.14159265358979323846 / 180.0;
// Buckets per indexed grid: the demo city's urban grids are ~100 times smaller than its rural
// ones, so buckets are made much finer than one per grid (see docs/points.md for the counts).
constexpr double kBucketsPerGrid = 16;
constexpr double kMaxBuckets = 1 << 22;
constexpr size_t kBuildingsPerStrip = 4;

struct Extent {
  double min_lon = std::numeric_limits<double>::infinity(), min_lat = min_lon;
  double max_lon = -min_lon, max_lat = -min_lon;
  void Add(double lon, double lat) {
    min_lon = std::min(min_lon, lon), max_lon = std::max(max_lon, lon);
    min_lat = std::min(min_lat, lat), max_lat = std::max(max_lat, lat);
  }
  void Add(const Extent& other) {
    Add(other.min_lon, other.min_lat);
    Add(other.max_lon, other.max_lat);
  }
  bool empty() const { return !(max_lon > min_lon && max_lat > min_lat); }
};

// Reads the rings of a GeoJSON Polygon or MultiPolygon. Each ring is a list of positions; a
// ring that is not closed is closed.
absl::Status ReadRings(std::string_view text, std::vector<std::vector<Point>>& rings) {
  json geometry = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (geometry.is_discarded() || !geometry.is_object()) return absl::InvalidArgumentError("geometry is not JSON");
  auto type = geometry.find("type");
  auto coordinates = geometry.find("coordinates");
  if (type == geometry.end() || !type->is_string() || coordinates == geometry.end() || !coordinates->is_array()) {
    return absl::InvalidArgumentError("geometry has no type or coordinates");
  }
  std::vector<const json*> polygons;
  if (*type == "Polygon") {
    polygons.push_back(&*coordinates);
  } else if (*type == "MultiPolygon") {
    for (const json& polygon : *coordinates) {
      if (!polygon.is_array()) return absl::InvalidArgumentError("MultiPolygon member is not an array");
      polygons.push_back(&polygon);
    }
  } else {
    return absl::InvalidArgumentError(Cat("geometry type ", type->get<std::string>(), " is not a polygon"));
  }
  for (const json* polygon : polygons) {
    for (const json& ring : *polygon) {
      if (!ring.is_array()) return absl::InvalidArgumentError("ring is not an array");
      std::vector<Point> points;
      points.reserve(ring.size() + 1);
      for (const json& position : ring) {
        if (!position.is_array() || position.size() < 2 || !position[0].is_number() || !position[1].is_number()) {
          return absl::InvalidArgumentError("position is not [lon, lat]");
        }
        Point point{position[0].get<double>(), position[1].get<double>()};
        if (!std::isfinite(point.lon) || !std::isfinite(point.lat)) {
          return absl::InvalidArgumentError("position is not finite");
        }
        points.push_back(point);
      }
      if (points.size() < 3) return absl::InvalidArgumentError("ring has fewer than 3 positions");
      if (points.front().lon != points.back().lon || points.front().lat != points.back().lat) {
        points.push_back(points.front());
      }
      rings.push_back(std::move(points));
    }
  }
  if (rings.empty()) return absl::InvalidArgumentError("polygon has no rings");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PointIndex>> PointIndex::Create(const Registry& registry, UnitId city,
                                                               PointIndexOptions options) {
  if (!registry.Contains(city)) return absl::InvalidArgumentError("point index: unknown unit");
  if (!std::isfinite(options.building_distance_m) || options.building_distance_m < 0) {
    return absl::InvalidArgumentError(Cat("point index: building distance ", options.building_distance_m,
                                          " is not a non-negative number of metres"));
  }
  std::unique_ptr<PointIndex> index(new PointIndex(registry, options));

  // Grids and their shapes.
  struct Shape {
    Extent extent;
    uint32_t polygon = kNoPolygon;
  };
  std::vector<Shape> shapes;
  Extent all;
  std::vector<std::vector<Point>> rings;
  for (UnitId grid : registry.Descendants(city, Level::kGrid)) {
    if (registry.retired(grid) || registry.level(grid) != Level::kGrid) continue;
    Shape shape;
    std::string_view geometry = registry.kind(grid) == UnitKind::kImported ? registry.geometry(grid) : "";
    if (!geometry.empty()) {
      rings.clear();
      absl::Status read = ReadRings(geometry, rings);
      if (!read.ok()) {
        return absl::InvalidArgumentError(
            Cat("point index: grid ", registry.code(grid).ToString(), ": ", read.message()));
      }
      Polygon polygon{.first_edge = static_cast<uint32_t>(index->edges_.size())};
      for (const std::vector<Point>& ring : rings) {
        for (size_t at = 0; at + 1 < ring.size(); ++at) {
          Point a = ring[at], b = ring[at + 1];
          shape.extent.Add(a.lon, a.lat);
          if (a.lat == b.lat) continue;  // horizontal edges never cross a horizontal ray
          if (b.lat < a.lat) std::swap(a, b);
          index->edges_.push_back(Edge{a.lon, a.lat, b.lon, b.lat});
        }
      }
      polygon.edge_count = static_cast<uint32_t>(index->edges_.size()) - polygon.first_edge;
      shape.polygon = static_cast<uint32_t>(index->polygons_.size());
      index->polygons_.push_back(polygon);
    } else {
      const BoundingBox& box = registry.box(grid);
      shape.extent.Add(box.min_lon, box.min_lat);
      shape.extent.Add(box.max_lon, box.max_lat);
    }
    if (shape.extent.empty() || !std::isfinite(shape.extent.min_lon) || !std::isfinite(shape.extent.max_lon) ||
        !std::isfinite(shape.extent.min_lat) || !std::isfinite(shape.extent.max_lat)) {
      continue;  // no area: nothing can be inside it
    }
    all.Add(shape.extent);
    index->grids_.push_back(grid);
    shapes.push_back(shape);
  }

  // Buildings per grid, sorted by longitude, in strips of about kBuildingsPerStrip.
  struct Sortable {
    double lon, lat;
    UnitId id;
  };
  std::vector<Sortable> buildings;
  std::vector<uint32_t> strips;
  std::vector<GridBuildings> grid_buildings(index->grids_.size());
  for (size_t grid = 0; grid < index->grids_.size(); ++grid) {
    const size_t first = buildings.size();
    for (UnitId child : registry.children(index->grids_[grid])) {
      if (registry.level(child) != Level::kBuilding || registry.retired(child)) continue;
      const BuildingInfo& info = registry.building(child);
      if (info.lon == 0 && info.lat == 0) continue;  // no point
      if (!std::isfinite(info.lon) || !std::isfinite(info.lat)) continue;
      buildings.push_back(Sortable{info.lon, info.lat, child});
    }
    if (buildings.size() == first) continue;
    std::sort(buildings.begin() + first, buildings.end(), [](const Sortable& a, const Sortable& b) {
      return std::tie(a.lon, a.lat, a.id.value) < std::tie(b.lon, b.lat, b.id.value);
    });
    GridBuildings& info = grid_buildings[grid];
    const size_t count = buildings.size() - first;
    const double min_lon = buildings[first].lon, max_lon = buildings.back().lon;
    info.min_lon = min_lon;
    info.strip_count = static_cast<uint32_t>(std::max<size_t>(1, count / kBuildingsPerStrip));
    info.strips_per_degree = max_lon > min_lon ? info.strip_count / (max_lon - min_lon) : 0;
    info.first_strip = static_cast<uint32_t>(strips.size());
    // strips[first_strip + s] = index of the first building of strip s (then one past the end).
    size_t at = first;
    for (uint32_t strip = 0; strip < info.strip_count; ++strip) {
      while (at < buildings.size() && index->StripOf(info, buildings[at].lon) < strip) ++at;
      strips.push_back(static_cast<uint32_t>(at));
    }
    strips.push_back(static_cast<uint32_t>(buildings.size()));
  }
  index->buildings_.resize(buildings.size());
  for (size_t at = 0; at < buildings.size(); ++at) {
    index->buildings_[at] = BuildingPoint{buildings[at].lon, buildings[at].lat, buildings[at].id};
  }
  index->strip_offsets_.assign(strips.begin(), strips.end());

  if (index->grids_.empty()) return index;

  // The bucket grid: square buckets (in degrees), about kBucketsPerGrid per grid.
  index->min_lon_ = all.min_lon, index->max_lon_ = all.max_lon;
  index->min_lat_ = all.min_lat, index->max_lat_ = all.max_lat;
  const double width = all.max_lon - all.min_lon, height = all.max_lat - all.min_lat;
  const double buckets = std::min(kMaxBuckets, std::max(1.0, kBucketsPerGrid * index->grids_.size()));
  const double side = std::sqrt(width * height / buckets);
  index->columns_ = static_cast<uint32_t>(std::clamp(std::ceil(width / side), 1.0, kMaxBuckets));
  index->rows_ = static_cast<uint32_t>(std::clamp(std::ceil(height / side), 1.0, kMaxBuckets));
  index->lon_scale_ = index->columns_ / width;
  index->lat_scale_ = index->rows_ / height;

  // A grid goes into every bucket its closed extent meets. The bucket of a coordinate is a
  // monotonic function of it, so every point of the extent falls in one of those buckets.
  auto column = [&](double lon) {
    return std::min<uint32_t>(static_cast<uint32_t>(std::max(0.0, (lon - index->min_lon_) * index->lon_scale_)),
                              index->columns_ - 1);
  };
  auto row = [&](double lat) {
    return std::min<uint32_t>(static_cast<uint32_t>(std::max(0.0, (lat - index->min_lat_) * index->lat_scale_)),
                              index->rows_ - 1);
  };
  const size_t cells = static_cast<size_t>(index->columns_) * index->rows_;
  std::vector<uint32_t> counts(cells + 1, 0);
  for (const Shape& shape : shapes) {
    for (uint32_t y = row(shape.extent.min_lat); y <= row(shape.extent.max_lat); ++y) {
      for (uint32_t x = column(shape.extent.min_lon); x <= column(shape.extent.max_lon); ++x) {
        ++counts[static_cast<size_t>(y) * index->columns_ + x + 1];
      }
    }
  }
  for (size_t cell = 0; cell < cells; ++cell) counts[cell + 1] += counts[cell];
  index->cell_offsets_.assign(counts.begin(), counts.end());
  index->candidates_.resize(counts[cells]);
  for (uint32_t grid = 0; grid < shapes.size(); ++grid) {  // code order within every bucket
    const Shape& shape = shapes[grid];
    const Candidate candidate{shape.extent.min_lon, shape.extent.min_lat, shape.extent.max_lon,
                              shape.extent.max_lat, grid, shape.polygon, grid_buildings[grid]};
    for (uint32_t y = row(shape.extent.min_lat); y <= row(shape.extent.max_lat); ++y) {
      for (uint32_t x = column(shape.extent.min_lon); x <= column(shape.extent.max_lon); ++x) {
        index->candidates_[counts[static_cast<size_t>(y) * index->columns_ + x]++] = candidate;
      }
    }
  }
  return index;
}

bool PointIndex::InPolygon(uint32_t polygon, double lon, double lat) const {
  const Polygon& shape = polygons_[polygon];
  bool inside = false;
  const Edge* edge = edges_.data() + shape.first_edge;
  for (const Edge* end = edge + shape.edge_count; edge != end; ++edge) {
    // Half-open in latitude, and the point counts as just right of an edge it lies on: the
    // same evaluation in every polygon sharing the edge (it is stored from its lower end).
    if (lat < edge->lat0 || lat >= edge->lat1) continue;
    const double crossing = edge->lon0 + (lat - edge->lat0) * (edge->lon1 - edge->lon0) / (edge->lat1 - edge->lat0);
    if (lon < crossing) inside = !inside;
  }
  return inside;
}

uint32_t PointIndex::CellOf(double lon, double lat) const {
  // Written so that NaN fails too.
  if (!(lon >= min_lon_ && lon < max_lon_ && lat >= min_lat_ && lat < max_lat_)) return UINT32_MAX;
  const uint32_t x = std::min(static_cast<uint32_t>((lon - min_lon_) * lon_scale_), columns_ - 1);
  const uint32_t y = std::min(static_cast<uint32_t>((lat - min_lat_) * lat_scale_), rows_ - 1);
  return y * columns_ + x;
}

const PointIndex::Candidate* PointIndex::FindInCell(uint32_t cell, double lon, double lat) const {
  const Candidate* candidate = candidates_.data() + cell_offsets_[cell];
  for (const Candidate* end = candidates_.data() + cell_offsets_[cell + 1]; candidate != end; ++candidate) {
    if (lon < candidate->min_lon || lon >= candidate->max_lon || lat < candidate->min_lat ||
        lat >= candidate->max_lat) {
      continue;
    }
    if (candidate->polygon == kNoPolygon || InPolygon(candidate->polygon, lon, lat)) return candidate;
  }
  return nullptr;
}

const PointIndex::Candidate* PointIndex::FindGrid(double lon, double lat) const {
  const uint32_t cell = CellOf(lon, lat);
  return cell == UINT32_MAX ? nullptr : FindInCell(cell, lon, lat);
}

uint32_t PointIndex::StripOf(const GridBuildings& grid, double lon) const {
  const double strip = (lon - grid.min_lon) * grid.strips_per_degree;  // monotonic in lon
  if (!(strip > 0)) return 0;
  return strip >= grid.strip_count ? grid.strip_count - 1 : static_cast<uint32_t>(strip);
}

PointIndex::Reach PointIndex::ReachOf(const GridBuildings& info, double lon, double lat) const {
  Reach reach;
  if (info.strip_count == 0 || !(options_.building_distance_m > 0)) return reach;
  // At least 1 mm per degree, so that the window stays finite at the poles.
  reach.x_scale = std::max(kMetresPerDegree * std::cos(lat * (3.14159265358979323846 / 180.0)), 1e-3);
  const double window = options_.building_distance_m / reach.x_scale;  // degrees of longitude
  reach.strips = strip_offsets_.data() + info.first_strip;
  reach.first_strip = StripOf(info, lon - window);
  reach.last_strip = StripOf(info, lon + window) + 1;
  return reach;
}

void PointIndex::NearestBuilding(const Reach& reach, double lon, double lat, PointResult& result) const {
  if (reach.strips == nullptr) return;
  const uint32_t first = reach.strips[reach.first_strip], last = reach.strips[reach.last_strip];
  const double limit = options_.building_distance_m;
  double best = limit * limit;
  uint32_t chosen = UINT32_MAX;
  for (uint32_t at = first; at != last; ++at) {
    const double dx = (buildings_[at].lon - lon) * reach.x_scale, dy = (buildings_[at].lat - lat) * kMetresPerDegree;
    const double squared = dx * dx + dy * dy;
    if (squared < best || (squared == best && chosen == UINT32_MAX)) {
      best = squared;
      chosen = at;
    }
  }
  if (chosen != UINT32_MAX) {
    result.building = buildings_[chosen].id;
    result.building_distance_m = std::sqrt(best);
  }
}

UnitId PointIndex::LocateGrid(double lon, double lat) const {
  const Candidate* grid = FindGrid(lon, lat);
  return grid == nullptr ? kNoUnit : grids_[grid->grid];
}

PointResult PointIndex::Locate(double lon, double lat) const {
  PointResult result;
  const Candidate* grid = FindGrid(lon, lat);
  if (grid == nullptr) return result;
  result.grid = grids_[grid->grid];
  NearestBuilding(ReachOf(grid->buildings, lon, lat), lon, lat, result);
  return result;
}

// Locate in stages over a few dozen points at a time, each stage prefetching what the next one
// reads: the random reads of many points then overlap instead of waiting one after another.
void PointIndex::LocateMany(std::span<const Point> points, std::span<PointResult> out) const {
  constexpr size_t kChunk = 32;
  uint32_t cells[kChunk];
  const Candidate* grids[kChunk];
  Reach reaches[kChunk];
  for (size_t base = 0; base < points.size(); base += kChunk) {
    const size_t count = std::min(kChunk, points.size() - base);
    const Point* chunk = points.data() + base;
    for (size_t at = 0; at < count; ++at) {
      cells[at] = CellOf(chunk[at].lon, chunk[at].lat);
      if (cells[at] != UINT32_MAX) __builtin_prefetch(&cell_offsets_[cells[at]]);
    }
    for (size_t at = 0; at < count; ++at) {
      if (cells[at] != UINT32_MAX) __builtin_prefetch(&candidates_[cell_offsets_[cells[at]]]);
    }
    for (size_t at = 0; at < count; ++at) {
      grids[at] = cells[at] == UINT32_MAX ? nullptr : FindInCell(cells[at], chunk[at].lon, chunk[at].lat);
      reaches[at] = grids[at] == nullptr ? Reach{} : ReachOf(grids[at]->buildings, chunk[at].lon, chunk[at].lat);
      if (reaches[at].strips != nullptr) __builtin_prefetch(&reaches[at].strips[reaches[at].first_strip]);
    }
    for (size_t at = 0; at < count; ++at) {
      if (reaches[at].strips == nullptr) continue;
      const BuildingPoint* first = &buildings_[reaches[at].strips[reaches[at].first_strip]];
      __builtin_prefetch(first);
      __builtin_prefetch(first + 4);
    }
    for (size_t at = 0; at < count; ++at) {
      PointResult& result = out[base + at];
      result = PointResult{};
      if (grids[at] == nullptr) continue;
      result.grid = grids_[grids[at]->grid];
      NearestBuilding(reaches[at], chunk[at].lon, chunk[at].lat, result);
    }
  }
}

double PointIndex::candidates_per_bucket() const {
  const size_t buckets = bucket_count();
  return buckets == 0 ? 0 : static_cast<double>(candidates_.size()) / static_cast<double>(buckets);
}

}  // namespace pingan
