#include "catalog/catalog.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "catalog/event.h"
#include "catalog/toml_util.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/transcode.h"

namespace pingan {
namespace {

namespace tu = toml_util;
namespace fs = std::filesystem;

constexpr std::array<std::string_view, 8> kCanonicalFields = {
    "source_id", "type", "occurred_at", "address", "lon", "lat", "code", "status"};

struct OpName {
  std::string_view text;
  Condition::Op op;
};
// Two-character operators first, so that ">=" is not read as ">".
constexpr std::array<OpName, 6> kOps = {{{">=", Condition::Op::kGe},
                                         {"<=", Condition::Op::kLe},
                                         {"==", Condition::Op::kEq},
                                         {"!=", Condition::Op::kNe},
                                         {">", Condition::Op::kGt},
                                         {"<", Condition::Op::kLt}}};

// One catalog file, parsed, with the name errors show ("config/catalog/types.toml").
struct File {
  std::string shown;
  toml::table root;
};

absl::StatusOr<File> Open(const fs::path& config_dir, std::string_view name) {
  const fs::path path = config_dir / "catalog" / name;
  const fs::path base = config_dir.filename().empty() ? config_dir.parent_path() : config_dir;
  File file;
  file.shown = Cat(base.filename().string(), "/catalog/", name);
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::NotFoundError(Cat(path.string(), ": missing"));
  PA_ASSIGN_OR_RETURN(file.root, tu::ParseFile(path.string(), file.shown));
  return file;
}

// `[a-z][a-z0-9_]*`: one segment of an id.
bool IsSegment(std::string_view text) {
  if (text.empty() || text[0] < 'a' || text[0] > 'z') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// `[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*`
bool IsId(std::string_view text) {
  while (true) {
    const size_t dot = text.find('.');
    if (!IsSegment(text.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    text.remove_prefix(dot + 1);
  }
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

absl::StatusOr<std::string> Id(std::string_view file, const toml::table& table, std::string_view key) {
  PA_ASSIGN_OR_RETURN(std::string id, tu::String(file, table, key));
  if (!IsId(id)) {
    return tu::Error(file, *table.get(key), key,
                     Cat("'", id, "' is not an id (lower-case words of a-z, 0-9, _ joined by dots)"));
  }
  return id;
}

absl::StatusOr<std::string> Label(std::string_view file, const toml::table& table, std::string_view key) {
  PA_ASSIGN_OR_RETURN(std::string label, tu::String(file, table, key));
  if (label.empty()) return tu::Error(file, *table.get(key), key, "must not be empty");
  return label;
}

absl::StatusOr<bool> Bool(std::string_view file, const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return false;
  if (!node->is_boolean()) return tu::Error(file, *node, key, "must be true or false");
  return node->as_boolean()->get();
}

// Reads id, zh and en, and rejects an id already in `index` (duplicates within one list).
template <typename Def>
absl::Status Names(std::string_view file, const toml::table& table, std::string_view id_key,
                   const absl::flat_hash_map<std::string, uint16_t>& index, Def& def) {
  PA_ASSIGN_OR_RETURN(def.id, Id(file, table, id_key));
  if (index.contains(def.id)) {
    return tu::Error(file, *table.get(id_key), id_key, Cat("duplicate id '", def.id, "'"));
  }
  PA_ASSIGN_OR_RETURN(def.zh, Label(file, table, "zh"));
  PA_ASSIGN_OR_RETURN(def.en, Label(file, table, "en"));
  return absl::OkStatus();
}

// Calls `visit(key, value_node, value)` for each entry of the string table `table[key]`.
template <typename Visit>
absl::Status ForEachString(std::string_view file, const toml::table& table, std::string_view key,
                           Visit visit) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return absl::OkStatus();
  const toml::table* map = node->as_table();
  if (map == nullptr) return tu::Error(file, *node, key, "must be a table of strings");
  for (const auto& [name, value] : *map) {
    PA_ASSIGN_OR_RETURN(std::string text, tu::String(file, *map, name.str()));
    if (text.empty()) return tu::Error(file, value, name.str(), "must not be empty");
    PA_RETURN_IF_ERROR(visit(std::string(name.str()), value, std::move(text)));
  }
  return absl::OkStatus();
}

class Loader {
 public:
  explicit Loader(Catalog& catalog) : catalog_(catalog) {}

  absl::Status Domains(const File& file) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, file.root, {"domain"}));
    return tu::ForEachTable(file.shown, file.root, "domain", [&](const toml::table& table) -> absl::Status {
      PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, table, {"id", "zh", "en"}));
      DomainDef domain;
      PA_RETURN_IF_ERROR(Names(file.shown, table, "id", domain_index_, domain));
      domain_index_[domain.id] = static_cast<uint16_t>(catalog_.domains.size());
      catalog_.domains.push_back(std::move(domain));
      return absl::OkStatus();
    });
  }

