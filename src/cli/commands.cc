#include "cli/commands.h"

#include <chrono>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "absl/strings/str_join.h"
#include "address/names.h"
#include "catalog/config.h"
#include "core/paths.h"
#include "core/status.h"
#include "geocode/matcher.h"
#include "core/text.h"
#include "importer/units_import.h"
#include "sim/init.h"
#include "sim/tessellate.h"
#include "store/data_dir.h"

namespace pingan::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;


struct Loaded {
  DataDir data;
  Registry registry;
};

absl::StatusOr<Loaded> Load(const Context& context) {
  auto data = DataDir::Open(context.data_dir, SqliteStore::Mode::kReadOnly);
  if (!data.ok()) return data.status();
  auto registry = data->store->LoadRegistry();
  if (!registry.ok()) return registry.status();
  return Loaded{*std::move(data), *std::move(registry)};
}

std::string Digits(const AddressCode& code, Level level) {
  return code.ToString().substr(0, std::max(LevelDigits(level), 2));
}

// A place's children: registered units, or a building's entrances, or rooms.
struct Child {
  Place place;
};

std::vector<Place> ChildrenOf(const Registry& registry, const Place& place) {
  std::vector<Place> out;
  if (place.level < Level::kBuilding) {
    for (UnitId kid : registry.children(place.unit)) out.push_back(Place{.unit = kid, .level = registry.level(kid)});
    return out;
  }
  if (place.level == Level::kRoom) return out;
  const BuildingInfo& info = registry.building(place.unit);
  if (place.level == Level::kBuilding && info.entrances > 0) {
    for (uint32_t entrance = 1; entrance <= info.entrances; ++entrance) {
      out.push_back(Place{.unit = place.unit, .level = Level::kUnit, .entrance = entrance});
    }
    return out;
  }
  for (uint32_t floor = 1; floor <= info.floors; ++floor) {
    for (uint32_t room = 1; room <= info.rooms_per_floor; ++room) {
      out.push_back(Place{.unit = place.unit, .level = Level::kRoom, .entrance = place.entrance,
                          .room = floor * 100 + room});
    }
  }
  return out;
}

json PlaceJson(const Registry& registry, const Place& place, int depth) {
  json node{{"code", registry.PlaceCode(place).ToString()},
            {"name", registry.PlaceName(place)},
            {"level", LevelName(place.level)}};
  if (depth > 0) {
    json kids = json::array();
    for (const Place& kid : ChildrenOf(registry, place)) kids.push_back(PlaceJson(registry, kid, depth - 1));
    node["children"] = std::move(kids);
  }
  return node;
}

// The statistical path of a unit, province down.
std::vector<UnitId> StatPath(const Registry& registry, UnitId id) {
  std::vector<UnitId> path;
  for (UnitId at = id; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) path.push_back(at);
  std::reverse(path.begin(), path.end());
  return path;
}

std::string FormerExplanation(const Registry& registry, const HistoryChange& change) {
  std::string text = Cat(change.name, " (", Digits(change.code, change.level), ") was ",
                                  ChangeKindName(change.kind), " on ", change.date, ": ");
  bool first = true;
  for (const HistoryPiece& piece : change.pieces) {
    auto successor = registry.Find(piece.successor);
    std::string name = successor ? registry.name(*successor) : piece.successor.ToString();
    CatTo(text, first ? "" : "; ",
                    piece.towns.empty() ? std::string("all of it") : absl::StrJoin(piece.towns, "、"),
                    " -> ", name, " (", piece.successor.ToString().substr(0, 6), ")");
    first = false;
  }
  return text;
}

}  // namespace

