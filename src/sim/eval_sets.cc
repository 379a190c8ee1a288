#include "sim/eval_sets.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "address/names.h"
#include "core/rng.h"
#include "core/strings.h"
#include "core/text.h"
#include "sim/fake_text.h"
#include "nlohmann/json.hpp"

namespace pingan {
namespace {

namespace fs = std::filesystem;
constexpr uint32_t kNone = UINT32_MAX;

// ---------------------------------------------------------------------------------------------
// Text helpers

std::u32string Decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    unsigned char lead = static_cast<unsigned char>(text[at]);
    int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t c = length == 1 ? lead : length == 2 ? lead & 0x1F : length == 3 ? lead & 0x0F : lead & 0x07;
    for (int k = 1; k < length && at + k < text.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(text[at + k]) & 0x3F);
    out.push_back(c);
    at += length;
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string Encode(std::u32string_view text) {
  std::string out;
  for (char32_t c : text) AppendUtf8(out, c);
  return out;
}

bool IsDigit(char32_t c) { return c >= U'0' && c <= U'9'; }

template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& items) {
  return items[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(items.size()) - 1))];
}

template <size_t N>
std::string_view PickOf(Rng& rng, const std::string_view (&items)[N]) {
  return items[static_cast<size_t>(rng.Int(0, N - 1))];
}

// Index drawn with the given weights.
size_t Weighted(Rng& rng, std::initializer_list<double> weights) {
  double sum = 0;
  for (double weight : weights) sum += weight;
  double at = rng.Uniform() * sum;
  size_t index = 0;
  for (double weight : weights) {
    if (at < weight) return index;
    at -= weight;
    ++index;
  }
  return weights.size() - 1;
}

// ---------------------------------------------------------------------------------------------
// Registry helpers

// Statistical ancestors of a unit by level (itself included); kNoUnit where the tree skips one.
struct StatPath {
  UnitId at[kLevelCount];
  UnitId operator[](Level level) const { return at[static_cast<int>(level)]; }
};

StatPath PathOf(const Registry& registry, UnitId id) {
  StatPath path;
  for (UnitId at = id; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) {
    path.at[static_cast<int>(registry.level(at))] = at;
  }
  return path;
}

// The 市辖区 / 县 / 省直辖县级行政区划 entries of the division data: a level of the codes, not a
// place anyone names.
bool MeaningfulCity(std::string_view name) {
  return name != "市辖区" && name != "县" && name.find("直辖县级行政区划") == std::string_view::npos;
}

// 恩施土家族苗族自治州 -> 恩施州, 长阳土家族自治县 -> 长阳县: how records write autonomous
// prefectures and counties. Empty when the name is not one or the place part is not found.
std::string AutonomousShort(std::string_view official) {
  static constexpr std::string_view kPeoples[] = {
      "达斡尔族", "鄂温克族", "鄂伦春族", "柯尔克孜", "土家族", "布依族", "哈尼族", "景颇族",
      "傈僳族", "蒙古族", "朝鲜族", "纳西族", "普米族", "独龙族", "拉祜族", "仡佬族", "毛南族",
      "仫佬族", "撒拉族", "保安族", "东乡族", "裕固族", "锡伯族", "哈萨克", "塔吉克", "蒙古",
      "苗族", "侗族", "彝族", "壮族", "傣族", "白族", "藏族", "羌族", "回族", "瑶族", "黎族",
      "畲族", "水族", "佤族", "怒族", "土族", "满族", "各族"};
  std::string_view suffix;
  std::string_view kind;
  if (EndsWith(official, "自治州")) {
    suffix = "自治州", kind = "州";
  } else if (EndsWith(official, "自治县")) {
    suffix = "自治县", kind = "县";
  } else {
    return {};
  }
  std::string_view rest = official.substr(0, official.size() - suffix.size());
  bool stripped = false;
  for (bool again = true; again;) {
    again = false;
    for (std::string_view people : kPeoples) {
      if (EndsWith(rest, people) && rest.size() > people.size()) {
        rest.remove_suffix(people.size());
        again = stripped = true;
        break;
      }
    }
  }
  size_t chars = Utf8Length(rest);
  if (!stripped || chars < 2 || chars > 4) return {};
  return Cat(rest, kind);
}

// True when `text` is a way of writing the unit's name: official, display (without committee
// suffixes), short, 街道 for 街道办事处, or the short form of an autonomous prefecture or county.
bool Written(const Registry& registry, UnitId id, std::string_view text) {
  if (!id.valid()) return false;
  if (text == registry.short_name(id)) return true;
  const std::string_view name = registry.stored_name(id);  // levels above buildings: the official name
  if (text == name || text == DisplayName(name)) return true;
  if (EndsWith(name, "街道办事处") && text == std::string_view(name).substr(0, name.size() - 9)) return true;
  const Level level = registry.level(id);
  if ((level == Level::kCity || level == Level::kDistrict) && (EndsWith(name, "自治州") || EndsWith(name, "自治县"))) {
    return text == AutonomousShort(name);
  }
  return false;
}

// A written name prepared for many Written() checks: every form Written accepts has the unit's
// short name as its ShortName, except the autonomous 州/县 forms.
struct WrittenName {
  WrittenName(std::string_view text, Level level)
      : text(text), short_form(ShortName(text, level)),
        maybe_autonomous((level == Level::kCity || level == Level::kDistrict) &&
                         (EndsWith(text, "州") || EndsWith(text, "县"))) {}
  std::string text;
  std::string short_form;
  bool maybe_autonomous;
};

bool Written(const Registry& registry, UnitId id, const WrittenName& name) {
  if (!id.valid()) return false;
  if (registry.short_name(id) != name.short_form && !name.maybe_autonomous) return false;
  return Written(registry, id, name.text);
}

// A community name records use: the display name; none for the statistics-only 虚拟社区.
bool NamedCommunity(const Registry& registry, UnitId community) {
  return registry.short_name(community).find("虚拟") == std::string_view::npos;
}

void ExpectAdmin(const Registry& registry, const StatPath& path, Level from, Level to,
                 std::vector<EvalExpectation>& out) {
  for (int level = static_cast<int>(from); level <= static_cast<int>(to); ++level) {
    UnitId id = path.at[level];
    if (!id.valid()) continue;
    std::string name = registry.name(id);
    if (level == static_cast<int>(Level::kCity) && !MeaningfulCity(name)) continue;
    out.push_back({static_cast<Level>(level), std::move(name)});
  }
}

// ---------------------------------------------------------------------------------------------
// Addresses as parts, so that noise can change one part

enum class Role { kProvince, kCity, kDistrict, kTown, kCommunity, kDetail, kExtra };

Level LevelOfRole(Role role) {
  switch (role) {
    case Role::kProvince: return Level::kProvince;
    case Role::kCity: return Level::kCity;
    case Role::kDistrict: return Level::kDistrict;
    case Role::kTown: return Level::kTown;
    case Role::kCommunity: return Level::kCommunity;
    default: return Level::kNation;
  }
}

struct Part {
  Role role;
  std::string text;
};

std::string Join(const std::vector<Part>& parts, std::string_view separator = "") {
  std::string out;
  for (size_t index = 0; index < parts.size(); ++index) {
    if (index > 0) out += separator;
    out += parts[index].text;
  }
  return out;
}

// What the detail of a demo-city address names, as a reader sees it.
struct Detail {
  enum Kind { kNone, kCompound, kRoad } kind = kNone;
  std::string name;          // compound or road name
  uint32_t number = 0;       // 幢 number in the compound (0: the compound itself) or house number
  std::string road;          // a compound written after its road and house number
  uint32_t road_number = 0;
};

enum class TargetKind {
  kRoom, kUnit, kBuilding, kCompound, kRoadBuilding, kRoadRoom, kVillageHouse,
  kCommunity, kTown, kDistrict,
};

struct Target {
  TargetKind kind = TargetKind::kCommunity;
  UnitId unit;                // the building, or the admin unit (the community for kCompound)
  uint32_t compound = kNone;
  uint32_t entrance = 0, room = 0;
};