  // The sources without their mappings, which name types (Mappings, after Types).
  absl::Status Sources(const File& file) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, file.root, {"source"}));
    return tu::ForEachTable(file.shown, file.root, "source", [&](const toml::table& table) -> absl::Status {
      PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, table, {"id", "zh", "en", "domains", "mapping"}));
      SourceDef source;
      PA_RETURN_IF_ERROR(Names(file.shown, table, "id", catalog_.source_index, source));
      PA_ASSIGN_OR_RETURN(source.domains, tu::Strings(file.shown, table, "domains"));
      if (table.get("domains") == nullptr) return MissingKey(file.shown, table, "domains");
      for (const std::string& domain : source.domains) {
        if (!domain_index_.contains(domain)) {
          return tu::Error(file.shown, *table.get("domains"), "domains", Cat("unknown domain '", domain, "'"));
        }
      }
      catalog_.source_index[source.id] = static_cast<uint16_t>(catalog_.sources.size());
      catalog_.sources.push_back(std::move(source));
      mapping_tables_.push_back(table.get("mapping"));
      return absl::OkStatus();
    });
  }

  absl::Status Types(const File& file) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, file.root, {"attribute", "type"}));
    PA_RETURN_IF_ERROR(tu::ForEachTable(file.shown, file.root, "attribute", [&](const toml::table& table) {
      return Attribute(file.shown, table);
    }));
    return tu::ForEachTable(file.shown, file.root, "type", [&](const toml::table& table) -> absl::Status {
      PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, table, {"id", "zh", "en", "source", "domain", "attributes"}));
      EventTypeDef type;
      PA_RETURN_IF_ERROR(Names(file.shown, table, "id", catalog_.type_index, type));
      PA_ASSIGN_OR_RETURN(type.source, tu::String(file.shown, table, "source"));
      const SourceDef* source = catalog_.FindSource(type.source);
      if (source == nullptr) {
        return tu::Error(file.shown, *table.get("source"), "source", Cat("unknown source '", type.source, "'"));
      }
      if (const toml::node* node = table.get("domain")) {
        PA_ASSIGN_OR_RETURN(type.domain, tu::String(file.shown, table, "domain"));
        if (!domain_index_.contains(type.domain)) {
          return tu::Error(file.shown, *node, "domain", Cat("unknown domain '", type.domain, "'"));
        }
        if (std::find(source->domains.begin(), source->domains.end(), type.domain) == source->domains.end()) {
          return tu::Error(file.shown, *node, "domain",
                           Cat("'", type.domain, "' is not among the domains of source '", source->id, "'"));
        }
      }
      PA_ASSIGN_OR_RETURN(type.attributes, tu::Strings(file.shown, table, "attributes"));
      for (const std::string& name : type.attributes) {
        if (catalog_.FindAttribute(name) == nullptr) {
          return tu::Error(file.shown, *table.get("attributes"), "attributes", Cat("unknown attribute '", name, "'"));
        }
      }
      if (catalog_.types.size() >= UINT16_MAX) return tu::Error(file.shown, table, "id", "too many types");
      catalog_.type_index[type.id] = static_cast<uint16_t>(catalog_.types.size());
      catalog_.types.push_back(std::move(type));
      return absl::OkStatus();
    });
  }

  absl::Status Mappings(const File& file) {
    for (size_t source_idx = 0; source_idx < catalog_.sources.size(); ++source_idx) {
      const toml::node* node = mapping_tables_[source_idx];
      if (node == nullptr) continue;
      const toml::table* table = node->as_table();
      if (table == nullptr) return tu::Error(file.shown, *node, "mapping", "must be a table [source.mapping]");
      PA_ASSIGN_OR_RETURN(catalog_.sources[source_idx].mapping, Mapping(file.shown, *table));
    }
    return absl::OkStatus();
  }

  // [[major]]: rules marking events major (a filter, no measure).
  absl::Status MajorRules(const File& file) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, file.root, {"major"}));
    return tu::ForEachTable(file.shown, file.root, "major", [&](const toml::table& table) -> absl::Status {
      PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, table, {"id", "zh", "en", "types", "where"}));
      MeasureDef def;
      def.where_defined = tu::Where(file.shown, table);
      PA_RETURN_IF_ERROR(Names(file.shown, table, "id", catalog_.major_index, def));
      PA_RETURN_IF_ERROR(TypePatterns(file.shown, table, def));
      PA_RETURN_IF_ERROR(Where(file.shown, table, def));
      catalog_.major_index[def.id] = static_cast<uint16_t>(catalog_.major_rules.size());
      catalog_.major_rules.push_back(std::move(def));
      return absl::OkStatus();
    });
  }

  // [[indicator]] (with a domain) or [[key_type]] (without).
  absl::Status Measures(const File& file, std::string_view key, bool indicators) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, file.root, {key}));
    std::vector<MeasureDef>& defs = indicators ? catalog_.indicators : catalog_.key_types;
    auto& index = indicators ? catalog_.indicator_index : catalog_.key_type_index;
    return tu::ForEachTable(file.shown, file.root, key, [&](const toml::table& table) -> absl::Status {
      if (indicators) {
        PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, table, {"id", "zh", "en", "domain", "types", "where",
                                                            "measure", "higher_is_better", "unit"}));
      } else {
        PA_RETURN_IF_ERROR(tu::OnlyKeys(file.shown, table, {"id", "zh", "en", "types", "where", "measure",
                                                            "higher_is_better", "unit"}));
      }
      MeasureDef def;
      def.where_defined = tu::Where(file.shown, table);
      PA_RETURN_IF_ERROR(Names(file.shown, table, "id", index, def));
      if (indicators) {
        PA_ASSIGN_OR_RETURN(def.domain, tu::String(file.shown, table, "domain"));
        if (!domain_index_.contains(def.domain)) {
          return tu::Error(file.shown, *table.get("domain"), "domain", Cat("unknown domain '", def.domain, "'"));
        }
      }
      PA_RETURN_IF_ERROR(TypePatterns(file.shown, table, def));
      PA_RETURN_IF_ERROR(Where(file.shown, table, def));
      PA_RETURN_IF_ERROR(MeasureKey(file.shown, table, def));
      PA_ASSIGN_OR_RETURN(def.higher_is_better, Bool(file.shown, table, "higher_is_better"));
      PA_RETURN_IF_ERROR(Unit(file.shown, table, def));
      index[def.id] = static_cast<uint16_t>(defs.size());
      defs.push_back(std::move(def));
      return absl::OkStatus();
    });
  }

 private:
  static absl::Status MissingKey(std::string_view file, const toml::table& table, std::string_view key) {
    return absl::InvalidArgumentError(Cat(file, ":", table.source().begin.line, ": key '", key, "' is missing"));
  }

  absl::Status Attribute(std::string_view file, const toml::table& table) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file, table, {"name", "kind", "zh", "en", "personal", "max_bytes"}));
    AttributeDef attribute;
    PA_ASSIGN_OR_RETURN(attribute.name, tu::String(file, table, "name"));
    if (!IsSegment(attribute.name)) {
      return tu::Error(file, *table.get("name"), "name",
                       Cat("'", attribute.name, "' is not an attribute name (a-z, 0-9, _)"));
    }
    if (catalog_.attribute_index.contains(attribute.name)) {
      return tu::Error(file, *table.get("name"), "name", Cat("duplicate attribute '", attribute.name, "'"));
    }
    PA_ASSIGN_OR_RETURN(std::string kind, tu::String(file, table, "kind"));
    if (kind == "bool") attribute.kind = AttrKind::kBool;
    else if (kind == "int") attribute.kind = AttrKind::kInt;
    else if (kind == "number") attribute.kind = AttrKind::kNumber;
    else if (kind == "text") attribute.kind = AttrKind::kText;
    else return tu::Error(file, *table.get("kind"), "kind", "must be bool, int, number or text");
    PA_ASSIGN_OR_RETURN(attribute.zh, Label(file, table, "zh"));
    PA_ASSIGN_OR_RETURN(attribute.en, Label(file, table, "en"));
    PA_ASSIGN_OR_RETURN(attribute.personal, Bool(file, table, "personal"));
    PA_ASSIGN_OR_RETURN(attribute.max_bytes,
                        tu::Number<uint32_t>(file, table, "max_bytes", 4096, 1, 1 << 20));
    catalog_.attribute_index[attribute.name] = static_cast<uint16_t>(catalog_.attributes.size());
    catalog_.attributes.push_back(std::move(attribute));
    return absl::OkStatus();
  }

  absl::StatusOr<SourceMapping> Mapping(std::string_view file, const toml::table& table) {
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file, table, {"fields", "types", "statuses", "attributes", "true_values",
                                                  "time_format", "default_type", "encoding", "coordinates"}));
    SourceMapping mapping;
    mapping.where = tu::Where(file, table);
    PA_RETURN_IF_ERROR(ForEachString(file, table, "fields", [&](std::string canonical, const toml::node& node,
                                                                std::string field) -> absl::Status {
      if (std::find(kCanonicalFields.begin(), kCanonicalFields.end(), canonical) == kCanonicalFields.end()) {
        return tu::Error(file, node, canonical,
                         "not a canonical field (source_id, type, occurred_at, address, lon, lat, code, status)");
      }
      mapping.fields[canonical] = std::move(field);
      return absl::OkStatus();
    }));
    PA_RETURN_IF_ERROR(ForEachString(file, table, "types", [&](std::string code, const toml::node& node,
                                                               std::string type) -> absl::Status {
      if (!catalog_.type_index.contains(type)) return tu::Error(file, node, code, Cat("unknown event type '", type, "'"));
      mapping.types[code] = std::move(type);
      return absl::OkStatus();
    }));
    PA_RETURN_IF_ERROR(ForEachString(file, table, "statuses", [&](std::string value, const toml::node& node,
                                                                  std::string status) -> absl::Status {
      if (status != "active" && status != "withdrawn") {
        return tu::Error(file, node, value, Cat("status '", status, "' must be active or withdrawn"));
      }
      mapping.statuses[value] = std::move(status);
      return absl::OkStatus();
    }));
    PA_RETURN_IF_ERROR(ForEachString(file, table, "attributes", [&](std::string field, const toml::node& node,
                                                                    std::string name) -> absl::Status {
      if (catalog_.FindAttribute(name) == nullptr) return tu::Error(file, node, field, Cat("unknown attribute '", name, "'"));
      mapping.attributes[field] = std::move(name);
      return absl::OkStatus();
    }));
    PA_ASSIGN_OR_RETURN(mapping.true_values, tu::Strings(file, table, "true_values"));
    PA_ASSIGN_OR_RETURN(mapping.time_format, tu::String(file, table, "time_format", /*required=*/false));
    if (!mapping.time_format.empty() && mapping.time_format != SourceMapping::kEpochMillis && !IsTimeFormat(mapping.time_format)) {
      return tu::Error(file, *table.get("time_format"), "time_format",
                       Cat("'", mapping.time_format, "' is not a time format (absl::ParseTime: %Y, %m, %d, ...)"));
    }
    PA_ASSIGN_OR_RETURN(mapping.default_type, tu::String(file, table, "default_type", /*required=*/false));
    if (table.get("default_type") != nullptr && !catalog_.type_index.contains(mapping.default_type)) {
      return tu::Error(file, *table.get("default_type"), "default_type",
                       Cat("unknown event type '", mapping.default_type, "'"));
    }
    PA_ASSIGN_OR_RETURN(mapping.encoding, tu::String(file, table, "encoding", /*required=*/false));
    if (!Transcoder::IsUtf8(mapping.encoding)) {
      if (absl::Status known = Transcoder::Open(mapping.encoding).status(); !known.ok()) {
        return tu::Error(file, *table.get("encoding"), "encoding", Message(known));
      }
    }
    PA_ASSIGN_OR_RETURN(const std::string coordinates, tu::String(file, table, "coordinates", /*required=*/false));
    if (!coordinates.empty()) {
      const std::optional<Datum> datum = ParseDatum(coordinates);
      if (!datum) {
        return tu::Error(file, *table.get("coordinates"), "coordinates",
                         Cat("unknown coordinate system '", coordinates.substr(0, 40),
                             "' (expected WGS-84, CGCS2000, GCJ-02 or BD-09)"));
      }
      mapping.coordinates = *datum;
    }
    return mapping;
  }

  // A format absl::ParseTime can use: it has a conversion, and every '%' is followed by one.
  static bool IsTimeFormat(std::string_view format) {
    bool any = false;
    for (size_t at = format.find('%'); at != std::string_view::npos; at = format.find('%', at + 2)) {
      if (at + 1 >= format.size()) return false;
      any = true;
    }
    return any;
  }

  absl::Status TypePatterns(std::string_view file, const toml::table& table, MeasureDef& def) {
    const toml::node* node = table.get("types");
    if (node == nullptr) return MissingKey(file, table, "types");
    PA_ASSIGN_OR_RETURN(def.types, tu::Strings(file, table, "types"));
    if (def.types.empty()) return tu::Error(file, *node, "types", "needs at least one type pattern");
    for (size_t pattern_idx = 0; pattern_idx < def.types.size(); ++pattern_idx) {
      const std::string& pattern = def.types[pattern_idx];
      const toml::node& item = *node->as_array()->get(pattern_idx);
      const bool wildcard = pattern.size() > 2 && pattern.ends_with(".*");
      const std::string_view prefix = wildcard ? std::string_view(pattern).substr(0, pattern.size() - 1) : "";
      if (!IsId(wildcard ? prefix.substr(0, prefix.size() - 1) : std::string_view(pattern))) {
        return tu::Error(file, item, "types", Cat("'", pattern, "' is not a type pattern (an id, or prefix.*)"));
      }
      const size_t before = def.type_indexes.size();
      for (size_t type_idx = 0; type_idx < catalog_.types.size(); ++type_idx) {
        const std::string& id = catalog_.types[type_idx].id;
        if (wildcard ? id.starts_with(prefix) : id == pattern) def.type_indexes.push_back(static_cast<uint16_t>(type_idx));
      }
      if (def.type_indexes.size() == before) {
        return tu::Error(file, item, "types", Cat("'", pattern, "' matches no event type"));
      }
    }
    std::sort(def.type_indexes.begin(), def.type_indexes.end());
    def.type_indexes.erase(std::unique(def.type_indexes.begin(), def.type_indexes.end()), def.type_indexes.end());
    return absl::OkStatus();
  }

  // The attribute `name` for a condition or a sum: declared, numeric, and declared by every
  // type the definition matches (else it could never hold or add anything for some of them).
  absl::StatusOr<uint16_t> NumericAttribute(std::string_view file, const toml::node& node, std::string_view key,
                                            const MeasureDef& def, const std::string& name, bool allow_bool) {
    auto found = catalog_.attribute_index.find(name);
    if (found == catalog_.attribute_index.end()) {
      return tu::Error(file, node, key, Cat("unknown attribute '", name, "'"));
    }
    const AttrKind kind = catalog_.attributes[found->second].kind;
    if (kind == AttrKind::kText || (kind == AttrKind::kBool && !allow_bool)) {
      return tu::Error(file, node, key,
                       Cat("attribute '", name, "' is ", AttrKindName(kind), "; ",
                           allow_bool ? "conditions need bool, int or number" : "sums need int or number"));
    }
    for (uint16_t type_idx : def.type_indexes) {
      const EventTypeDef& type = catalog_.types[type_idx];
      if (std::find(type.attributes.begin(), type.attributes.end(), name) == type.attributes.end()) {
        return tu::Error(file, node, key, Cat("attribute '", name, "' is not declared by type ", type.id));
      }
    }
    return found->second;
  }

  absl::Status Where(std::string_view file, const toml::table& table, MeasureDef& def) {
    PA_ASSIGN_OR_RETURN(std::vector<std::string> texts, tu::Strings(file, table, "where"));
    for (size_t condition_idx = 0; condition_idx < texts.size(); ++condition_idx) {
      const toml::node& item = *table.get("where")->as_array()->get(condition_idx);
      const std::string_view text = Trim(texts[condition_idx]);
      Condition condition;
      std::string_view name = text;
      for (const OpName& op : kOps) {
        const size_t at = text.find(op.text);
        if (at == std::string_view::npos) continue;
        name = Trim(text.substr(0, at));
        const std::string value(Trim(text.substr(at + op.text.size())));
        condition.op = op.op;
        if (!absl::SimpleAtod(value, &condition.value) || !std::isfinite(condition.value)) name = "";
        break;
      }
      if (!IsSegment(name)) {
        return tu::Error(file, item, "where",
                         Cat("'", texts[condition_idx], "' is not a condition (ATTR, or ATTR OP NUMBER with OP ",
                             "one of == != >= > <= <)"));
      }
      condition.attribute = std::string(name);
      PA_ASSIGN_OR_RETURN(condition.attribute_index,
                          NumericAttribute(file, item, "where", def, condition.attribute, /*allow_bool=*/true));
      def.where.push_back(std::move(condition));
    }
    return absl::OkStatus();
  }

  absl::Status MeasureKey(std::string_view file, const toml::table& table, MeasureDef& def) {
    PA_ASSIGN_OR_RETURN(std::string text, tu::String(file, table, "measure"));
    const toml::node& node = *table.get("measure");
    if (text == "count") {
      def.measure.kind = Measure::Kind::kCount;
      return absl::OkStatus();
    }
    if (!text.starts_with("sum:")) {
      return tu::Error(file, node, "measure", Cat("'", text, "' is not a measure (count, or sum:ATTR)"));
    }
    def.measure.kind = Measure::Kind::kSum;
    def.measure.attribute = text.substr(4);
    PA_ASSIGN_OR_RETURN(def.measure.attribute_index,
                        NumericAttribute(file, node, "measure", def, def.measure.attribute, /*allow_bool=*/false));
    return absl::OkStatus();
  }

  absl::Status Unit(std::string_view file, const toml::table& table, MeasureDef& def) {
    const toml::node* node = table.get("unit");
    if (node == nullptr) return MissingKey(file, table, "unit");
    const toml::table* unit = node->as_table();
    if (unit == nullptr) return tu::Error(file, *node, "unit", "must be a table { zh = \"起\", en = \"cases\" }");
    PA_RETURN_IF_ERROR(tu::OnlyKeys(file, *unit, {"zh", "en"}));
    PA_ASSIGN_OR_RETURN(def.unit_zh, Label(file, *unit, "zh"));
    PA_ASSIGN_OR_RETURN(def.unit_en, Label(file, *unit, "en"));
    return absl::OkStatus();
  }

  Catalog& catalog_;
  absl::flat_hash_map<std::string, uint16_t> domain_index_;
  std::vector<const toml::node*> mapping_tables_;  // per source; nodes of sources.toml's root
};

