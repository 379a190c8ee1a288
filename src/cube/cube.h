// The cube (ARCHITECTURE.md `cube`): every measure of the catalog — the 33 indicators, the 9 key
// types — and a count per event type, by unit and civil day, rolled up the governance tree of
// the home city, kept current event by event.
//
// Layout, chosen by how full the cells are (docs/cube.md):
//   - every event's compact state (day, counting unit, the measures it adds to), by store id,
//     so that an update takes out exactly what the event put in before;
//   - dense day tables for the units down to kDenseLevel (city, districts, towns): one row of
//     columns per unit and day, in chunks of kChunkDays days with a total per chunk, so any
//     period costs at most two partial chunks and one total per whole chunk;
//   - per-unit postings (day, event) for the sparse levels (communities, grids), scanned for a
//     query: a community-month holds tens of events;
//   - per-day lists of events, for the analyses that need the events themselves (clusters).
//
// Placement rule: an event counts at the deepest cube unit (city .. grid) its placement lies in
// and at every unit above. An event placed below a grid (building, room) counts at its grid;
// one placed at a town counts at the town and above, and shows as unplaced (未落地) in a
// breakdown of that town by community. Events outside the home city, withdrawn events and events
// of unknown units are kept (their state can change) but count nowhere.
//
// Values are integers: counts as they are; sums of attributes in hundredths (loss_yuan in fen),
// so that adding and taking out never drifts. Column(c).scale says which.
//
// Thread-safety: none; a reader-writer lock around it is the caller's (cube/live_cube.h).
//
// Example:
//   PA_ASSIGN_OR_RETURN(std::unique_ptr<Cube> cube, Cube::Create(registry, catalog, city));
//   cube->Put(event_id, input);
//   std::vector<int64_t> values(cube->columns());
//   cube->Sum(district, first_day, last_day, values);
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/mappable_allocator.h"
#include "absl/status/statusor.h"
#include "address/registry.h"
#include "catalog/catalog.h"

namespace pingan {

// A civil day in the city's time zone: days since 1970-01-01 (core/period.h Day).
using CubeDay = int32_t;

// The column layout: the catalog's indicators, then its key types (the measures), then one
// count per event type.
struct CubeColumn {
  enum class Kind : uint8_t { kIndicator, kKeyType, kTypeCount };
  Kind kind = Kind::kIndicator;
  uint16_t index = 0;     // into Catalog::indicators, key_types or types
  int64_t scale = 1;      // stored value = real value * scale (100 for sums, 1 for counts)
  bool is_sum = false;    // a sum of an attribute (not a count of events)
};

// What an event contributes, as the loader compiles it from a stored event.
struct CubeEventInput {
  CubeDay day = 0;
  uint8_t hour = 0;        // 0..23, civil time
  uint16_t type = 0;       // Catalog::types index
  uint8_t source = 0;      // Catalog::sources index
  UnitId placed;           // the placement unit (any level; kNoUnit: unknown)
  // `placed` is already a cube unit (its own counting unit). REQUIRES: Covers(placed) when true
  // (checked only in builds with assertions).
  bool placed_counts = false;
  uint8_t level = 0;       // placement level (address/code.h Level)
  bool active = true;      // status active (withdrawn events count nowhere)
  bool in_home_city = true;
  // Declared numeric attributes: (Catalog::attributes index, value), any order.
  std::span<const std::pair<uint16_t, double>> numbers;
};

// An event's state in the cube (exposed for snapshots and analyses).
struct CubeEvent {
  static constexpr CubeDay kAbsent = INT32_MIN;
  CubeDay day = kAbsent;   // kAbsent: no such event
  uint32_t unit = UnitId::kNoneValue;  // counting unit (cube level), kNoneValue: counts nowhere
  uint64_t mask = 0;       // measure columns it adds to (bit c = column c)
  uint32_t sums = 0;       // 1 + index of its sum values, 0: none
  uint16_t type = 0;
  uint8_t source = 0;
  uint8_t hour = 0;
  uint8_t level = 0;       // placement level
  uint8_t flags = 0;       // kCounted | kMajor
  uint8_t reserved[6] = {};  // explicit padding: snapshots write the bytes as they are
  static constexpr uint8_t kCounted = 1;
  static constexpr uint8_t kMajor = 2;
  bool counted() const { return (flags & kCounted) != 0; }
};
// Event states by id. On an allocator that can take over a snapshot's mapped array
// (core/mappable_allocator.h): a start uses the states where they lie in the page cache.
using CubeEvents = std::vector<CubeEvent, MappableAllocator<CubeEvent>>;

class Cube {
 public:
  // The deepest level kept in dense day tables; deeper cube levels keep postings.
  static constexpr Level kDenseLevel = Level::kTown;
  // The deepest level the cube counts at.
  static constexpr Level kLeafLevel = Level::kGrid;
  static constexpr int kChunkDays = 32;
  static constexpr CubeDay kFirstDay = -25567;  // 1900-01-01
  static constexpr CubeDay kLastDay = 73048;    // 2169-12-31