bool IsBuildingKind(TargetKind kind) {
  return kind == TargetKind::kRoom || kind == TargetKind::kUnit || kind == TargetKind::kBuilding ||
         kind == TargetKind::kRoadBuilding || kind == TargetKind::kRoadRoom || kind == TargetKind::kVillageHouse;
}

// The deepest admin level the target lies in and the text may name.
Level AdminLevelOf(TargetKind kind) {
  switch (kind) {
    case TargetKind::kTown: return Level::kTown;
    case TargetKind::kDistrict: return Level::kDistrict;
    default: return Level::kCommunity;
  }
}

// How the admin part of a demo-city address is written.
enum class AdminStyle { kFull, kCity, kDistrict, kTownCommunity, kDistrictCommunity, kDistrictOnly, kShort, kBare };

std::string_view AdminStyleName(AdminStyle style) {
  switch (style) {
    case AdminStyle::kFull: return "full";
    case AdminStyle::kCity: return "city";
    case AdminStyle::kDistrict: return "district";
    case AdminStyle::kTownCommunity: return "town_community";
    case AdminStyle::kDistrictCommunity: return "district_community";
    case AdminStyle::kDistrictOnly: return "district_only";
    case AdminStyle::kShort: return "short";
    case AdminStyle::kBare: return "bare";
  }
  return "";
}

struct Address {
  Target target;
  std::vector<Part> parts;
  Detail detail;
  AdminStyle admin = AdminStyle::kFull;
  std::string detail_style;
  std::string text() const { return Join(parts); }
  std::string style() const {
    return detail_style.empty() ? std::string(AdminStyleName(admin)) : Cat(AdminStyleName(admin), "+", detail_style);
  }
};

// ---------------------------------------------------------------------------------------------
// The demo city: its units, compounds, roads and buildings, indexed for reading addresses back

class City {
 public:
  City(const Registry& registry, UnitId city) : registry_(registry), city_(city) {
    for (UnitId district : registry.children(city)) {
      if (registry.kind(district) == UnitKind::kStatistical) districts_.push_back(district);
    }
    for (UnitId town : registry.Descendants(city, Level::kTown)) {
      towns_.push_back(town);
      for (UnitId community : registry.children(town)) {
        if (registry.level(community) != Level::kCommunity) continue;
        community_slot_[community.value] = static_cast<uint32_t>(items_.size());
        items_.push_back(Items{.community = community, .display = DisplayName(registry.name(community))});
        if (NamedCommunity(registry, community)) communities_.push_back(community);
      }
    }
    for (UnitId id : districts_) admin_by_short_[std::string(registry.short_name(id))].push_back(id);
    for (UnitId id : towns_) admin_by_short_[std::string(registry.short_name(id))].push_back(id);
    for (const Items& items : items_) admin_by_short_[std::string(registry.short_name(items.community))].push_back(items.community);

    const auto& roads = registry.roads();
    village_road_.assign(roads.size(), 0);
    for (uint32_t road = 0; road < roads.size(); ++road) {
      if (!roads[road].town.valid() || !registry.IsWithin(roads[road].town, city)) continue;
      roads_by_name_[roads[road].name].push_back(road);
      village_road_[road] = EndsWith(roads[road].name, "村") ? 1 : 0;
    }
    const auto& compounds = registry.compounds();
    compound_buildings_.resize(compounds.size());
    on_road_.reserve(compounds.size() + registry.size() / 2);
    for (uint32_t compound = 0; compound < compounds.size(); ++compound) {
      const Compound& made = compounds[compound];
      if (!made.community.valid() || !registry.IsWithin(made.community, city)) continue;
      compounds_by_name_[made.name].push_back(compound);
      if (made.road != kNone) on_road_[RoadKey(made.road, made.house_number)] = kCompoundBit | compound;
      if (auto slot = community_slot_.find(made.community.value); slot != community_slot_.end()) {
        items_[slot->second].compounds.push_back(compound);
      }
    }
    for (uint32_t index = 0; index < registry.size(); ++index) {
      UnitId id{index};
      if (registry.level(id) != Level::kBuilding || registry.retired(id) || !registry.IsWithin(id, city)) continue;
      const BuildingInfo& info = registry.building(id);
      if (info.compound != kNone && info.number != 0) {
        auto& list = compound_buildings_[info.compound];
        if (list.size() < info.number) list.resize(info.number);
        list[info.number - 1] = id;
        continue;
      }
      if (info.road == kNone || info.house_number == 0) continue;
      on_road_[RoadKey(info.road, info.house_number)] = id.value;
      UnitId community = registry.AncestorAt(id, Level::kCommunity);
      auto slot = community_slot_.find(community.value);
      if (slot == community_slot_.end()) continue;
      Items& items = items_[slot->second];
      if (village_road_[info.road]) {
        if (registry.roads()[info.road].name == items.display) {
          items.houses.push_back(id);
          houses_.push_back(id);
        }
      } else {
        items.workplaces.push_back(id);
        workplaces_.push_back(id);
      }
    }
    for (uint32_t compound = 0; compound < compounds.size(); ++compound) {
      const auto& list = compound_buildings_[compound];
      bool complete = !list.empty() && std::all_of(list.begin(), list.end(), [](UnitId id) { return id.valid(); });
      if (complete) compounds_.push_back(compound);
    }
  }

  const Registry& registry() const { return registry_; }
  UnitId city() const { return city_; }
  bool usable() const { return !districts_.empty() && !compounds_.empty() && !communities_.empty(); }
  const std::vector<UnitId>& districts() const { return districts_; }
  const std::vector<UnitId>& towns() const { return towns_; }

  // A random target of `kind`, inside `scope` (a district or town; kNoUnit: anywhere).
  std::optional<Target> MakeTarget(Rng& rng, TargetKind kind, UnitId scope = kNoUnit) const {
    // The communities inside the scope (none: the whole city).
    std::vector<const Items*> scoped;
    if (scope.valid()) {
      for (UnitId community : registry_.Descendants(scope, Level::kCommunity)) {
        if (auto slot = community_slot_.find(community.value); slot != community_slot_.end()) {
          scoped.push_back(&items_[slot->second]);
        }
      }
    }
    Target target{.kind = kind};
    switch (kind) {
      case TargetKind::kDistrict:
        target.unit = Pick(rng, districts_);
        return target;
      case TargetKind::kTown:
      case TargetKind::kCommunity: {
        const std::vector<UnitId>& all = kind == TargetKind::kTown ? towns_ : communities_;
        if (!scope.valid()) {
          target.unit = Pick(rng, all);
          return target;
        }
        std::vector<UnitId> list = registry_.Descendants(scope, kind == TargetKind::kTown ? Level::kTown : Level::kCommunity);
        std::erase_if(list, [&](UnitId id) { return kind == TargetKind::kCommunity && !NamedCommunity(registry_, id); });
        if (list.empty()) return std::nullopt;
        target.unit = Pick(rng, list);
        return target;
      }
      default: break;
    }
    // Buildings and compounds.
    const bool compound_kind = kind == TargetKind::kRoom || kind == TargetKind::kUnit ||
                               kind == TargetKind::kBuilding || kind == TargetKind::kCompound;
    if (compound_kind) {
      uint32_t compound;
      if (!scope.valid()) {
        compound = Pick(rng, compounds_);
      } else {
        std::vector<uint32_t> list;
        for (const Items* items : scoped) {
          for (uint32_t c : items->compounds) {
            if (!compound_buildings_[c].empty() && compound_buildings_[c].front().valid()) list.push_back(c);
          }
        }
        if (list.empty()) return std::nullopt;
        compound = Pick(rng, list);
      }
      target.compound = compound;
      if (kind == TargetKind::kCompound) {
        target.unit = registry_.compounds()[compound].community;
        return target;
      }
      target.unit = Pick(rng, compound_buildings_[compound]);
      if (!target.unit.valid()) return std::nullopt;
      const BuildingInfo& info = registry_.building(target.unit);
      if (info.entrances == 0) return std::nullopt;
      if (kind == TargetKind::kRoom || kind == TargetKind::kUnit) target.entrance = static_cast<uint32_t>(rng.Int(1, info.entrances));
      if (kind == TargetKind::kRoom) {
        target.room = static_cast<uint32_t>(rng.Int(1, info.floors) * 100 + rng.Int(1, info.rooms_per_floor));
      }
      return target;
    }
    const bool house = kind == TargetKind::kVillageHouse;
    if (!scope.valid()) {
      const auto& all = house ? houses_ : workplaces_;
      if (all.empty()) return std::nullopt;
      target.unit = Pick(rng, all);
    } else {
      std::vector<UnitId> list;
      for (const Items* items : scoped) {
        const auto& some = house ? items->houses : items->workplaces;
        list.insert(list.end(), some.begin(), some.end());
      }
      if (list.empty()) return std::nullopt;
      target.unit = Pick(rng, list);
    }
    if (kind == TargetKind::kRoadRoom) {
      const BuildingInfo& info = registry_.building(target.unit);
      if (info.entrances > 1) return std::nullopt;
      target.entrance = info.entrances;
      target.room = static_cast<uint32_t>(rng.Int(1, info.floors) * 100 + rng.Int(1, info.rooms_per_floor));
    }
    return target;
  }