template <typename Def>
const Def* Lookup(const std::vector<Def>& defs, const absl::flat_hash_map<std::string, uint16_t>& index,
                  std::string_view id) {
  auto found = index.find(absl::string_view(id.data(), id.size()));  // no string made
  return found == index.end() ? nullptr : &defs[found->second];
}

nlohmann::ordered_json Labels(const auto& def) {
  return nlohmann::ordered_json{{"id", def.id}, {"zh", def.zh}, {"en", def.en}};
}

nlohmann::ordered_json MeasureJson(const Catalog& catalog, const MeasureDef& def, bool indicator) {
  nlohmann::ordered_json json = Labels(def);
  if (indicator) json["domain"] = def.domain;
  json["types"] = def.types;
  nlohmann::ordered_json matched = nlohmann::ordered_json::array();
  for (uint16_t type_idx : def.type_indexes) matched.push_back(catalog.types[type_idx].id);
  json["matched_types"] = std::move(matched);
  nlohmann::ordered_json where = nlohmann::ordered_json::array();
  for (const Condition& condition : def.where) where.push_back(ConditionText(condition));
  json["where"] = std::move(where);
  json["measure"] = MeasureText(def.measure);
  json["higher_is_better"] = def.higher_is_better;
  json["unit"] = {{"zh", def.unit_zh}, {"en", def.unit_en}};
  return json;
}

}  // namespace

