#include "sim/division_import.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "core/strings.h"
#include "core/csv.h"
#include "core/status.h"
#include "core/text.h"

namespace pingan {
namespace {

struct LevelFile {
  const char* file;
  Level level;
  size_t code_digits;
  size_t parent_column;  // column of the parent's code (none for provinces)
};

constexpr LevelFile kFiles[] = {
    {"provinces.csv", Level::kProvince, 2, 0},
    {"cities.csv", Level::kCity, 4, 2},
    {"areas.csv", Level::kDistrict, 6, 2},
    {"streets.csv", Level::kTown, 9, 2},
    {"villages.csv", Level::kCommunity, 12, 2},
};

}  // namespace

absl::StatusOr<DivisionImportStats> ImportDivisions(const std::filesystem::path& division_dir,
                                                    const ProjectConfig& config,
                                                    RegistryBuilder& builder,
                                                    std::string_view only_province) {
  DivisionImportStats stats;
  // Codes as written in the files (2, 4, 6, 9, 12 digits) -> id; collapsed county entries map
  // to their city.
  absl::flat_hash_map<std::string, UnitId> by_text;
  by_text.reserve(700'000);
  // Units administered by a management unit: code -> the management unit's config index.
  absl::flat_hash_map<AddressCode, size_t> administered;
  for (size_t index = 0; index < config.management_units.size(); ++index) {
    for (const AddressCode& code : config.management_units[index].administers) {
      administered[code] = index;
    }
  }
  std::vector<UnitId> management_ids(config.management_units.size());

  auto add_management_units = [&](Level level) -> absl::Status {
    for (size_t index = 0; index < config.management_units.size(); ++index) {
      const ManagementUnitConfig& unit = config.management_units[index];
      if (unit.level != level) continue;
      std::optional<UnitId> parent = builder.Find(unit.parent);
      if (!parent) {
        // Outside the one imported province (tests): nothing to attach it to.
        if (!only_province.empty() && unit.parent.ToString().substr(0, 2) != only_province) continue;
        return absl::InvalidArgumentError(Cat(unit.source, ": key 'parent': no unit ",
                                                       unit.parent.ToString()));
      }
      if (LevelDigits(builder.record(*parent).level) >= LevelDigits(level) ||
          unit.code.Truncate(LevelDigits(builder.record(*parent).level)) != builder.record(*parent).code) {
        return absl::InvalidArgumentError(Cat(
            unit.source, ": key 'code': ", unit.code.ToString().substr(0, LevelDigits(level)),
            " is not a ", LevelName(level), " code under its parent ",
            builder.record(*parent).code.ToString().substr(0, LevelDigits(builder.record(*parent).level))));
      }
      if (builder.Find(unit.code)) {
        return absl::InvalidArgumentError(Cat(unit.source, ": key 'code': ",
                                                       unit.code.ToString().substr(0, LevelDigits(level)),
                                                       " is already a unit's code"));
      }
      management_ids[index] = builder.Add(UnitRecord{.code = unit.code,
                                                     .level = level,
                                                     .name = unit.name,
                                                     .parent = *parent,
                                                     .kind = UnitKind::kManagement});
      ++stats.management_units;
    }
    return absl::OkStatus();
  };

  for (const LevelFile& spec : kFiles) {
    if (spec.level == Level::kTown) PA_RETURN_IF_ERROR(add_management_units(Level::kDistrict));
    if (spec.level == Level::kCommunity) PA_RETURN_IF_ERROR(add_management_units(Level::kTown));
    std::string path = (division_dir / spec.file).string();
    std::string shown = spec.file;
    PA_RETURN_IF_ERROR(ReadCsvFile(path, [&](const CsvRow& row) -> absl::Status {
      if (row.number == 1) {
        if (row.fields.empty() || row.fields[0] != "code") {
          return absl::InvalidArgumentError(Cat(shown, ": record 1: expected a header starting with 'code'"));
        }
        return absl::OkStatus();
      }
      auto fail = [&](std::string_view what) {
        return absl::InvalidArgumentError(Cat(shown, ": record ", row.number, ": ", what));
      };
      if (row.fields.size() < (spec.level == Level::kProvince ? 2 : 3)) return fail("too few fields");
      std::string_view code_text = row.fields[0];
      std::string_view name = row.fields[1];
      if (code_text.size() != spec.code_digits) return fail(Cat("code '", Printable(code_text), "' should have ", spec.code_digits, " digits"));
      if (!only_province.empty() && code_text.substr(0, 2) != only_province) return absl::OkStatus();
      if (name.empty() || !IsValidUtf8(name)) return fail("empty or invalid name");
      auto code = AddressCode::ParsePrefix(code_text);
      if (!code.ok()) return fail(Message(code.status()));
      UnitId parent = builder.nation();
      if (spec.level != Level::kProvince) {
        auto it = by_text.find(std::string(row.fields[spec.parent_column]));
        if (it == by_text.end()) return fail(Cat("unknown parent ", Printable(row.fields[spec.parent_column])));
        parent = it->second;
      }
      // An entry whose code is its parent's padded with zeros (东莞 441900 under 4419; the
      // placeholder town 350527000 of 金门县) is the parent itself in the 27-digit scheme.
      if (builder.record(parent).code == *code) {
        by_text.emplace(std::string(code_text), parent);
        return absl::OkStatus();
      }
      UnitId stat_parent = parent;
      if (auto managed = administered.find(*code); managed != administered.end()) {
        UnitId manager = management_ids[managed->second];
        if (!manager.valid()) {
          return absl::InvalidArgumentError(Cat(config.management_units[managed->second].source,
                                                         ": key 'administers': ", code_text,
                                                         " is not below the management unit's level"));
        }
        parent = manager;
        ++stats.administered;
      }
      UnitId id = builder.Add(UnitRecord{.code = *code,
                                         .level = spec.level,
                                         .name = std::string(name),
                                         .parent = parent,
                                         .stat_parent = stat_parent});
      by_text.emplace(std::string(code_text), id);
      switch (spec.level) {
        case Level::kProvince: ++stats.provinces; break;
        case Level::kCity: ++stats.cities; break;
        case Level::kDistrict: ++stats.districts; break;
        case Level::kTown: ++stats.towns; break;
        default: ++stats.communities; break;
      }
      return absl::OkStatus();
    }));
  }
  for (const auto& [code, index] : administered) {
    if (!builder.Find(code) && only_province.empty()) {
      return absl::InvalidArgumentError(Cat(config.management_units[index].source,
                                                     ": key 'administers': no unit ", code.ToString()));
    }
  }
  return stats;
}

}  // namespace pingan