  // The address of `target` written in `style` (without checking that it is unambiguous).
  Address Compose(Rng& rng, const Target& target, AdminStyle style, bool with_community) const {
    Address address{.target = target, .admin = style};
    const Registry& r = registry_;
    UnitId anchor = target.unit;
    StatPath path = PathOf(r, anchor);
    const Level deepest = AdminLevelOf(target.kind);
    const bool village = target.kind == TargetKind::kVillageHouse;
    const bool road_kind = target.kind == TargetKind::kRoadBuilding || target.kind == TargetKind::kRoadRoom;
    auto wants = [&](Level level) {
      if (level > deepest) return false;
      if (!IsBuildingKind(target.kind) && target.kind != TargetKind::kCompound && level == deepest) return true;
      if (level == Level::kCommunity) {
        if (village || !with_community || !NamedCommunity(r, path[Level::kCommunity])) return false;
      }
      switch (style) {
        case AdminStyle::kFull: case AdminStyle::kCity: case AdminStyle::kDistrict: case AdminStyle::kShort:
          return true;
        case AdminStyle::kTownCommunity: return level >= Level::kTown;
        case AdminStyle::kDistrictCommunity: return level == Level::kDistrict || level == Level::kCommunity;
        case AdminStyle::kDistrictOnly: return level == Level::kDistrict;
        case AdminStyle::kBare: return false;
      }
      return false;
    };
    const bool short_forms = style == AdminStyle::kShort;
    if (style == AdminStyle::kFull) address.parts.push_back({Role::kProvince, r.name(path[Level::kProvince])});
    if (style == AdminStyle::kFull || style == AdminStyle::kCity || style == AdminStyle::kShort) {
      address.parts.push_back({Role::kCity, short_forms ? std::string(r.short_name(city_)) : r.name(city_)});
    }
    if (wants(Level::kDistrict)) {
      UnitId id = path[Level::kDistrict];
      address.parts.push_back({Role::kDistrict, short_forms ? std::string(r.short_name(id)) : r.name(id)});
    }
    if (wants(Level::kTown)) {
      UnitId id = path[Level::kTown];
      // A town named last stays whole in the short style only half the time (余杭五常 / 余杭五常街道).
      bool short_town = short_forms && (deepest != Level::kTown || rng.Chance(0.5));
      address.parts.push_back({Role::kTown, short_town ? std::string(r.short_name(id)) : TownText(r, id)});
    }
    if (wants(Level::kCommunity) && path[Level::kCommunity].valid()) {
      address.parts.push_back({Role::kCommunity, DisplayName(r.name(path[Level::kCommunity]))});
    }
    if (target.kind == TargetKind::kCompound || target.kind == TargetKind::kRoom ||
        target.kind == TargetKind::kUnit || target.kind == TargetKind::kBuilding) {
      ComposeCompound(rng, target, address);
    } else if (road_kind || village) {
      const BuildingInfo& info = r.building(target.unit);
      const std::string& road = r.roads()[info.road].name;
      address.detail = Detail{.kind = Detail::kRoad, .name = road, .number = info.house_number};
      std::string text = Cat(road, info.house_number, "号");
      if (target.kind == TargetKind::kRoadRoom) text += Cat(target.room, "室");
      address.detail_style = village ? "village_house" : target.kind == TargetKind::kRoadRoom ? "road_room" : "road";
      address.parts.push_back({Role::kDetail, std::move(text)});
    }
    return address;
  }

  // How many places the address can be read as (0, 1 or 2 for "more than one"), reading its
  // admin parts and detail against the registry.
  int Readings(const Address& address) const {
    const Registry& r = registry_;
    std::vector<const Part*> mentions;
    std::vector<WrittenName> written;
    for (const Part& part : address.parts) {
      if (part.role == Role::kDistrict || part.role == Role::kTown || part.role == Role::kCommunity) {
        mentions.push_back(&part);
        written.emplace_back(part.text, LevelOfRole(part.role));
      }
    }
    auto consistent = [&](UnitId unit, const Part* except) {
      StatPath path = PathOf(r, unit);
      for (size_t index = 0; index < mentions.size(); ++index) {
        if (mentions[index] != except && !Written(r, path[LevelOfRole(mentions[index]->role)], written[index])) return false;
      }
      return true;
    };
    int count = 0;
    const Detail& detail = address.detail;
    if (detail.kind == Detail::kNone) {
      const Level level = AdminLevelOf(address.target.kind);
      const Part* named = nullptr;
      for (const Part* part : mentions) {
        if (LevelOfRole(part->role) == level) named = part;
      }
      if (named == nullptr) return 0;
      auto it = admin_by_short_.find(ShortName(named->text, level));
      if (it == admin_by_short_.end()) return 0;
      for (UnitId id : it->second) {
        if (r.level(id) != level || !Written(r, id, named->text) || !consistent(id, named)) continue;
        if (++count > 1) break;
      }
      return count;
    }
    if (detail.kind == Detail::kCompound) {
      auto it = compounds_by_name_.find(detail.name);
      if (it == compounds_by_name_.end()) return 0;
      for (uint32_t compound : it->second) {
        const Compound& made = r.compounds()[compound];
        if (detail.number > 0 && compound_buildings_[compound].size() < detail.number) continue;
        if (!detail.road.empty() &&
            (made.road == kNone || r.roads()[made.road].name != detail.road || made.house_number != detail.road_number)) {
          continue;
        }
        if (!consistent(made.community, nullptr)) continue;
        if (++count > 1) break;
      }
      return count;
    }
    auto it = roads_by_name_.find(detail.name);
    if (it == roads_by_name_.end()) return 0;
    for (uint32_t road : it->second) {
      auto found = on_road_.find(RoadKey(road, detail.number));
      if (found == on_road_.end()) continue;
      UnitId community = (found->second & kCompoundBit) ? r.compounds()[found->second & ~kCompoundBit].community
                                                         : r.AncestorAt(UnitId{found->second}, Level::kCommunity);
      if (!consistent(community, nullptr)) continue;
      if (++count > 1) break;
    }
    return count;
  }