  // A cube over the units of `home_city` (governance subtree) for the measures of `catalog`;
  // events matching the catalog's major rules are marked major. InvalidArgument when the
  // catalog has more than 64 measures or `home_city` is not a city of the registry.
  // `registry` and `catalog` must outlive the cube.
  static absl::StatusOr<std::unique_ptr<Cube>> Create(const Registry& registry, const Catalog& catalog,
                                                      UnitId home_city);
  ~Cube();

  const Registry& registry() const { return registry_; }
  const Catalog& catalog() const { return catalog_; }
  UnitId home_city() const { return home_city_; }
  const std::vector<MeasureDef>& major_rules() const { return catalog_.major_rules; }
  size_t columns() const { return columns_.size(); }
  const CubeColumn& column(size_t c) const { return columns_[c]; }
  size_t measures() const { return measures_; }  // columns [0, measures()) are measures
  // Column of an indicator / key type / type count.
  size_t IndicatorColumn(size_t indicator) const { return indicator; }
  size_t KeyTypeColumn(size_t key_type) const { return catalog_.indicators.size() + key_type; }
  size_t TypeColumn(size_t type) const { return measures_ + type; }

  // Sets event `id`'s state to `input`, taking out what it contributed before (if anything).
  // Ids are the store's row ids (dense, from 1).
  void Put(int64_t id, const CubeEventInput& input);
  // Put in two halves: Compile is const and may run on several threads at once (bulk loads);
  // it writes the event's sum values (sum_stride() of them, at most kMaxSumSlots) to
  // `sum_values` when the returned state has sums != 0. PutCompiled installs the result.
  static constexpr size_t kMaxSumSlots = 16;
  CubeEvent Compile(const CubeEventInput& input, int64_t* sum_values) const;
  void PutCompiled(int64_t id, CubeEvent event, const int64_t* sum_values);
  // Takes event `id` out entirely.
  void Remove(int64_t id);
  // Between BeginBulk and EndBulk, Put only records each event's state; EndBulk builds every
  // aggregate at once, in day order (for loading many events). Queries are not allowed in between.
  void BeginBulk() { bulk_ = true; }
  // Makes room for events with ids up to `max_id` (a hint; ids beyond it still fit).
  void Reserve(int64_t max_id) {
    if (max_id > 0 && max_id < int64_t{UINT32_MAX} && events_.size() <= static_cast<size_t>(max_id)) {
      events_.resize(static_cast<size_t>(max_id) + 1);
    }
  }
  void EndBulk();
  // During a bulk load into an empty cube, the state of event `id`, compiled without sums,
  // written straight into its slot: loaders that compile on several threads write distinct ids
  // at once. Events with sums go through PutCompiled, on one thread; EndBulk counts them all.
  // REQUIRES: between BeginBulk and EndBulk; 0 < id < event_states().size() (Reserve);
  // event.sums == 0; no other call on the cube meanwhile but PutBulk for other ids.
  void PutBulk(int64_t id, const CubeEvent& event) { events_[static_cast<size_t>(id)] = event; }
  const CubeEvent* Find(int64_t id) const;
  size_t events() const { return event_count_; }

  // The counting unit of a placement: the deepest cube-level governance ancestor inside the home
  // city, or kNoUnit. Memoised (safely across threads).
  UnitId CountingUnit(UnitId placed) const;
  // True when the cube counts at `unit` (city .. grid level inside the home city).
  bool Covers(UnitId unit) const;

  // Adds to `out` (columns() values) the totals of `unit` over days [first, last].
  // REQUIRES: Covers(unit), out.size() == columns().
  void Sum(UnitId unit, CubeDay first, CubeDay last, std::span<int64_t> out) const;
  // The real value of column `c` from a stored total.
  double Value(size_t c, int64_t stored) const {
    return columns_[c].scale == 1 ? static_cast<double>(stored)
                                  : static_cast<double>(stored) / static_cast<double>(columns_[c].scale);
  }

