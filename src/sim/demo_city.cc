#include "sim/demo_city.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "core/strings.h"
#include "address/names.h"
#include "core/rng.h"
#include "core/text.h"
#include "sim/tessellate.h"

namespace pingan {
namespace {

enum class TownKind { kStreet, kTown, kTownship, kOther };

TownKind KindOfTown(std::string_view name) {
  if (EndsWith(name, "街道") || EndsWith(name, "街道办事处")) return TownKind::kStreet;
  if (EndsWith(name, "镇")) return TownKind::kTown;
  if (EndsWith(name, "乡")) return TownKind::kTownship;
  return TownKind::kOther;
}

bool IsVillage(std::string_view official) {
  std::string display = DisplayName(official);
  return EndsWith(display, "村") && !EndsWith(display, "社区");
}

uint64_t KeyOf(const AddressCode& code) { return code.admin() * 1'000'003ULL ^ code.local(); }

// Splits `total` into integer parts proportional to `weights` (largest remainder).
std::vector<int64_t> Apportion(int64_t total, const std::vector<double>& weights) {
  std::vector<int64_t> out(weights.size(), 0);
  double sum = 0;
  for (double weight : weights) sum += weight;
  if (sum <= 0 || weights.empty()) return out;
  std::vector<std::pair<double, size_t>> remainders;
  int64_t assigned = 0;
  for (size_t index = 0; index < weights.size(); ++index) {
    double exact = static_cast<double>(total) * weights[index] / sum;
    out[index] = static_cast<int64_t>(std::floor(exact));
    assigned += out[index];
    remainders.emplace_back(exact - static_cast<double>(out[index]), index);
  }
  std::sort(remainders.begin(), remainders.end(),
            [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  for (size_t index = 0; assigned < total && index < remainders.size(); ++index, ++assigned) {
    ++out[remainders[index].second];
  }
  return out;
}

struct CommunityPlan {
  UnitId id;
  bool village = false;
  bool high_rise = false;
  int64_t resident = 0;
  int grids = 1;
};

class NameMaker {
 public:
  NameMaker(const std::vector<std::string>& heads, const std::vector<std::string>& tails)
      : heads_(heads), tails_(tails) {}
  // A name not yet used in `used`.
  std::string Make(Rng& rng, absl::flat_hash_set<std::string>& used) {
    for (int attempt = 0; attempt < 24; ++attempt) {
      std::string name = heads_[rng.Int(0, heads_.size() - 1)] + tails_[rng.Int(0, tails_.size() - 1)];
      if (used.insert(name).second) return name;
    }
    std::string base = heads_[rng.Int(0, heads_.size() - 1)] + tails_[rng.Int(0, tails_.size() - 1)];
    for (int phase = 2;; ++phase) {
      std::string name = Cat(base, phase, "期");
      if (used.insert(name).second) return name;
    }
  }

 private:
  const std::vector<std::string>& heads_;
  const std::vector<std::string>& tails_;
};

}  // namespace

absl::StatusOr<DemoStats> BuildDemoCity(const DemoConfig& config, uint64_t seed, double scale,
                                        RegistryBuilder& builder) {
  if (!(scale > 0 && scale <= 10)) return absl::InvalidArgumentError("scale must be in (0, 10]");
  std::optional<UnitId> city = builder.Find(config.home_city);
  if (!city || builder.record(*city).level != Level::kCity) {
    return absl::NotFoundError(Cat(config.source, ": key 'city.code': ",
                                            config.home_city.ToString().substr(0, 4),
                                            " is not a city in the registry"));
  }
  // Governance children of every unit in the city (parents precede children).
  const size_t before = builder.size();
  std::vector<uint8_t> in_city(before, 0);
  std::vector<std::vector<UnitId>> kids(before);
  in_city[city->value] = 1;
  for (size_t index = city->value + 1; index < before; ++index) {
    const UnitRecord& record = builder.record(UnitId{static_cast<uint32_t>(index)});
    if (record.retired || !record.parent.valid() || !in_city[record.parent.value]) continue;
    in_city[index] = 1;
    kids[record.parent.value].push_back(UnitId{static_cast<uint32_t>(index)});
  }
  auto by_code = [&](UnitId a, UnitId b) { return builder.record(a).code < builder.record(b).code; };
  for (auto& list : kids) std::sort(list.begin(), list.end(), by_code);

  DemoStats stats;
  const double pph = config.persons_per_household;
  std::vector<std::vector<CommunityPlan>> plans_by_town;
  std::vector<UnitId> towns;
  std::vector<const DemoDistrictConfig*> town_district;

  // 1. Population: district (configured) -> towns -> communities -> grids.
  for (UnitId district : kids[city->value]) {
    const UnitRecord& record = builder.record(district);
    auto found = config.districts.find(record.code);
    if (found == config.districts.end()) {
      return absl::InvalidArgumentError(Cat(config.source, ": no [district.",
                                                     record.code.ToString().substr(0, 6), "] for ",
                                                     record.name));
    }
    const DemoDistrictConfig& settings = found->second;
    ++stats.districts;
    Rng rng = Rng::Derive(seed, KeyOf(record.code));
    std::vector<double> weights;
    for (UnitId town : kids[district.value]) {
      double base = 0.1;
      switch (KindOfTown(builder.record(town).name)) {
        case TownKind::kStreet: base = 1.0; break;
        case TownKind::kTown: base = 0.5; break;
        case TownKind::kTownship: base = 0.2; break;
        case TownKind::kOther: base = 0.08; break;
      }
      weights.push_back(base * rng.LogNormal(0.35));
    }
    std::vector<int64_t> town_resident = Apportion(std::llround(settings.resident * scale), weights);
    for (size_t town_index = 0; town_index < kids[district.value].size(); ++town_index) {
      UnitId town = kids[district.value][town_index];
      ++stats.towns;
      Rng town_rng = Rng::Derive(seed, KeyOf(builder.record(town).code));
      std::vector<CommunityPlan> plans;
      std::vector<double> community_weights;
      for (UnitId community : kids[town.value]) {
        if (builder.record(community).level != Level::kCommunity) continue;
        CommunityPlan plan{.id = community, .village = IsVillage(builder.record(community).name)};
        plan.high_rise = !plan.village && town_rng.Chance(settings.urban);
        community_weights.push_back((plan.village ? 0.45 : 1.0) * town_rng.LogNormal(0.5));
        plans.push_back(plan);
      }
      std::vector<int64_t> resident = Apportion(town_resident[town_index], community_weights);
      for (size_t index = 0; index < plans.size(); ++index) {
        plans[index].resident = resident[index];
        double households = static_cast<double>(resident[index]) / pph;
        plans[index].grids = std::max(1, static_cast<int>(std::lround(households / config.households_per_grid)));
        plans[index].grids = std::min(plans[index].grids, 999);
      }
      stats.communities += plans.size();
      plans_by_town.push_back(std::move(plans));
      towns.push_back(town);
      town_district.push_back(&settings);
    }
  }

  // 2. Polygons: area weights from the bottom (villages spread wide, streets are dense).
  absl::flat_hash_map<uint32_t, double> area;
  for (const auto& plans : plans_by_town) {
    for (const CommunityPlan& plan : plans) {
      area[plan.id.value] = plan.grids * (plan.village ? 8.0 : plan.high_rise ? 0.6 : 1.0);
    }
  }
  std::function<double(UnitId)> area_of = [&](UnitId id) -> double {
    if (auto it = area.find(id.value); it != area.end()) return it->second;
    double sum = 0;
    for (UnitId kid : kids[id.value]) sum += area_of(kid);
    if (sum <= 0) sum = 1;  // a unit without communities still gets a piece
    area[id.value] = sum;
    return sum;
  };
  builder.record(*city).box = config.box;
  std::vector<UnitId> stack{*city};
  while (!stack.empty()) {
    UnitId at = stack.back();
    stack.pop_back();
    const auto& list = kids[at.value];
    if (list.empty()) continue;
    std::vector<double> weights;
    for (UnitId kid : list) weights.push_back(area_of(kid));
    std::vector<BoundingBox> boxes = Tessellate(builder.record(at).box, weights);
    for (size_t index = 0; index < list.size(); ++index) {
      builder.record(list[index]).box = boxes[index];
      stack.push_back(list[index]);
    }
  }

  // 3. Grids, roads, compounds and buildings.
  NameMaker road_names(config.road_heads, config.road_tails);
  NameMaker compound_names(config.compound_heads, config.compound_tails);
  for (size_t town_index = 0; town_index < towns.size(); ++town_index) {
    UnitId town = towns[town_index];
    const DemoDistrictConfig& settings = *town_district[town_index];
    Rng rng = Rng::Derive(seed ^ 0xB111D1, KeyOf(builder.record(town).code));
    int64_t town_resident = 0;
    for (const CommunityPlan& plan : plans_by_town[town_index]) town_resident += plan.resident;
    const int64_t town_households = static_cast<int64_t>(town_resident / pph);
    int road_count = static_cast<int>(std::clamp<int64_t>(town_households / 900, 3, 150));
    absl::flat_hash_set<std::string> used_roads;
    absl::flat_hash_set<std::string> used_compounds;
    std::vector<uint32_t> town_roads;
    std::vector<uint32_t> next_number;
    for (int index = 0; index < road_count; ++index) {
      town_roads.push_back(builder.AddRoad(Road{.name = road_names.Make(rng, used_roads), .town = town}));
      next_number.push_back(static_cast<uint32_t>(rng.Int(1, 30)));
    }
    stats.roads += town_roads.size();
    auto take_number = [&](size_t road_slot) {
      uint32_t number = next_number[road_slot];
      next_number[road_slot] += static_cast<uint32_t>(rng.Int(1, 4));
      return number;
    };

    for (const CommunityPlan& plan : plans_by_town[town_index]) {
      const UnitRecord community = builder.record(plan.id);  // copy: records_ grows below
      std::string display = DisplayName(community.name);
      uint32_t village_road = UINT32_MAX;
      uint32_t village_number = 1;
      if (plan.village) {
        village_road = builder.AddRoad(Road{.name = display, .town = town});
        ++stats.roads;
      }
      std::vector<double> grid_weights;
      for (int grid = 0; grid < plan.grids; ++grid) grid_weights.push_back(rng.Uniform(0.8, 1.2));
      std::vector<int64_t> grid_households =
          Apportion(std::llround(static_cast<double>(plan.resident) / pph), grid_weights);
      std::vector<BoundingBox> grid_boxes = Tessellate(community.box, grid_weights);
      for (int grid = 0; grid < plan.grids; ++grid) {
        UnitFigures figures;
        figures.households = grid_households[grid];
        figures.resident = std::llround(static_cast<double>(figures.households) * pph);
        double floating_factor = plan.village ? 0.5 : 1.2;
        figures.floating = std::llround(static_cast<double>(figures.resident) * settings.floating_ratio *
                                        floating_factor * rng.LogNormal(0.5));
        figures.enterprises = std::llround(static_cast<double>(figures.resident + figures.floating) / 1000.0 *
                                           settings.enterprise_per_1k * rng.LogNormal(0.7));
        figures.houses = std::llround(static_cast<double>(figures.households) * rng.Uniform(1.0, 1.15));
        AddressCode grid_code =
            AddressCode::FromParts(community.code.admin(), static_cast<uint64_t>(grid + 1) * 1'000'000'000'000ULL);
        UnitId grid_id = builder.Add(UnitRecord{
            .code = grid_code,
            .level = Level::kGrid,
            .name = Cat(display, "第", grid + 1, "网格"),
            .parent = plan.id,
            .kind = UnitKind::kSynthetic,
            .figures = figures,
            .box = grid_boxes[grid],
        });
        ++stats.grids;
        stats.resident += figures.resident, stats.floating += figures.floating;
        stats.enterprises += figures.enterprises, stats.houses += figures.houses;
        stats.households += figures.households;

        const BoundingBox& box = grid_boxes[grid];
        uint32_t building_number = 0;
        auto add_building = [&](BuildingInfo info) {
          if (building_number >= 99999) return;
          ++building_number;
          double inset_lon = (box.max_lon - box.min_lon) * 0.03;
          double inset_lat = (box.max_lat - box.min_lat) * 0.03;
          info.lon = rng.Uniform(box.min_lon + inset_lon, box.max_lon - inset_lon);
          info.lat = rng.Uniform(box.min_lat + inset_lat, box.max_lat - inset_lat);
          builder.Add(UnitRecord{
              .code = AddressCode::FromParts(grid_code.admin(), grid_code.local() + building_number * 10'000'000ULL),
              .level = Level::kBuilding,
              .parent = grid_id,
              .kind = UnitKind::kSynthetic,
              .building = info,
          });
          ++stats.buildings;
        };

        // Homes.
        int64_t remaining = figures.households;
        if (plan.village) {
          while (remaining > 0) {
            add_building(BuildingInfo{.road = village_road,
                                      .house_number = village_number++,
                                      .entrances = 0,
                                      .floors = static_cast<uint16_t>(rng.Int(2, 4)),
                                      .rooms_per_floor = 1});
            remaining -= rng.Int(1, 3);
          }
        } else {
          while (remaining > 0) {
            size_t road_slot = static_cast<size_t>(rng.Int(0, town_roads.size() - 1));
            uint32_t compound = builder.AddCompound(Compound{.name = compound_names.Make(rng, used_compounds),
                                                             .community = plan.id,
                                                             .road = town_roads[road_slot],
                                                             .house_number = take_number(road_slot)});
            ++stats.compounds;
            const Compound& made = builder.compounds()[compound];
            int count = static_cast<int>(rng.Int(4, 18));
            bool tower = plan.high_rise && rng.Chance(0.6);
            for (int index = 1; index <= count && remaining > 0; ++index) {
              BuildingInfo info{.road = made.road, .house_number = made.house_number,
                                .compound = compound, .number = static_cast<uint32_t>(index)};
              if (tower) {
                info.entrances = static_cast<uint8_t>(rng.Int(1, 2));
                info.floors = static_cast<uint16_t>(rng.Int(11, 33));
                info.rooms_per_floor = static_cast<uint8_t>(rng.Int(2, 4));
              } else {
                info.entrances = static_cast<uint8_t>(rng.Int(1, 4));
                info.floors = static_cast<uint16_t>(rng.Int(4, 7));
                info.rooms_per_floor = 2;
              }
              add_building(info);
              remaining -= std::llround(info.entrances * info.floors * info.rooms_per_floor * 0.9);
            }
          }
        }
        // Shops, offices and workshops: about one building per few enterprises.
        int64_t workplaces = std::llround(static_cast<double>(figures.enterprises) / (plan.village ? 3.0 : 6.0));
        for (int64_t index = 0; index < workplaces; ++index) {
          size_t road_slot = static_cast<size_t>(rng.Int(0, town_roads.size() - 1));
          BuildingInfo info{.road = town_roads[road_slot], .house_number = take_number(road_slot),
                            .entrances = 1};
          bool office = !plan.village && rng.Chance(0.15);
          info.floors = static_cast<uint16_t>(office ? rng.Int(8, 30) : rng.Int(1, 4));
          info.rooms_per_floor = static_cast<uint8_t>(rng.Int(2, 12));
          add_building(info);
        }
      }
    }
  }
  return stats;
}

}  // namespace pingan