  // Expectations of a target: its admin units from the district down, then building, unit, room.
  std::vector<EvalExpectation> Expect(const Target& target, Level deepest_admin) const {
    const Registry& r = registry_;
    std::vector<EvalExpectation> out;
    ExpectAdmin(r, PathOf(r, target.unit), Level::kDistrict, deepest_admin, out);
    if (!IsBuildingKind(target.kind) || deepest_admin < Level::kCommunity) return out;
    out.push_back({Level::kBuilding, r.code(target.unit).ToString()});
    if (target.kind == TargetKind::kRoom || target.kind == TargetKind::kUnit || target.kind == TargetKind::kRoadRoom) {
      if (target.entrance > 0) {
        out.push_back({Level::kUnit, r.PlaceCode(Place{.unit = target.unit, .level = Level::kUnit, .entrance = target.entrance})
                                         .ToString()});
      }
      if (target.room > 0) {
        out.push_back({Level::kRoom, r.PlaceCode(Place{.unit = target.unit, .level = Level::kRoom,
                                                       .entrance = target.entrance, .room = target.room})
                                         .ToString()});
      }
    }
    return out;
  }

  // A target of a random kind (the clean set's mix), written in a random style that reads as
  // exactly that place; nullopt when no style does.
  std::optional<Address> RandomAddress(Rng& rng, std::optional<TargetKind> only_kind = std::nullopt,
                                       UnitId scope = kNoUnit) const {
    static constexpr TargetKind kKinds[] = {
        TargetKind::kRoom, TargetKind::kUnit, TargetKind::kBuilding, TargetKind::kCompound,
        TargetKind::kRoadBuilding, TargetKind::kRoadRoom, TargetKind::kVillageHouse,
        TargetKind::kCommunity, TargetKind::kTown, TargetKind::kDistrict};
    TargetKind kind = only_kind ? *only_kind
                                : kKinds[Weighted(rng, {30, 5, 14, 4, 8, 4, 10, 15, 7, 3})];
    std::optional<Target> target = MakeTarget(rng, kind, scope);
    if (!target) return std::nullopt;
    AdminStyle style;
    bool with_community = true;
    using S = AdminStyle;
    static constexpr S kStyles[] = {S::kFull, S::kCity, S::kDistrict, S::kTownCommunity,
                                    S::kDistrictCommunity, S::kDistrictOnly, S::kShort, S::kBare};
    switch (kind) {
      case TargetKind::kDistrict: style = kStyles[Weighted(rng, {30, 40, 30})]; break;
      case TargetKind::kTown: style = kStyles[Weighted(rng, {15, 25, 40, 0, 0, 0, 10, 10})]; break;
      case TargetKind::kCommunity:
      case TargetKind::kCompound: style = kStyles[Weighted(rng, {15, 20, 30, 20, 10, 0, 5})]; break;
      case TargetKind::kVillageHouse: style = kStyles[Weighted(rng, {15, 25, 30, 30, 0, 0, 0})]; break;
      default:
        style = kStyles[Weighted(rng, {15, 20, 20, 10, 5, 12, 8, 10})];
        with_community = rng.Chance(target->kind == TargetKind::kRoadBuilding || target->kind == TargetKind::kRoadRoom ? 0.25 : 0.7);
    }
    if (kind == TargetKind::kCompound) with_community = rng.Chance(0.5);
    // Fall back to fuller styles when the chosen one names more than one place.
    for (S attempt : {style, S::kDistrict, S::kCity, S::kFull}) {
      Address address = Compose(rng, *target, attempt, with_community || attempt != style);
      if (Readings(address) == 1) return address;
    }
    return std::nullopt;
  }

  // For noise: the town names of the whole nation, and the district-level and higher names.
  bool IsRealName(std::string_view text, Level level) const {
    std::call_once(names_once_, [this] {
      for (uint32_t index = 1; index < registry_.size(); ++index) {
        UnitId id{index};
        Level level = registry_.level(id);
        if (level > Level::kTown) continue;
        auto& set = level == Level::kTown ? town_names_ : upper_names_;
        set.insert(std::string(registry_.short_name(id)));
        set.insert(registry_.name(id));
      }
    });
    const auto& set = level == Level::kTown ? town_names_ : upper_names_;
    return set.contains(std::string(text)) || set.contains(ShortName(text, level));
  }

 private:
  static constexpr uint32_t kCompoundBit = 0x80000000u;
  static uint64_t RoadKey(uint32_t road, uint32_t number) { return (static_cast<uint64_t>(road) << 32) | number; }

  void ComposeCompound(Rng& rng, const Target& target, Address& address) const {
    const Registry& r = registry_;
    const Compound& made = r.compounds()[target.compound];
    std::string text;
    Detail detail{.kind = Detail::kCompound, .name = made.name};
    std::string style;
    if (made.road != kNone && rng.Chance(0.2)) {
      detail.road = r.roads()[made.road].name;
      detail.road_number = made.house_number;
      text = Cat(detail.road, made.house_number, "号");
      style = "road+";
    }
    text += made.name;
    if (target.kind == TargetKind::kCompound) {
      style += "compound";
    } else {
      const BuildingInfo& info = r.building(target.unit);
      detail.number = info.number;
      const std::string_view word = std::initializer_list<std::string_view>{"幢", "栋", "号楼"}.begin()[Weighted(rng, {6, 3, 1})];
      if (target.kind == TargetKind::kBuilding) {
        text += Cat(info.number, word);
        style += "building";
      } else if (target.kind == TargetKind::kUnit) {
        text += Cat(info.number, word, target.entrance, "单元");
        style += "unit";
      } else {
        switch (Weighted(rng, {55, 20, 10, 15})) {
          case 0:
            text += Cat(info.number, word, target.entrance, "单元", target.room, "室");
            style += "room";
            break;
          case 1:
            text += Cat(info.number, "-", target.entrance, "-", target.room);
            style += "room_dashes";
            break;
          case 2:
            text += Cat(info.number, word, target.entrance, "单元", target.room);
            style += "room_no_suffix";
            break;
          default:
            if (info.entrances == 1) {
              text += Cat(info.number, word, target.room, "室");
              style += "room_one_entrance";
            } else {
              text += Cat(info.number, word, target.entrance, "单元", target.room, "室");
              style += "room";
            }
        }
      }
    }
    address.detail = std::move(detail);
    address.detail_style = std::move(style);
    address.parts.push_back({Role::kDetail, std::move(text)});
  }

  struct Items {
    UnitId community;
    std::string display;
    std::vector<uint32_t> compounds;
    std::vector<UnitId> workplaces, houses;
  };

  const Registry& registry_;
  UnitId city_;
  std::vector<UnitId> districts_, towns_, communities_;
  std::vector<Items> items_;
  absl::flat_hash_map<uint32_t, uint32_t> community_slot_;
  std::vector<uint32_t> compounds_;  // with all their buildings
  std::vector<std::vector<UnitId>> compound_buildings_;
  std::vector<UnitId> workplaces_, houses_;
  std::vector<uint8_t> village_road_;
  absl::flat_hash_map<std::string, std::vector<uint32_t>> compounds_by_name_;
  absl::flat_hash_map<std::string, std::vector<uint32_t>> roads_by_name_;
  absl::flat_hash_map<uint64_t, uint32_t> on_road_;  // road, house number -> building id or compound
  absl::flat_hash_map<std::string, std::vector<UnitId>> admin_by_short_;
  mutable std::once_flag names_once_;
  mutable absl::flat_hash_set<std::string> town_names_, upper_names_;
};

std::optional<UnitId> HomeCity(const Registry& registry, const EvalSetOptions& options) {
  if (options.home_city.IsNation()) return std::nullopt;
  std::optional<UnitId> city = registry.Find(options.home_city);
  if (!city || registry.level(*city) != Level::kCity) return std::nullopt;
  return city;
}

EvalLine LineOf(const City& city, const Address& address) {
  return EvalLine{.text = address.text(),
                  .expect = city.Expect(address.target, AdminLevelOf(address.target.kind)),
                  .style = address.style()};
}

// ---------------------------------------------------------------------------------------------
// Noise

