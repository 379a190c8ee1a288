// `pingan import units FILE`: a real city's grids, buildings and management units replace the
// synthetic levels of the demo. GeoJSON (a FeatureCollection) or CSV; see docs/import.md.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "store/data_dir.h"

namespace pingan {

struct UnitsImportResult {
  size_t rows = 0;
  size_t added = 0;     // new units
  size_t replaced = 0;  // existing units whose name, figures or geometry the file replaced
  size_t retired = 0;   // synthetic units retired because the file gives their parent's children
};

// Validates the whole file first (errors name the row); writes nothing unless every row is
// valid, then applies it in one transaction. With `dry_run`, validates only.
absl::StatusOr<UnitsImportResult> ImportUnitsFile(const std::filesystem::path& file, DataDir& data,
                                                  bool dry_run);

}  // namespace pingan
