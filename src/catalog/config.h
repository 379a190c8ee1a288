// The project's configuration under config/ (TOML): management units, the registry's history
// and the demo city's parameters. The event catalog joins it in a later module.
//
// Every file is validated at load; an error names the file, the line and the key:
//   config/units.toml:7: key 'parent': '33x1' is not a code: character 3 is not a digit
//
// Example:
//   absl::StatusOr<ProjectConfig> config = LoadProjectConfig("/opt/pingan/config");
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "address/code.h"
#include "address/history.h"
#include "address/registry.h"

namespace pingan {

struct ManagementUnitConfig {
  AddressCode code;
  std::string name;
  Level level = Level::kDistrict;
  AddressCode parent;                    // governance and statistical parent
  std::vector<AddressCode> administers;  // units it governs instead of their statistical parent
  std::string source;                    // "config/units.toml:4", for messages
};

struct DemoDistrictConfig {
  int64_t resident = 0;          // resident population at scale 1
  double floating_ratio = 0.3;   // floating population / resident
  double enterprise_per_1k = 40; // enterprises per 1,000 residents+floating
  double urban = 0.5;            // share of communities built as high-rise (0..1)
};

struct DemoConfig {
  AddressCode home_city;         // 3301
  BoundingBox box;               // the city's extent for the synthetic tessellation
  int households_per_grid = 400; // a grid holds ~300-500 households
  double persons_per_household = 2.6;
  std::map<AddressCode, DemoDistrictConfig> districts;
  std::vector<std::string> road_heads;     // first characters of synthetic road names
  std::vector<std::string> road_tails;     // 路, 街, 大道, ...
  std::vector<std::string> compound_heads;
  std::vector<std::string> compound_tails;  // 花园, 苑, 小区, ...
  std::string source;
};

struct AliasConfig {
  std::string name;     // 钱江世纪城
  AddressCode unit;
  std::string source;   // "config/aliases.toml:7"
};

struct ProjectConfig {
  std::filesystem::path dir;
  std::vector<ManagementUnitConfig> management_units;
  std::vector<HistoryChange> history;
  DemoConfig demo;
  std::vector<AliasConfig> aliases;  // aliases.toml (optional file)
};

// Loads and validates units.toml, history.toml, demo.toml and (if present) aliases.toml.
// InvalidArgument naming file:line and key for a bad value; NotFound for a missing file.
absl::StatusOr<ProjectConfig> LoadProjectConfig(const std::filesystem::path& dir);

}  // namespace pingan