int RunInit(const Context& context, uint64_t seed, double scale, bool rebuild, bool demo,
            const std::string& only_province) {
  auto config_dir = ResolveConfigDir(context);
  if (!config_dir.ok()) return Fail(context, Message(config_dir.status()));
  auto division_dir = DivisionDataDir();
  if (!division_dir.ok()) return Fail(context, Message(division_dir.status()));
  InitOptions options{.data_dir = context.data_dir, .config_dir = *config_dir,
                      .division_dir = *division_dir, .seed = seed, .scale = scale,
                      .rebuild = rebuild, .demo = demo, .only_province = only_province};
  auto result = InitDataDir(options);
  if (!result.ok()) return Fail(context, Message(result.status()));
  std::ostream& out = *context.out;
  const DivisionImportStats& d = result->divisions;
  out << fmt::format("initialised {} in {:.1f} s: {} units\n", context.data_dir.string(), result->seconds, result->units);
  out << fmt::format("  national registry: {} provinces, {} cities, {} districts, {} towns, {} villages/communities\n",
                     d.provinces, d.cities, d.districts, d.towns, d.communities);
  out << fmt::format("  management units: {} (administering {} units)\n", d.management_units, d.administered);
  if (demo) {
    const DemoStats& s = result->demo;
    out << fmt::format("  demo city (seed {}, scale {}): {} district-level units, {} towns, {} communities,\n"
                       "    {} grids, {} roads, {} compounds, {} buildings;\n"
                       "    {} residents, {} floating, {} households, {} enterprises, {} houses (synthetic)\n",
                       seed, scale, s.districts, s.towns, s.communities, s.grids, s.roads, s.compounds,
                       s.buildings, s.resident, s.floating, s.households, s.enterprises, s.houses);
  }
  // The geocoder's index, built now and kept beside the database, so that the first ingest,
  // geocode or server start reads it instead of building it. A cache: failing here is no error.
  const auto index_start = std::chrono::steady_clock::now();
  absl::Status indexed = [&]() -> absl::Status {
    PA_ASSIGN_OR_RETURN(Loaded loaded, Load(context));
    PA_ASSIGN_OR_RETURN(ProjectConfig config, LoadProjectConfig(*config_dir));
    std::vector<Alias> aliases;
    for (const AliasConfig& alias : config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
    const MatcherIndexFile file{loaded.data.store->matcher_index_path(), loaded.data.store->loaded_registry_generation()};
    MatcherOpened opened;
    PA_ASSIGN_OR_RETURN(auto matcher, Matcher::Open(loaded.registry, loaded.data.deployment.home_city, aliases, file, &opened));
    return opened.saved;
  }();
  const double index_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - index_start).count();
  if (indexed.ok()) {
    out << fmt::format("  geocoder index: ready in {:.1f} s\n", index_s);
  } else {
    out << fmt::format("  geocoder index: not kept ({}); the first geocoding run builds it\n", Message(indexed));
  }
  return 0;
}

int RunUnits(const Context& context, const std::string& code_text, bool json_output, int depth) {
  AddressCode code;
  if (!code_text.empty()) {
    auto parsed = AddressCode::ParsePrefix(code_text);
    if (!parsed.ok()) return Fail(context, Message(parsed.status()));
    code = *parsed;
  }
  auto loaded = Load(context);
  if (!loaded.ok()) return Fail(context, Message(loaded.status()));
  const Registry& registry = loaded->registry;
  auto place = registry.Resolve(code);
  if (!place.ok()) {
    std::string message(Message(place.status()));
    for (const HistoryChange* change : registry.history().ByCode(code.Truncate(6))) {
      if (change->abolished && code.Truncate(6) == code.Truncate(code.SignificantBoundary())) {
        message = Cat(code_text, " is not a current unit: ", FormerExplanation(registry, *change));
      }
    }
    return Fail(context, message);
  }
  std::ostream& out = *context.out;
  if (json_output) {
    out << PlaceJson(registry, *place, depth).dump() << "\n";
    return 0;
  }
  auto print_row = [&](const Place& row, int indent) {
    std::string name = registry.PlaceName(row);
    std::string line = fmt::format("{:<27}  {:<9}  {}{}", registry.PlaceCode(row).ToString(),
                                   LevelName(row.level), std::string(indent * 2, ' '), name);
    if (row.level <= Level::kGrid) {
      const UnitFigures& f = registry.figures(row.unit);
      if (f != UnitFigures{}) {
        line += fmt::format("   [常住 {} 流动 {} 企业 {} 房屋 {}]", f.resident, f.floating, f.enterprises, f.houses);
      }
      if (row.level < Level::kGrid && registry.parent(row.unit) != registry.stat_parent(row.unit)) {
        line += fmt::format("   (统计上属 {})", registry.name(registry.stat_parent(row.unit)));
      }
    }
    if (row.level == Level::kBuilding) {
      const BuildingInfo& b = registry.building(row.unit);
      line += fmt::format("   [{} 单元, {} 层, 每层 {} 户]", b.entrances, b.floors, +b.rooms_per_floor);
    }
    out << line << "\n";
  };
  std::function<void(const Place&, int, int)> walk = [&](const Place& at, int indent, int remaining) {
    print_row(at, indent);
    if (remaining == 0) return;
    std::vector<Place> kids = ChildrenOf(registry, at);
    for (const Place& kid : kids) walk(kid, indent + 1, remaining - 1);
  };
  walk(*place, 0, depth);
  std::vector<Place> kids = ChildrenOf(registry, *place);
  out << fmt::format("{} children\n", kids.size());
  return 0;
}

