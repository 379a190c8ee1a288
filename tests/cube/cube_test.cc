#include "cube/cube.h"

#include <sqlite3.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cube/cube_loader.h"
#include "cube/live_cube.h"
#include "report/report.h"
#include "store/event_store.h"
#include "store/sqlite_store.h"
#include "testing/demo_registry.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::TempDir;

struct World {
  testing::DemoRegistry demo;
  Catalog catalog;
  UnitId city;
};

World& SharedWorld() {
  static World* world = [] {
    auto* made = new World{*testing::ZhejiangDemoRegistry(0.01), {}, {}};
    made->catalog = *LoadCatalog(std::filesystem::path(PINGAN_SOURCE_DIR) / "config");
    made->city = *made->demo.registry.Find(*AddressCode::ParsePrefix("3301"));
    return made;
  }();
  return *world;
}

const Registry& Reg() { return SharedWorld().demo.registry; }
const Catalog& TheCatalog() { return SharedWorld().catalog; }

size_t Col(const Cube& cube, std::string_view id) {
  if (auto it = TheCatalog().indicator_index.find(std::string(id)); it != TheCatalog().indicator_index.end()) {
    return cube.IndicatorColumn(it->second);
  }
  return cube.KeyTypeColumn(TheCatalog().key_type_index.at(std::string(id)));
}

std::vector<int64_t> SumOf(const Cube& cube, UnitId unit, CubeDay first, CubeDay last) {
  std::vector<int64_t> out(cube.columns(), 0);
  cube.Sum(unit, first, last, out);
  return out;
}

// A grid of the demo city and its ancestors, and a building in it.
struct Chain {
  UnitId district, town, community, grid, building;
};
Chain SomeChain(size_t which = 0) {
  const Registry& registry = Reg();
  const UnitId district = *registry.Find(*AddressCode::ParsePrefix("330106"));
  std::vector<UnitId> grids = registry.Descendants(district, Level::kGrid);
  UnitId grid = grids.at(which * 7 % grids.size());
  std::vector<UnitId> buildings = registry.Descendants(grid, Level::kBuilding);
  return Chain{district, registry.AncestorAt(grid, Level::kTown), registry.AncestorAt(grid, Level::kCommunity), grid,
               buildings.empty() ? grid : buildings.front()};
}

CubeEventInput Input(std::string_view type, CubeDay day, UnitId placed,
                     std::span<const std::pair<uint16_t, double>> numbers = {}) {
  CubeEventInput input;
  input.type = *TheCatalog().TypeIndex(type);
  input.source = static_cast<uint8_t>(TheCatalog().source_index.at(TheCatalog().types[input.type].source));
  input.day = day;
  input.hour = 10;
  input.placed = placed;
  input.level = static_cast<uint8_t>(Reg().level(placed));
  input.numbers = numbers;
  return input;
}

constexpr CubeDay kDay = 19800;  // 2024-03-18