std::string_view AttrKindName(AttrKind kind) {
  switch (kind) {
    case AttrKind::kBool: return "bool";
    case AttrKind::kInt: return "int";
    case AttrKind::kNumber: return "number";
    case AttrKind::kText: break;
  }
  return "text";
}

std::string ConditionText(const Condition& condition) {
  for (const OpName& op : kOps) {
    if (op.op == condition.op) return Cat(condition.attribute, " ", op.text, " ", condition.value);
  }
  return condition.attribute;
}

std::string MeasureText(const Measure& measure) {
  return measure.kind == Measure::Kind::kSum ? Cat("sum:", measure.attribute) : "count";
}

const SourceDef* Catalog::FindSource(std::string_view id) const { return Lookup(sources, source_index, id); }
const EventTypeDef* Catalog::FindType(std::string_view id) const { return Lookup(types, type_index, id); }
const AttributeDef* Catalog::FindAttribute(std::string_view name) const {
  return Lookup(attributes, attribute_index, name);
}
const MeasureDef* Catalog::FindIndicator(std::string_view id) const { return Lookup(indicators, indicator_index, id); }
const MeasureDef* Catalog::FindKeyType(std::string_view id) const { return Lookup(key_types, key_type_index, id); }

std::optional<uint16_t> Catalog::TypeIndex(std::string_view id) const {
  auto found = type_index.find(absl::string_view(id.data(), id.size()));
  if (found == type_index.end()) return std::nullopt;
  return found->second;
}

