#include "catalog/config.h"

#include "address/names.h"
#include "catalog/toml_util.h"
#include "core/strings.h"
#include "core/status.h"

namespace pingan {
namespace {

namespace tu = toml_util;
namespace fs = std::filesystem;

absl::StatusOr<toml::table> Open(const fs::path& dir, const std::string& name, std::string& shown) {
  fs::path path = dir / name;
  shown = (dir.filename().empty() ? dir.parent_path().filename() : dir.filename()).string() + "/" + name;
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::NotFoundError(Cat(path.string(), ": missing"));
  return tu::ParseFile(path.string(), shown);
}

absl::StatusOr<Level> LevelKey(std::string_view file, const toml::table& table, std::string_view key) {
  PA_ASSIGN_OR_RETURN(std::string text, tu::String(file, table, key));
  auto level = ParseLevel(text);
  if (!level || *level == Level::kNation) {
    return tu::Error(file, *table.get(key), key,
                     "must be one of province, city, district, town, community, grid, building");
  }
  return *level;
}

absl::Status LoadUnits(const fs::path& dir, ProjectConfig& config) {
  std::string file;
  PA_ASSIGN_OR_RETURN(toml::table root, Open(dir, "units.toml", file));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(file, root, {"management_unit"}));
  return tu::ForEachTable(file, root, "management_unit", [&](const toml::table& entry) -> absl::Status {
    const toml::table* table = &entry;
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *table, {"code", "name", "level", "parent", "administers"}));
    ManagementUnitConfig unit;
    unit.source = tu::Where(file, *table);
    PA_ASSIGN_OR_RETURN(unit.code, tu::Code(file, *table, "code"));
    PA_ASSIGN_OR_RETURN(unit.name, tu::String(file, *table, "name"));
    if (unit.name.empty()) return tu::Error(file, *table->get("name"), "name", "must not be empty");
    PA_ASSIGN_OR_RETURN(unit.level, LevelKey(file, *table, "level"));
    if (unit.level != Level::kDistrict && unit.level != Level::kTown) {
      return tu::Error(file, *table->get("level"), "level", "a management unit is a district or a town");
    }
    // Reserved ranges: district 9x under the city, town 9xx under the district.
    uint64_t own = unit.level == Level::kDistrict ? unit.code.Digits(4, 2) : unit.code.Digits(6, 3);
    if (unit.level == Level::kDistrict ? own < 90 : own < 900) {
      return tu::Error(file, *table->get("code"), "code",
                       "management units take codes from the reserved ranges (district 9x, town 9xx)");
    }
    PA_ASSIGN_OR_RETURN(unit.parent, tu::Code(file, *table, "parent"));
    PA_ASSIGN_OR_RETURN(std::vector<std::string> administers, tu::Strings(file, *table, "administers"));
    for (const std::string& text : administers) {
      auto code = AddressCode::ParsePrefix(text);
      if (!code.ok()) return tu::Error(file, *table->get("administers"), "administers", Message(code.status()));
      unit.administers.push_back(*code);
    }
    config.management_units.push_back(std::move(unit));
    return absl::OkStatus();
  });
}