TEST(CubeTest, CountsAtTheDeepestUnitAndEveryUnitAboveWithTheRemainderUnplaced) {
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  const Chain chain = SomeChain();
  const uint16_t solved = TheCatalog().attribute_index.at("solved");
  const std::pair<uint16_t, double> solved_true[] = {{solved, 1}};
  cube->Put(1, Input("criminal.theft", kDay, chain.building, solved_true));  // building -> its grid
  cube->Put(2, Input("criminal.theft", kDay + 1, chain.town));               // placed at the town only
  cube->Put(3, Input("criminal.homicide", kDay, SharedWorld().city));         // unplaced: the city
  const size_t theft = Col(*cube, "criminal.theft"), filed = Col(*cube, "criminal.filed");
  const size_t solved_col = Col(*cube, "criminal.solved"), homicide = Col(*cube, "criminal.homicide");
  EXPECT_EQ(SumOf(*cube, chain.grid, kDay, kDay + 5)[theft], 1);
  EXPECT_EQ(SumOf(*cube, chain.community, kDay, kDay + 5)[theft], 1);
  EXPECT_EQ(SumOf(*cube, chain.town, kDay, kDay + 5)[theft], 2);
  EXPECT_EQ(SumOf(*cube, chain.district, kDay, kDay + 5)[theft], 2);
  const std::vector<int64_t> city = SumOf(*cube, SharedWorld().city, kDay, kDay + 5);
  EXPECT_EQ(city[theft], 2);
  EXPECT_EQ(city[filed], 3);
  EXPECT_EQ(city[solved_col], 1);
  EXPECT_EQ(city[homicide], 1);
  EXPECT_EQ(city[cube->TypeColumn(*TheCatalog().TypeIndex("criminal.theft"))], 2);
  // Day windows.
  EXPECT_EQ(SumOf(*cube, chain.town, kDay + 1, kDay + 1)[theft], 1);
  EXPECT_EQ(SumOf(*cube, chain.grid, kDay + 1, kDay + 9)[theft], 0);
  // Breakdown of the town by community: the town-level event is the unplaced remainder.
  const Period period = RangePeriod(kDay, kDay + 5);
  std::vector<BreakdownRow> rows = Breakdown(*cube, chain.town, theft, period);
  ASSERT_FALSE(rows.empty());
  EXPECT_FALSE(rows.back().unit.valid());
  EXPECT_EQ(rows.back().value, 1);
  double sum = 0;
  for (const BreakdownRow& row : rows) sum += row.value;
  EXPECT_EQ(sum, 2);
  // City breakdown: the homicide is unplaced.
  rows = Breakdown(*cube, SharedWorld().city, homicide, period);
  EXPECT_EQ(rows.back().value, 1);
}

TEST(CubeTest, UpdatesMoveCountsAndWithdrawalsTakeThemOut) {
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  const Chain a = SomeChain(0), b = SomeChain(5);
  ASSERT_NE(a.grid, b.grid);
  cube->Put(7, Input("criminal.theft", kDay, a.grid));
  const size_t theft = Col(*cube, "criminal.theft"), fraud = Col(*cube, "criminal.telecom_fraud");
  EXPECT_EQ(SumOf(*cube, a.grid, kDay, kDay)[theft], 1);
  // Reclassified, moved and re-dated.
  cube->Put(7, Input("criminal.telecom_fraud", kDay + 40, b.grid));
  EXPECT_EQ(SumOf(*cube, a.grid, kDay, kDay + 100)[theft], 0);
  EXPECT_EQ(SumOf(*cube, b.grid, kDay, kDay)[fraud], 0);
  EXPECT_EQ(SumOf(*cube, b.grid, kDay + 40, kDay + 40)[fraud], 1);
  EXPECT_EQ(SumOf(*cube, b.district, kDay, kDay + 100)[fraud], 1);
  // Withdrawn: counts nowhere, still known.
  CubeEventInput withdrawn = Input("criminal.telecom_fraud", kDay + 40, b.grid);
  withdrawn.active = false;
  cube->Put(7, withdrawn);
  EXPECT_EQ(SumOf(*cube, SharedWorld().city, kDay, kDay + 100)[fraud], 0);
  ASSERT_NE(cube->Find(7), nullptr);
  EXPECT_FALSE(cube->Find(7)->counted());
  // Outside the home city: stored, not counted.
  CubeEventInput outside = Input("criminal.theft", kDay, a.grid);
  outside.in_home_city = false;
  cube->Put(8, outside);
  EXPECT_EQ(SumOf(*cube, SharedWorld().city, kDay, kDay + 100)[theft], 0);
  cube->Remove(7);
  EXPECT_EQ(cube->Find(7), nullptr);
  EXPECT_EQ(cube->events(), 1u);
}

