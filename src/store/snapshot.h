// A binary snapshot of the registry beside the database (DIR/pingan.db.registry), so that a
// process opens a Hangzhou-sized registry (1.7 million units) in about a second instead of
// re-reading every row. The tables stay the source of truth: a snapshot is used only when its
// generation matches the database's `registry_generation` and its CRC-32 (zlib) checks out;
// otherwise the store reads the tables and writes a fresh snapshot.
//
// Thread-safety: the functions are independent; callers serialise writes to one path.
#pragma once

#include <cstdint>
#include <filesystem>

#include "absl/status/statusor.h"
#include "address/registry.h"

namespace pingan {

class RegistrySnapshot {
 public:
  // Writes atomically (temporary file, fsync, rename).
  static absl::Status Write(const Registry& registry, uint64_t generation,
                            const std::filesystem::path& path);
  // Reads a snapshot of `generation`. NotFound when absent; FailedPrecondition when stale
  // (another generation); DataLoss when damaged. History is set by the caller.
  static absl::StatusOr<Registry> Read(const std::filesystem::path& path, uint64_t generation,
                                       History history);
};

}  // namespace pingan
