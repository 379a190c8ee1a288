// Point → place: which grid holds a WGS-84 point, and which of that grid's buildings is nearest
// (`pingan geocode --points`, docs/points.md).
//
// Every live grid under a city is put in a uniform bucket grid over the extent the grids cover.
// A bucket lists the grids whose box meets it; a query tests only those. Synthetic grids are
// rectangles and are tested by their box; imported grids with a polygon are tested exactly by
// a crossing-number test on their rings (parsed once from the GeoJSON geometry).
//
// Boundary rule: boxes are half-open, [min_lon, max_lon) x [min_lat, max_lat), as
// BoundingBox::Contains. The polygon test follows the same rule (a point on a left or bottom
// edge is inside, on a right or top edge outside, and each edge is evaluated the same way for
// both polygons that share it), so that a point on an edge shared by two grids — rectangle or
// polygon — belongs to exactly one of them. Where imported grids overlap, the first grid in
// code order wins.
//
// The building: the nearest building of the chosen grid within `building_distance_m` metres
// (equirectangular distance at the point's latitude), from a per-grid list sorted by longitude
// and cut into strips of equal width, so that the buildings in reach are found without a
// search. Buildings without a point (lon = lat = 0) are left out.
//
// Thread-safety: immutable after Create; Locate and LocateMany may run on many threads at once.
//
// Example:
//   auto index = PointIndex::Create(registry, *registry.Find(*AddressCode::ParsePrefix("3301")));
//   PointResult place = (*index)->Locate(120.13, 30.27);
//   if (place.grid.valid()) ...
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "address/registry.h"
#include "core/huge_page_allocator.h"

namespace pingan {

struct PointIndexOptions {
  double building_distance_m = 30;  // 0: no building search
};

struct Point {
  double lon = 0, lat = 0;
};

struct PointResult {
  UnitId grid;                    // kNoUnit when the point is outside every grid
  UnitId building;                // kNoUnit when no building of the grid is close enough
  double building_distance_m = 0; // when `building` is valid
};

class PointIndex {
 public:
  // Indexes every live grid in the governance subtree of `city` (every grid of the registry
  // when `city` is the nation). REQUIRES: `registry` outlives the index. InvalidArgument for an
  // unknown unit, a negative or non-finite distance, or an imported polygon that cannot be read.
  static absl::StatusOr<std::unique_ptr<PointIndex>> Create(const Registry& registry, UnitId city,
                                                            PointIndexOptions options = {});

  // The grid holding the point and its nearest building. Non-finite input: nothing found.
  PointResult Locate(double lon, double lat) const;
  // Locate for many points. REQUIRES: out.size() >= points.size().
  void LocateMany(std::span<const Point> points, std::span<PointResult> out) const;

  // Only the grid (no building search).
  UnitId LocateGrid(double lon, double lat) const;

  size_t grid_count() const { return grids_.size(); }
  size_t building_count() const { return buildings_.size(); }
  // Average number of grids listed per bucket, and the bucket count (for tuning and reports).
  double candidates_per_bucket() const;
  size_t bucket_count() const { return static_cast<size_t>(columns_) * rows_; }

 private:
  // A grid's buildings: sorted by longitude, in `strip_count` strips of equal width from
  // `min_lon`; strip s holds buildings_[strip_offsets_[first_strip + s] ..
  // strip_offsets_[first_strip + s + 1]).
  struct GridBuildings {
    double min_lon = 0;
    double strips_per_degree = 0;
    uint32_t first_strip = 0;
    uint32_t strip_count = 0;  // 0: no buildings
  };
  // One grid as listed in a bucket, in one 64-byte line: its box (the common case is decided
  // without touching anything else), its polygon if any, and where its buildings are.
  struct Candidate {
    double min_lon, min_lat, max_lon, max_lat;
    uint32_t grid;     // index into grids_
    uint32_t polygon;  // index into polygons_, or kNoPolygon (a rectangle)
    GridBuildings buildings;
  };
  static constexpr uint32_t kNoPolygon = UINT32_MAX;
  // A non-horizontal polygon edge, stored from its lower end (lower latitude; then lower
  // longitude) so that two polygons sharing the edge compute the same crossing.
  struct Edge {
    double lon0, lat0, lon1, lat1;  // lat0 < lat1
  };
  struct Polygon {
    uint32_t first_edge = 0, edge_count = 0;
  };
  struct BuildingPoint {
    double lon, lat;
    UnitId id;  // beside the point: the answer costs no further cache miss
  };
  template <typename T>
  using HugeVector = std::vector<T, HugePageAllocator<T>>;

  PointIndex(const Registry& registry, PointIndexOptions options) : registry_(registry), options_(options) {}
  // The buildings of a grid within reach of a point: strips [first_strip, last_strip).
  struct Reach {
    const uint32_t* strips = nullptr;  // null: none
    uint32_t first_strip = 0, last_strip = 0;
    double x_scale = 0;  // metres per degree of longitude at the point
  };
  // The bucket of a point, or UINT32_MAX outside the indexed extent (or NaN).
  uint32_t CellOf(double lon, double lat) const;
  // The grid holding the point, or null.
  const Candidate* FindInCell(uint32_t cell, double lon, double lat) const;
  const Candidate* FindGrid(double lon, double lat) const;
  bool InPolygon(uint32_t polygon, double lon, double lat) const;
  Reach ReachOf(const GridBuildings& grid, double lon, double lat) const;
  void NearestBuilding(const Reach& reach, double lon, double lat, PointResult& result) const;
  // The strip of a grid's buildings that `lon` falls in (clamped to the grid's strips).
  uint32_t StripOf(const GridBuildings& grid, double lon) const;

  const Registry& registry_;
  PointIndexOptions options_;
  std::vector<UnitId> grids_;                 // in code order
  HugeVector<uint32_t> strip_offsets_;
  HugeVector<BuildingPoint> buildings_;        // per grid, sorted by longitude
  std::vector<Edge> edges_;
  std::vector<Polygon> polygons_;
  // The bucket grid: columns_ x rows_ cells over [min_lon_, max_lon_) x [min_lat_, max_lat_).
  double min_lon_ = 0, min_lat_ = 0, max_lon_ = 0, max_lat_ = 0;
  double lon_scale_ = 0, lat_scale_ = 0;  // cells per degree
  uint32_t columns_ = 0, rows_ = 0;
  HugeVector<uint32_t> cell_offsets_;    // CSR over candidates_
  HugeVector<Candidate> candidates_;
};

}  // namespace pingan
