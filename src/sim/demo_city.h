// The demo city below the real communities: grids of ~300-500 households, roads with house
// numbers, named residential compounds (小区), buildings with entrances and rooms, population,
// enterprises and houses per grid, and a polygon for every unit from a deterministic
// tessellation. Everything here is synthetic; see docs/demo-city.md.
//
// Deterministic: the same config, seed and scale give the same city, unit for unit.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "address/registry.h"
#include "catalog/config.h"

namespace pingan {

struct DemoStats {
  size_t districts = 0, towns = 0, communities = 0;
  size_t grids = 0, buildings = 0, roads = 0, compounds = 0;
  int64_t resident = 0, floating = 0, enterprises = 0, houses = 0, households = 0;
};

// Adds the synthetic levels under config.home_city to `builder`, which must already hold the
// city's statistical units (ImportDivisions). `scale` multiplies every population figure
// (1 = Hangzhou-sized, ~12 million people). REQUIRES: 0 < scale <= 10.
absl::StatusOr<DemoStats> BuildDemoCity(const DemoConfig& config, uint64_t seed, double scale,
                                        RegistryBuilder& builder);

}  // namespace pingan