absl::StatusOr<Catalog> LoadCatalog(const fs::path& config_dir) {
  std::error_code ec;
  if (!fs::is_directory(config_dir / "catalog", ec)) {
    return absl::NotFoundError(Cat("catalog directory ", (config_dir / "catalog").string(), " does not exist"));
  }
  PA_ASSIGN_OR_RETURN(File sources, Open(config_dir, "sources.toml"));
  PA_ASSIGN_OR_RETURN(File domains, Open(config_dir, "domains.toml"));
  PA_ASSIGN_OR_RETURN(File types, Open(config_dir, "types.toml"));
  PA_ASSIGN_OR_RETURN(File indicators, Open(config_dir, "indicators.toml"));
  PA_ASSIGN_OR_RETURN(File key_types, Open(config_dir, "key_types.toml"));
  Catalog catalog;
  Loader loader(catalog);
  PA_RETURN_IF_ERROR(loader.Domains(domains));
  PA_RETURN_IF_ERROR(loader.Sources(sources));
  PA_RETURN_IF_ERROR(loader.Types(types));
  PA_RETURN_IF_ERROR(loader.Mappings(sources));
  PA_RETURN_IF_ERROR(loader.Measures(indicators, "indicator", /*indicators=*/true));
  PA_RETURN_IF_ERROR(loader.Measures(key_types, "key_type", /*indicators=*/false));
  // major.toml is optional: without it no event is marked major.
  if (auto major = Open(config_dir, "major.toml"); major.ok()) {
    PA_RETURN_IF_ERROR(loader.MajorRules(*major));
  } else if (!absl::IsNotFound(major.status())) {
    return major.status();
  }
  return catalog;
}