  // Calls `visit(id, event)` for each counted event of `unit` (its subtree) with a day in
  // [first, last], in no particular order.
  template <typename Visit>
  void ForEachEvent(UnitId unit, CubeDay first, CubeDay last, Visit&& visit) const;

  // Adds the contributions of `event` to `out` (columns() values).
  void AddEvent(const CubeEvent& event, std::span<int64_t> out) const;
  // The stored sum values of an event (by sum slot: see sum_attributes()); empty for none.
  std::span<const int64_t> SumValues(const CubeEvent& event) const;

  // The earliest and latest day holding any counted event (kAbsent, kAbsent when none).
  std::pair<CubeDay, CubeDay> DayRange() const;
  // The latest day holding any event (counted or not) of each source (kAbsent: none).
  const std::vector<CubeDay>& LatestDayBySource() const { return latest_by_source_; }
  // Counted events per source and day (for freshness: a quiet feed), over [first, last].
  int64_t SourceEvents(size_t source, CubeDay first, CubeDay last) const;

  // Ids of major events counted under `unit` with a day in [first, last], newest first by day
  // and hour: the `limit` newest and every other event of the last day they reach (the cube
  // keeps no minutes, so the caller orders that day by exact time and keeps `limit`).
  std::vector<int64_t> MajorEvents(UnitId unit, CubeDay first, CubeDay last, size_t limit) const;

  // A stamp per calendar month that changes whenever a counted event of that month enters or
  // leaves the aggregates, and on every rebuild or adoption: what a reader derived from a month's
  // events (the risk map's counts) is current while the month's stamp is. `day`: any day of the
  // month; days outside [kFirstDay, kLastDay] share one stamp.
  uint64_t MonthStamp(CubeDay day) const;

  // Approximate bytes held.
  size_t MemoryBytes() const;

  // All event states by id (for snapshots): index = id.
  const CubeEvents& event_states() const { return events_; }
  const std::vector<int64_t>& sum_values() const { return sums_; }
  size_t sum_stride() const { return sum_attributes_.size(); }
  // Restores event states saved from event_states()/sum_values() of a cube with the same
  // columns, registry and rules, rebuilding every aggregate. InvalidArgument when they do not fit.
  absl::Status Restore(CubeEvents events, std::vector<int64_t> sums);
  // The aggregates (day tables, postings, day lists, major events, source days) as bytes, and
  // back: with the event states, a snapshot that restores without recomputing anything.
  // AdoptAggregates: InvalidArgument when the bytes do not fit this cube's units and columns.
  std::string SaveAggregates() const;
  absl::Status AdoptAggregates(CubeEvents events, std::vector<int64_t> sums, std::string_view bytes);
  // The same in two steps: ParseAggregates needs no cube (only the number of columns,
  // ColumnsOf(catalog), and of events), so a start from a snapshot parses beside the registry's
  // load; AdoptParsed then checks what depends on the cube's units and takes it over.
  // ParseAggregates: InvalidArgument for bytes that do not parse or name no event.
  struct ParsedAggregates;
  static size_t ColumnsOf(const Catalog& catalog);
  static absl::StatusOr<ParsedAggregates> ParseAggregates(std::string_view bytes, size_t columns, size_t events);
  absl::Status AdoptParsed(CubeEvents events, std::vector<int64_t> sums, ParsedAggregates parsed);

 private:
  struct Posting {
    CubeDay day;
    uint32_t id;
    bool operator<(const Posting& other) const {
      return day != other.day ? day < other.day : id < other.id;
    }
  };
  struct Dense {  // one unit's day table
    std::vector<std::unique_ptr<int64_t[]>> chunks;  // chunk k holds days chunk0_ + k*kChunkDays..
    std::vector<std::unique_ptr<int64_t[]>> totals;  // chunk totals (columns() each)
  };

  Cube(const Registry& registry, const Catalog& catalog, UnitId home_city);
  absl::Status Compile();
  UnitId FindCountingUnit(UnitId placed) const;
  absl::Status ValidateEvents(const CubeEvents& events, const std::vector<int64_t>& sums) const;
  // Rebuilds every aggregate from events_ (bulk loads and restores).
  void RebuildAggregates();
  // The cube units an event counted at a unit adds to: dense and sparse slots (itself included).
  struct Chain {
    uint32_t dense[4];
    uint32_t sparse[3];
    uint8_t dense_count = 0, sparse_count = 0;
  };
  const Chain& ChainOf(uint32_t unit) const {
    return dense_slot_[unit] != UINT32_MAX ? dense_chain_[dense_slot_[unit]] : sparse_chain_[sparse_slot_[unit]];
  }
  // Adds (sign +1) or takes out (-1) `event` from every aggregate.
  void Apply(uint32_t id, const CubeEvent& event, int sign);
  void AddToDense(uint32_t slot, CubeDay day, const CubeEvent& event, int64_t sign);
  int64_t* DenseRow(Dense& dense, CubeDay day, bool create, int64_t** total);
  void AddRowsTo(const Dense& dense, CubeDay first, CubeDay last, std::span<int64_t> out) const;
  void AddPostingsTo(const std::vector<Posting>& postings, CubeDay first, CubeDay last,
                     std::span<int64_t> out) const;
  uint32_t AllocateSums();
  void AddToDayList(uint32_t id, CubeDay day);
  void RemoveFromDayList(uint32_t id, CubeDay day);