absl::Status LoadHistory(const fs::path& dir, ProjectConfig& config) {
  std::string file;
  PA_ASSIGN_OR_RETURN(toml::table root, Open(dir, "history.toml", file));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(file, root, {"change"}));
  return tu::ForEachTable(file, root, "change", [&](const toml::table& entry) -> absl::Status {
    const toml::table* table = &entry;
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *table, {"date", "kind", "code", "name", "level", "abolished", "piece"}));
    HistoryChange change;
    change.source = tu::Where(file, *table);
    PA_ASSIGN_OR_RETURN(change.date, tu::String(file, *table, "date"));
    if (change.date.size() != 10 || change.date[4] != '-' || change.date[7] != '-') {
      return tu::Error(file, *table->get("date"), "date", "must be YYYY-MM-DD");
    }
    PA_ASSIGN_OR_RETURN(std::string kind, tu::String(file, *table, "kind"));
    if (kind == "renamed") change.kind = ChangeKind::kRenamed;
    else if (kind == "merged") change.kind = ChangeKind::kMerged;
    else if (kind == "split") change.kind = ChangeKind::kSplit;
    else if (kind == "transferred") change.kind = ChangeKind::kTransferred;
    else return tu::Error(file, *table->get("kind"), "kind", "must be renamed, merged, split or transferred");
    PA_ASSIGN_OR_RETURN(change.code, tu::Code(file, *table, "code"));
    PA_ASSIGN_OR_RETURN(change.name, tu::String(file, *table, "name"));
    PA_ASSIGN_OR_RETURN(change.level, LevelKey(file, *table, "level"));
    change.abolished = change.kind != ChangeKind::kTransferred;
    if (const toml::node* node = table->get("abolished")) {
      if (!node->is_boolean()) return tu::Error(file, *node, "abolished", "must be true or false");
      change.abolished = node->as_boolean()->get();
    }
    PA_RETURN_IF_ERROR(tu::ForEachTable(file, *table, "piece", [&](const toml::table& piece_entry) -> absl::Status {
      const toml::table* piece_table = &piece_entry;
      PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *piece_table, {"successor", "towns"}));
      HistoryPiece piece;
      PA_ASSIGN_OR_RETURN(piece.successor, tu::Code(file, *piece_table, "successor"));
      PA_ASSIGN_OR_RETURN(std::vector<std::string> towns, tu::Strings(file, *piece_table, "towns"));
      for (const std::string& town : towns) piece.towns.push_back(ShortName(town, Level::kTown));
      change.pieces.push_back(std::move(piece));
      return absl::OkStatus();
    }));
    if (change.pieces.empty()) {
      return absl::InvalidArgumentError(Cat(change.source, ": key 'piece': a change needs at least one [[change.piece]]"));
    }
    config.history.push_back(std::move(change));
    return absl::OkStatus();
  });
}

