// `pingan catalog [--config DIR] [--json]`: the event catalog (config/catalog/*.toml) as a
// grouped text listing or as one JSON document (docs/catalog.md). Needs no data directory.
#include <ostream>

#include <fmt/format.h>

#include "absl/strings/str_join.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "core/paths.h"
#include "core/status.h"
#include "core/strings.h"

namespace pingan::cli {
namespace {

std::string Definition(const MeasureDef& def) {
  std::string text = Cat(MeasureText(def.measure), " of ", absl::StrJoin(def.types, ", "));
  if (!def.where.empty()) {
    std::vector<std::string> conditions;
    for (const Condition& condition : def.where) conditions.push_back(ConditionText(condition));
    CatTo(text, " where ", absl::StrJoin(conditions, " and "));
  }
  return text;
}

void PrintMeasure(std::ostream& out, const MeasureDef& def) {
  out << fmt::format("    {:<26} {}{}  {} ({}, {})\n", def.id, def.zh, def.higher_is_better ? " ↑" : "",
                     Definition(def), def.unit_zh, def.unit_en);
}

void PrintText(std::ostream& out, const Catalog& catalog) {
  out << fmt::format("来源系统 sources ({})\n", catalog.sources.size());
  for (const SourceDef& source : catalog.sources) {
    std::string read_as = source.mapping ? "mapped fields" : "canonical fields";
    if (source.mapping && !source.mapping->encoding.empty()) read_as += "; files in " + source.mapping->encoding;
    if (source.mapping && source.mapping->coordinates != Datum::kWgs84) {
      read_as += fmt::format("; points in {}", DatumName(source.mapping->coordinates));
    }
    out << fmt::format("  {:<10} {}  {}; domains: {}; {}\n", source.id, source.zh, source.en,
                       source.domains.empty() ? "-" : absl::StrJoin(source.domains, ", "), read_as);
  }
  out << fmt::format("\n事件类型 event types ({}), by source\n", catalog.types.size());
  for (const SourceDef& source : catalog.sources) {
    out << fmt::format("  {} {}\n", source.id, source.zh);
    for (const EventTypeDef& type : catalog.types) {
      if (type.source != source.id) continue;
      out << fmt::format("    {:<26} {}  domain: {}; attributes: {}\n", type.id, type.zh,
                         type.domain.empty() ? "-" : type.domain,
                         type.attributes.empty() ? "-" : absl::StrJoin(type.attributes, ", "));
    }
  }
  out << fmt::format("\n属性 attributes ({})\n", catalog.attributes.size());
  for (const AttributeDef& attribute : catalog.attributes) {
    out << fmt::format("  {:<16} {:<7} {}{}\n", attribute.name, AttrKindName(attribute.kind), attribute.zh,
                       attribute.personal ? "  (personal)" : "");
  }
  out << fmt::format("\n指标 indicators ({}), by domain\n", catalog.indicators.size());
  for (const DomainDef& domain : catalog.domains) {
    out << fmt::format("  {} {}  {}\n", domain.id, domain.zh, domain.en);
    for (const MeasureDef& def : catalog.indicators) {
      if (def.domain == domain.id) PrintMeasure(out, def);
    }
  }
  out << fmt::format("\n重点事件类型 key types ({})\n", catalog.key_types.size());
  for (const MeasureDef& def : catalog.key_types) PrintMeasure(out, def);
}

}  // namespace

absl::StatusOr<std::filesystem::path> ResolveConfigDir(const Context& context) {
  if (!context.config_dir.empty()) return std::filesystem::path(context.config_dir);
  PA_ASSIGN_OR_RETURN(std::filesystem::path root, ResourceRoot());
  return root / "config";
}

int RunCatalog(const Context& context, bool json) {
  auto config_dir = ResolveConfigDir(context);
  if (!config_dir.ok()) return Fail(context, Message(config_dir.status()));
  auto catalog = LoadCatalog(*config_dir);
  if (!catalog.ok()) return Fail(context, Message(catalog.status()));
  if (json) {
    *context.out << CatalogJson(*catalog) << "\n";
  } else {
    PrintText(*context.out, *catalog);
  }
  return 0;
}

}  // namespace pingan::cli