  const Registry& registry_;
  const Catalog& catalog_;
  UnitId home_city_;
  std::vector<CubeColumn> columns_;
  size_t measures_ = 0;
  // Per type: the measure columns it may add to, with their conditions and measure.
  struct TypeMeasure {
    uint16_t column;
    const MeasureDef* def;
  };
  std::vector<std::vector<TypeMeasure>> type_measures_;
  std::vector<std::vector<const MeasureDef*>> type_major_;
  std::vector<uint16_t> sum_attributes_;       // attribute indexes stored per event (sum slots)
  std::vector<uint8_t> column_sum_slot_;       // per measure column: its sum slot (sums only)

  // Unit id -> slot in dense_ (or UINT32_MAX) and in postings_ (or UINT32_MAX).
  std::vector<uint32_t> dense_slot_;
  std::vector<uint32_t> sparse_slot_;
  // Unit id -> its counting unit (CountingUnit), filled as placements are seen; kUnknown unset.
  static constexpr uint32_t kUnknownCounting = UINT32_MAX - 1;
  std::unique_ptr<std::atomic<uint32_t>[]> counting_;
  std::vector<Dense> dense_;
  std::vector<std::vector<Posting>> postings_;
  std::vector<Chain> dense_chain_;   // by dense slot
  std::vector<Chain> sparse_chain_;  // by sparse slot
  // Day tables start at kFirstDay (1900-01-01); events before it or after kLastDay count nowhere.
  static constexpr CubeDay chunk0_ = -25568;  // 1899-12-31, a multiple of kChunkDays

  CubeEvents events_;
  size_t event_count_ = 0;
  std::vector<int64_t> sums_;      // sum_stride() values per allocated slot
  std::vector<uint32_t> free_sums_;
  std::vector<std::vector<uint32_t>> day_lists_;  // index day - chunk0_: event ids (counted)
  std::vector<Posting> major_events_;             // sorted
  std::vector<CubeDay> latest_by_source_;
  std::vector<std::vector<int64_t>> source_days_;  // [source][day - chunk0_] counted events
  bool bulk_ = false;
  // MonthStamp: by month since 1900-01 (the last entry for days outside the day tables), from a
  // process-wide clock that every change advances.
  std::vector<uint64_t> month_stamps_;
  void StampMonth(CubeDay day);
  void StampAllMonths();
};

struct Cube::ParsedAggregates {
  size_t columns = 0;
  std::vector<Dense> dense;
  std::vector<std::vector<Posting>> postings;
  std::vector<std::vector<uint32_t>> day_lists;
  std::vector<Posting> major;
  std::vector<std::vector<int64_t>> source_days;
  std::vector<CubeDay> latest;
  std::vector<uint32_t> free_sums;
  uint64_t event_count = 0;
};

template <typename Visit>
void Cube::ForEachEvent(UnitId unit, CubeDay first, CubeDay last, Visit&& visit) const {
  if (sparse_slot_[unit.value] != UINT32_MAX) {
    const std::vector<Posting>& postings = postings_[sparse_slot_[unit.value]];
    auto it = std::lower_bound(postings.begin(), postings.end(), Posting{first, 0});
    for (; it != postings.end() && it->day <= last; ++it) visit(int64_t{it->id}, events_[it->id]);
    return;
  }
  const Level level = registry_.level(unit);
  const CubeDay from = std::max(first, chunk0_);
  for (CubeDay day = from; day <= last; ++day) {
    const size_t index = static_cast<size_t>(day - chunk0_);
    if (index >= day_lists_.size()) break;
    for (uint32_t id : day_lists_[index]) {
      const CubeEvent& event = events_[id];
      if (unit == home_city_ || registry_.AncestorAt(UnitId{event.unit}, level) == unit) {
        visit(int64_t{id}, event);
      }
    }
  }
}

}  // namespace pingan
