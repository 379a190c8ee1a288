#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status.h"
#include "core/strings.h"
#include "store/event_store.h"
#include "store/snapshot.h"
#include "store/sqlite_util.h"

#include <random>

namespace pingan {
namespace {

namespace fs = std::filesystem;
using sqlite::Statement;

constexpr char kSchema[] = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units(
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  level INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  parent INTEGER,
  stat_parent INTEGER,
  name TEXT NOT NULL,
  retired INTEGER NOT NULL DEFAULT 0,
  resident INTEGER, floating INTEGER, enterprises INTEGER, houses INTEGER, households INTEGER,
  min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
  geometry TEXT,
  road INTEGER, house_number INTEGER, compound INTEGER, number INTEGER,
  entrances INTEGER, floors INTEGER, rooms_per_floor INTEGER, lon REAL, lat REAL
);
CREATE UNIQUE INDEX units_live_code ON units(code) WHERE retired = 0;
CREATE TABLE roads(id INTEGER PRIMARY KEY, town INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE compounds(id INTEGER PRIMARY KEY, community INTEGER NOT NULL, name TEXT NOT NULL,
                       road INTEGER, house_number INTEGER);
CREATE TABLE history(id INTEGER PRIMARY KEY, date TEXT NOT NULL, kind TEXT NOT NULL,
                     code TEXT NOT NULL, name TEXT NOT NULL, level INTEGER NOT NULL,
                     abolished INTEGER NOT NULL, source TEXT);
CREATE TABLE history_pieces(change_id INTEGER NOT NULL, successor TEXT NOT NULL,
                            towns TEXT NOT NULL);
)sql";

absl::Status SyncFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return absl::InternalError("cannot open " + path.string() + " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError("fsync failed for " + path.string());
  return absl::OkStatus();
}

}  // namespace

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }

absl::Status SqliteStore::Error(std::string_view what) const {
  return absl::InternalError(Cat(path_.filename().string(), ": ", what, ": ", sqlite3_errmsg(db_)));
}

absl::Status SqliteStore::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return absl::InternalError(Cat(path_.filename().string(), ": ", text));
  }
  return absl::OkStatus();
}

void ConfigureSqlite() { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const fs::path& path, Mode mode) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::FailedPreconditionError(Cat(path.string(), " does not exist"));
  }
  sqlite3* db = nullptr;
  int flags = mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, mode));
  if (rc != SQLITE_OK) return absl::FailedPreconditionError(Cat(path.string(), ": ", sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db, 5000);
  // Reading the format marker is the first thing that touches the file: a corrupt or foreign
  // file fails here, with nothing written.
  Statement format(db, "SELECT value FROM meta WHERE key = 'format'");
  if (!format.status().ok()) {
    return absl::FailedPreconditionError(Cat(path.string(), " is not a pingan database (",
                                                      sqlite3_errmsg(db), ")"));
  }
  if (format.Step() != SQLITE_ROW || format.Text(0) != kStoreFormat) {
    return absl::FailedPreconditionError(Cat(path.string(), " is not a pingan database (no format marker)"));
  }
  Statement version(db, "SELECT value FROM meta WHERE key = 'schema_version'");
  int schema = 0;
  if (!version.status().ok() || version.Step() != SQLITE_ROW || !absl::SimpleAtoi(std::string(version.Text(0)), &schema) ||
      schema < 1 || schema > kSchemaVersion) {
    return absl::FailedPreconditionError(Cat(path.string(), " has schema version ", schema,
                                                      "; this pingan reads version ", kSchemaVersion));
  }
  if (mode == Mode::kReadWrite) {
    PA_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
    if (schema < kSchemaVersion) PA_RETURN_IF_ERROR(store->Migrate());
  } else if (schema == 2) {
    // Read as version 3: each change-log row is a run of one. This connection's own view
    // shadows the table (SQLite looks in `temp` first); the file is not touched.
    PA_RETURN_IF_ERROR(store->Exec("CREATE TEMP VIEW changes AS SELECT *, 1 AS run FROM main.changes;"));
  }
  return store;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Create(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return absl::AlreadyExistsError(Cat(path.string(), " already exists"));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, Mode::kReadWrite));
  if (rc != SQLITE_OK) return absl::InternalError(Cat(path.string(), ": ", sqlite3_errstr(rc)));
  // Bulk load into a file nobody else sees yet: no journal; Finish() syncs and switches to WAL.
  // 16 KB pages: fresh events (most of what is written) went 7-20 % faster than with 8 KB pages,
  // an update of a stored event ~8 % slower (it dirties a whole page); docs/store.md. A file made
  // with other pages keeps them.
  PA_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=16384;"));
  PA_RETURN_IF_ERROR(store->Exec("BEGIN"));
  PA_RETURN_IF_ERROR(store->Exec(kSchema));
  PA_RETURN_IF_ERROR(CreateEventTables(db));
  PA_RETURN_IF_ERROR(store->SetMeta("format", kStoreFormat));
  PA_RETURN_IF_ERROR(store->SetMeta("schema_version", std::to_string(kSchemaVersion)));
  PA_RETURN_IF_ERROR(store->Exec("COMMIT"));
  return store;
}

