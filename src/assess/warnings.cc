#include "assess/warnings.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/strings.h"
#include "store/write_gate.h"

namespace pingan {
namespace {

using Json = nlohmann::json;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS warnings(
  id INTEGER PRIMARY KEY,
  unit TEXT NOT NULL,
  unit_name TEXT NOT NULL,
  level TEXT NOT NULL,
  key_type TEXT NOT NULL,
  period TEXT NOT NULL,
  grade TEXT NOT NULL,
  score REAL NOT NULL,
  evidence TEXT NOT NULL,
  grids TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE(unit, key_type, period));
CREATE INDEX IF NOT EXISTS warnings_period ON warnings(period);
)sql";

absl::Status SqlError(sqlite3* db, std::string_view what) {
  return absl::InternalError(Cat("warnings: ", what, ": ", sqlite3_errmsg(db)));
}

// Grids inside `unit` with the most events of key-type column `column` over the period, most first.
std::vector<UnitId> TopGrids(const Cube& cube, UnitId unit, size_t column, const Period& period, int limit) {
  const Registry& registry = cube.registry();
  if (registry.level(unit) == Level::kGrid) return {unit};
  std::map<uint32_t, int64_t> by_grid;
  cube.ForEachEvent(unit, period.first, period.last, [&](int64_t, const CubeEvent& event) {
    if (((event.mask >> column) & 1) == 0 || event.unit == UnitId::kNoneValue) return;
    const UnitId grid = registry.AncestorAt(UnitId{event.unit}, Level::kGrid);
    if (grid.valid()) ++by_grid[grid.value];
  });
  std::vector<std::pair<int64_t, uint32_t>> ranked;
  for (const auto& [grid, count] : by_grid) ranked.emplace_back(-count, grid);
  std::sort(ranked.begin(), ranked.end());
  std::vector<UnitId> out;
  for (size_t at = 0; at < ranked.size() && out.size() < static_cast<size_t>(limit); ++at) {
    out.push_back(UnitId{ranked[at].second});
  }
  return out;
}

}  // namespace

std::vector<Warning> WarningsOf(const Cube& cube, const RiskEngine& engine, const std::vector<Assessment>& assessments,
                                const std::function<bool(const std::string&, const std::string&)>& recent) {
  const Registry& registry = cube.registry();
  const Catalog& catalog = cube.catalog();
  const RiskSettings& settings = engine.settings();
  auto warns = [&](Grade grade) {
    return std::find(settings.warn_grades.begin(), settings.warn_grades.end(), grade) != settings.warn_grades.end();
  };
  struct Candidate {
    Warning warning;
    UnitId town;
  };
  std::vector<Candidate> candidates;
  for (const Assessment& assessment : assessments) {
  for (const UnitRisk& unit : assessment.units) {
    if (!warns(unit.grade) || unit.drivers.empty()) continue;
    const size_t key = unit.drivers.front();
    const std::string code = registry.code(unit.unit).ToString();
    const std::string& key_id = catalog.key_types[key].id;
    const bool entering = !unit.previous || !warns(*unit.previous);
    if (!entering && recent(code, key_id)) continue;
    Warning warning;
    warning.unit = code;
    warning.unit_name = registry.name(unit.unit);
    warning.level = std::string(LevelName(assessment.level));
    warning.key_type = key_id;
    warning.period = FormatPeriod(assessment.period);
    warning.grade = std::string(GradeName(unit.grade));
    warning.score = unit.score;
    const Dimension& d = unit.dimensions[key];
    Json drivers = Json::array();
    for (size_t k : unit.drivers) {
      drivers.push_back({{"key_type", catalog.key_types[k].id},
                         {"zh", catalog.key_types[k].zh},
                         {"count", unit.dimensions[k].count},
                         {"expected", unit.dimensions[k].expected},
                         {"index", unit.dimensions[k].index}});
    }
    Json evidence{{"count", d.count},
                  {"expected", d.expected},
                  {"index", d.index},
                  {"raw", d.raw},
                  {"eb_global", d.eb_global},
                  {"eb_local", d.eb_local},
                  {"complexity", unit.exposure},
                  {"score", unit.score},
                  {"previous_grade", unit.previous ? Json(std::string(GradeName(*unit.previous))) : Json(nullptr)},
                  {"previous_score", unit.previous_score ? Json(*unit.previous_score) : Json(nullptr)},
                  {"entering", entering},
                  {"drivers", drivers}};
    warning.evidence = evidence.dump();
    UnitId town;
    for (UnitId grid : TopGrids(cube, unit.unit, cube.KeyTypeColumn(key), assessment.period, settings.route_grids)) {
      warning.grids.push_back(registry.code(grid).ToString());
      if (!town.valid()) town = registry.AncestorAt(grid, Level::kTown);
    }
    if (registry.level(unit.unit) >= Level::kTown) town = registry.AncestorAt(unit.unit, Level::kTown);
    candidates.push_back(Candidate{std::move(warning), town});
  }
  }
  // The cap per town and period, highest scores first.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.warning.score > b.warning.score; });
  std::map<uint32_t, int> per_town;
  std::vector<Warning> out;
  for (Candidate& candidate : candidates) {
    if (++per_town[candidate.town.value] > settings.cap_per_town) continue;
    out.push_back(std::move(candidate.warning));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<WarningStore>> WarningStore::Open(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / "pingan.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::FailedPreconditionError(Cat(data_dir.string(), " holds no pingan database (pingan init makes one)"));
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    absl::Status status = SqlError(db, "cannot open the database");
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 10000);
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    absl::Status status = SqlError(db, "cannot create the table");
    sqlite3_close(db);
    return status;
  }
  return std::unique_ptr<WarningStore>(new WarningStore(db));
}

