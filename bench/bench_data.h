// The data directory a benchmark runs on: $PINGAN_BENCH_DATA (scripts/bench.sh creates it with
// `pingan init --scale 1`). Exits with a message when it is unset or unreadable.
#pragma once

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "store/data_dir.h"

namespace pingan {

struct BenchData {
  std::string dir;
  Deployment deployment;
  std::unique_ptr<Registry> registry;
  double load_seconds = 0;
};

inline BenchData LoadBenchData() {
  const char* dir = std::getenv("PINGAN_BENCH_DATA");
  if (dir == nullptr || *dir == '\0') {
    std::cerr << "set PINGAN_BENCH_DATA to a data directory (scripts/bench.sh does)\n";
    std::exit(2);
  }
  const auto start = std::chrono::steady_clock::now();
  auto data = DataDir::Open(dir, SqliteStore::Mode::kReadOnly);
  if (!data.ok()) std::cerr << data.status() << "\n", std::exit(2);
  auto registry = data->store->LoadRegistry();
  if (!registry.ok()) std::cerr << registry.status() << "\n", std::exit(2);
  BenchData out{dir, data->deployment, std::make_unique<Registry>(*std::move(registry))};
  out.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "loaded " << out.registry->size() << " units in " << out.load_seconds << " s\n";
  return out;
}

}  // namespace pingan
