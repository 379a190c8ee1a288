#include "store/data_dir.h"

#include "core/strings.h"
#include "core/status.h"

namespace pingan {
namespace fs = std::filesystem;

bool DataDir::Exists(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / kDatabaseFile, ec);
}

absl::StatusOr<DataDir> DataDir::Open(const fs::path& dir, SqliteStore::Mode mode) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(Cat(dir.string(), " is not a pingan data directory (no such directory; create one with: pingan init --data ", dir.string(), ")"));
  }
  if (!fs::exists(dir / kDatabaseFile, ec) || !fs::exists(dir / kDeploymentFile, ec)) {
    return absl::FailedPreconditionError(Cat(dir.string(), " is not a pingan data directory (no ", kDatabaseFile, " and ", kDeploymentFile, "; create one with: pingan init --data ", dir.string(), ")"));
  }
  DataDir data;
  data.dir = dir;
  auto deployment = LoadDeployment(dir / kDeploymentFile);
  if (!deployment.ok()) {
    return absl::FailedPreconditionError(Cat((dir / kDeploymentFile).string(), ": ", Message(deployment.status())));
  }
  data.deployment = *std::move(deployment);
  auto store = SqliteStore::Open(dir / kDatabaseFile, mode);
  if (!store.ok()) return store.status();
  data.store = *std::move(store);
  return data;
}

}  // namespace pingan