int RunUnitsGeoJson(const Context& context, const std::string& code_text) {
  auto parsed = AddressCode::ParsePrefix(code_text.empty() ? "3301" : code_text);
  if (!parsed.ok()) return Fail(context, Message(parsed.status()));
  auto loaded = Load(context);
  if (!loaded.ok()) return Fail(context, Message(loaded.status()));
  const Registry& registry = loaded->registry;
  auto place = registry.Resolve(*parsed);
  if (!place.ok()) return Fail(context, Message(place.status()));
  if (place->level >= Level::kBuilding) return Fail(context, "--geojson takes a unit above the buildings");
  json features = json::array();
  for (UnitId kid : registry.children(place->unit)) {
    json geometry;
    if (registry.level(kid) == Level::kBuilding) {
      const BuildingInfo& info = registry.building(kid);
      geometry = {{"type", "Point"}, {"coordinates", {info.lon, info.lat}}};
    } else if (std::string_view stored = registry.geometry(kid); !stored.empty()) {
      geometry = json::parse(stored, nullptr, false);
    } else if (!registry.box(kid).empty()) {
      geometry = json::parse(BoxToGeoJson(registry.box(kid)));
    }
    const UnitFigures& f = registry.figures(kid);
    features.push_back({{"type", "Feature"},
                        {"geometry", geometry},
                        {"properties", {{"code", registry.code(kid).ToString()}, {"name", registry.name(kid)},
                                        {"level", LevelName(registry.level(kid))}, {"resident", f.resident},
                                        {"floating", f.floating}, {"enterprises", f.enterprises},
                                        {"houses", f.houses}}}});
  }
  *context.out << json{{"type", "FeatureCollection"}, {"features", features}}.dump() << "\n";
  return 0;
}

