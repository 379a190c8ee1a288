// PoissonRatePValue (src/report/significance.h) per call at a total count n = x + y of 10,
// 10,000 and 1,000,000, exposures 30 against 31 days. Each run cycles through 64 pairs whose x
// lies within four standard deviations of its expectation (p-values from ~1 down to ~1e-4, both
// sides), since the cost of the tails depends on where x falls. Needs no data.
//
//   build/release/bench/significance_benchmark
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "report/significance.h"

namespace pingan {
namespace {

constexpr double kDx = 30, kDy = 31;

struct Counts {
  int64_t x, y;
};

std::vector<Counts> MakeCounts(int64_t n) {
  const double share = kDx / (kDx + kDy);
  const double mean = n * share;
  const double sd = std::sqrt(n * share * (1 - share));
  Rng rng(static_cast<uint64_t>(n));
  std::vector<Counts> counts;
  for (int pair = 0; pair < 64; ++pair) {
    const double x = std::round(mean + rng.Uniform(-4, 4) * sd);
    const int64_t clamped = std::max<int64_t>(0, std::min<int64_t>(n, static_cast<int64_t>(x)));
    counts.push_back({clamped, n - clamped});
  }
  return counts;
}

void BM_PoissonRatePValue(benchmark::State& state) {
  const std::vector<Counts> counts = MakeCounts(state.range(0));
  size_t index = 0;
  for (auto _ : state) {
    const Counts& pair = counts[index++ % counts.size()];
    benchmark::DoNotOptimize(PoissonRatePValue(pair.x, pair.y, kDx, kDy));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PoissonRatePValue)
    ->ArgName("n")
    ->Arg(10)
    ->Arg(10000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pingan

BENCHMARK_MAIN();