std::string CatalogJson(const Catalog& catalog) {
  using Json = nlohmann::ordered_json;
  Json sources = Json::array();
  for (const SourceDef& source : catalog.sources) {
    Json json = Labels(source);
    json["domains"] = source.domains;
    if (source.mapping) {
      const SourceMapping& mapping = *source.mapping;
      json["mapping"] = {{"fields", mapping.fields},           {"types", mapping.types},
                         {"statuses", mapping.statuses},       {"attributes", mapping.attributes},
                         {"true_values", mapping.true_values}, {"time_format", mapping.time_format},
                         {"default_type", mapping.default_type}, {"encoding", mapping.encoding},
                         {"coordinates", std::string(DatumName(mapping.coordinates))}};
    }
    sources.push_back(std::move(json));
  }
  Json domains = Json::array();
  for (const DomainDef& domain : catalog.domains) domains.push_back(Labels(domain));
  Json types = Json::array();
  for (const EventTypeDef& type : catalog.types) {
    Json json = Labels(type);
    json["source"] = type.source;
    json["domain"] = type.domain;
    Json attributes = Json::array();
    for (const std::string& name : type.attributes) {
      const AttributeDef* attribute = catalog.FindAttribute(name);
      attributes.push_back({{"name", name}, {"kind", AttrKindName(attribute->kind)}, {"personal", attribute->personal}});
    }
    json["attributes"] = std::move(attributes);
    types.push_back(std::move(json));
  }
  Json attributes = Json::array();
  for (const AttributeDef& attribute : catalog.attributes) {
    attributes.push_back({{"name", attribute.name}, {"kind", AttrKindName(attribute.kind)}, {"zh", attribute.zh},
                          {"en", attribute.en}, {"personal", attribute.personal}});
  }
  Json indicators = Json::array();
  for (const MeasureDef& def : catalog.indicators) indicators.push_back(MeasureJson(catalog, def, true));
  Json key_types = Json::array();
  for (const MeasureDef& def : catalog.key_types) key_types.push_back(MeasureJson(catalog, def, false));
  Json root = {{"sources", std::move(sources)},       {"domains", std::move(domains)},
               {"types", std::move(types)},           {"attributes", std::move(attributes)},
               {"indicators", std::move(indicators)}, {"key_types", std::move(key_types)}};
  Json major = Json::array();
  for (const MeasureDef& def : catalog.major_rules) {
    Json json = MeasureJson(catalog, def, false);
    json.erase("measure");
    json.erase("higher_is_better");
    json.erase("unit");
    major.push_back(std::move(json));
  }
  root["major"] = std::move(major);
  return root.dump(2);
}

bool ConditionHolds(const Condition& condition, double value) {
  switch (condition.op) {
    case Condition::Op::kTrue: return value != 0;
    case Condition::Op::kEq: return value == condition.value;
    case Condition::Op::kNe: return value != condition.value;
    case Condition::Op::kGe: return value >= condition.value;
    case Condition::Op::kGt: return value > condition.value;
    case Condition::Op::kLe: return value <= condition.value;
    case Condition::Op::kLt: return value < condition.value;
  }
  return false;
}

double MeasureContribution(const MeasureDef& def, uint16_t type_index, const EventRecord& event) {
  if (event.status == EventStatus::kWithdrawn) return 0;
  if (!std::binary_search(def.type_indexes.begin(), def.type_indexes.end(), type_index)) return 0;
  for (const Condition& condition : def.where) {
    const std::optional<double> value = event.Number(condition.attribute_index);
    if (!value || !ConditionHolds(condition, *value)) return 0;
  }
  if (def.measure.kind == Measure::Kind::kCount) return 1;
  return event.Number(def.measure.attribute_index).value_or(0);
}

}  // namespace pingan
