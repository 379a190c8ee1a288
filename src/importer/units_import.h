// `pingan import units FILE`: a real city's grids, buildings and management units replace the
// synthetic levels of the demo. GeoJSON (a FeatureCollection) or CSV; see docs/import.md.
//
// Contract:
//   - The whole file is validated against the stored registry before anything is written; any
//     problem gives InvalidArgument naming the rows ("row 12 (code 330106004003001): parent
//     330106004999 is not a known unit"; "feature 3 (code ...)" for GeoJSON), at most 20 of
//     them, one per line, in file order.
//   - Ids are stable: no unit is deleted or renumbered. A row whose code is a live unit
//     replaces that unit's name, figures, geometry (and building details); other rows add units
//     (UnitKind::kImported; kManagement for district/town rows, which are management units).
//   - Rows that give the children of an existing unit at some level retire (UnitRecord::retired)
//     that unit's synthetic children at that level, with everything below them.
//   - The new registry is saved with one SaveRegistry call (one transaction); with `dry_run`,
//     everything is validated and counted, nothing is written.
//
// Thread-safety: uses its own GEOS context; `data` must not be used by another thread meanwhile.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "store/data_dir.h"

namespace pingan {

struct UnitsImportResult {
  size_t rows = 0;
  size_t added = 0;        // new units
  size_t replaced = 0;     // existing units whose name, figures or geometry the file replaced
  size_t retired = 0;      // synthetic units retired because the file gives their parent's children
  size_t roads_added = 0;  // roads created for the buildings' `road` names
  size_t administered = 0;  // units that took a management unit of the file as governance parent
  size_t units = 0;         // registry size after the import (what it would be, for a dry run)
};

// Validates the whole file first (errors name the row); writes nothing unless every row is
// valid, then applies it in one transaction. With `dry_run`, validates only.
// Errors: NotFound when `file` cannot be read; InvalidArgument for any problem of the file;
// the store's own errors when loading or saving fails.
absl::StatusOr<UnitsImportResult> ImportUnitsFile(const std::filesystem::path& file, DataDir& data,
                                                  bool dry_run);

}  // namespace pingan