// Traditional forms of characters common in Hangzhou's names and addresses (simplified ->
// traditional); the normaliser folds every one back.
constexpr std::pair<char32_t, char32_t> kTraditional[] = {
    {U'区', U'區'}, {U'县', U'縣'}, {U'萧', U'蕭'}, {U'号', U'號'}, {U'单', U'單'}, {U'园', U'園'},
    {U'华', U'華'}, {U'东', U'東'}, {U'门', U'門'}, {U'桥', U'橋'}, {U'湾', U'灣'}, {U'镇', U'鎮'},
    {U'乡', U'鄉'}, {U'红', U'紅'}, {U'龙', U'龍'}, {U'阳', U'陽'}, {U'兴', U'興'}, {U'楼', U'樓'},
    {U'广', U'廣'}, {U'场', U'場'}, {U'钱', U'錢'}, {U'滨', U'濱'}, {U'临', U'臨'}, {U'庐', U'廬'},
    {U'闸', U'閘'}, {U'笕', U'筧'}, {U'凯', U'凱'}, {U'云', U'雲'}, {U'丰', U'豐'}, {U'宁', U'寧'},
    {U'万', U'萬'}, {U'长', U'長'}, {U'义', U'義'}, {U'进', U'進'}, {U'坝', U'壩'}, {U'绿', U'綠'},
    {U'锦', U'錦'}, {U'绣', U'繡'}, {U'苏', U'蘇'}, {U'杨', U'楊'}, {U'渔', U'漁'}, {U'马', U'馬'},
    {U'汇', U'匯'}, {U'鸿', U'鴻'}, {U'庆', U'慶'}, {U'凤', U'鳳'}, {U'翠', U'翠'}, {U'湖', U'湖'},
    {U'杭', U'杭'}, {U'浙', U'浙'}, {U'乔', U'喬'}, {U'发', U'發'}, {U'关', U'關'}, {U'与', U'與'},
    {U'时', U'時'}, {U'新', U'新'}, {U'厂', U'廠'}, {U'双', U'雙'}, {U'经', U'經'}, {U'开', U'開'},
    {U'农', U'農'}, {U'业', U'業'}, {U'务', U'務'}, {U'环', U'環'}, {U'纺', U'紡'}, {U'织', U'織'},
    {U'卫', U'衛'}, {U'盘', U'盤'}, {U'头', U'頭'}, {U'圣', U'聖'}, {U'爱', U'愛'}, {U'学', U'學'}};

// One-character homophones (and near-homophones) people type for place characters.
constexpr std::pair<char32_t, char32_t> kHomophones[] = {
    {U'萧', U'肖'}, {U'杭', U'航'}, {U'滨', U'宾'}, {U'墅', U'树'}, {U'塘', U'堂'}, {U'桥', U'乔'},
    {U'湖', U'胡'}, {U'城', U'成'}, {U'江', U'姜'}, {U'山', U'衫'}, {U'阳', U'杨'}, {U'临', U'林'},
    {U'平', U'坪'}, {U'德', U'得'}, {U'建', U'健'}, {U'桐', U'同'}, {U'淳', U'纯'}, {U'庐', U'卢'},
    {U'富', U'付'}, {U'钱', U'前'}, {U'拱', U'共'}, {U'溪', U'西'}, {U'浦', U'普'}, {U'港', U'岗'},
    {U'宁', U'凝'}, {U'华', U'化'}, {U'兴', U'星'}, {U'明', U'名'}, {U'龙', U'隆'}, {U'云', U'运'},
    {U'丰', U'风'}, {U'良', U'粮'}, {U'仓', U'苍'}, {U'常', U'长'}, {U'坞', U'乌'}, {U'埠', U'步'},
    {U'堡', U'保'}, {U'笕', U'见'}, {U'闸', U'扎'}, {U'荷', U'和'}, {U'凯', U'开'}, {U'翠', U'脆'},
    {U'蒋', U'姜'}, {U'灵', U'林'}, {U'留', U'流'}, {U'径', U'经'}, {U'瓶', U'平'}, {U'窑', U'摇'},
    {U'闲', U'贤'}, {U'桑', U'丧'}, {U'沙', U'纱'}, {U'潮', U'朝'}, {U'余', U'于'}};

char32_t Lookup(const std::pair<char32_t, char32_t>* table, size_t size, char32_t c) {
  for (size_t index = 0; index < size; ++index) {
    if (table[index].first == c) return table[index].second;
  }
  return 0;
}

std::string ToTraditional(std::string_view text) {
  std::u32string chars = Decode(text);
  for (char32_t& c : chars) {
    if (char32_t t = Lookup(kTraditional, std::size(kTraditional), c)) c = t;
  }
  return Encode(chars);
}

// 32 -> 三十二, 478 -> 四百七十八, 102 -> 一百零二; 1203 -> 一二〇三 (digit by digit).
std::u32string NumeralsOf(uint32_t value, bool digit_by_digit, bool ling_for_zero) {
  static constexpr char32_t kDigits[] = U"〇一二三四五六七八九";
  std::u32string out;
  if (digit_by_digit || value >= 1000) {
    for (char c : std::to_string(value)) out.push_back(c == '0' ? (ling_for_zero ? U'零' : U'〇') : kDigits[c - '0']);
    return out;
  }
  uint32_t hundreds = value / 100, tens = value / 10 % 10, ones = value % 10;
  if (hundreds) out += {kDigits[hundreds], U'百'};
  if (tens) {
    if (hundreds || tens > 1) out.push_back(kDigits[tens]);
    out.push_back(U'十');
  } else if (hundreds && ones) {
    out.push_back(U'零');
  }
  if (ones || value == 0) out.push_back(kDigits[ones]);
  return out;
}

// Every run of digits directly followed by 号, 幢, 栋, 单元 or 室 in Chinese numerals.
std::string ToChineseNumerals(Rng& rng, std::string_view text) {
  std::u32string chars = Decode(text);
  std::u32string out;
  const bool ling = rng.Chance(0.4);
  for (size_t at = 0; at < chars.size();) {
    if (!IsDigit(chars[at]) || (at > 0 && chars[at - 1] == U'-')) {
      out.push_back(chars[at++]);
      continue;
    }
    size_t end = at;
    while (end < chars.size() && IsDigit(chars[end])) ++end;
    char32_t next = end < chars.size() ? chars[end] : 0;
    bool unit = next == U'号' || next == U'幢' || next == U'栋' || next == U'室' ||
                (next == U'单' && end + 1 < chars.size() && chars[end + 1] == U'元');
    if (!unit || end - at > 4 || chars[at] == U'0') {
      out.append(chars, at, end - at);
      at = end;
      continue;
    }
    uint32_t value = static_cast<uint32_t>(std::stoul(Encode(chars.substr(at, end - at))));
    out += NumeralsOf(value, next == U'室', ling);
    at = end;
  }
  return Encode(out);
}

class NoisySetMaker {
 public:
  NoisySetMaker(const City& city, uint64_t seed) : city_(city), r_(city.registry()), rng_(Rng::Derive(seed, 0x4E015E)) {}