absl::Status SqliteStore::Migrate() {
  // Another process may have upgraded the file since Open read the version: it is read again
  // inside the write transaction. Version 1 -> 3 adds the event tables (the registry is not
  // touched); 2 -> 3 adds the change log's `run` column (no row is rewritten).
  PA_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status status = absl::OkStatus();
  std::optional<std::string> version;
  if (auto read = GetMeta("schema_version"); read.ok()) {
    version = *read;
  } else {
    status = read.status();
  }
  if (status.ok() && version == std::optional<std::string>("1")) status = CreateEventTables(db_);
  if (status.ok() && version == std::optional<std::string>("2")) status = AddChangeRuns(db_);
  if (status.ok()) status = SetMeta("schema_version", std::to_string(kSchemaVersion));
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok()) (void)Exec("ROLLBACK");
  return status;
}

absl::Status SqliteStore::Finish() {
  PA_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  PA_RETURN_IF_ERROR(Exec("PRAGMA wal_checkpoint(TRUNCATE);"));
  return SyncFile(path_);
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetMeta(const std::string& key) {
  Statement select(db_, "SELECT value FROM meta WHERE key = ?");
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, key);
  int rc = select.Step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(std::string(select.Text(0)));
  if (rc != SQLITE_DONE) return Error("reading meta");
  return std::optional<std::string>();
}

absl::StatusOr<std::optional<Level>> SqliteStore::FindUnitLevel(const AddressCode& code) {
  Statement select(db_, "SELECT level FROM units WHERE code = ? AND retired = 0");
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, code.ToString());
  int rc = select.Step();
  if (rc == SQLITE_ROW) {
    const int64_t level = select.Int(0);
    if (level < 0 || level >= kLevelCount) return Error(Cat("unit ", code.ToString(), ": bad level"));
    return std::optional<Level>(static_cast<Level>(level));
  }
  if (rc != SQLITE_DONE) return Error("reading units");
  return std::optional<Level>();
}

