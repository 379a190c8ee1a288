// EbGlobal and EbLocal (src/assess/eb.h) on synthetic maps the size of a city's grids and over:
// units on a square lattice, each with 6 neighbours (left, right, up, down and one diagonal
// pair, as a hexagonal tiling has; fewer at the edges), exposures log-normal around 2,000
// residents and counts near 2 per 1,000 (log-normal, so rates vary beyond chance). Needs no data.
//
//   build/release/bench/eb_benchmark
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "assess/eb.h"
#include "core/rng.h"

namespace pingan {
namespace {

struct Map {
  std::vector<double> counts, exposures;
  Neighbours neighbours;
};

Map MakeMap(int64_t units) {
  const auto side = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(units))));
  Rng rng(static_cast<uint64_t>(units));
  Map map;
  std::vector<uint32_t> list;
  for (int64_t unit = 0; unit < units; ++unit) {
    const double exposure = std::round(2000 * rng.LogNormal(0.6));
    map.exposures.push_back(exposure);
    map.counts.push_back(std::round(exposure * 0.002 * rng.LogNormal(0.5)));
    const int64_t row = unit / side, column = unit % side;
    list.clear();
    for (const auto& [dr, dc] : {std::pair{0, -1}, {0, 1}, {-1, 0}, {1, 0}, {-1, -1}, {1, 1}}) {
      const int64_t r = row + dr, c = column + dc, other = r * side + c;
      if (r >= 0 && c >= 0 && c < side && other < units)
        list.push_back(static_cast<uint32_t>(other));
    }
    map.neighbours.Add(list);
  }
  return map;
}

void BM_EbGlobal(benchmark::State& state) {
  const Map map = MakeMap(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(EbGlobal(map.counts, map.exposures));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_EbLocal(benchmark::State& state) {
  const Map map = MakeMap(state.range(0));
  state.counters["neighbours_per_unit"] =
      static_cast<double>(map.neighbours.total()) / static_cast<double>(map.neighbours.units());
  for (auto _ : state) benchmark::DoNotOptimize(EbLocal(map.counts, map.exposures, map.neighbours));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// What the risk map pays per indicator and period: both smoothings.
void BM_EbGlobalAndLocal(benchmark::State& state) {
  const Map map = MakeMap(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(EbGlobal(map.counts, map.exposures));
    benchmark::DoNotOptimize(EbLocal(map.counts, map.exposures, map.neighbours));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// What the risk map pays per level and period: both smoothings of the 9 key types at once.
void BM_EbBoth9(benchmark::State& state) {
  const Map map = MakeMap(state.range(0));
  constexpr size_t kMeasures = 9;
  std::vector<double> counts(map.counts.size() * kMeasures);
  for (size_t unit = 0; unit < map.counts.size(); ++unit) {
    for (size_t m = 0; m < kMeasures; ++m) counts[unit * kMeasures + m] = std::round(map.counts[unit] / double(m + 1));
  }
  for (auto _ : state) benchmark::DoNotOptimize(EbBoth(counts, kMeasures, map.exposures, map.neighbours));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_EbGlobal)->ArgName("units")->Arg(30000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EbLocal)->ArgName("units")->Arg(30000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EbGlobalAndLocal)
    ->ArgName("units")
    ->Arg(30000)
    ->Arg(60000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EbBoth9)->ArgName("units")->Arg(12000)->Arg(30000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pingan

BENCHMARK_MAIN();