  std::optional<EvalLine> Make(std::string_view kind) {
    if (kind == "alias") return Alias();
    if (kind == "old_name") return OldName();
    if (kind == "typo") return Typo();
    std::optional<Address> address = city_.RandomAddress(rng_);
    if (!address) return std::nullopt;
    EvalLine line = LineOf(city_, *address);
    line.noise = std::string(kind);
    const std::string clean = line.text;
    if (kind == "fullwidth") {
      line.text = ToFullwidth(clean);
    } else if (kind == "chinese_numerals") {
      line.text = ToChineseNumerals(rng_, clean);
    } else if (kind == "traditional") {
      line.text = ToTraditional(clean);
    } else if (kind == "separators") {
      if (address->parts.size() < 2) return std::nullopt;
      static constexpr std::string_view kSeparators[] = {"-", " ", "/", "，", "　", " - ", ",", "、"};
      std::string_view separator = PickOf(rng_, kSeparators);
      std::vector<Part> parts = address->parts;
      if (!parts.empty() && parts.back().role == Role::kDetail && rng_.Chance(0.5)) {
        // Inside the detail too: 12幢 3单元 1203室.
        std::string& detail = parts.back().text;
        for (std::string_view word : {"幢", "栋", "单元", "号"}) {
          std::string spaced;
          for (size_t at = 0; at < detail.size();) {
            if (detail.compare(at, word.size(), word) == 0) {
              spaced.append(word);
              at += word.size();
              if (at < detail.size() && std::isdigit(static_cast<unsigned char>(detail[at]))) spaced += " ";
            } else {
              spaced.push_back(detail[at++]);
            }
          }
          detail = spaced;
        }
      }
      line.text = Join(parts, separator);
    } else if (kind == "person_phone") {
      std::string name = PersonName(rng_);
      std::string phone = PhoneNumber(rng_);
      switch (rng_.Int(0, 4)) {
        case 0: line.text = Cat(clean, " ", name, " ", phone); break;
        case 1: line.text = Cat(name, " ", phone, " ", clean); break;
        case 2: line.text = Cat(clean, "，", name, "收，", phone); break;
        case 3: line.text = Cat(clean, " 联系人：", name, " 电话：", phone); break;
        default: line.text = Cat(name, "，", phone, "，", clean); break;
      }
    } else if (kind == "noise_words") {
      static constexpr std::string_view kRelative[] = {"附近", "对面", "旁边", "周边"};
      if (rng_.Chance(0.3)) {
        line.text = rng_.Chance(0.5) ? Cat(clean, " 电联") : Cat(clean, "（电联）");
      } else {
        if (address->target.kind == TargetKind::kDistrict) return std::nullopt;
        line.text = Cat(clean, PickOf(rng_, kRelative));
        // Near a place is not in it: expect only what surely holds it.
        Level keep = Level::kTown;
        switch (address->target.kind) {
          case TargetKind::kRoom: case TargetKind::kUnit: case TargetKind::kBuilding: case TargetKind::kCompound:
            keep = Level::kCommunity;
            break;
          case TargetKind::kTown: keep = Level::kDistrict; break;
          default: break;
        }
        std::erase_if(line.expect, [&](const EvalExpectation& e) { return e.level > keep; });
      }
    } else if (kind == "label") {
      static constexpr std::string_view kLabels[] = {"收货地址：", "地址：", "家庭住址：", "详细地址:", "现住址：",
                                                     "居住地址：", "联系地址: ", "住址："};
      line.text = Cat(PickOf(rng_, kLabels), clean);
    }
    if (line.text == clean) return std::nullopt;
    line.style = address->style();
    return line;
  }

 private:
  std::optional<EvalLine> Alias() {
    // The names of config/aliases.toml, with the part of the text each replaces and the town the
    // address lies in (the parent's code and the town's short name).
    struct AliasTarget {
      std::string_view name;
      Role role;
      const char* parent;
      std::string_view town;
    };
    static constexpr AliasTarget kAliases[] = {
        {"下沙", Role::kTown, "330114", "下沙"},
        {"钱江世纪城", Role::kTown, "330109", "萧山钱江世纪城"},
        {"未来科技城", Role::kTown, "330110", "五常"},  // spans 五常, 仓前 and 闲林
        {"未来科技城", Role::kTown, "330110", "仓前"},
        {"未来科技城", Role::kTown, "330110", "闲林"},
        {"西湖景区", Role::kDistrict, "330190", "西湖"}};  // 西湖风景名胜区 administers 西湖街道
    const AliasTarget& alias = kAliases[rng_.Int(0, std::size(kAliases) - 1)];
    std::optional<UnitId> parent = r_.Find(*AddressCode::ParsePrefix(alias.parent));
    if (!parent || !r_.IsWithin(*parent, city_.city())) return std::nullopt;
    std::optional<UnitId> scope = r_.ChildNamed(*parent, alias.town);
    if (!scope) return std::nullopt;
    static constexpr TargetKind kKinds[] = {TargetKind::kRoom, TargetKind::kBuilding, TargetKind::kCommunity,
                                            TargetKind::kVillageHouse};
    TargetKind kind = kKinds[rng_.Int(0, std::size(kKinds) - 1)];
    std::optional<Target> target = city_.MakeTarget(rng_, kind, *scope);
    if (!target) return std::nullopt;
    Address address = city_.Compose(rng_, *target, rng_.Chance(0.5) ? AdminStyle::kCity : AdminStyle::kDistrict, true);
    bool replaced = false;
    for (Part& part : address.parts) {
      if (part.role != alias.role) continue;
      part.text = std::string(alias.name);
      part.role = Role::kExtra;
      replaced = true;
    }
    if (!replaced) return std::nullopt;
    // The alias names its area, not one unit: the rest must still say which place it is.
    if (alias.role == Role::kTown && alias.name != "未来科技城") {
      // 下沙 and 钱江世纪城 are the town itself: read it back with the town's own name.
      Address check = address;
      for (Part& part : check.parts) {
        if (part.role == Role::kExtra) part = Part{Role::kTown, std::string(r_.short_name(*scope))};
      }
      if (city_.Readings(check) != 1) return std::nullopt;
    } else if (city_.Readings(address) != 1) {
      return std::nullopt;
    }
    EvalLine line = LineOf(city_, address);
    line.noise = "alias";
    line.style = Cat(address.style(), "+alias");
    return line;
  }

  std::optional<EvalLine> OldName() {
    // (former name, today's town) for every town the history places.
    if (old_towns_.empty()) {
      for (const HistoryChange& change : r_.history().changes()) {
        if (change.level != Level::kDistrict) continue;
        for (const HistoryPiece& piece : change.pieces) {
          std::optional<UnitId> successor = r_.Find(piece.successor);
          if (!successor || !r_.IsWithin(*successor, city_.city())) continue;
          if (!piece.towns.empty()) {
            for (const std::string& town : piece.towns) {
              if (auto today = r_.ChildNamed(*successor, town)) old_towns_.push_back({change.name, *today});
            }
          } else if (change.kind == ChangeKind::kRenamed && change.pieces.size() == 1) {
            for (UnitId town : r_.children(*successor)) {
              if (r_.level(town) == Level::kTown) old_towns_.push_back({change.name, town});
            }
          }
        }
      }
      if (old_towns_.empty()) return std::nullopt;
    }
    const auto& [former, town] = Pick(rng_, old_towns_);
    static constexpr TargetKind kKinds[] = {TargetKind::kRoom, TargetKind::kBuilding, TargetKind::kCommunity,
                                            TargetKind::kTown, TargetKind::kVillageHouse};
    std::optional<Target> target = city_.MakeTarget(rng_, kKinds[rng_.Int(0, std::size(kKinds) - 1)], town);
    if (!target) return std::nullopt;
    static constexpr AdminStyle kStyles[] = {AdminStyle::kFull, AdminStyle::kCity, AdminStyle::kDistrict};
    Address address = city_.Compose(rng_, *target, kStyles[rng_.Int(0, 2)], true);
    if (city_.Readings(address) != 1) return std::nullopt;
    bool has_town = false;
    for (const Part& part : address.parts) has_town |= part.role == Role::kTown;
    if (!has_town) return std::nullopt;
    for (Part& part : address.parts) {
      if (part.role == Role::kDistrict) part.text = former;
    }
    EvalLine line = LineOf(city_, address);
    line.noise = "old_name";
    line.style = Cat(address.style(), "+former_district");
    return line;
  }

