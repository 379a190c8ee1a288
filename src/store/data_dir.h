// A pingan data directory: DIR/pingan.toml (deployment settings) and DIR/pingan.db (the store).
//
// Example:
//   PA_ASSIGN_OR_RETURN(DataDir data, DataDir::Open("./data", SqliteStore::Mode::kReadOnly));
//   PA_ASSIGN_OR_RETURN(Registry registry, data.store->LoadRegistry());
#pragma once

#include <filesystem>
#include <memory>

#include "absl/status/statusor.h"
#include "catalog/deployment.h"
#include "store/sqlite_store.h"

namespace pingan {

inline constexpr char kDeploymentFile[] = "pingan.toml";
inline constexpr char kDatabaseFile[] = "pingan.db";

struct DataDir {
  std::filesystem::path dir;
  Deployment deployment;
  std::unique_ptr<SqliteStore> store;

  // Opens an existing data directory. FailedPrecondition with a one-line reason when `dir` is
  // not a pingan data directory, its settings are broken or its database is corrupt.
  static absl::StatusOr<DataDir> Open(const std::filesystem::path& dir,
                                      SqliteStore::Mode mode = SqliteStore::Mode::kReadWrite);
  // True when `dir` holds a pingan database (whether or not it opens).
  static bool Exists(const std::filesystem::path& dir);
};

}  // namespace pingan
