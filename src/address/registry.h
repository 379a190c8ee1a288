// The unit registry (统一地址库): every unit from the nation down to buildings, as dense ids.
//
// Units down to buildings are registered; entrances (单元) and rooms (户室) are addressed
// inside a building by its entrance count, floors and rooms per floor, so a 27-digit room code
// resolves without a row per room.
//
// Two trees share the ids. The governance tree (Parent, Children) is the one every roll-up,
// scope and map uses: a management unit such as 西湖风景名胜区 is the parent of the towns it
// administers. The statistical tree (StatParent) follows the national codes and is what the
// geocoder's path shows.
//
// Thread-safety: a Registry is immutable once built; all const methods may be called from
// any number of threads. RegistryBuilder is not thread-safe.
//
// Example:
//   RegistryBuilder builder;
//   UnitId zj = builder.Add({.code = *AddressCode::ParsePrefix("33"), .level = Level::kProvince,
//                            .name = "浙江省", .parent = builder.nation()});
//   absl::StatusOr<Registry> registry = std::move(builder).Build();
//   Place place = *registry->Resolve(*AddressCode::ParsePrefix("3301"));
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "address/code.h"
#include "address/history.h"
#include "core/huge_page_allocator.h"
#include "core/mappable_allocator.h"
#include "core/sparse_column.h"
#include "core/string_column.h"

namespace pingan {

// A unit's dense id: an index into the registry's arrays. Stable across restarts (persisted).
struct UnitId {
  static constexpr uint32_t kNoneValue = UINT32_MAX;
  uint32_t value = kNoneValue;

  bool valid() const { return value != kNoneValue; }
  friend bool operator==(UnitId, UnitId) = default;
  friend auto operator<=>(UnitId, UnitId) = default;
  template <typename H>
  friend H AbslHashValue(H state, UnitId id) {
    return H::combine(std::move(state), id.value);
  }
};
inline constexpr UnitId kNoUnit{};

enum class UnitKind : uint8_t {
  kStatistical = 0,  // from the national division codes
  kManagement = 1,   // a configured management unit (西湖风景名胜区, development zones)
  kSynthetic = 2,    // generated for the demo city (grids, buildings)
  kImported = 3,     // imported from a real city's data (pingan import units)
};
std::string_view UnitKindName(UnitKind kind);

// Counts a unit carries for complexity weighting (rolled up for units above grids).
struct UnitFigures {
  int64_t resident = 0;     // 常住人口
  int64_t floating = 0;     // 流动人口
  int64_t enterprises = 0;  // 企业
  int64_t houses = 0;       // 房屋
  int64_t households = 0;   // 户数
  UnitFigures& operator+=(const UnitFigures& other) {
    resident += other.resident, floating += other.floating, enterprises += other.enterprises;
    houses += other.houses, households += other.households;
    return *this;
  }
  friend bool operator==(const UnitFigures&, const UnitFigures&) = default;
};

struct BoundingBox {
  double min_lon = 0, min_lat = 0, max_lon = 0, max_lat = 0;
  bool empty() const { return max_lon <= min_lon || max_lat <= min_lat; }
  bool Contains(double lon, double lat) const {
    return lon >= min_lon && lon < max_lon && lat >= min_lat && lat < max_lat;
  }
  friend bool operator==(const BoundingBox&, const BoundingBox&) = default;
};

// What a building carries so that its entrances and rooms can be addressed and named.
// Stored in the registry's snapshot as it lies in memory (40 bytes, the padding explicit and zero).
struct BuildingInfo {
  uint32_t road = UINT32_MAX;      // index into Registry::roads(), or none
  uint32_t house_number = 0;       // 门牌号 on the road (0: none)
  uint32_t compound = UINT32_MAX;  // index into Registry::compounds(), or none
  uint32_t number = 0;             // 幢 number inside the compound (0: none)
  uint8_t entrances = 0;           // 单元 count; 0 = rooms addressed with unit 00
  uint8_t padding1 = 0;
  uint16_t floors = 1;             // REQUIRES: 1..999
  uint8_t rooms_per_floor = 1;     // REQUIRES: 1..99
  uint8_t padding3[3] = {};
  double lon = 0, lat = 0;
  friend bool operator==(const BuildingInfo&, const BuildingInfo&) = default;
};
static_assert(sizeof(BuildingInfo) == 40 && std::is_trivially_copyable_v<BuildingInfo>);

struct Road {
  std::string name;  // 文三路
  UnitId town;
  friend bool operator==(const Road&, const Road&) = default;
};

struct Compound {
  std::string name;  // 小区名
  UnitId community;
  uint32_t road = UINT32_MAX;
  uint32_t house_number = 0;
  friend bool operator==(const Compound&, const Compound&) = default;
};

// Everything known of one registered unit, as added to the builder.
struct UnitRecord {
  AddressCode code;
  Level level = Level::kNation;
  std::string name;        // official name; empty for buildings (named from road/compound)
  UnitId parent;           // governance parent
  UnitId stat_parent;      // statistical parent; kNoUnit = same as parent
  UnitKind kind = UnitKind::kStatistical;
  UnitFigures figures;     // set on grids (and imported units); rolled up by Build()
  BoundingBox box;         // polygon extent (empty: none)
  std::string geometry;    // GeoJSON geometry of an imported polygon; empty for the synthetic ones
  BuildingInfo building;   // for level == kBuilding
  bool retired = false;    // replaced by an import; kept so that stored references still resolve
};

// A resolved code: a registered unit, plus entrance and room inside a building.
struct Place {
  UnitId unit;           // deepest registered unit (a building for entrances and rooms)
  Level level = Level::kNation;
  uint32_t entrance = 0; // 1..99 when level >= kUnit (0 with a room of an entrance-less building)
  uint32_t room = 0;     // floor*100 + room when level == kRoom
};

class Registry {
 public:
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept = delete;
  ~Registry();