  std::optional<EvalLine> Typo() {
    std::optional<Address> address = city_.RandomAddress(rng_);
    if (!address) return std::nullopt;
    // Misspell the district (a town follows) or the town (a community or detail follows).
    std::vector<size_t> candidates;
    for (size_t index = 0; index + 1 < address->parts.size(); ++index) {
      Role role = address->parts[index].role;
      Role next = address->parts[index + 1].role;
      if ((role == Role::kDistrict && next == Role::kTown) ||
          (role == Role::kTown && (next == Role::kCommunity || next == Role::kDetail))) {
        candidates.push_back(index);
      }
    }
    if (candidates.empty()) return std::nullopt;
    Part& part = address->parts[Pick(rng_, candidates)];
    const Level level = LevelOfRole(part.role);
    std::u32string chars = Decode(part.text);
    // Only in the name, not in its suffix (区, 街道, 镇).
    size_t name_chars = Decode(ShortName(part.text, level)).size();
    std::vector<size_t> positions;
    for (size_t at = 0; at < std::min(name_chars, chars.size()); ++at) {
      if (Lookup(kHomophones, std::size(kHomophones), chars[at])) positions.push_back(at);
    }
    if (positions.empty()) return std::nullopt;
    size_t at = Pick(rng_, positions);
    chars[at] = Lookup(kHomophones, std::size(kHomophones), chars[at]);
    std::string typo = Encode(chars);
    if (city_.IsRealName(typo, level)) return std::nullopt;
    EvalLine line = LineOf(city_, *address);
    part.text = typo;
    line.text = address->text();
    line.noise = "typo";
    line.style = Cat(address->style(), "+typo_", LevelName(level));
    return line;
  }

  const City& city_;
  const Registry& r_;
  Rng rng_;
  std::vector<std::pair<std::string, UnitId>> old_towns_;
};

// ---------------------------------------------------------------------------------------------
// The national set

class NationalSetMaker {
 public:
  NationalSetMaker(const Registry& registry, uint64_t seed) : r_(registry), rng_(Rng::Derive(seed, 0x4A710)) {
    next_.assign(r_.size(), kNone);
    heads_.reserve(700'000);
    for (uint32_t index = 1; index < r_.size(); ++index) {
      UnitId id{index};
      Level level = r_.level(id);
      if (level < Level::kDistrict || level > Level::kCommunity || r_.retired(id) ||
          r_.kind(id) != UnitKind::kStatistical) {
        continue;
      }
      // Chained by the hash of the short name: no allocation per name.
      auto [head, inserted] = heads_.try_emplace(Key(r_.short_name(id), level), index);
      if (!inserted) {
        next_[index] = head->second;
        head->second = index;
      }
      uint32_t province = static_cast<uint32_t>(r_.code(id).Digits(0, 2));
      Pools& pools = pools_[province];
      if (level == Level::kCommunity && !NamedCommunity(r_, id)) continue;
      (level == Level::kDistrict ? pools.districts : level == Level::kTown ? pools.towns : pools.communities).push_back(id);
    }
    for (UnitId province : r_.children(r_.nation())) {
      uint32_t code = static_cast<uint32_t>(r_.code(province).Digits(0, 2));
      if (pools_.contains(code) && !pools_[code].towns.empty()) provinces_.push_back(code);
    }
    for (uint32_t code : provinces_) {
      Pools& pools = pools_[code];
      for (UnitId town : pools.towns) {
        const std::string_view key = r_.short_name(town);
        uint32_t first = heads_.find(Key(key, Level::kTown))->second;
        bool shared = false;
        for (uint32_t at = first; at != kNone && !shared; at = next_[at]) {
          shared = at != town.value && r_.short_name(UnitId{at}) == key;
        }
        if (shared) pools.shared_towns.push_back(town);
      }
    }
  }

  std::vector<EvalLine> Make(size_t count) {
    std::vector<EvalLine> lines;
    if (provinces_.empty()) return lines;
    lines.reserve(count);
    for (size_t index = 0; index < count; ++index) {
      uint32_t province = provinces_[index % provinces_.size()];
      for (int attempt = 0; attempt < 50; ++attempt) {
        if (auto line = MakeOne(pools_[province])) {
          lines.push_back(*std::move(line));
          break;
        }
      }
    }
    return lines;
  }

 private:
  struct Pools {
    std::vector<UnitId> districts, towns, communities, shared_towns;
  };
  struct Mention {
    Level level;
    std::string text;
  };

  std::optional<EvalLine> MakeOne(const Pools& pools) {
    UnitId target;
    bool shared = false;
    switch (Weighted(rng_, {60, 26, 8, 6})) {
      case 0: if (!pools.communities.empty()) target = Pick(rng_, pools.communities); break;
      case 1: target = Pick(rng_, pools.towns); break;
      case 2: if (!pools.shared_towns.empty()) target = Pick(rng_, pools.shared_towns), shared = true; break;
      default: if (!pools.districts.empty()) target = Pick(rng_, pools.districts); break;
    }
    if (!target.valid()) return std::nullopt;
    const Level deepest = r_.level(target);
    const StatPath path = PathOf(r_, target);
    if (!path[Level::kProvince].valid()) return std::nullopt;
    UnitId city = path[Level::kCity];
    UnitId district = path[Level::kDistrict];
    const bool has_city = city.valid() && MeaningfulCity(r_.name(city));
    // Styles: which levels are written, and how.
    enum Style { kFull, kNoProvince, kDistrictFirst, kShort, kProvinceShort, kCountyDirect, kTownFirst, kPrefecture, kSharedTown };
    static constexpr std::string_view kStyleNames[] = {"full", "no_province", "district_first", "short", "province_short",
                                                       "county_direct", "town_first", "autonomous_short", "shared_town"};
    Style style = static_cast<Style>(Weighted(rng_, {24, 18, 16, 12, 10, 8, 6, 6}));
    if (shared) style = rng_.Chance(0.6) ? kDistrictFirst : kNoProvince;
    if (style == kCountyDirect && !(has_city && district.valid() && (EndsWith(r_.name(district), "市") ||
                                                                     EndsWith(r_.name(district), "县")))) {
      style = kFull;
    }
    if (style == kPrefecture && !(has_city && !AutonomousShort(r_.name(city)).empty()) &&
        !(district.valid() && !AutonomousShort(r_.name(district)).empty())) {
      style = kShort;
    }
    if (style == kTownFirst && deepest != Level::kCommunity) style = kNoProvince;
    if ((style == kDistrictFirst) && !district.valid()) style = kNoProvince;
    for (Style attempt : {style, kNoProvince, kFull}) {
      std::vector<Mention> mentions = Mentions(path, deepest, attempt == kSharedTown ? kDistrictFirst : attempt, has_city);
      if (mentions.empty() || mentions.back().level != deepest) continue;
      if (Readings(target, mentions) != 1) continue;
      EvalLine line;
      for (const Mention& mention : mentions) line.text += mention.text;
      if (rng_.Chance(0.65)) line.text += Tail();
      ExpectAdmin(r_, path, Level::kProvince, deepest, line.expect);
      line.style = std::string(kStyleNames[shared && attempt == style ? kSharedTown : attempt]);
      return line;
    }
    return std::nullopt;
  }

  std::vector<Mention> Mentions(const StatPath& path, Level deepest, int style, bool has_city) {
    enum { kFull, kNoProvince, kDistrictFirst, kShort, kProvinceShort, kCountyDirect, kTownFirst, kPrefecture };
    std::vector<Mention> out;
    auto add = [&](Level level, std::string text) { out.push_back({level, std::move(text)}); };
    UnitId province = path[Level::kProvince], city = path[Level::kCity], district = path[Level::kDistrict];
    UnitId town = path[Level::kTown], community = path[Level::kCommunity];
    const bool province_city = !has_city && province.valid() && EndsWith(r_.name(province), "市");
    switch (style) {
      case kFull: case kCountyDirect: case kPrefecture: add(Level::kProvince, r_.name(province)); break;
      case kShort: case kProvinceShort: add(Level::kProvince, std::string(r_.short_name(province))); break;
      case kNoProvince:
        // 北京市朝阳区: the province is the city people name.
        if (province_city) add(Level::kProvince, r_.name(province));
        break;
      default: break;
    }
    if (has_city && (style == kFull || style == kNoProvince || style == kProvinceShort)) add(Level::kCity, r_.name(city));
    if (has_city && style == kShort) add(Level::kCity, std::string(r_.short_name(city)));
    if (has_city && style == kPrefecture) {
      std::string zhou = AutonomousShort(r_.name(city));
      add(Level::kCity, zhou.empty() ? r_.name(city) : zhou);
    }
    if (district.valid() && deepest >= Level::kDistrict && style != kTownFirst) {
      std::string text = r_.name(district);
      if (style == kShort && deepest > Level::kDistrict) text = std::string(r_.short_name(district));
      if (style == kPrefecture) {
        if (std::string county = AutonomousShort(text); !county.empty()) text = county;
      }
      add(Level::kDistrict, text);
    }
    if (deepest >= Level::kTown && town.valid()) {
      add(Level::kTown, TownText(r_, town));
    }
    if (deepest >= Level::kCommunity && community.valid()) {
      std::string name = r_.name(community);
      add(Level::kCommunity, rng_.Chance(0.1) ? name : DisplayName(name));
    }
    return out;
  }

  // How many units of the target's level the mentions can be read as (up to 2).
  int Readings(UnitId target, const std::vector<Mention>& mentions) {
    const Level level = r_.level(target);
    // The mentions above the target's level, deepest first (most candidates fail at the first),
    // then the target's own.
    std::vector<std::pair<Level, WrittenName>> above;
    std::optional<WrittenName> own;
    for (auto it = mentions.rbegin(); it != mentions.rend(); ++it) {
      if (it->level == level) {
        own.emplace(it->text, it->level);
      } else {
        above.emplace_back(it->level, WrittenName(it->text, it->level));
      }
    }
    int count = 0;
    const std::string_view key = r_.short_name(target);
    auto head = heads_.find(Key(key, level));
    for (uint32_t index = head == heads_.end() ? kNone : head->second; index != kNone; index = next_[index]) {
      UnitId candidate{index};
      if (r_.level(candidate) != level || r_.short_name(candidate) != key) continue;
      bool all = true;
      UnitId at = candidate;
      for (const auto& [mention_level, written] : above) {
        while (at.valid() && at != r_.nation() && r_.level(at) > mention_level) at = r_.stat_parent(at);
        if (!at.valid() || r_.level(at) != mention_level || !Written(r_, at, written)) {
          all = false;
          break;
        }
      }
      if (all && own && !Written(r_, candidate, *own)) all = false;
      if (all && ++count > 1) break;
    }
    return count;
  }

  // A detail the registry does not hold: a road, a house number, sometimes a building.
  std::string Tail() {
    static constexpr std::string_view kRoads[] = {
        "人民路", "建设路", "幸福路", "文化路", "光明路", "育才路", "迎宾大道", "工业路", "团结路",
        "繁荣路", "富强路", "和谐路", "滨河路", "环城路", "振兴路", "学府路", "健康路", "商业街"};
    std::string tail = Cat(PickOf(rng_, kRoads), rng_.Int(1, 300), "号");
    switch (Weighted(rng_, {70, 15, 15})) {
      case 1: tail += Cat(rng_.Int(1, 12), "栋"); break;
      case 2: tail += Cat(rng_.Int(1, 20), "栋", rng_.Int(1, 4), "单元", rng_.Int(1, 18) * 100 + rng_.Int(1, 4), "室"); break;
      default: break;
    }
    return tail;
  }

  const Registry& r_;
  Rng rng_;
  static uint64_t Key(std::string_view short_name, Level level) {
    return absl::HashOf(short_name, static_cast<int>(level));
  }
  // Units by the hash of their short name and level: the first, then a chain through next_.
  absl::flat_hash_map<uint64_t, uint32_t> heads_;
  std::vector<uint32_t> next_;
  absl::flat_hash_map<uint32_t, Pools> pools_;
  std::vector<uint32_t> provinces_;
};

// Removes DIR/eval.tmp-PID directories of runs that are gone.
void RemoveStaleEvalTemporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("eval.tmp-", 0) != 0) continue;
    long pid = std::strtol(name.c_str() + 9, nullptr, 10);
    if (pid > 0 && pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    fs::remove_all(entry.path(), ec);
  }
}

