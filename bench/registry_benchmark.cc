// Registry queries by dense id on a scale-1 data directory (1.7 million units: all of China to
// the village, Hangzhou to the building). The data directory comes from $PINGAN_BENCH_DATA
// (scripts/bench.sh creates it with `pingan init --scale 1`).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "core/rng.h"
#include "bench_data.h"

namespace pingan {
namespace {

struct Loaded {
  std::unique_ptr<Registry> registry;
  std::vector<UnitId> ids;       // random units of every level
  std::vector<UnitId> grids;     // random grids
  std::vector<AddressCode> codes;  // random building, entrance and room codes
};

const Loaded& Data() {
  static const Loaded* loaded = [] {
    auto* out = new Loaded{LoadBenchData().registry};
    Rng rng(1);
    const Registry& r = *out->registry;
    for (int index = 0; index < (1 << 20); ++index) {
      out->ids.push_back(UnitId{static_cast<uint32_t>(rng.Int(0, r.size() - 1))});
    }
    std::vector<UnitId> buildings;
    for (uint32_t index = 0; index < r.size(); ++index) {
      if (r.level(UnitId{index}) == Level::kGrid) out->grids.push_back(UnitId{index});
      if (r.level(UnitId{index}) == Level::kBuilding) buildings.push_back(UnitId{index});
    }
    for (int index = 0; index < (1 << 16) && !buildings.empty(); ++index) {
      UnitId building = buildings[rng.Int(0, buildings.size() - 1)];
      const BuildingInfo& info = r.building(building);
      Place place{.unit = building, .level = Level::kRoom,
                  .entrance = info.entrances == 0 ? 0u : static_cast<uint32_t>(rng.Int(1, info.entrances)),
                  .room = static_cast<uint32_t>(rng.Int(1, info.floors) * 100 + rng.Int(1, info.rooms_per_floor))};
      out->codes.push_back(r.PlaceCode(place));
    }
    return out;
  }();
  return *loaded;
}

void BM_Parent(benchmark::State& state) {
  const Loaded& data = Data();
  size_t index = 0;
  for (auto _ : state) {
    UnitId parent = data.registry->parent(data.ids[index++ & (data.ids.size() - 1)]);
    benchmark::DoNotOptimize(parent);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Parent);

void BM_Children(benchmark::State& state) {
  const Loaded& data = Data();
  size_t index = 0;
  for (auto _ : state) {
    auto kids = data.registry->children(data.ids[index++ & (data.ids.size() - 1)]);
    benchmark::DoNotOptimize(kids.data());
    benchmark::DoNotOptimize(kids.size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Children);

void BM_IterateChildren(benchmark::State& state) {
  const Loaded& data = Data();
  size_t index = 0;
  uint64_t visited = 0;
  for (auto _ : state) {
    uint32_t sum = 0;
    for (UnitId kid : data.registry->children(data.grids[index++ % data.grids.size()])) sum += kid.value;
    benchmark::DoNotOptimize(sum);
    visited += data.registry->children(data.grids[(index - 1) % data.grids.size()]).size();
  }
  state.counters["children_per_grid"] = static_cast<double>(visited) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IterateChildren);

void BM_Ancestors(benchmark::State& state) {
  const Loaded& data = Data();
  size_t index = 0;
  UnitId path[kLevelCount];
  uint64_t checksum = 0;
  for (auto _ : state) {
    int count = data.registry->Ancestors(data.ids[index++ & (data.ids.size() - 1)], path);
    checksum += path[count - 1].value + path[count / 2].value;
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ancestors);

void BM_IsWithin(benchmark::State& state) {
  const Loaded& data = Data();
  const UnitId city = *data.registry->Find(*AddressCode::ParsePrefix("3301"));
  size_t index = 0;
  uint64_t inside = 0;
  for (auto _ : state) inside += data.registry->IsWithin(data.ids[index++ & (data.ids.size() - 1)], city);
  benchmark::DoNotOptimize(inside);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IsWithin);

void BM_AncestorAtDistrict(benchmark::State& state) {
  const Loaded& data = Data();
  size_t index = 0;
  for (auto _ : state) {
    UnitId district = data.registry->AncestorAt(data.ids[index++ & (data.ids.size() - 1)], Level::kDistrict);
    benchmark::DoNotOptimize(district);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AncestorAtDistrict);

// The batch form, as a roll-up over many events uses it: random ids, prefetched ahead.
void BM_AncestorAtDistrictBatch(benchmark::State& state) {
  const Loaded& data = Data();
  constexpr size_t kBatch = 1024;
  std::vector<UnitId> out(kBatch);
  size_t offset = 0;
  for (auto _ : state) {
    data.registry->AncestorsAt(std::span<const UnitId>(data.ids.data() + offset, kBatch), Level::kDistrict, out);
    benchmark::DoNotOptimize(out.data());
    offset = (offset + kBatch) & (data.ids.size() - 1);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_AncestorAtDistrictBatch);

// Every unit in id order (how a sweep over the tree or over events sorted by place runs).
void BM_AncestorsSweep(benchmark::State& state) {
  const Loaded& data = Data();
  const uint32_t size = static_cast<uint32_t>(data.registry->size());
  uint32_t next = 0;
  UnitId path[kLevelCount];
  for (auto _ : state) {
    int count = data.registry->Ancestors(UnitId{next}, path);
    benchmark::DoNotOptimize(count);
    benchmark::DoNotOptimize(path);
    if (++next == size) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AncestorsSweep);

void BM_ResolveRoomCode(benchmark::State& state) {
  const Loaded& data = Data();
  size_t index = 0;
  for (auto _ : state) {
    auto place = data.registry->Resolve(data.codes[index++ & (data.codes.size() - 1)]);
    benchmark::DoNotOptimize(place);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolveRoomCode);

}  // namespace
}  // namespace pingan

BENCHMARK_MAIN();