  UnitId nation() const { return UnitId{0}; }
  size_t size() const { return levels_.size(); }
  bool Contains(UnitId id) const { return id.value < levels_.size(); }

  // Accessors. REQUIRES: Contains(id).
  Level level(UnitId id) const { return levels_[id.value]; }
  UnitId parent(UnitId id) const { return parents_[id.value]; }
  UnitId stat_parent(UnitId id) const { return stat_parents_[id.value]; }
  const AddressCode& code(UnitId id) const { return codes_[id.value]; }
  UnitKind kind(UnitId id) const { return kinds_[id.value]; }
  bool retired(UnitId id) const { return retired_[id.value] != 0; }
  // Figures summed over the unit's governance subtree (grids up; below the grids a unit's own).
  const UnitFigures& figures(UnitId id) const {
    return levels_[id.value] > Level::kGrid ? own_figures_[id.value] : figures_[id.value];
  }
  // Figures as recorded on the unit itself (grids and imported units; zero above).
  const UnitFigures& own_figures(UnitId id) const { return own_figures_[id.value]; }
  const BoundingBox& box(UnitId id) const { return boxes_[id.value]; }
  // Official name (for buildings: the road and house number or compound and 幢 number).
  std::string name(UnitId id) const;
  // Matching key (names.h ShortName); empty for buildings.
  std::string_view short_name(UnitId id) const { return short_names_[id.value]; }
  std::string_view geometry(UnitId id) const;
  // The name as stored (for buildings: only an explicit name; name() composes one otherwise).
  std::string_view stored_name(UnitId id) const { return names_[id.value]; }
  // REQUIRES: level(id) == kBuilding.
  const BuildingInfo& building(UnitId id) const;

  // Governance children, in code order, without retired units.
  std::span<const UnitId> children(UnitId id) const {
    return {child_ids_.data() + child_offsets_[id.value],
            child_ids_.data() + child_offsets_[id.value + 1]};
  }
  // True when `ancestor` is `id` or above it in the governance tree.
  bool IsWithin(UnitId id, UnitId ancestor) const;
  // The governance ancestors of `id`, from the nation down to `id` itself; at most 8.
  // Returns the count written into `out`.
  int Ancestors(UnitId id, UnitId (&out)[kLevelCount]) const;
  // The ancestor of `id` at `level` in the governance tree, or kNoUnit.
  UnitId AncestorAt(UnitId id, Level level) const;
  // AncestorAt for many ids at once (prefetching ahead: random ids cost one memory round trip
  // each, and a batch overlaps them). REQUIRES: out.size() >= ids.size().
  void AncestorsAt(std::span<const UnitId> ids, Level level, std::span<UnitId> out) const;

  // Units whose code is exactly `code`.
  std::optional<UnitId> Find(const AddressCode& code) const;
  // Resolves a code to a unit (and entrance/room), or InvalidArgument/NotFound with the reason
  // it names nothing: the deepest registered prefix and what is wrong below it.
  absl::StatusOr<Place> Resolve(const AddressCode& code) const;
  // Name of a resolved place (entrance: "3单元", room: "1203室").
  std::string PlaceName(const Place& place) const;
  // Code of a resolved place.
  AddressCode PlaceCode(const Place& place) const;

  // All units at a level under `root` (governance tree), in code order.
  std::vector<UnitId> Descendants(UnitId root, Level level) const;
  // Units whose short or official name equals `name` (any level above buildings).
  std::vector<UnitId> FindByName(std::string_view name) const;

  const std::vector<Road>& roads() const { return roads_; }
  const std::vector<Compound>& compounds() const { return compounds_; }
  const History& history() const { return *history_; }

  // Where a former unit's record lands today. With a town (short or official name) named in the
  // same record, the town of today that holds it (江干区 + 九堡 -> 上城区 九堡街道); without one,
  // the successor district, `exact` false when the former unit was split among several.
  struct Successor {
    UnitId unit;
    bool exact = true;
  };
  std::optional<Successor> SuccessorOf(const HistoryChange& change, std::string_view town = {}) const;
  // A child of `parent` (governance tree) whose short or official name is `name`.
  std::optional<UnitId> ChildNamed(UnitId parent, std::string_view name) const;
  // Count of units per level (retired ones excluded).
  std::vector<size_t> CountByLevel(UnitId root) const;

