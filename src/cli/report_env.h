// What the report commands (`report`, `series`, `breakdown`, `league`, `bulletin`, `clusters`,
// `major`, `cube`) open: the data directory read-only, its registry, the catalog and report
// settings, and the cube, restored from DIR/pingan.db.cube and brought up to date with the store
// (or rebuilt, and the snapshot written when the directory is writable).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "core/period.h"
#include "cube/cube.h"
#include "cube/cube_loader.h"
#include "report/report.h"
#include "store/data_dir.h"

namespace pingan::cli {

struct OpenedReport {
  DataDir data;
  std::unique_ptr<Registry> registry;
  Catalog catalog;
  ReportSettings settings;
  std::unique_ptr<Cube> cube;
  int64_t seq = 0;
  CubeOpenStats stats;
  double registry_ms = 0;       // loading the registry
  double snapshot_read_ms = 0;  // reading and checking the cube snapshot (at the same time)
  sqlite3* db() const { return data.store->handle(); }
};

// Opens DIR for reporting; with `rebuild`, ignores the snapshot and rebuilds from the store.
absl::StatusOr<std::unique_ptr<OpenedReport>> OpenReportEnv(const Context& context, bool rebuild = false);

// Stored events by id, for listings (major incidents): in the order of `ids`, missing ids skipped.
struct MajorEventRow {
  int64_t id = 0;
  std::string source, source_id, type;
  std::string occurred_at;  // ISO 8601 in the city's time zone
  std::string unit, address, attributes_json;
};
absl::StatusOr<std::vector<MajorEventRow>> ReadEventsById(sqlite3* db, const std::vector<int64_t>& ids,
                                                          const std::string& time_zone = "Asia/Shanghai");

}  // namespace pingan::cli