WarningStore::~WarningStore() { sqlite3_close(db_); }

absl::StatusOr<std::vector<Warning>> WarningStore::Raise(const Cube& cube, const RiskEngine& engine,
                                                         const std::vector<Assessment>& assessments, int64_t now) {
  if (assessments.empty()) return std::vector<Warning>{};
  // Warnings of the `repeat_after` periods before this one, for "stays red: raise again later".
  std::set<std::pair<std::string, std::string>> recent;
  {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT unit, key_type FROM warnings WHERE period = ?1", -1, &stmt, nullptr) != SQLITE_OK) {
      return SqlError(db_, "cannot read");
    }
    for (int back = 1; back <= engine.settings().repeat_after; ++back) {
      const std::string period = FormatPeriod(PeriodBefore(assessments.front().period, back));
      sqlite3_reset(stmt);
      sqlite3_bind_text(stmt, 1, period.data(), static_cast<int>(period.size()), SQLITE_TRANSIENT);
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        recent.emplace(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                       reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
      }
    }
    sqlite3_finalize(stmt);
  }
  auto is_recent = [&](const std::string& unit, const std::string& key) { return recent.count({unit, key}) > 0; };
  std::vector<Warning> raised = WarningsOf(cube, engine, assessments, is_recent);
  WriteTurn turn;
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return SqlError(db_, "cannot begin");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR IGNORE INTO warnings(unit, unit_name, level, key_type, period, grade, score, "
                         "evidence, grids, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                         -1, &insert, nullptr) != SQLITE_OK) {
    absl::Status status = SqlError(db_, "cannot prepare");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return status;
  }
  std::vector<Warning> stored;
  for (Warning& warning : raised) {
    const std::string grids = Json(warning.grids).dump();
    sqlite3_reset(insert);
    int column = 1;
    for (const std::string* text : {&warning.unit, &warning.unit_name, &warning.level, &warning.key_type,
                                    &warning.period, &warning.grade}) {
      sqlite3_bind_text(insert, column++, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
    }
    sqlite3_bind_double(insert, 7, warning.score);
    sqlite3_bind_text(insert, 8, warning.evidence.data(), static_cast<int>(warning.evidence.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 9, grids.data(), static_cast<int>(grids.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 10, now);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      absl::Status status = SqlError(db_, "cannot store");
      sqlite3_finalize(insert);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return status;
    }
    if (sqlite3_changes(db_) == 1) {
      warning.id = sqlite3_last_insert_rowid(db_);
      warning.created_at = now;
      stored.push_back(std::move(warning));
    }
  }
  sqlite3_finalize(insert);
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    absl::Status status = SqlError(db_, "cannot commit");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return status;
  }
  return stored;
}

absl::StatusOr<std::vector<Warning>> WarningStore::Select(const std::string& where,
                                                          const std::function<void(sqlite3_stmt*)>& bind) {
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT id, unit, unit_name, level, key_type, period, grade, score, evidence, grids, created_at "
                          "FROM warnings WHERE " + where;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return SqlError(db_, "cannot read");
  bind(stmt);
  std::vector<Warning> out;
  auto text = [&](int column) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column))); };
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    Warning warning;
    warning.id = sqlite3_column_int64(stmt, 0);
    warning.unit = text(1), warning.unit_name = text(2), warning.level = text(3);
    warning.key_type = text(4), warning.period = text(5), warning.grade = text(6);
    warning.score = sqlite3_column_double(stmt, 7);
    warning.evidence = text(8);
    const Json grids = Json::parse(text(9), nullptr, false);
    if (grids.is_array()) {
      for (const Json& grid : grids) warning.grids.push_back(grid.get<std::string>());
    }
    warning.created_at = sqlite3_column_int64(stmt, 10);
    out.push_back(std::move(warning));
  }
  sqlite3_finalize(stmt);
  return out;
}

absl::StatusOr<std::vector<Warning>> WarningStore::List(const std::string& period, const std::string& unit_prefix,
                                                        int64_t limit) {
  return Select("(?1 = '' OR period = ?1) AND substr(unit, 1, length(?2)) = ?2 ORDER BY period DESC, score DESC, id DESC "
                "LIMIT ?3",
                [&](sqlite3_stmt* stmt) {
                  sqlite3_bind_text(stmt, 1, period.data(), static_cast<int>(period.size()), SQLITE_TRANSIENT);
                  sqlite3_bind_text(stmt, 2, unit_prefix.data(), static_cast<int>(unit_prefix.size()), SQLITE_TRANSIENT);
                  sqlite3_bind_int64(stmt, 3, limit);
                });
}

absl::StatusOr<std::optional<Warning>> WarningStore::Get(int64_t id) {
  PA_ASSIGN_OR_RETURN(std::vector<Warning> found,
                      Select("id = ?1", [&](sqlite3_stmt* stmt) { sqlite3_bind_int64(stmt, 1, id); }));
  if (found.empty()) return std::optional<Warning>();
  return std::optional<Warning>(std::move(found.front()));
}

}  // namespace pingan
