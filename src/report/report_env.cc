#include "report/report_env.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/time/time.h"
#include "catalog/masking.h"
#include "core/status.h"
#include "core/strings.h"
#include "report/report_json.h"

namespace pingan {

absl::StatusOr<std::unique_ptr<ReportEnv>> OpenReportEnv(const std::filesystem::path& config_dir,
                                                         const std::filesystem::path& data_dir, bool rebuild) {
  auto opened = std::make_unique<ReportEnv>();
  PA_ASSIGN_OR_RETURN(opened->catalog, LoadCatalog(config_dir));
  PA_ASSIGN_OR_RETURN(opened->settings, LoadReportSettings(config_dir, opened->catalog));
  PA_ASSIGN_OR_RETURN(opened->data, DataDir::Open(data_dir, SqliteStore::Mode::kReadOnly));
  // Reading every event at a rebuild goes faster through a memory map than through read calls.
  sqlite3_exec(opened->db(), "PRAGMA mmap_size = 17179869184", nullptr, nullptr, nullptr);
  const std::filesystem::path snapshot = opened->snapshot = opened->data.dir / "pingan.db.cube";
  if (rebuild) {
    std::error_code ec;
    std::filesystem::remove(snapshot, ec);
  }
  // The cube's snapshot is read, checked and parsed while the registry loads (two cores, two
  // files); the cube then takes the parsed aggregates over. The snapshot is parsed on this
  // thread and the registry loaded on the other: the aggregates are ~100,000 small lists, and
  // glibc serves a second thread from an arena of its own whose memory is not on huge pages
  // (core/huge_pages.h): parsed there they took 1.1-1.4 s at 10 M events instead of 0.1-0.2 s;
  // the registry's arrays are large blocks, mapped on huge pages from any thread.
  absl::StatusOr<CubeSnapshotData> preread = absl::NotFoundError("no cube snapshot");
  const auto start = std::chrono::steady_clock::now();
  auto ms_since = [](std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - from).count();
  };
  std::optional<absl::StatusOr<Registry>> loaded;  // (a Registry is not move-assignable)
  std::thread loader([&] {
    loaded.emplace(opened->data.store->LoadRegistry());
    opened->registry_ms = ms_since(start);
  });
  preread = ReadCubeSnapshot(snapshot, Cube::ColumnsOf(opened->catalog));
  opened->snapshot_read_ms = ms_since(start);
  loader.join();
  if (!loaded->ok()) return loaded->status();
  Registry registry = **std::move(loaded);
  opened->registry = std::make_unique<Registry>(std::move(registry));
  const Deployment& deployment = opened->data.deployment;
  std::optional<UnitId> city = opened->registry->Find(deployment.home_city);
  if (!city) return absl::FailedPreconditionError("the home city is not in the registry");
  PA_ASSIGN_OR_RETURN(opened->cube, Cube::Create(*opened->registry, opened->catalog, *city));
  PA_ASSIGN_OR_RETURN(opened->clock, CivilClock::ForZone(deployment.time_zone));
  CubeFeeder feeder(*opened->cube, *opened->clock);
  PA_ASSIGN_OR_RETURN(std::optional<std::string> generation, opened->data.store->GetMeta("registry_generation"));
  const uint64_t fingerprint = opened->fingerprint =
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


absl::StatusOr<UnitId> ResolveUnit(const Registry& registry, const Cube& cube, std::string_view text,
                                   std::string_view param) {
  if (text.empty()) return cube.home_city();
  auto code = AddressCode::ParsePrefix(text);
  if (!code.ok()) return absl::InvalidArgumentError(Cat(param, ": ", code.status().message()));
  std::optional<UnitId> unit = registry.Find(*code);
  if (!unit) {
    // A former unit (下城区, 江干区): its area is reported under the units that hold it today.
    for (const HistoryChange* change : registry.history().ByCode(*code)) {
      if (!change->abolished || change->code != *code) continue;
      std::string successors;
      for (const HistoryPiece& piece : change->pieces) {
        std::optional<UnitId> today = registry.Find(piece.successor);
        if (!today) continue;
        successors += Cat(successors.empty() ? "" : ", ", registry.name(*today), " ",
                          piece.successor.ToString().substr(0, 6));
      }
      return absl::NotFoundError(Cat(param, ": ", change->name, " (", code->ToString().substr(0, 6), ") was ",
                                     ChangeKindName(change->kind), " on ", change->date,
                                     "; its events count under ", successors,
                                     " (figures for every year use today's units)"));
    }
    return absl::NotFoundError(Cat(param, ": no unit has the code ", code->ToString()));
  }
  if (!cube.Covers(*unit)) {
    return absl::InvalidArgumentError(Cat(param, ": ", code->ToString(), " (", registry.name(*unit),
                                          ") is not a city, district, town, community or grid of the home city"));
  }
  return *unit;
}

absl::StatusOr<Period> ResolvePeriod(const Cube& cube, std::string_view text, std::string_view param) {
  if (!text.empty()) {
    absl::StatusOr<Period> period = ParsePeriod(text);
    if (!period.ok()) return absl::InvalidArgumentError(Cat(param, ": ", period.status().message()));
    return period;
  }
  // Default: the month of the latest record.
  const std::optional<Day> now = DataNow(cube);
  if (!now) return absl::InvalidArgumentError(Cat(param, " is required: the store holds no events"));
  return PeriodContaining(PeriodKind::kMonth, *now);
}

absl::StatusOr<size_t> ResolveColumn(const Cube& cube, std::string_view id, std::string_view param) {
  if (id.empty()) return absl::InvalidArgumentError(Cat(param, " is required (an indicator or key type id)"));
  std::optional<size_t> column = ColumnById(cube, id);
  if (!column) {
    return absl::NotFoundError(Cat(param, ": '", id, "' is not an indicator or key type (see pingan catalog)"));
  }
  return *column;
}

namespace {

using Json = nlohmann::ordered_json;

Json IncidentJson(const Cube& cube, const MajorEventRow& row) {
  const CubeEvent* state = cube.Find(row.id);
  // The rules this event matches: its type and every condition on its attributes.
  const Json attributes = Json::parse(row.attributes_json, nullptr, false);
  const auto type = cube.catalog().TypeIndex(row.type);
  Json rules = Json::array();
  for (const MeasureDef& rule : cube.catalog().major_rules) {
    bool holds = type && std::binary_search(rule.type_indexes.begin(), rule.type_indexes.end(), *type);
    for (const Condition& condition : rule.where) {
      const auto value = attributes.is_object() ? attributes.find(condition.attribute) : attributes.end();
      holds = holds && value != attributes.end() && (value->is_boolean() || value->is_number()) &&
              ConditionHolds(condition, value->is_boolean() ? (value->get<bool>() ? 1.0 : 0.0) : value->get<double>());
    }
    if (holds) rules.push_back(rule.id);
  }
  return Json{{"id", row.id},
              {"source", row.source},
              {"source_id", row.source_id},
              {"type", row.type},
              {"occurred_at", row.occurred_at},
              {"unit", row.unit},
              {"unit_name", state != nullptr && state->unit != UnitId::kNoneValue
                                ? cube.registry().name(UnitId{state->unit})
                                : std::string()},
              {"address", MaskDigitRuns(row.address)},
              {"attributes", Json::parse(MaskAttributesJson(cube.catalog(), row.attributes_json), nullptr, false)},
              {"rules", std::move(rules)}};
}

}  // namespace

absl::StatusOr<std::vector<nlohmann::ordered_json>> MajorIncidents(const Cube& cube, sqlite3* db, UnitId unit,
                                                                  const Period& period, size_t limit,
                                                                  const std::string& time_zone) {
  const std::vector<int64_t> ids = cube.MajorEvents(unit, period.first, period.last, limit);
  PA_ASSIGN_OR_RETURN(std::vector<MajorEventRow> rows, ReadEventsById(db, ids, time_zone));
  // Newest first by exact time (ISO 8601 in one zone sorts as text), then the limit.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const MajorEventRow& a, const MajorEventRow& b) { return a.occurred_at > b.occurred_at; });
  if (rows.size() > limit) rows.resize(limit);
  std::vector<Json> out;
  out.reserve(rows.size());
  for (const MajorEventRow& row : rows) out.push_back(IncidentJson(cube, row));
  return out;
}

absl::StatusOr<std::optional<nlohmann::ordered_json>> MajorIncident(const Cube& cube, sqlite3* db, int64_t id,
                                                                    const std::string& time_zone) {
  PA_ASSIGN_OR_RETURN(std::vector<MajorEventRow> rows, ReadEventsById(db, {id}, time_zone));
  if (rows.empty()) return std::nullopt;
  return IncidentJson(cube, rows.front());
}

}  // namespace pingan