int RunCode(const Context& context, const std::string& code_text, bool json_output) {
  auto code = AddressCode::Parse(code_text);
  if (!code.ok()) return Fail(context, Message(code.status()));
  auto loaded = Load(context);
  if (!loaded.ok()) return Fail(context, Message(loaded.status()));
  const Registry& registry = loaded->registry;
  auto place = registry.Resolve(*code);
  if (!place.ok()) {
    std::string message = Cat(code_text, ": ", Message(place.status()));
    for (const HistoryChange* change : registry.history().ByCode(code->Truncate(LevelDigits(Level::kDistrict)))) {
      if (change->abolished) message = Cat(code_text, " is not a current code: ", FormerExplanation(registry, *change));
    }
    return Fail(context, message);
  }
  // Path: statistical tree to the registered unit, then entrance and room.
  std::vector<Place> path;
  for (UnitId id : StatPath(registry, place->unit)) path.push_back(Place{.unit = id, .level = registry.level(id)});
  if (place->level >= Level::kUnit && place->entrance != 0) {
    path.push_back(Place{.unit = place->unit, .level = Level::kUnit, .entrance = place->entrance});
  }
  if (place->level == Level::kRoom) path.push_back(*place);
  std::optional<UnitId> governed_by;
  for (UnitId at = place->unit; at.valid() && at != registry.nation(); at = registry.parent(at)) {
    if (registry.parent(at) != registry.stat_parent(at)) governed_by = registry.parent(at);
  }
  std::ostream& out = *context.out;
  if (json_output) {
    json result{{"code", code_text}, {"level", LevelName(place->level)}, {"name", registry.PlaceName(*place)}};
    json items = json::array();
    for (const Place& step : path) {
      items.push_back({{"level", LevelName(step.level)}, {"code", registry.PlaceCode(step).ToString()},
                       {"name", registry.PlaceName(step)}});
    }
    result["path"] = std::move(items);
    if (governed_by) {
      result["governed_by"] = {{"code", registry.code(*governed_by).ToString()},
                               {"name", registry.name(*governed_by)},
                               {"level", LevelName(registry.level(*governed_by))}};
    }
    out << result.dump() << "\n";
    return 0;
  }
  out << code_text << "  " << LevelName(place->level) << "\n";
  for (const Place& step : path) {
    AddressCode step_code = registry.PlaceCode(step);
    out << fmt::format("  {:<9} {:<27}  {}\n", LevelName(step.level),
                       step_code.ToString().substr(0, LevelDigits(step.level)), registry.PlaceName(step));
  }
  if (governed_by) {
    out << fmt::format("  governed by {} ({})\n", registry.name(*governed_by),
                       Digits(registry.code(*governed_by), registry.level(*governed_by)));
  }
  return 0;
}

int RunInfo(const Context& context, bool json_output) {
  const auto start = std::chrono::steady_clock::now();
  auto loaded = Load(context);
  if (!loaded.ok()) return Fail(context, Message(loaded.status()));
  double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Registry& registry = loaded->registry;
  const Deployment& deployment = loaded->data.deployment;
  std::vector<size_t> nation = registry.CountByLevel(registry.nation());
  auto city = registry.Find(deployment.home_city);
  std::vector<size_t> in_city = city ? registry.CountByLevel(*city) : std::vector<size_t>(kLevelCount, 0);
  std::ostream& out = *context.out;
  if (json_output) {
    json result{{"data", context.data_dir.string()}, {"home_city", deployment.home_city.ToString()},
                {"time_zone", deployment.time_zone}, {"units", registry.size()}, {"load_seconds", load_seconds}};
    json levels = json::object();
    for (int level = 1; level <= static_cast<int>(Level::kBuilding); ++level) {
      levels[std::string(LevelName(static_cast<Level>(level)))] = {{"nation", nation[level]}, {"home_city", in_city[level]}};
    }
    result["levels"] = levels;
    if (city) {
      const UnitFigures& f = registry.figures(*city);
      result["home_city_figures"] = {{"resident", f.resident}, {"floating", f.floating}, {"enterprises", f.enterprises},
                                     {"houses", f.houses}, {"households", f.households}};
      result["home_city_name"] = registry.name(*city);
    }
    if (deployment.demo) result["demo"] = {{"seed", deployment.demo->seed}, {"scale", deployment.demo->scale}};
    out << result.dump() << "\n";
    return 0;
  }
  out << fmt::format("{}: {} units, loaded in {:.2f} s; home city {} ({}), time zone {}\n", context.data_dir.string(),
                     registry.size(), load_seconds, city ? registry.name(*city) : "?",
                     deployment.home_city.ToString().substr(0, 4), deployment.time_zone);
  out << fmt::format("  {:<10} {:>10} {:>10}\n", "level", "nation", "home city");
  for (int level = 1; level <= static_cast<int>(Level::kBuilding); ++level) {
    out << fmt::format("  {:<10} {:>10} {:>10}\n", LevelName(static_cast<Level>(level)), nation[level], in_city[level]);
  }
  if (city) {
    const UnitFigures& f = registry.figures(*city);
    out << fmt::format("  {}: {} residents, {} floating, {} households, {} enterprises, {} houses\n",
                       registry.name(*city), f.resident, f.floating, f.households, f.enterprises, f.houses);
  }
  if (deployment.demo) {
    out << fmt::format("  synthetic demo levels (grids, roads, compounds, buildings, polygons): seed {}, scale {}\n",
                       deployment.demo->seed, deployment.demo->scale);
  }
  return 0;
}