 private:
  friend class RegistryBuilder;
  friend class RegistrySnapshot;
  Registry();
  // Derives children lists, the code index and rolled-up figures from the unit arrays; the code
  // index on a thread of its own, unless the caller built it already (BuildCodeIndex, which
  // needs only the codes, the retired flags and the names). InvalidArgument when two live units
  // share a code.
  absl::Status FinalizeIndexes(bool roll_up_figures, bool code_index_built = false);
  absl::Status BuildCodeIndex();
  void BuildNameIndex() const;

  // The per-unit arrays: millions of entries each. On MappableAllocator, so that a load from the
  // snapshot uses them where they lie in the page cache (RegistrySnapshot; no fresh memory).
  template <typename T>
  using Column = std::vector<T, MappableAllocator<T>>;
  Column<Level> levels_;
  Column<UnitId> parents_;
  Column<UnitId> stat_parents_;
  Column<AddressCode> codes_;
  Column<UnitKind> kinds_;
  Column<uint8_t> retired_;
  // Only the units that carry figures or a box (grids and above, imported units: tens of
  // thousands among millions of buildings) are stored. figures_ holds the grids and the units
  // above them (the rest read own_figures_).
  SparseColumn<UnitFigures> figures_;
  SparseColumn<UnitFigures> own_figures_;
  SparseColumn<BoundingBox> boxes_;
  StringColumn names_;
  StringColumn short_names_;
  Column<uint32_t> building_index_;  // id -> index into buildings_, or UINT32_MAX
  Column<BuildingInfo> buildings_;
  absl::flat_hash_map<uint32_t, std::string> geometries_;
  // For each unit, its governance ancestor at each level nation..building (kNoUnit where the
  // tree skips a level), itself included: O(1) ancestor queries from one cache line.
  static constexpr int kAncestorSlots = 8;
  Column<UnitId> ancestors_;
  Column<uint32_t> child_offsets_;
  Column<UnitId> child_ids_;
  // By code: millions of entries at random, on huge pages (fewer page faults while it is built
  // at every start, and fewer page-table walks per lookup).
  absl::flat_hash_map<AddressCode, UnitId, absl::Hash<AddressCode>, std::equal_to<AddressCode>,
                      HugePageAllocator<std::pair<const AddressCode, UnitId>>>
      by_code_;
  absl::flat_hash_map<AddressCode, UnitId> retired_by_code_;  // the latest retired unit per code
  // Built on first FindByName (most commands never need it).
  mutable std::once_flag name_index_once_;
  mutable absl::flat_hash_map<std::string, std::vector<UnitId>> by_name_;
  std::vector<Road> roads_;
  std::vector<Compound> compounds_;
  std::unique_ptr<History> history_;
};

// Collects units and builds an immutable Registry. Parents usually come first; a parent may
// also be added later (a management unit governing units registered before it).
class RegistryBuilder {
 public:
  RegistryBuilder();  // holds the nation as unit 0
  // A builder holding every unit of `registry` with the same ids (own figures, not rolled up),
  // its roads, compounds and history: for changing a registry (imports) and building anew.
  static RegistryBuilder FromRegistry(const Registry& registry);

  UnitId nation() const { return UnitId{0}; }
  // Adds a unit and returns its id (ids are dense, in the order of Add).
  UnitId Add(UnitRecord record);
  size_t size() const { return records_.size(); }
  UnitRecord& record(UnitId id) { return records_[id.value]; }
  const UnitRecord& record(UnitId id) const { return records_[id.value]; }
  // Index of the new road / compound.
  uint32_t AddRoad(Road road);
  uint32_t AddCompound(Compound compound);
  std::vector<Road>& roads() { return roads_; }
  std::vector<Compound>& compounds() { return compounds_; }
  void SetHistory(History history) { history_ = std::move(history); }
  // Find a unit added so far by code (builds a code index on first use; retiring a unit through
  // record() after that does not update the index).
  std::optional<UnitId> Find(const AddressCode& code) const;
  void Reserve(size_t units) { records_.reserve(units); }

  // When true (the default), Build() sums figures of grids and imported units up the governance
  // tree into every ancestor (figures are stored as recorded on each unit, not summed).
  void set_roll_up_figures(bool roll_up) { roll_up_figures_ = roll_up; }

  // Validates (unique codes, parents known and at a higher level, codes under their
  // statistical parent's prefix) and builds. InvalidArgument naming the first bad unit.
  // Parents may have higher ids than their children: levels strictly decrease towards the
  // root, so the tree has no cycles.
  absl::StatusOr<Registry> Build() &&;

 private:
  std::vector<UnitRecord> records_;
  mutable absl::flat_hash_map<AddressCode, UnitId> by_code_;
  mutable bool indexed_ = false;
  std::vector<Road> roads_;
  std::vector<Compound> compounds_;
  History history_;
  bool roll_up_figures_ = true;
};

}  // namespace pingan
