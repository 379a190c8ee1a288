// Point → place (src/geocode/point_index.h) on one core: random points inside the home city's
// box, and points near buildings (each a building's point moved up to 10 m), against two
// baselines on the same points in the same run: a linear scan over every grid's box (then over
// the grid's buildings), and GEOS's STRtree over the grid boxes. Each baseline also times the
// index on its points once and reports the ratio as `index_speedup`.
//
//   PINGAN_BENCH_DATA=/tmp/d1 build/release/bench/point_benchmark
//
// Without $PINGAN_BENCH_DATA it builds a small demo city in memory (Zhejiang and Hangzhou at
// scale 0.05) and says so.
#include <benchmark/benchmark.h>
#include <geos_c.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "catalog/config.h"
#include "core/paths.h"
#include "core/rng.h"
#include "geocode/point_index.h"
#include "sim/demo_city.h"
#include "sim/division_import.h"
#include "sim/init.h"
#include "store/data_dir.h"

namespace pingan {
namespace {

constexpr size_t kPoints = 1 << 20;  // a power of two

struct Loaded {
  std::unique_ptr<Registry> registry;
  std::unique_ptr<PointIndex> index;
  std::vector<UnitId> grids;
  std::vector<Point> random;  // uniform in the city's box
  std::vector<Point> near;    // within 10 m of a random building
};

[[noreturn]] void Die(const absl::Status& status) {
  std::cerr << status << "\n";
  std::exit(2);
}

absl::StatusOr<Registry> SmallCity() {
  auto root = ResourceRoot();
  if (!root.ok()) return root.status();
  auto config = LoadProjectConfig(*root / "config");
  if (!config.ok()) return config.status();
  auto divisions = DivisionDataDir();
  if (!divisions.ok()) return divisions.status();
  return BuildRegistry(*config, *divisions, "33", /*demo=*/true, 1, 0.05);
}

const Loaded& Data() {
  static const Loaded* loaded = [] {
    auto* out = new Loaded;
    AddressCode home = *AddressCode::ParsePrefix("3301");
    auto start = std::chrono::steady_clock::now();
    if (const char* dir = std::getenv("PINGAN_BENCH_DATA"); dir != nullptr && *dir != '\0') {
      auto data = DataDir::Open(dir, SqliteStore::Mode::kReadOnly);
      if (!data.ok()) Die(data.status());
      home = data->deployment.home_city;
      auto registry = data->store->LoadRegistry();
      if (!registry.ok()) Die(registry.status());
      out->registry = std::make_unique<Registry>(*std::move(registry));
      std::cerr << "loaded " << dir << ": " << out->registry->size() << " units\n";
    } else {
      std::cerr << "PINGAN_BENCH_DATA is not set: building a small demo city (scale 0.05) in memory\n";
      auto registry = SmallCity();
      if (!registry.ok()) Die(registry.status());
      out->registry = std::make_unique<Registry>(*std::move(registry));
    }
    const Registry& r = *out->registry;
    std::optional<UnitId> city = r.Find(home);
    if (!city) Die(absl::NotFoundError("no home city in the registry"));
    auto built = std::chrono::steady_clock::now();
    auto index = PointIndex::Create(r, *city);
    if (!index.ok()) Die(index.status());
    out->index = *std::move(index);
    double load_s = std::chrono::duration<double>(built - start).count();
    double index_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - built).count();
    std::cerr << "registry " << load_s << " s; index " << index_s << " s: " << out->index->grid_count()
              << " grids, " << out->index->building_count() << " buildings, " << out->index->bucket_count()
              << " buckets, " << out->index->candidates_per_bucket() << " grids per bucket\n";
    out->grids = r.Descendants(*city, Level::kGrid);
    std::vector<UnitId> buildings;
    for (UnitId grid : out->grids) {
      for (UnitId child : r.children(grid)) {
        if (r.level(child) == Level::kBuilding) buildings.push_back(child);
      }
    }
    Rng rng(1);
    const BoundingBox& box = r.box(*city);
    for (size_t at = 0; at < kPoints; ++at) {
      out->random.push_back(Point{rng.Uniform(box.min_lon, box.max_lon), rng.Uniform(box.min_lat, box.max_lat)});
      const BuildingInfo& info = r.building(buildings[rng.Int(0, buildings.size() - 1)]);
      const double metres_lon = 111195.0 * std::cos(info.lat * 3.14159265358979323846 / 180);
      out->near.push_back(Point{info.lon + rng.Uniform(-10, 10) / metres_lon, info.lat + rng.Uniform(-10, 10) / 111195.0});
    }
    return out;
  }();
  return *loaded;
}

const std::vector<Point>& PointsOf(const Loaded& data, int which) { return which == 0 ? data.random : data.near; }
const char* LabelOf(int which) { return which == 0 ? "random points in the city box" : "points within 10 m of buildings"; }

// Seconds the index takes over the first `count` points (for the speedup counters).
double TimeIndex(const Loaded& data, const std::vector<Point>& points, size_t count) {
  auto start = std::chrono::steady_clock::now();
  uint64_t checksum = 0;
  for (size_t at = 0; at < count; ++at) {
    const Point& point = points[at & (kPoints - 1)];
    PointResult result = data.index->Locate(point.lon, point.lat);
    checksum += result.grid.value + result.building.value;
  }
  benchmark::DoNotOptimize(checksum);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BM_PointToGrid(benchmark::State& state) {
  const Loaded& data = Data();
  const std::vector<Point>& points = PointsOf(data, static_cast<int>(state.range(0)));
  size_t at = 0;
  uint64_t found = 0;
  for (auto _ : state) {
    const Point& point = points[at++ & (kPoints - 1)];
    found += data.index->LocateGrid(point.lon, point.lat).valid();
  }
  state.counters["in_grid"] = static_cast<double>(found) / static_cast<double>(state.iterations());
  state.SetLabel(LabelOf(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointToGrid)->Arg(0)->Arg(1);

// Grid and nearest building within 30 m.
void BM_PointToPlace(benchmark::State& state) {
  const Loaded& data = Data();
  const std::vector<Point>& points = PointsOf(data, static_cast<int>(state.range(0)));
  size_t at = 0;
  uint64_t with_building = 0;
  for (auto _ : state) {
    const Point& point = points[at++ & (kPoints - 1)];
    with_building += data.index->Locate(point.lon, point.lat).building.valid();
  }
  state.counters["with_building"] = static_cast<double>(with_building) / static_cast<double>(state.iterations());
  state.SetLabel(LabelOf(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointToPlace)->Arg(0)->Arg(1);

void BM_PointToPlaceBatch(benchmark::State& state) {
  const Loaded& data = Data();
  const std::vector<Point>& points = PointsOf(data, static_cast<int>(state.range(0)));
  constexpr size_t kBatch = 1024;
  std::vector<PointResult> out(kBatch);
  size_t offset = 0;
  for (auto _ : state) {
    data.index->LocateMany(std::span<const Point>(points.data() + offset, kBatch), out);
    benchmark::DoNotOptimize(out.data());
    offset = (offset + kBatch) & (kPoints - 1);
  }
  state.SetLabel(LabelOf(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PointToPlaceBatch)->Arg(0)->Arg(1);

// Baseline 1: every grid's box in turn, then every building of the grid.
void BM_BaselineLinearScan(benchmark::State& state) {
  const Loaded& data = Data();
  const Registry& r = *data.registry;
  std::vector<BoundingBox> boxes;
  for (UnitId grid : data.grids) boxes.push_back(r.box(grid));
  const std::vector<Point>& points = PointsOf(data, static_cast<int>(state.range(0)));
  size_t at = 0;
  uint64_t checksum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const Point& point = points[at++ & (kPoints - 1)];
    for (size_t grid = 0; grid < boxes.size(); ++grid) {
      if (!boxes[grid].Contains(point.lon, point.lat)) continue;
      const double x_scale = 111195.0 * std::cos(point.lat * 3.14159265358979323846 / 180);
      double best = 30.0 * 30.0;
      UnitId chosen;
      for (UnitId child : r.children(data.grids[grid])) {
        const BuildingInfo& info = r.building(child);
        const double dx = (info.lon - point.lon) * x_scale, dy = (info.lat - point.lat) * 111195.0;
        if (dx * dx + dy * dy <= best) best = dx * dx + dy * dy, chosen = child;
      }
      checksum += data.grids[grid].value + chosen.value;
      break;
    }
  }
  const double baseline_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  benchmark::DoNotOptimize(checksum);
  state.counters["index_speedup"] = baseline_s / TimeIndex(data, points, state.iterations());
  state.SetLabel(LabelOf(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineLinearScan)->Arg(0)->Arg(1);

// Baseline 2: GEOS STRtree over the grid boxes (a GEOS point per query), candidates tested by
// box, then the grid's buildings scanned as in baseline 1.
void BM_BaselineGeosStrTree(benchmark::State& state) {
  const Loaded& data = Data();
  const Registry& r = *data.registry;
  GEOSContextHandle_t geos = GEOS_init_r();
  GEOSSTRtree* tree = GEOSSTRtree_create_r(geos, 10);
  std::vector<GEOSGeometry*> envelopes;
  for (size_t grid = 0; grid < data.grids.size(); ++grid) {
    const BoundingBox& box = r.box(data.grids[grid]);
    GEOSGeometry* envelope = GEOSGeom_createRectangle_r(geos, box.min_lon, box.min_lat, box.max_lon, box.max_lat);
    envelopes.push_back(envelope);
    GEOSSTRtree_insert_r(geos, tree, envelope, reinterpret_cast<void*>(grid));
  }
  struct Query {
    const Point* point;
    const std::vector<UnitId>* grids;
    const Registry* registry;
    UnitId found;
  };
  const std::vector<Point>& points = PointsOf(data, static_cast<int>(state.range(0)));
  size_t at = 0;
  uint64_t checksum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    Query query{&points[at++ & (kPoints - 1)], &data.grids, &r, kNoUnit};
    GEOSGeometry* point = GEOSGeom_createPointFromXY_r(geos, query.point->lon, query.point->lat);
    GEOSSTRtree_query_r(geos, tree, point, [](void* item, void* user) {
      auto* q = static_cast<Query*>(user);
      UnitId grid = (*q->grids)[reinterpret_cast<size_t>(item)];
      if (!q->found.valid() && q->registry->box(grid).Contains(q->point->lon, q->point->lat)) q->found = grid;
    }, &query);
    GEOSGeom_destroy_r(geos, point);
    if (query.found.valid()) {
      const double x_scale = 111195.0 * std::cos(query.point->lat * 3.14159265358979323846 / 180);
      double best = 30.0 * 30.0;
      UnitId chosen;
      for (UnitId child : r.children(query.found)) {
        const BuildingInfo& info = r.building(child);
        const double dx = (info.lon - query.point->lon) * x_scale, dy = (info.lat - query.point->lat) * 111195.0;
        if (dx * dx + dy * dy <= best) best = dx * dx + dy * dy, chosen = child;
      }
      checksum += query.found.value + chosen.value;
    }
  }
  const double baseline_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  benchmark::DoNotOptimize(checksum);
  state.counters["index_speedup"] = baseline_s / TimeIndex(data, points, state.iterations());
  GEOSSTRtree_destroy_r(geos, tree);
  for (GEOSGeometry* envelope : envelopes) GEOSGeom_destroy_r(geos, envelope);
  GEOS_finish_r(geos);
  state.SetLabel(LabelOf(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineGeosStrTree)->Arg(0)->Arg(1);

}  // namespace
}  // namespace pingan

BENCHMARK_MAIN();