int RunHistory(const Context& context, bool json_output, const std::string& former,
               const std::string& town) {
  if (former.size() > 200 || town.size() > 200 || !IsValidUtf8(former) || !IsValidUtf8(town)) {
    return Fail(context, "--former and --town take a name or code of at most 200 bytes of UTF-8");
  }
  auto loaded = Load(context);
  if (!loaded.ok()) return Fail(context, Message(loaded.status()));
  const Registry& registry = loaded->registry;
  std::ostream& out = *context.out;
  if (!former.empty()) {
    std::vector<const HistoryChange*> changes;
    if (auto code = AddressCode::ParsePrefix(former); code.ok()) {
      changes = registry.history().ByCode(*code);
    } else {
      changes = registry.history().ByName(former);
    }
    if (changes.empty()) return Fail(context, Cat("no former unit ", Printable(former), " in the registry's history"));
    for (const HistoryChange* change : changes) {
      auto successor = registry.SuccessorOf(*change, town);
      if (!successor) return Fail(context, Cat("the successor of ", change->name, " is not in the registry"));
      std::vector<UnitId> path = StatPath(registry, successor->unit);
      std::string names;
      for (UnitId step : path) names += registry.name(step);
      if (json_output) {
        out << json{{"former", change->name}, {"former_code", change->code.ToString()}, {"date", change->date},
                    {"code", registry.code(successor->unit).ToString()}, {"name", registry.name(successor->unit)},
                    {"level", LevelName(registry.level(successor->unit))}, {"path", names},
                    {"exact", successor->exact}}.dump() << "\n";
      } else {
        out << fmt::format("{}{}{} -> {} {} ({}){}\n", change->name, town.empty() ? "" : " ", town,
                           registry.code(successor->unit).ToString().substr(0, LevelDigits(registry.level(successor->unit))),
                           names, LevelName(registry.level(successor->unit)),
                           successor->exact ? "" : "  [split: name the town to be exact]");
      }
    }
    return 0;
  }
  json list = json::array();
  for (const HistoryChange& change : registry.history().changes()) {
    if (!json_output) {
      out << FormerExplanation(registry, change) << (change.abolished ? "" : " (it still exists)") << "\n";
      continue;
    }
    json pieces = json::array();
    for (const HistoryPiece& piece : change.pieces) {
      pieces.push_back({{"towns", piece.towns}, {"successor", piece.successor.ToString()}});
    }
    list.push_back({{"date", change.date}, {"kind", ChangeKindName(change.kind)}, {"code", change.code.ToString()},
                    {"name", change.name}, {"level", LevelName(change.level)}, {"abolished", change.abolished},
                    {"pieces", pieces}});
  }
  if (json_output) out << list.dump() << "\n";
  return 0;
}

int RunImportUnits(const Context& context, const std::string& file, bool dry_run) {
  auto data = DataDir::Open(context.data_dir, SqliteStore::Mode::kReadWrite);
  if (!data.ok()) return Fail(context, Message(data.status()));
  auto result = ImportUnitsFile(file, *data, dry_run);
  if (!result.ok()) return Fail(context, Message(result.status()));
  *context.out << fmt::format("{}{}: {} rows; {} units added, {} replaced, {} synthetic units retired\n",
                              dry_run ? "dry run: " : "", file, result->rows, result->added,
                              result->replaced, result->retired);
  return 0;
}

}  // namespace pingan::cli
