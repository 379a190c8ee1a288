// Deployment settings of one data directory: DIR/pingan.toml, written by `pingan init`.
//
//   home_city = "3301"
//   time_zone = "Asia/Shanghai"
//   [demo]
//   seed = 1
//   scale = 1.0
//   [geocode]
//   building_distance_m = 30   # a point this close to a building is placed at it (0..1000)
//
// Unknown keys and bad values are errors naming the file, line and key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "address/code.h"

namespace pingan {

struct DemoSettings {
  uint64_t seed = 1;
  double scale = 1.0;
};

struct GeocodeSettings {
  double building_distance_m = 30;  // `pingan geocode --points`: nearest building within this
};

struct Deployment {
  AddressCode home_city;
  std::string time_zone = "Asia/Shanghai";
  std::optional<DemoSettings> demo;
  GeocodeSettings geocode;
};

absl::StatusOr<Deployment> LoadDeployment(const std::filesystem::path& file);
// The file's text for `deployment` (with comments).
std::string DeploymentToml(const Deployment& deployment);

}  // namespace pingan
