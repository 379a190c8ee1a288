#include "importer/units_import.h"

namespace pingan {

absl::StatusOr<UnitsImportResult> ImportUnitsFile(const std::filesystem::path& file, DataDir& data,
                                                  bool dry_run) {
  (void)file, (void)data, (void)dry_run;
  return absl::UnimplementedError("import units: not yet implemented");
}

}  // namespace pingan