absl::Status LoadDemo(const fs::path& dir, ProjectConfig& config) {
  std::string file;
  PA_ASSIGN_OR_RETURN(toml::table root, Open(dir, "demo.toml", file));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(file, root, {"city", "names", "district"}));
  DemoConfig& demo = config.demo;
  demo.source = file;
  const toml::table* city = root["city"].as_table();
  if (city == nullptr) return absl::InvalidArgumentError(Cat(file, ":1: key 'city': table [city] is missing"));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *city, {"code", "min_lon", "min_lat", "max_lon", "max_lat",
                                                "households_per_grid", "persons_per_household"}));
  PA_ASSIGN_OR_RETURN(demo.home_city, tu::Code(file, *city, "code"));
  PA_ASSIGN_OR_RETURN(demo.box.min_lon, tu::Number<double>(file, *city, "min_lon", 0, -180, 180));
  PA_ASSIGN_OR_RETURN(demo.box.min_lat, tu::Number<double>(file, *city, "min_lat", 0, -90, 90));
  PA_ASSIGN_OR_RETURN(demo.box.max_lon, tu::Number<double>(file, *city, "max_lon", 0, -180, 180));
  PA_ASSIGN_OR_RETURN(demo.box.max_lat, tu::Number<double>(file, *city, "max_lat", 0, -90, 90));
  if (demo.box.empty()) return tu::Error(file, *city, "max_lon", "the city's box is empty (max must exceed min)");
  PA_ASSIGN_OR_RETURN(demo.households_per_grid, tu::Number<int>(file, *city, "households_per_grid", 400, 50, 5000));
  PA_ASSIGN_OR_RETURN(demo.persons_per_household, tu::Number<double>(file, *city, "persons_per_household", 2.6, 1, 10));

  const toml::table* names = root["names"].as_table();
  if (names == nullptr) return absl::InvalidArgumentError(Cat(file, ":1: key 'names': table [names] is missing"));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *names, {"road_heads", "road_tails", "compound_heads", "compound_tails"}));
  PA_ASSIGN_OR_RETURN(demo.road_heads, tu::Strings(file, *names, "road_heads"));
  PA_ASSIGN_OR_RETURN(demo.road_tails, tu::Strings(file, *names, "road_tails"));
  PA_ASSIGN_OR_RETURN(demo.compound_heads, tu::Strings(file, *names, "compound_heads"));
  PA_ASSIGN_OR_RETURN(demo.compound_tails, tu::Strings(file, *names, "compound_tails"));
  for (const auto* list : {&demo.road_heads, &demo.road_tails, &demo.compound_heads, &demo.compound_tails}) {
    if (list->size() < 2) return tu::Error(file, *names, "names", "each name list needs at least two entries");
  }

  if (const toml::node* districts = root.get("district")) {
    const toml::table* table = districts->as_table();
    if (table == nullptr) return tu::Error(file, *districts, "district", "must be a table of [district.CODE]");
    for (const auto& [key, value] : *table) {
      auto code = AddressCode::ParsePrefix(key.str());
      if (!code.ok()) return tu::Error(file, value, key.str(), Message(code.status()));
      const toml::table* entry = value.as_table();
      if (entry == nullptr) return tu::Error(file, value, key.str(), "must be a table");
      PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *entry, {"resident", "floating_ratio", "enterprise_per_1k", "urban"}));
      DemoDistrictConfig district;
      PA_ASSIGN_OR_RETURN(district.resident, tu::Number<int64_t>(file, *entry, "resident", 0, 0, 100'000'000));
      PA_ASSIGN_OR_RETURN(district.floating_ratio, tu::Number<double>(file, *entry, "floating_ratio", 0.3, 0, 5));
      PA_ASSIGN_OR_RETURN(district.enterprise_per_1k, tu::Number<double>(file, *entry, "enterprise_per_1k", 40, 0, 1000));
      PA_ASSIGN_OR_RETURN(district.urban, tu::Number<double>(file, *entry, "urban", 0.5, 0, 1));
      demo.districts[*code] = district;
    }
  }
  return absl::OkStatus();
}

absl::Status LoadAliases(const fs::path& dir, ProjectConfig& config) {
  std::error_code ec;
  if (!fs::exists(dir / "aliases.toml", ec)) return absl::OkStatus();
  std::string file;
  PA_ASSIGN_OR_RETURN(toml::table root, Open(dir, "aliases.toml", file));
  PA_RETURN_IF_ERROR(tu::OnlyKeys(file, root, {"alias"}));
  return tu::ForEachTable(file, root, "alias", [&](const toml::table& entry) -> absl::Status {
    const toml::table* table = &entry;
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *table, {"name", "unit"}));
    AliasConfig alias;
    alias.source = tu::Where(file, *table);
    PA_ASSIGN_OR_RETURN(alias.name, tu::String(file, *table, "name"));
    if (Utf8Length(alias.name) < 2 || alias.name.size() > 64) {
      return tu::Error(file, *table->get("name"), "name", "must be 2 characters to 64 bytes");
    }
    PA_ASSIGN_OR_RETURN(alias.unit, tu::Code(file, *table, "unit"));
    config.aliases.push_back(std::move(alias));
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<ProjectConfig> LoadProjectConfig(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(Cat("config directory ", dir.string(), " does not exist"));
  }
  ProjectConfig config;
  config.dir = dir;
  PA_RETURN_IF_ERROR(LoadUnits(dir, config));
  PA_RETURN_IF_ERROR(LoadHistory(dir, config));
  PA_RETURN_IF_ERROR(LoadDemo(dir, config));
  PA_RETURN_IF_ERROR(LoadAliases(dir, config));
  return config;
}

}  // namespace pingan