absl::Status WriteLines(const fs::path& file, const std::vector<EvalLine>& lines) {
  std::ofstream out(file, std::ios::trunc | std::ios::binary);
  for (const EvalLine& line : lines) out << EvalLineJson(line) << '\n';
  out.flush();
  if (!out) return absl::InternalError(Cat("cannot write ", file.string()));
  return absl::OkStatus();
}

std::vector<EvalLine> CleanLines(const City& city, const EvalSetOptions& options) {
  std::vector<EvalLine> lines;
  if (!city.usable()) return lines;
  Rng rng = Rng::Derive(options.seed, 0xC1EA);
  lines.reserve(options.clean);
  for (size_t attempts = 0; lines.size() < options.clean && attempts < options.clean * 20; ++attempts) {
    if (auto address = city.RandomAddress(rng)) lines.push_back(LineOf(city, *address));
  }
  return lines;
}

std::vector<EvalLine> NoisyLines(const City& city, const EvalSetOptions& options) {
  std::vector<EvalLine> lines;
  if (!city.usable()) return lines;
  NoisySetMaker maker(city, options.seed);
  lines.reserve(options.noisy);
  for (size_t index = 0; index < options.noisy; ++index) {
    std::string_view kind = kEvalNoiseKinds[index % std::size(kEvalNoiseKinds)];
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (auto line = maker.Make(kind)) {
        lines.push_back(*std::move(line));
        break;
      }
    }
  }
  return lines;
}

}  // namespace

std::vector<EvalLine> MakeCleanEvalSet(const Registry& registry, const EvalSetOptions& options) {
  std::optional<UnitId> home = HomeCity(registry, options);
  return home ? CleanLines(City(registry, *home), options) : std::vector<EvalLine>();
}

std::vector<EvalLine> MakeNoisyEvalSet(const Registry& registry, const EvalSetOptions& options) {
  std::optional<UnitId> home = HomeCity(registry, options);
  return home ? NoisyLines(City(registry, *home), options) : std::vector<EvalLine>();
}

std::vector<EvalLine> MakeNationalEvalSet(const Registry& registry, const EvalSetOptions& options) {
  NationalSetMaker maker(registry, options.seed);
  return maker.Make(options.national);
}

std::string EvalLineJson(const EvalLine& line) {
  nlohmann::ordered_json item;
  item["text"] = line.text;
  nlohmann::ordered_json expect = nlohmann::ordered_json::object();
  for (const EvalExpectation& e : line.expect) expect[std::string(LevelName(e.level))] = e.value;
  item["expect"] = std::move(expect);
  if (!line.noise.empty()) item["noise"] = line.noise;
  if (!line.style.empty()) item["style"] = line.style;
  return item.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

absl::StatusOr<EvalSetStats> WriteEvalSets(const Registry& registry, const fs::path& data_dir,
                                           const EvalSetOptions& options) {
  std::error_code ec;
  RemoveStaleEvalTemporaries(data_dir);
  const fs::path tmp = data_dir / Cat("eval.tmp-", ::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return absl::PermissionDeniedError(Cat("cannot create ", tmp.string(), ": ", ec.message()));
  auto fail = [&](absl::Status status) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return status;
  };
  EvalSetStats stats;
  if (std::optional<UnitId> home = HomeCity(registry, options)) {
    const City city(registry, *home);
    std::vector<EvalLine> clean = CleanLines(city, options);
    std::vector<EvalLine> noisy = NoisyLines(city, options);
    if (!clean.empty()) {
      if (auto status = WriteLines(tmp / "clean.jsonl", clean); !status.ok()) return fail(status);
      if (auto status = WriteLines(tmp / "noisy.jsonl", noisy); !status.ok()) return fail(status);
    }
    stats.clean = clean.size();
    stats.noisy = noisy.size();
  }
  std::vector<EvalLine> national = MakeNationalEvalSet(registry, options);
  if (auto status = WriteLines(tmp / "national.jsonl", national); !status.ok()) return fail(status);
  stats.national = national.size();
  const fs::path target = data_dir / "eval";
  fs::remove_all(target, ec);
  fs::rename(tmp, target, ec);
  if (ec) return fail(absl::InternalError(Cat("cannot rename into ", target.string(), ": ", ec.message())));
  return stats;
}

}  // namespace pingan
