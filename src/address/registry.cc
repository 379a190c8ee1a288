#include "address/registry.h"

#include <algorithm>
#include <thread>
#include <cstring>

#include "core/stage_timer.h"
#include "core/strings.h"
#include "address/names.h"

namespace pingan {

std::string_view UnitKindName(UnitKind kind) {
  switch (kind) {
    case UnitKind::kStatistical: return "statistical";
    case UnitKind::kManagement: return "management";
    case UnitKind::kSynthetic: return "synthetic";
    case UnitKind::kImported: return "imported";
  }
  return "unknown";
}

Registry::Registry() : history_(std::make_unique<History>()) {}
Registry::Registry(Registry&& other) noexcept
    : levels_(std::move(other.levels_)),
      parents_(std::move(other.parents_)),
      stat_parents_(std::move(other.stat_parents_)),
      codes_(std::move(other.codes_)),
      kinds_(std::move(other.kinds_)),
      retired_(std::move(other.retired_)),
      figures_(std::move(other.figures_)),
      own_figures_(std::move(other.own_figures_)),
      boxes_(std::move(other.boxes_)),
      names_(std::move(other.names_)),
      short_names_(std::move(other.short_names_)),
      building_index_(std::move(other.building_index_)),
      buildings_(std::move(other.buildings_)),
      geometries_(std::move(other.geometries_)),
      ancestors_(std::move(other.ancestors_)),
      child_offsets_(std::move(other.child_offsets_)),
      child_ids_(std::move(other.child_ids_)),
      by_code_(std::move(other.by_code_)),
      retired_by_code_(std::move(other.retired_by_code_)),
      roads_(std::move(other.roads_)),
      compounds_(std::move(other.compounds_)),
      history_(std::move(other.history_)) {}
Registry::~Registry() = default;

std::string Registry::name(UnitId id) const {
  if (levels_[id.value] != Level::kBuilding) return std::string(names_[id.value]);
  const BuildingInfo& info = building(id);
  if (info.compound != UINT32_MAX && info.number != 0) {
    return Cat(compounds_[info.compound].name, info.number, "幢");
  }
  if (info.road != UINT32_MAX) return Cat(roads_[info.road].name, info.house_number, "号");
  return std::string(names_[id.value]);
}

std::string_view Registry::geometry(UnitId id) const {
  auto it = geometries_.find(id.value);
  return it == geometries_.end() ? std::string_view() : std::string_view(it->second);
}

const BuildingInfo& Registry::building(UnitId id) const {
  return buildings_[building_index_[id.value]];
}

bool Registry::IsWithin(UnitId id, UnitId ancestor) const {
  int slot = static_cast<int>(levels_[ancestor.value]);
  return slot < kAncestorSlots && ancestors_[static_cast<size_t>(id.value) * kAncestorSlots + slot] == ancestor;
}

int Registry::Ancestors(UnitId id, UnitId (&out)[kLevelCount]) const {
  const UnitId* row = &ancestors_[static_cast<size_t>(id.value) * kAncestorSlots];
  // Few instructions per call, so that many random lookups overlap their memory round trips:
  // copy the row whole, count its valid slots, and compact only where the tree skips a level
  // (东莞's towns have no district), which leaves a valid slot after the count.
  std::memcpy(out, row, sizeof(UnitId) * kAncestorSlots);
  int count = 0;
  for (int slot = 0; slot < kAncestorSlots; ++slot) count += row[slot].valid() ? 1 : 0;
  if (count < kAncestorSlots && out[count].valid()) {
    count = 0;
    for (int slot = 0; slot < kAncestorSlots; ++slot) {
      if (row[slot].valid()) out[count++] = row[slot];
    }
  }
  return count;
}

UnitId Registry::AncestorAt(UnitId id, Level level) const {
  int slot = static_cast<int>(level);
  if (slot >= kAncestorSlots) return kNoUnit;
  return ancestors_[static_cast<size_t>(id.value) * kAncestorSlots + slot];
}

void Registry::AncestorsAt(std::span<const UnitId> ids, Level level, std::span<UnitId> out) const {
  const int slot = static_cast<int>(level);
  if (slot >= kAncestorSlots) {
    std::fill_n(out.begin(), ids.size(), kNoUnit);
    return;
  }
  constexpr size_t kAhead = 16;
  const UnitId* table = ancestors_.data();
  for (size_t index = 0; index < ids.size(); ++index) {
    if (index + kAhead < ids.size()) {
      __builtin_prefetch(table + static_cast<size_t>(ids[index + kAhead].value) * kAncestorSlots + slot);
    }
    out[index] = table[static_cast<size_t>(ids[index].value) * kAncestorSlots + slot];
  }
}

std::optional<UnitId> Registry::Find(const AddressCode& code) const {
  auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<Place> Registry::Resolve(const AddressCode& code) const {
  const int boundary = code.SignificantBoundary();
  const int registered = std::min(boundary, LevelDigits(Level::kBuilding));
  AddressCode head = code.Truncate(registered);
  std::optional<UnitId> unit = Find(head);
  if (!unit) {
    if (auto retired = retired_by_code_.find(head); retired != retired_by_code_.end()) {
      return absl::NotFoundError(Cat(head.ToString().substr(0, registered), " (", name(retired->second),
                                     ") was retired by an import and no longer counts"));
    }
    // Say which part is unknown: the deepest registered prefix and the digits below it.
    for (int level_index = static_cast<int>(Level::kBuilding); level_index >= 0; --level_index) {
      int digits = LevelDigits(static_cast<Level>(level_index));
      if (digits >= registered) continue;
      if (auto known = Find(code.Truncate(digits))) {
        std::string text = code.ToString();
        return absl::NotFoundError(Cat(
            "no unit ", text.substr(0, registered), " under ", name(*known), " (",
            text.substr(0, std::max(digits, 2)), ")"));
      }
    }
    return absl::NotFoundError(Cat("no unit with code ", code.ToString()));
  }
  Place place{.unit = *unit, .level = levels_[unit->value]};
  if (boundary <= LevelDigits(Level::kBuilding)) {
    if (LevelDigits(place.level) < code.SignificantDigits() && place.level != Level::kBuilding) {
      return absl::InvalidArgumentError("digits set below the unit's level");
    }
    return place;
  }
  if (place.level != Level::kBuilding) {
    return absl::InvalidArgumentError(Cat(
        "digits 21-27 address a building's entrance and room, but ", code.ToString().substr(0, 20),
        " is a ", LevelName(place.level), " (", name(*unit), "), not a building"));
  }
  const BuildingInfo& info = building(*unit);
  place.entrance = static_cast<uint32_t>(code.Digits(20, 2));
  place.room = static_cast<uint32_t>(code.Digits(22, 5));
  if (place.entrance > info.entrances) {
    return absl::NotFoundError(Cat(name(*unit), " has ", info.entrances,
                                            " entrances (单元); there is no entrance ",
                                            place.entrance));
  }
  if (place.room == 0) {
    place.level = Level::kUnit;
    return place;
  }
  if (place.entrance == 0 && info.entrances > 0) {
    return absl::InvalidArgumentError(Cat(
        name(*unit), " has entrances; a room code must name one (digits 21-22 are 00)"));
  }
  uint32_t floor = place.room / 100;
  uint32_t room_on_floor = place.room % 100;
  if (floor < 1 || floor > info.floors) {
    return absl::NotFoundError(Cat(name(*unit), " has floors 1-", info.floors,
                                            "; there is no floor ", floor));
  }
  if (room_on_floor < 1 || room_on_floor > info.rooms_per_floor) {
    return absl::NotFoundError(Cat(name(*unit), " has rooms 1-", +info.rooms_per_floor,
                                            " on each floor; there is no room ", room_on_floor));
  }
  place.level = Level::kRoom;
  return place;
}

std::string Registry::PlaceName(const Place& place) const {
  switch (place.level) {
    case Level::kUnit: return Cat(place.entrance, "单元");
    case Level::kRoom: return Cat(place.room, "室");
    default: return name(place.unit);
  }
}

AddressCode Registry::PlaceCode(const Place& place) const {
  const AddressCode& base = code(place.unit);
  if (place.level < Level::kUnit) return base;
  return AddressCode::FromParts(base.admin(), base.local() + place.entrance * 100000ULL + place.room);
}

std::vector<UnitId> Registry::Descendants(UnitId root, Level level) const {
  std::vector<UnitId> out;
  std::vector<UnitId> stack{root};
  while (!stack.empty()) {
    UnitId at = stack.back();
    stack.pop_back();
    if (levels_[at.value] == level) {
      out.push_back(at);
      continue;
    }
    if (levels_[at.value] > level) continue;
    auto kids = children(at);
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

void Registry::BuildNameIndex() const {
  for (size_t index = 1; index < levels_.size(); ++index) {
    if (retired_[index] || levels_[index] > Level::kCommunity) continue;
    UnitId id{static_cast<uint32_t>(index)};
    by_name_[std::string(names_[index])].push_back(id);
    if (short_names_[index] != names_[index]) by_name_[std::string(short_names_[index])].push_back(id);
  }
}

std::vector<UnitId> Registry::FindByName(std::string_view name) const {
  std::call_once(name_index_once_, [this] { BuildNameIndex(); });
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return {};
  return it->second;
}

std::optional<UnitId> Registry::ChildNamed(UnitId parent, std::string_view name) const {
  for (UnitId kid : children(parent)) {
    if (short_names_[kid.value] == name || names_[kid.value] == name) return kid;
  }
  return std::nullopt;
}

std::optional<Registry::Successor> Registry::SuccessorOf(const HistoryChange& change,
                                                         std::string_view town) const {
  std::string town_key = town.empty() ? std::string() : ShortName(town, Level::kTown);
  const HistoryPiece* piece = town.empty() ? nullptr : History::PieceForTown(change, town_key);
  if (piece != nullptr) {
    std::optional<UnitId> district = Find(piece->successor);
    if (!district) return std::nullopt;
    if (std::optional<UnitId> today = ChildNamed(*district, town_key)) return Successor{*today, true};
    return Successor{*district, true};
  }
  if (!change.abolished) {
    // The unit lives on; a town it kept is still under it.
    std::optional<UnitId> self = Find(change.code);
    if (!self) return std::nullopt;
    if (!town.empty()) {
      if (std::optional<UnitId> kept = ChildNamed(*self, town_key)) return Successor{*kept, true};
    }
    return Successor{*self, true};
  }
  if (change.pieces.empty()) return std::nullopt;
  std::optional<UnitId> first = Find(change.pieces.front().successor);
  if (!first) return std::nullopt;
  return Successor{*first, change.pieces.size() == 1};
}

std::vector<size_t> Registry::CountByLevel(UnitId root) const {
  std::vector<size_t> counts(kLevelCount, 0);
  std::vector<UnitId> stack{root};
  while (!stack.empty()) {
    UnitId at = stack.back();
    stack.pop_back();
    ++counts[static_cast<int>(levels_[at.value])];
    for (UnitId kid : children(at)) stack.push_back(kid);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------

RegistryBuilder::RegistryBuilder() {
  UnitRecord nation{.level = Level::kNation, .name = "中华人民共和国"};
  records_.push_back(std::move(nation));
}

absl::Status Registry::BuildCodeIndex() {
  const size_t count = levels_.size();
  by_code_.clear();
  by_code_.reserve(count);
  retired_by_code_.clear();
  // Each insert misses the cache at a random slot: the slots of the units a little ahead are
  // prefetched, so that the misses overlap.
  constexpr size_t kAhead = 16;
  for (size_t index = 0; index < count; ++index) {
    if (index + kAhead < count) by_code_.prefetch(codes_[index + kAhead]);
    if (retired_[index]) {
      retired_by_code_[codes_[index]] = UnitId{static_cast<uint32_t>(index)};
      continue;
    }
    auto [it, inserted] = by_code_.try_emplace(codes_[index], UnitId{static_cast<uint32_t>(index)});
    if (!inserted) {
      return absl::InvalidArgumentError(Cat("unit ", codes_[index].ToString(), " (", names_[index],
                                            ") has the same code as ", names_[it->second.value]));
    }
  }
  return absl::OkStatus();
}

absl::Status Registry::FinalizeIndexes(bool roll_up_figures, bool code_index_built) {
  const size_t count = levels_.size();
  // The index by code (a random write per unit into a table of tens of MB) is built on a second
  // thread while this one builds the tree's indexes: they read the same arrays and write
  // different ones.
  absl::Status by_code_status;
  std::thread by_code_builder;
  if (!code_index_built) by_code_builder = std::thread([&] { by_code_status = BuildCodeIndex(); });
  StageTimer timer("registry indexes");
  // Children lists (governance tree), in code order, retired units left out.
  std::vector<uint32_t> child_count(count + 1, 0);
  for (size_t index = 1; index < count; ++index) {
    if (!retired_[index]) ++child_count[parents_[index].value];
  }
  child_offsets_.assign(count + 1, 0);
  for (size_t index = 0; index < count; ++index) {
    child_offsets_[index + 1] = child_offsets_[index] + child_count[index];
  }
  child_ids_.resize(child_offsets_[count]);
  std::vector<uint32_t> fill(child_offsets_.begin(), child_offsets_.end() - 1);
  for (size_t index = 1; index < count; ++index) {
    if (retired_[index]) continue;
    child_ids_[fill[parents_[index].value]++] = UnitId{static_cast<uint32_t>(index)};
  }
  for (size_t index = 0; index < count; ++index) {
    auto begin = child_ids_.begin() + child_offsets_[index];
    auto end = child_ids_.begin() + child_offsets_[index + 1];
    if (!std::is_sorted(begin, end, [&](UnitId a, UnitId b) {
          return codes_[a.value] < codes_[b.value];
        })) {
      std::sort(begin, end, [&](UnitId a, UnitId b) {
        return codes_[a.value] < codes_[b.value];
      });
    }
  }

  timer.Mark("children");
  // Parents usually precede their children, but a management unit added later may govern units
  // registered before it (ids never change), so walk the tree top-down from the nation: levels
  // strictly decrease towards the root, so there are no cycles.
  std::vector<uint32_t> order;
  order.reserve(count);
  order.push_back(0);
  for (size_t next = 0; next < order.size(); ++next) {
    for (UnitId kid : children(UnitId{order[next]})) order.push_back(kid.value);
  }
  // Retired units are in no children list: they come after, each after its own parent.
  if (order.size() < count) {
    std::vector<uint8_t> placed(count, 0);
    for (uint32_t index : order) placed[index] = 1;
    std::vector<uint32_t> chain;
    for (uint32_t index = 1; index < count; ++index) {
      for (uint32_t at = index; !placed[at]; at = parents_[at].value) chain.push_back(at);
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) placed[*it] = 1, order.push_back(*it);
      chain.clear();
    }
  }
  timer.Mark("order");
  // Ancestor rows: the parent's row plus the unit itself.
  ancestors_.assign(count * kAncestorSlots, kNoUnit);
  for (uint32_t index : order) {
    UnitId* row = &ancestors_[static_cast<size_t>(index) * kAncestorSlots];
    if (index > 0) std::copy_n(&ancestors_[static_cast<size_t>(parents_[index].value) * kAncestorSlots], kAncestorSlots, row);
    int slot = static_cast<int>(levels_[index]);
    if (slot < kAncestorSlots) row[slot] = UnitId{index};
  }

  timer.Mark("ancestors");
  // Figures of the grids and the units above them (below the grids, figures() reads a unit's
  // own): a unit's own, except that (when rolling up) a unit above the grids with children has
  // only what they sum to. Only the units carrying figures are visited and stored.
  figures_.Clear();
  figures_.Reserve(own_figures_.entries() * 2);
  for (const auto& [index, own] : own_figures_.Sorted()) {
    if (levels_[index] > Level::kGrid) continue;
    const bool has_children = child_offsets_[index + 1] > child_offsets_[index];
    if (roll_up_figures && levels_[index] < Level::kGrid && has_children) continue;
    figures_.Set(index, own);
  }
  timer.Mark("figures");
  // Grids (and leaf units carrying their own) sum up the governance tree, bottom-up.
  if (roll_up_figures) {
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      uint32_t index = *it;
      if (index == 0 || retired_[index] || levels_[index] > Level::kGrid) continue;
      const UnitFigures value = figures_[index];  // a copy: Add may move the stored values
      figures_.Add(parents_[index].value, value);
    }
  }
  timer.Mark("figures rolled up");
  if (by_code_builder.joinable()) by_code_builder.join();
  timer.Mark("waited for the code index");
  return by_code_status;
}

RegistryBuilder RegistryBuilder::FromRegistry(const Registry& registry) {
  RegistryBuilder builder;
  builder.records_.reserve(registry.size());
  builder.records_[0].name = std::string(registry.names_[0]);
  for (uint32_t index = 1; index < registry.size(); ++index) {
    UnitId id{index};
    UnitRecord record{.code = registry.code(id),
                      .level = registry.level(id),
                      .name = std::string(registry.names_[index]),
                      .parent = registry.parent(id),
                      .stat_parent = registry.stat_parent(id),
                      .kind = registry.kind(id),
                      .figures = registry.own_figures(id),
                      .box = registry.box(id),
                      .geometry = std::string(registry.geometry(id)),
                      .retired = registry.retired(id)};
    if (record.level == Level::kBuilding) record.building = registry.building(id);
    builder.Add(std::move(record));
  }
  builder.roads_ = registry.roads_;
  builder.compounds_ = registry.compounds_;
  builder.history_ = registry.history();
  return builder;
}

UnitId RegistryBuilder::Add(UnitRecord record) {
  UnitId id{static_cast<uint32_t>(records_.size())};
  if (indexed_ && !record.retired) by_code_.try_emplace(record.code, id);
  records_.push_back(std::move(record));
  return id;
}

std::optional<UnitId> RegistryBuilder::Find(const AddressCode& code) const {
  if (!indexed_) {
    by_code_.reserve(records_.size());
    for (size_t index = 0; index < records_.size(); ++index) {
      if (!records_[index].retired) by_code_.try_emplace(records_[index].code, UnitId{static_cast<uint32_t>(index)});
    }
    indexed_ = true;
  }
  auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::nullopt;
  return it->second;
}

uint32_t RegistryBuilder::AddRoad(Road road) {
  roads_.push_back(std::move(road));
  return static_cast<uint32_t>(roads_.size() - 1);
}

uint32_t RegistryBuilder::AddCompound(Compound compound) {
  compounds_.push_back(std::move(compound));
  return static_cast<uint32_t>(compounds_.size() - 1);
}

absl::StatusOr<Registry> RegistryBuilder::Build() && {
  const size_t count = records_.size();
  Registry registry;
  registry.levels_.resize(count);
  registry.parents_.resize(count);
  registry.stat_parents_.resize(count);
  registry.codes_.resize(count);
  registry.kinds_.resize(count);
  registry.retired_.resize(count);
  registry.names_.Reserve(count, count * 16);
  registry.short_names_.Reserve(count, count * 8);
  registry.building_index_.assign(count, UINT32_MAX);
  registry.by_code_.reserve(count);

  auto describe = [&](size_t index) {
    return Cat(records_[index].code.ToString(), " (", records_[index].name, ")");
  };
  for (size_t index = 0; index < count; ++index) {
    UnitRecord& record = records_[index];
    if (index > 0) {
      if (!record.parent.valid() || record.parent.value >= count || record.parent.value == index) {
        return absl::InvalidArgumentError(Cat("unit ", describe(index), ": unknown parent"));
      }
      if (!record.stat_parent.valid()) record.stat_parent = record.parent;
      if (record.stat_parent.value >= count || record.stat_parent.value == index) {
        return absl::InvalidArgumentError(Cat("unit ", describe(index), ": unknown statistical parent"));
      }
      const UnitRecord& parent = records_[record.parent.value];
      const UnitRecord& stat_parent = records_[record.stat_parent.value];
      if (parent.level >= record.level || stat_parent.level >= record.level) {
        return absl::InvalidArgumentError(Cat("unit ", describe(index), " (",
                                                       LevelName(record.level),
                                                       ") must be below its parent's level"));
      }
      if (record.code.SignificantDigits() > LevelDigits(record.level)) {
        return absl::InvalidArgumentError(Cat("unit ", describe(index), " sets digits below its level (",
                                                       LevelName(record.level), ")"));
      }
      if (record.code.Truncate(LevelDigits(stat_parent.level)) != stat_parent.code) {
        return absl::InvalidArgumentError(Cat("unit ", describe(index),
                                                       " is not under its parent's code ",
                                                       stat_parent.code.ToString()));
      }
      if (record.level == Level::kBuilding) {
        const BuildingInfo& info = record.building;
        if (info.floors < 1 || info.floors > 999 || info.rooms_per_floor < 1 ||
            info.rooms_per_floor > 99 || info.entrances > 99) {
          return absl::InvalidArgumentError(
              Cat("building ", describe(index), ": floors must be 1-999, rooms per floor "
                           "1-99 and entrances 0-99"));
        }
        if (info.road != UINT32_MAX && info.road >= roads_.size()) {
          return absl::InvalidArgumentError(Cat("building ", describe(index), ": unknown road"));
        }
        if (info.compound != UINT32_MAX && info.compound >= compounds_.size()) {
          return absl::InvalidArgumentError(Cat("building ", describe(index), ": unknown compound"));
        }
      }
    }
    registry.levels_[index] = record.level;
    registry.parents_[index] = record.parent;
    registry.stat_parents_[index] = record.stat_parent;
    registry.codes_[index] = record.code;
    registry.kinds_[index] = record.kind;
    registry.retired_[index] = record.retired ? 1 : 0;
    registry.own_figures_.Set(static_cast<uint32_t>(index), record.figures);
    registry.boxes_.Set(static_cast<uint32_t>(index), record.box);
    if (record.level == Level::kBuilding) {
      registry.building_index_[index] = static_cast<uint32_t>(registry.buildings_.size());
      registry.buildings_.push_back(record.building);
    }
    if (!registry.short_names_.Append(record.level == Level::kBuilding ? std::string()
                                                                       : ShortName(record.name, record.level)) ||
        !registry.names_.Append(record.name)) {
      return absl::InvalidArgumentError("the units' names pass 4 GB");
    }
    if (!record.geometry.empty()) {
      registry.geometries_.emplace(static_cast<uint32_t>(index), std::move(record.geometry));
    }
  }

  if (absl::Status status = registry.FinalizeIndexes(roll_up_figures_); !status.ok()) return status;
  registry.roads_ = std::move(roads_);
  registry.compounds_ = std::move(compounds_);
  registry.history_ = std::make_unique<History>(std::move(history_));
  return registry;
}

}  // namespace pingan
