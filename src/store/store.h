// The store: everything durable, behind one interface. The SQLite backend (sqlite_store.h) is
// the default; the registry is the first thing it holds (events, warnings, tasks, audit and
// users join it in later modules).
//
// Thread-safety: a Store is used by one thread at a time; open one per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "address/registry.h"

namespace pingan {

class Store {
 public:
  virtual ~Store() = default;

  // Replaces the whole registry in one transaction. With `expected_generation` (the
  // registry_generation read before the registry was loaded), Aborted when another writer saved
  // a registry in between, and nothing is written: a read-modify-write never loses an update.
  virtual absl::Status SaveRegistry(const Registry& registry,
                                    std::optional<std::string> expected_generation = std::nullopt) = 0;
  // Loads the registry, with ids as stored.
  virtual absl::StatusOr<Registry> LoadRegistry() = 0;
  // Metadata (format, schema version, seed, scale, created_at, ...).
  virtual absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& key) = 0;
  virtual absl::Status SetMeta(const std::string& key, const std::string& value) = 0;
};

}  // namespace pingan