absl::Status SqliteStore::SetMeta(const std::string& key, const std::string& value) {
  Statement upsert(db_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  PA_RETURN_IF_ERROR(upsert.status());
  upsert.Bind(1, key);
  upsert.Bind(2, value);
  return upsert.Run();
}

absl::Status SqliteStore::SaveRegistry(const Registry& registry,
                                      std::optional<std::string> expected_generation) {
  PA_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto rollback = [&](absl::Status status) {
    (void)Exec("ROLLBACK");
    return status;
  };
  if (expected_generation) {
    auto current = GetMeta("registry_generation");
    if (!current.ok()) return rollback(current.status());
    if (current->value_or("") != *expected_generation) {
      return rollback(absl::AbortedError(
          "the registry was changed by another process while this one worked; nothing was written, run it again"));
    }
  }
  for (const char* sql : {"DELETE FROM units", "DELETE FROM roads", "DELETE FROM compounds",
                          "DELETE FROM history", "DELETE FROM history_pieces"}) {
    if (auto status = Exec(sql); !status.ok()) return rollback(status);
  }
  Statement unit(db_,
                 "INSERT INTO units(id, code, level, kind, parent, stat_parent, name, retired, resident, "
                 "floating, enterprises, houses, households, min_lon, min_lat, max_lon, max_lat, geometry, "
                 "road, house_number, compound, number, entrances, floors, rooms_per_floor, lon, lat) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!unit.status().ok()) return rollback(unit.status());
  for (uint32_t index = 0; index < registry.size(); ++index) {
    UnitId id{index};
    unit.Bind(1, static_cast<int64_t>(index));
    unit.Bind(2, registry.code(id).ToString());
    unit.Bind(3, static_cast<int64_t>(registry.level(id)));
    unit.Bind(4, static_cast<int64_t>(registry.kind(id)));
    if (registry.parent(id).valid()) unit.Bind(5, static_cast<int64_t>(registry.parent(id).value));
    if (registry.stat_parent(id).valid() && registry.stat_parent(id) != registry.parent(id)) {
      unit.Bind(6, static_cast<int64_t>(registry.stat_parent(id).value));
    }
    const bool building = registry.level(id) == Level::kBuilding;
    unit.Bind(7, std::string_view(registry.stored_name(id)));
    unit.Bind(8, static_cast<int64_t>(registry.retired(id)));
    const UnitFigures& figures = registry.own_figures(id);
    if (figures != UnitFigures{}) {
      unit.Bind(9, figures.resident), unit.Bind(10, figures.floating), unit.Bind(11, figures.enterprises);
      unit.Bind(12, figures.houses), unit.Bind(13, figures.households);
    }
    const BoundingBox& box = registry.box(id);
    if (!box.empty()) {
      unit.Bind(14, box.min_lon), unit.Bind(15, box.min_lat), unit.Bind(16, box.max_lon), unit.Bind(17, box.max_lat);
    }
    if (std::string_view geometry = registry.geometry(id); !geometry.empty()) unit.Bind(18, geometry);
    if (building) {
      const BuildingInfo& info = registry.building(id);
      if (info.road != UINT32_MAX) unit.Bind(19, static_cast<int64_t>(info.road));
      unit.Bind(20, static_cast<int64_t>(info.house_number));
      if (info.compound != UINT32_MAX) unit.Bind(21, static_cast<int64_t>(info.compound));
      unit.Bind(22, static_cast<int64_t>(info.number));
      unit.Bind(23, static_cast<int64_t>(info.entrances));
      unit.Bind(24, static_cast<int64_t>(info.floors));
      unit.Bind(25, static_cast<int64_t>(info.rooms_per_floor));
      unit.Bind(26, info.lon), unit.Bind(27, info.lat);
    }
    if (auto status = unit.Run(); !status.ok()) return rollback(status);
  }
  Statement road(db_, "INSERT INTO roads(id, town, name) VALUES(?,?,?)");
  for (size_t index = 0; index < registry.roads().size(); ++index) {
    const Road& item = registry.roads()[index];
    road.Bind(1, static_cast<int64_t>(index)), road.Bind(2, static_cast<int64_t>(item.town.value)), road.Bind(3, item.name);
    if (auto status = road.Run(); !status.ok()) return rollback(status);
  }
  Statement compound(db_, "INSERT INTO compounds(id, community, name, road, house_number) VALUES(?,?,?,?,?)");
  for (size_t index = 0; index < registry.compounds().size(); ++index) {
    const Compound& item = registry.compounds()[index];
    compound.Bind(1, static_cast<int64_t>(index)), compound.Bind(2, static_cast<int64_t>(item.community.value));
    compound.Bind(3, item.name);
    if (item.road != UINT32_MAX) compound.Bind(4, static_cast<int64_t>(item.road));
    compound.Bind(5, static_cast<int64_t>(item.house_number));
    if (auto status = compound.Run(); !status.ok()) return rollback(status);
  }
  Statement change(db_, "INSERT INTO history(id, date, kind, code, name, level, abolished, source) VALUES(?,?,?,?,?,?,?,?)");
  Statement piece(db_, "INSERT INTO history_pieces(change_id, successor, towns) VALUES(?,?,?)");
  const auto& changes = registry.history().changes();
  for (size_t index = 0; index < changes.size(); ++index) {
    const HistoryChange& item = changes[index];
    change.Bind(1, static_cast<int64_t>(index)), change.Bind(2, item.date), change.Bind(3, ChangeKindName(item.kind));
    change.Bind(4, item.code.ToString()), change.Bind(5, item.name), change.Bind(6, static_cast<int64_t>(item.level));
    change.Bind(7, static_cast<int64_t>(item.abolished)), change.Bind(8, item.source);
    if (auto status = change.Run(); !status.ok()) return rollback(status);
    for (const HistoryPiece& part : item.pieces) {
      piece.Bind(1, static_cast<int64_t>(index)), piece.Bind(2, part.successor.ToString());
      piece.Bind(3, absl::StrJoin(part.towns, ","));
      if (auto status = piece.Run(); !status.ok()) return rollback(status);
    }
  }
  const uint64_t generation = std::random_device{}() * 0x100000000ULL + std::random_device{}();
  if (auto status = SetMeta("registry_generation", std::to_string(generation)); !status.ok()) return rollback(status);
  PA_RETURN_IF_ERROR(Exec("COMMIT"));
  // The snapshot is a cache: when writing it fails, the next load reads the tables.
  (void)RegistrySnapshot::Write(registry, generation, snapshot_path());
  return absl::OkStatus();
}

absl::StatusOr<Registry> SqliteStore::LoadRegistry() {
  PA_ASSIGN_OR_RETURN(History history, LoadHistory());
  PA_ASSIGN_OR_RETURN(std::optional<std::string> generation_text, GetMeta("registry_generation"));
  uint64_t generation = 0;
  if (generation_text && absl::SimpleAtoi(*generation_text, &generation)) {
    auto snapshot = RegistrySnapshot::Read(snapshot_path(), generation, history);
    if (snapshot.ok()) {
      loaded_generation_ = generation;
      return snapshot;
    }
  }
  PA_ASSIGN_OR_RETURN(Registry registry, LoadRegistryTables(std::move(history)));
  loaded_generation_ = generation;
  if (mode_ == Mode::kReadWrite && generation_text) {
    (void)RegistrySnapshot::Write(registry, generation, snapshot_path());
  }
  return registry;
}

absl::StatusOr<History> SqliteStore::LoadHistory() {
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(Cat(path_.filename().string(), ": ", what));
  };
  std::vector<HistoryChange> changes;
  Statement change(db_, "SELECT id, date, kind, code, name, level, abolished, source FROM history ORDER BY id");
  PA_RETURN_IF_ERROR(change.status());
  while (change.Step() == SQLITE_ROW) {
    HistoryChange item;
    item.date = std::string(change.Text(1));
    std::string_view kind = change.Text(2);
    item.kind = kind == "merged" ? ChangeKind::kMerged : kind == "split" ? ChangeKind::kSplit
                : kind == "transferred" ? ChangeKind::kTransferred : ChangeKind::kRenamed;
    auto code = AddressCode::Parse(change.Text(3));
    if (!code.ok()) return corrupt("history: bad code");
    item.code = *code;
    item.name = std::string(change.Text(4));
    item.level = static_cast<Level>(std::clamp<int64_t>(change.Int(5), 1, kLevelCount - 1));
    item.abolished = change.Int(6) != 0;
    item.source = std::string(change.Text(7));
    changes.push_back(std::move(item));
  }
  Statement piece(db_, "SELECT change_id, successor, towns FROM history_pieces ORDER BY rowid");
  PA_RETURN_IF_ERROR(piece.status());
  while (piece.Step() == SQLITE_ROW) {
    int64_t change_id = piece.Int(0);
    if (change_id < 0 || change_id >= static_cast<int64_t>(changes.size())) return corrupt("history piece of no change");
    auto successor = AddressCode::Parse(piece.Text(1));
    if (!successor.ok()) return corrupt("history: bad successor");
    HistoryPiece part{.successor = *successor};
    if (!piece.Text(2).empty()) part.towns = absl::StrSplit(std::string(piece.Text(2)), ',');
    changes[change_id].pieces.push_back(std::move(part));
  }
  return History(std::move(changes));
}

absl::StatusOr<Registry> SqliteStore::LoadRegistryTables(History history) {
  RegistryBuilder builder;
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(Cat(path_.filename().string(), ": ", what));
  };
  Statement road(db_, "SELECT id, town, name FROM roads ORDER BY id");
  PA_RETURN_IF_ERROR(road.status());
  while (road.Step() == SQLITE_ROW) {
    if (road.Int(0) != static_cast<int64_t>(builder.roads().size())) return corrupt("road ids are not dense");
    builder.AddRoad(Road{.name = std::string(road.Text(2)), .town = UnitId{static_cast<uint32_t>(road.Int(1))}});
  }
  Statement compound(db_, "SELECT id, community, name, road, house_number FROM compounds ORDER BY id");
  PA_RETURN_IF_ERROR(compound.status());
  while (compound.Step() == SQLITE_ROW) {
    if (compound.Int(0) != static_cast<int64_t>(builder.compounds().size())) return corrupt("compound ids are not dense");
    builder.AddCompound(Compound{.name = std::string(compound.Text(2)),
                                 .community = UnitId{static_cast<uint32_t>(compound.Int(1))},
                                 .road = compound.IsNull(3) ? UINT32_MAX : static_cast<uint32_t>(compound.Int(3)),
                                 .house_number = static_cast<uint32_t>(compound.Int(4))});
  }
  {
    Statement count(db_, "SELECT max(id) FROM units");
    PA_RETURN_IF_ERROR(count.status());
    if (count.Step() == SQLITE_ROW) builder.Reserve(static_cast<size_t>(std::max<int64_t>(count.Int(0), 0)) + 1);
  }
  Statement unit(db_,
                 "SELECT id, code, level, kind, parent, stat_parent, name, retired, resident, floating, "
                 "enterprises, houses, households, min_lon, min_lat, max_lon, max_lat, geometry, road, "
                 "house_number, compound, number, entrances, floors, rooms_per_floor, lon, lat "
                 "FROM units ORDER BY id");
  PA_RETURN_IF_ERROR(unit.status());
  int rc;
  while ((rc = unit.Step()) == SQLITE_ROW) {
    int64_t id = unit.Int(0);
    if (id == 0) continue;  // the nation is implicit
    if (id != static_cast<int64_t>(builder.size())) return corrupt("unit ids are not dense");
    auto code = AddressCode::Parse(unit.Text(1));
    if (!code.ok()) return corrupt(Cat("unit ", id, ": ", Message(code.status())));
    int64_t level = unit.Int(2);
    if (level < 1 || level >= kLevelCount) return corrupt(Cat("unit ", id, ": bad level"));
    UnitRecord record{.code = *code,
                      .level = static_cast<Level>(level),
                      .name = std::string(unit.Text(6)),
                      .parent = UnitId{static_cast<uint32_t>(unit.Int(4))},
                      .stat_parent = unit.IsNull(5) ? kNoUnit : UnitId{static_cast<uint32_t>(unit.Int(5))},
                      .kind = static_cast<UnitKind>(unit.Int(3) & 3),
                      .retired = unit.Int(7) != 0};
    if (!unit.IsNull(8)) {
      record.figures = UnitFigures{unit.Int(8), unit.Int(9), unit.Int(10), unit.Int(11), unit.Int(12)};
    }
    if (!unit.IsNull(13)) record.box = BoundingBox{unit.Double(13), unit.Double(14), unit.Double(15), unit.Double(16)};
    if (!unit.IsNull(17)) record.geometry = std::string(unit.Text(17));
    if (record.level == Level::kBuilding) {
      BuildingInfo& info = record.building;
      info.road = unit.IsNull(18) ? UINT32_MAX : static_cast<uint32_t>(unit.Int(18));
      info.house_number = static_cast<uint32_t>(unit.Int(19));
      info.compound = unit.IsNull(20) ? UINT32_MAX : static_cast<uint32_t>(unit.Int(20));
      info.number = static_cast<uint32_t>(unit.Int(21));
      info.entrances = static_cast<uint8_t>(unit.Int(22));
      info.floors = static_cast<uint16_t>(unit.Int(23));
      info.rooms_per_floor = static_cast<uint8_t>(unit.Int(24));
      info.lon = unit.Double(25), info.lat = unit.Double(26);
    }
    builder.Add(std::move(record));
  }
  if (rc != SQLITE_DONE) return Error("reading units");

  builder.SetHistory(std::move(history));
  auto registry = std::move(builder).Build();
  if (!registry.ok()) return corrupt(Message(registry.status()));
  return registry;
}

}  // namespace pingan
