#include "cli/report_env.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "absl/time/time.h"
#include "core/status.h"
#include "core/strings.h"

namespace pingan::cli {

absl::StatusOr<std::unique_ptr<OpenedReport>> OpenReportEnv(const Context& context, bool rebuild) {
  auto opened = std::make_unique<OpenedReport>();
  PA_ASSIGN_OR_RETURN(const std::filesystem::path config_dir, ResolveConfigDir(context));
  PA_ASSIGN_OR_RETURN(opened->catalog, LoadCatalog(config_dir));
  PA_ASSIGN_OR_RETURN(opened->settings, LoadReportSettings(config_dir, opened->catalog));
  PA_ASSIGN_OR_RETURN(opened->data, DataDir::Open(context.data_dir, SqliteStore::Mode::kReadOnly));
  // Reading every event at a rebuild goes faster through a memory map than through read calls.
  sqlite3_exec(opened->db(), "PRAGMA mmap_size = 17179869184", nullptr, nullptr, nullptr);
  const std::filesystem::path snapshot = opened->data.dir / "pingan.db.cube";
  if (rebuild) {
    std::error_code ec;
    std::filesystem::remove(snapshot, ec);
  }
  // The cube's snapshot is read and checked while the registry loads (two cores, two files).
  absl::StatusOr<CubeSnapshotData> preread = absl::NotFoundError("no cube snapshot");
  const auto start = std::chrono::steady_clock::now();
  auto ms_since = [](std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - from).count();
  };
  std::thread reader([&] {
    preread = ReadCubeSnapshot(snapshot);
    opened->snapshot_read_ms = ms_since(start);
  });
  absl::StatusOr<Registry> loaded = opened->data.store->LoadRegistry();
  opened->registry_ms = ms_since(start);
  reader.join();
  if (!loaded.ok()) return loaded.status();
  Registry registry = *std::move(loaded);
  opened->registry = std::make_unique<Registry>(std::move(registry));
  const Deployment& deployment = opened->data.deployment;
  std::optional<UnitId> city = opened->registry->Find(deployment.home_city);
  if (!city) return absl::FailedPreconditionError("the home city is not in the registry");
  PA_ASSIGN_OR_RETURN(opened->cube, Cube::Create(*opened->registry, opened->catalog, *city));
  PA_ASSIGN_OR_RETURN(CivilClock clock, CivilClock::ForZone(deployment.time_zone));
  CubeFeeder feeder(*opened->cube, clock);
  PA_ASSIGN_OR_RETURN(std::optional<std::string> generation, opened->data.store->GetMeta("registry_generation"));
  const uint64_t fingerprint =
      CubeFingerprint(*opened->cube, generation.value_or(""), deployment.time_zone);
  PA_ASSIGN_OR_RETURN(opened->seq, OpenCube(opened->db(), snapshot, fingerprint, feeder, *opened->cube,
                                            /*save=*/true, &opened->stats, 10000, &preread));
  return opened;
}

absl::StatusOr<std::vector<MajorEventRow>> ReadEventsById(sqlite3* db, const std::vector<int64_t>& ids,
                                                          const std::string& time_zone) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(time_zone, &zone)) return absl::InvalidArgumentError(Cat("unknown time zone ", time_zone));
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, source, source_id, type, occurred_at, unit, address, attributes_json "
                         "FROM events WHERE id = ?1",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(Cat("cannot read events: ", sqlite3_errmsg(db)));
  }
  std::vector<MajorEventRow> rows;
  auto text = [&](int column) {
    const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
    return value == nullptr ? std::string() : std::string(value, static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
  };
  for (int64_t id : ids) {
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, id);
    if (sqlite3_step(stmt) != SQLITE_ROW) continue;
    MajorEventRow row;
    row.id = sqlite3_column_int64(stmt, 0);
    row.source = text(1);
    row.source_id = text(2);
    row.type = text(3);
    row.occurred_at = absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(sqlite3_column_int64(stmt, 4)), zone);
    row.unit = text(5);
    row.address = text(6);
    row.attributes_json = text(7);
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

}  // namespace pingan::cli