TEST(CubeTest, SumsAreExactInHundredthsAndConditionsSelect) {
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  const Chain chain = SomeChain();
  const uint16_t deaths = TheCatalog().attribute_index.at("deaths"), loss = TheCatalog().attribute_index.at("loss_yuan");
  const std::pair<uint16_t, double> big[] = {{deaths, 3}, {loss, 0.1}};
  const std::pair<uint16_t, double> small[] = {{deaths, 1}, {loss, 0.2}};
  cube->Put(1, Input("traffic.accident", kDay, chain.grid, big));
  cube->Put(2, Input("traffic.accident", kDay, chain.grid, small));
  const std::vector<int64_t> totals = SumOf(*cube, chain.district, kDay, kDay);
  EXPECT_EQ(cube->Value(Col(*cube, "traffic.deaths"), totals[Col(*cube, "traffic.deaths")]), 4);
  EXPECT_EQ(totals[Col(*cube, "traffic.loss_yuan")], 30);  // 0.1 + 0.2 yuan in fen, exactly
  EXPECT_EQ(totals[Col(*cube, "traffic.major")], 1);       // deaths >= 3
  EXPECT_EQ(totals[Col(*cube, "key.traffic_death")], 400);
  // Taking one out leaves exactly the other.
  cube->Remove(1);
  EXPECT_EQ(SumOf(*cube, chain.district, kDay, kDay)[Col(*cube, "traffic.loss_yuan")], 20);
  EXPECT_EQ(SumOf(*cube, chain.district, kDay, kDay)[Col(*cube, "traffic.major")], 0);
}

TEST(CubeTest, MajorEventsNewestFirstWithinTheUnit) {
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  ASSERT_FALSE(TheCatalog().major_rules.empty());
  const Chain a = SomeChain(0), b = SomeChain(5);
  const uint16_t deaths = TheCatalog().attribute_index.at("deaths");
  const std::pair<uint16_t, double> three[] = {{deaths, 3}};
  cube->Put(1, Input("criminal.homicide", kDay, a.grid));
  cube->Put(2, Input("traffic.accident", kDay + 3, b.grid, three));
  cube->Put(3, Input("criminal.theft", kDay + 4, a.grid));
  cube->Put(4, Input("criminal.homicide", kDay + 9, a.grid));
  EXPECT_THAT(cube->MajorEvents(SharedWorld().city, kDay, kDay + 30, 10), ::testing::ElementsAre(4, 2, 1));
  EXPECT_THAT(cube->MajorEvents(SharedWorld().city, kDay, kDay + 30, 2), ::testing::ElementsAre(4, 2));
  EXPECT_THAT(cube->MajorEvents(a.grid, kDay, kDay + 5, 10), ::testing::ElementsAre(1));
  CubeEventInput withdrawn = Input("criminal.homicide", kDay + 9, a.grid);
  withdrawn.active = false;
  cube->Put(4, withdrawn);
  EXPECT_THAT(cube->MajorEvents(SharedWorld().city, kDay, kDay + 30, 10), ::testing::ElementsAre(2, 1));
}

// --- The store, the feeder and the snapshot ---

struct Placed {
  UnitId unit;
  bool in_home_city = true;
};

class CubeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *SqliteStore::Create(dir_.path() / "pingan.db");
    ASSERT_TRUE(store_->Finish().ok());
    events_ = *EventStore::Open(store_->handle());
    clock_ = *CivilClock::ForZone("Asia/Shanghai");
    const Registry& registry = Reg();
    const UnitId city = SharedWorld().city;
    // Placements at every level, and some outside the city.
    places_.push_back({city});
    for (Level level : {Level::kDistrict, Level::kTown, Level::kCommunity, Level::kGrid, Level::kBuilding}) {
      std::vector<UnitId> units = registry.Descendants(city, level);
      for (size_t i = 0; i < units.size(); i += std::max<size_t>(1, units.size() / 40)) places_.push_back({units[i]});
    }
    const UnitId ningbo = *registry.Find(*AddressCode::ParsePrefix("3302"));
    places_.push_back({ningbo, false});
    for (UnitId unit : registry.Descendants(ningbo, Level::kDistrict)) places_.push_back({unit, false});
    // Query units: the city, districts, some towns, communities and grids.
    units_.push_back(city);
    for (Level level : {Level::kDistrict, Level::kTown, Level::kCommunity, Level::kGrid}) {
      std::vector<UnitId> units = registry.Descendants(city, level);
      for (size_t i = 0; i < units.size(); i += std::max<size_t>(1, units.size() / 12)) units_.push_back(units[i]);
    }
  }

  // A random event in canonical form (what ingest would store).
  EventRecord RandomEvent(std::mt19937_64& rng, int64_t number) {
    const Catalog& catalog = TheCatalog();
    EventRecord event;
    const EventTypeDef& type = catalog.types[rng() % catalog.types.size()];
    event.source = type.source;
    event.source_id = fmt::format("S{}", number);
    event.type = type.id;
    // 2023-01-01 .. 2024-06-30, any second.
    event.occurred_at = 1672502400 + static_cast<int64_t>(rng() % (547 * 86400));
    event.status = rng() % 10 == 0 ? EventStatus::kWithdrawn : EventStatus::kActive;
    nlohmann::json attributes = nlohmann::json::object();
    for (const std::string& name : type.attributes) {
      if (rng() % 5 == 0) continue;  // sometimes missing
      const AttributeDef& def = *catalog.FindAttribute(name);
      switch (def.kind) {
        case AttrKind::kBool: attributes[name] = rng() % 2 == 0; break;
        case AttrKind::kInt: attributes[name] = static_cast<int64_t>(rng() % 5); break;
        case AttrKind::kNumber: attributes[name] = static_cast<double>(rng() % 1000000) / 100.0; break;
        case AttrKind::kText: attributes[name] = "x"; break;
      }
    }
    event.attributes_json = attributes.dump();
    const Placed& place = places_[rng() % places_.size()];
    event.placement.method = PlaceMethod::kCode;
    event.placement.unit = Reg().code(place.unit).ToString();
    event.placement.level = static_cast<uint8_t>(Reg().level(place.unit));
    event.placement.in_home_city = place.in_home_city;
    event.code = event.placement.unit;
    return event;
  }

  void Write(const std::vector<EventRecord>& batch) {
    std::vector<UpsertOutcome> outcomes;
    ASSERT_TRUE(events_->WriteBatch(batch, {}, &outcomes).ok());
  }

  // Column `column` for `unit` over [first, last] computed directly by SQL over the store.
  double SqlValue(const Cube& cube, size_t column, UnitId unit, Day first, Day last) {
    const CubeColumn& info = cube.column(column);
    const MeasureDef& def = info.kind == CubeColumn::Kind::kIndicator ? TheCatalog().indicators[info.index]
                                                                      : TheCatalog().key_types[info.index];
    std::string types;
    for (uint16_t type : def.type_indexes) types += fmt::format("{}'{}'", types.empty() ? "" : ",", TheCatalog().types[type].id);
    std::string where;
    for (const Condition& condition : def.where) {
      const std::string value = fmt::format("json_extract(attributes_json, '$.{}')", condition.attribute);
      static constexpr const char* kOps[] = {"", "=", "<>", ">=", ">", "<=", "<"};
      if (condition.op == Condition::Op::kTrue) {
        where += fmt::format(" AND {} IS NOT NULL AND {} <> 0", value, value);
      } else {
        where += fmt::format(" AND {} IS NOT NULL AND {} {} {}", value, value,
                             kOps[static_cast<int>(condition.op)], condition.value);
      }
    }
    const std::string measure = def.measure.kind == Measure::Kind::kCount
                                    ? "count(*)"
                                    : fmt::format("coalesce(sum(coalesce(json_extract(attributes_json, '$.{}'), 0)), 0)",
                                                  def.measure.attribute);
    const std::string sql = fmt::format(
        "SELECT {} FROM events WHERE status = 0 AND in_home_city = 1 AND type IN ({}) AND occurred_at >= {} AND "
        "occurred_at < {} AND unit IN (SELECT code FROM ancestry WHERE ancestor = '{}'){}",
        measure, types, clock_.StartOfDay(first), clock_.StartOfDay(last + 1), Reg().code(unit).ToString(), where);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(store_->handle(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    double value = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_double(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }

  // (placement code, governance ancestor code) for every placement.
  void WriteAncestry() {
    ASSERT_TRUE(store_->Exec("CREATE TABLE ancestry(code TEXT, ancestor TEXT)").ok());
    std::string sql = "INSERT INTO ancestry VALUES ";
    bool first = true;
    for (const Placed& place : places_) {
      UnitId ancestors[kLevelCount];
      const int count = Reg().Ancestors(place.unit, ancestors);
      for (int i = 0; i < count; ++i) {
        sql += fmt::format("{}('{}','{}')", first ? "" : ",", Reg().code(place.unit).ToString(),
                           Reg().code(ancestors[i]).ToString());
        first = false;
      }
    }
    ASSERT_TRUE(store_->Exec(sql.c_str()).ok());
  }

  void ExpectAgreesWithSql(const Cube& cube, std::mt19937_64& rng, int samples) {
    for (int sample = 0; sample < samples; ++sample) {
      const UnitId unit = units_[rng() % units_.size()];
      const size_t column = rng() % cube.measures();
      const Day first = 19358 + static_cast<Day>(rng() % 560);  // 2023-01-01 + ...
      const Day last = first + static_cast<Day>(rng() % 120);
      std::vector<int64_t> totals(cube.columns(), 0);
      cube.Sum(unit, first, last, totals);
      const double expected = SqlValue(cube, column, unit, first, last);
      EXPECT_NEAR(cube.Value(column, totals[column]), expected, 0.005)
          << "unit " << Reg().code(unit).ToString() << " column " << column << " days " << first << ".." << last;
    }
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<EventStore> events_;
  CivilClock clock_ = *CivilClock::ForZone("UTC");
  std::vector<Placed> places_;
  std::vector<UnitId> units_;
};

TEST_F(CubeStoreTest, AgreesWithSqlAfterIngestsUpdatesWithdrawalsAndResends) {
  std::mt19937_64 rng(20241128);
  WriteAncestry();
  std::vector<EventRecord> all;
  for (int i = 0; i < 3000; ++i) all.push_back(RandomEvent(rng, i));
  Write(all);
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder feeder(*cube, clock_);
  int64_t seq = *feeder.LoadAll(store_->handle(), *cube);
  EXPECT_EQ(cube->events(), 3000u);
  ExpectAgreesWithSql(*cube, rng, 150);

  for (int round = 0; round < 3; ++round) {
    std::vector<EventRecord> batch;
    for (int change = 0; change < 400; ++change) {
      EventRecord event = all[rng() % all.size()];
      switch (rng() % 5) {
        case 0: event = RandomEvent(rng, 0), event.source_id = all[rng() % all.size()].source_id; break;
        case 1: event.status = event.status == EventStatus::kActive ? EventStatus::kWithdrawn : EventStatus::kActive; break;
        case 2: event.occurred_at += static_cast<int64_t>(rng() % (40 * 86400)); break;
        case 3: {  // re-placed (the address corrected)
          EventRecord other = RandomEvent(rng, 0);
          event.placement = other.placement;
          event.code = other.code;
          break;
        }
        default: break;  // an identical re-send
      }
      batch.push_back(event);
    }
    // New events too.
    for (int i = 0; i < 200; ++i) batch.push_back(RandomEvent(rng, 100000 * (round + 1) + i));
    Write(batch);
    int64_t changed = 0;
    seq = *feeder.ApplyChanges(store_->handle(), seq, *cube, &changed);
    EXPECT_GT(changed, 0);
    ExpectAgreesWithSql(*cube, rng, 120);
  }
  // Following the changes ends where a rebuild does.
  auto rebuilt = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder again(*rebuilt, clock_);
  EXPECT_EQ(*again.LoadAll(store_->handle(), *rebuilt), seq);
  for (UnitId unit : units_) {
    EXPECT_EQ(SumOf(*cube, unit, 19000, 20000), SumOf(*rebuilt, unit, 19000, 20000)) << Reg().code(unit).ToString();
  }
}

TEST_F(CubeStoreTest, SnapshotRestoresTheSameCubeAndRejectsAnotherOrADamagedOne) {
  std::mt19937_64 rng(7);
  std::vector<EventRecord> all;
  for (int i = 0; i < 500; ++i) all.push_back(RandomEvent(rng, i));
  Write(all);
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder feeder(*cube, clock_);
  const std::filesystem::path snapshot = dir_.path() / "pingan.db.cube";
  CubeOpenStats stats;
  const int64_t seq = *OpenCube(store_->handle(), snapshot, 42, feeder, *cube, true, &stats);
  EXPECT_FALSE(stats.from_snapshot);
  EXPECT_TRUE(stats.snapshot_saved);
  // More events after the snapshot: restored, then caught up.
  std::vector<EventRecord> more;
  for (int i = 0; i < 50; ++i) more.push_back(RandomEvent(rng, 1000 + i));
  Write(more);
  auto restored = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder feeder2(*restored, clock_);
  const int64_t seq2 = *OpenCube(store_->handle(), snapshot, 42, feeder2, *restored, false, &stats);
  EXPECT_TRUE(stats.from_snapshot);
  EXPECT_EQ(stats.changes_applied, 50);
  EXPECT_GT(seq2, seq);
  *feeder.ApplyChanges(store_->handle(), seq, *cube);
  for (UnitId unit : units_) EXPECT_EQ(SumOf(*cube, unit, 19000, 20000), SumOf(*restored, unit, 19000, 20000));
  // Another fingerprint: not used.
  auto other = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  EXPECT_EQ(LoadCubeSnapshot(snapshot, 43, *other).status().code(), absl::StatusCode::kFailedPrecondition);
  // A flipped byte: rejected by the checksum; OpenCube falls back to a rebuild.
  {
    std::fstream file(snapshot, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x5a');
  }
  EXPECT_EQ(LoadCubeSnapshot(snapshot, 42, *other).status().code(), absl::StatusCode::kFailedPrecondition);
  auto fallback = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder feeder3(*fallback, clock_);
  EXPECT_EQ(*OpenCube(store_->handle(), snapshot, 42, feeder3, *fallback, false, &stats), seq2);
  EXPECT_FALSE(stats.from_snapshot);
  EXPECT_THAT(stats.snapshot_note, ::testing::HasSubstr("checksum"));
  for (UnitId unit : units_) EXPECT_EQ(SumOf(*fallback, unit, 19000, 20000), SumOf(*restored, unit, 19000, 20000));
  // Truncated: rejected.
  std::filesystem::resize_file(snapshot, 64);
  EXPECT_EQ(LoadCubeSnapshot(snapshot, 42, *other).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Whether `address` lies in a mapping of a file whose path ends with `file` (/proc/self/maps).
bool MappedFrom(const void* address, const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  const auto at = reinterpret_cast<uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &begin, &end) != 2 || at < begin || at >= end) continue;
    return line.size() >= file.size() && line.compare(line.size() - file.size(), file.size(), file) == 0;
  }
  return false;
}

TEST_F(CubeStoreTest, EventStatesUsedInPlaceTakeUpdatesAndLeaveTheSnapshotAlone) {
  std::mt19937_64 rng(21);
  std::vector<EventRecord> all;
  for (int i = 0; i < 3000; ++i) all.push_back(RandomEvent(rng, i));  // 96 KB of states: mapped
  Write(all);
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder feeder(*cube, clock_);
  const std::filesystem::path snapshot = dir_.path() / "pingan.db.cube";
  CubeOpenStats stats;
  ASSERT_TRUE(OpenCube(store_->handle(), snapshot, 42, feeder, *cube, true, &stats).ok());
  ASSERT_TRUE(stats.snapshot_saved);
  const std::string saved = testing::ReadFile(snapshot);
  // Re-sent with changes after the snapshot: every 7th withdrawn, every 11th moved a day on.
  std::vector<EventRecord> changed;
  for (int i = 0; i < 3000; ++i) {
    if (i % 7 != 0 && i % 11 != 0) continue;
    EventRecord event = all[static_cast<size_t>(i)];
    if (i % 7 == 0) event.status = EventStatus::kWithdrawn;
    if (i % 11 == 0) event.occurred_at += 86400;
    changed.push_back(event);
  }
  Write(changed);
  auto restored = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder restored_feeder(*restored, clock_);
  absl::StatusOr<CubeSnapshotData> data = ReadCubeSnapshot(snapshot, Cube::ColumnsOf(TheCatalog()));
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_TRUE(MappedFrom(data->events.data(), "pingan.db.cube")) << "the states are the file's pages";
  ASSERT_TRUE(OpenCube(store_->handle(), snapshot, 42, restored_feeder, *restored, false, &stats, 10000, &data).ok());
  EXPECT_TRUE(stats.from_snapshot);
  // (A record already withdrawn and not moved is an identical re-send: no change.)
  EXPECT_GT(stats.changes_applied, static_cast<int64_t>(changed.size()) / 2);
  EXPECT_LE(stats.changes_applied, static_cast<int64_t>(changed.size()));
  auto rebuilt = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder rebuilt_feeder(*rebuilt, clock_);
  ASSERT_TRUE(rebuilt_feeder.LoadAll(store_->handle(), *rebuilt).ok());
  for (UnitId unit : units_) EXPECT_EQ(SumOf(*restored, unit, 19000, 20000), SumOf(*rebuilt, unit, 19000, 20000));
  EXPECT_EQ(restored->events(), rebuilt->events());
  EXPECT_TRUE(testing::ReadFile(snapshot) == saved) << "updates are copied on write, never written to the file";
}

TEST_F(CubeStoreTest, LiveCubeShowsEventsWrittenByAnotherConnectionWithinASecond) {
  std::mt19937_64 rng(11);
  std::vector<EventRecord> first;
  for (int i = 0; i < 200; ++i) first.push_back(RandomEvent(rng, i));
  Write(first);
  auto cube = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  CubeFeeder feeder(*cube, clock_);
  const int64_t seq = *feeder.LoadAll(store_->handle(), *cube);
  LiveCube::Options options;
  options.poll = std::chrono::milliseconds(100);
  options.snapshot = dir_.path() / "pingan.db.cube";
  options.fingerprint = 9;
  auto live = *LiveCube::Start(dir_.path() / "pingan.db", std::move(cube), clock_, seq, options);
  const UnitId city = SharedWorld().city;
  auto city_events = [&] {
    return live->Read([&](const Cube& c) {
      std::vector<int64_t> totals(c.columns(), 0);
      c.Sum(city, 19000, 20000, totals);
      int64_t events = 0;
      for (size_t type = 0; type < TheCatalog().types.size(); ++type) events += totals[c.TypeColumn(type)];
      return events;
    });
  };
  const int64_t before = city_events();
  // Another connection (as another process would) writes 50 counted theft events in the city.
  auto writer = *SqliteStore::Open(dir_.path() / "pingan.db");
  auto writer_events = *EventStore::Open(writer->handle());
  std::vector<EventRecord> more;
  for (int i = 0; i < 50; ++i) {
    EventRecord event = RandomEvent(rng, 5000 + i);
    event.type = "criminal.theft";
    event.source = "police";
    event.status = EventStatus::kActive;
    event.placement.unit = Reg().code(city).ToString();
    event.placement.level = static_cast<uint8_t>(Level::kCity);
    event.placement.in_home_city = true;
    more.push_back(event);
  }
  std::vector<UpsertOutcome> outcomes;
  ASSERT_TRUE(writer_events->WriteBatch(more, {}, &outcomes).ok());
  const auto written = std::chrono::steady_clock::now();
  while (city_events() != before + 50 && std::chrono::steady_clock::now() - written < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto waited = std::chrono::steady_clock::now() - written;
  EXPECT_EQ(city_events(), before + 50);
  EXPECT_LT(waited, std::chrono::seconds(1));
  EXPECT_TRUE(live->LastError().ok()) << live->LastError();
  EXPECT_GT(live->Sequence(), seq);
  // Stopping writes the snapshot it got to; a new cube restores exactly that.
  const int64_t final_seq = live->Sequence();
  live.reset();
  auto restored = *Cube::Create(Reg(), TheCatalog(), SharedWorld().city);
  EXPECT_EQ(*LoadCubeSnapshot(options.snapshot, 9, *restored), final_seq);
}

}  // namespace
}  // namespace pingan
