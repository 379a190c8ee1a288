// What the report commands (`report`, `series`, ...) and the server open: the data directory
// read-only, its registry, the catalog and report settings, and the cube, restored from
// DIR/pingan.db.cube and brought up to date with the store (or rebuilt, and the snapshot written
// when the directory is writable). Also the resolution of a query's unit, period and indicator
// (shared by the CLI and the HTTP API, which name the parameter differently in errors) and the
// listing of major incidents.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/catalog.h"
#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>
#include "core/period.h"
#include "cube/cube.h"
#include "cube/cube_loader.h"
#include "report/report.h"
#include "store/data_dir.h"

namespace pingan {

struct ReportEnv {
  DataDir data;
  std::unique_ptr<Registry> registry;
  Catalog catalog;
  ReportSettings settings;
  std::unique_ptr<Cube> cube;
  int64_t seq = 0;
  CubeOpenStats stats;
  double registry_ms = 0;       // loading the registry
  double snapshot_read_ms = 0;  // reading and checking the cube snapshot (at the same time)
  std::filesystem::path snapshot;  // DIR/pingan.db.cube
  uint64_t fingerprint = 0;        // of the cube's shape, registry and zone (snapshot check)
  std::optional<CivilClock> clock; // the city's time zone
  sqlite3* db() const { return data.store->handle(); }
};

// Opens `data_dir` for reporting with the configuration in `config_dir`; with `rebuild`, ignores
// the snapshot and rebuilds from the store.
absl::StatusOr<std::unique_ptr<ReportEnv>> OpenReportEnv(const std::filesystem::path& config_dir,
                                                         const std::filesystem::path& data_dir, bool rebuild = false);

// A query's unit (a code or significant-digit prefix; "" = the home city), period (grammar of
// core/period.h; "" = the month of the latest record) and indicator or key-type id. Errors are
// InvalidArgument or NotFound with a message that starts with `param` ("--unit", "unit").
// A former unit's code (下城区) is NotFound naming the units that hold its area today.
absl::StatusOr<UnitId> ResolveUnit(const Registry& registry, const Cube& cube, std::string_view text,
                                   std::string_view param);
absl::StatusOr<Period> ResolvePeriod(const Cube& cube, std::string_view text, std::string_view param);
absl::StatusOr<size_t> ResolveColumn(const Cube& cube, std::string_view id, std::string_view param);

// Stored events by id, for listings (major incidents): in the order of `ids`, missing ids skipped.
struct MajorEventRow {
  int64_t id = 0;
  std::string source, source_id, type;
  std::string occurred_at;  // ISO 8601 in the city's time zone
  std::string unit, address, attributes_json;
};
absl::StatusOr<std::vector<MajorEventRow>> ReadEventsById(sqlite3* db, const std::vector<int64_t>& ids,
                                                          const std::string& time_zone = "Asia/Shanghai");

// Major incidents in `unit` during `period`, newest first by exact time, at most `limit`: each as
// {id, source, source_id, type, occurred_at, unit, unit_name, address, attributes, rules} with
// phone and ID numbers and personal attributes masked. `db` is read under the caller's lock of
// the cube (any connection to the same database).
absl::StatusOr<std::vector<nlohmann::ordered_json>> MajorIncidents(const Cube& cube, sqlite3* db, UnitId unit,
                                                                  const Period& period, size_t limit,
                                                                  const std::string& time_zone);
// One stored event (by store id) as MajorIncidents lists it; nullopt when it is not stored.
absl::StatusOr<std::optional<nlohmann::ordered_json>> MajorIncident(const Cube& cube, sqlite3* db, int64_t id,
                                                                    const std::string& time_zone);

}  // namespace pingan
