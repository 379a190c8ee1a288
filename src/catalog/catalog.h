// The event catalog (config/catalog/*.toml): the 7 source systems, the 7 domains, the event
// types and their attributes, the 33 indicators and the 9 key types, with the canonical ids of
// INDICATORS.md and Chinese and English labels (docs/catalog.md).
//
// Files (all under the config directory's catalog/ folder):
//   sources.toml     [[source]] id, zh, en, domains; optional [source.mapping] (see SourceMapping)
//   domains.toml     [[domain]] id, zh, en
//   types.toml       [[type]] id, zh, en, source, domain (optional), attributes = [ATTR, ...];
//                    [[attribute]] name, kind (bool | int | number | text), zh, en, personal
//   indicators.toml  [[indicator]] id, zh, en, domain, types = ["criminal.*", ...],
//                    where = ["solved", "deaths >= 3"], measure = "count" | "sum:ATTR",
//                    higher_is_better, unit
//   key_types.toml   [[key_type]] id, zh, en, types, where, measure
//   major.toml       [[major]] id, zh, en, types, where (optional file): rules marking events major
//
// Everything is validated at load: an unknown type, source, domain or attribute, a duplicate
// id, a filter that matches no type, a bad condition or measure is InvalidArgument naming
// file:line and key, as the rest of config/ does:
//   config/catalog/indicators.toml:16: key 'types': 'crimnal.*' matches no event type
//
// Thread-safety: immutable after load.
//
// Example:
//   PA_ASSIGN_OR_RETURN(Catalog catalog, LoadCatalog(config_dir));
//   const EventTypeDef* type = catalog.FindType("criminal.theft");
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/datum.h"

namespace pingan {

enum class AttrKind : uint8_t { kBool, kInt, kNumber, kText };
std::string_view AttrKindName(AttrKind kind);

// An attribute an event type declares, or a personal attribute any event may carry.
struct AttributeDef {
  std::string name;       // solved, loss_yuan, reporter_phone
  AttrKind kind = AttrKind::kText;
  std::string zh, en;
  bool personal = false;  // masked on output unless the reader may see it
  uint32_t max_bytes = 4096;  // text attributes longer than this are a validation error
};

// How a source's own records map onto the canonical event form, so that a new source is
// configuration, not code. Every map is optional; an empty map means "same as canonical".
struct SourceMapping {
  // canonical field (source_id, type, occurred_at, address, lon, lat, code, status) -> the
  // source's field (JSON key or CSV column), e.g. {"source_id": "案件编号"}.
  std::map<std::string, std::string> fields;
  // the source's type codes -> canonical type id, e.g. {"0201": "criminal.theft"}. When set,
  // a type value that is neither in the map nor a canonical id is an unknown type.
  std::map<std::string, std::string> types;
  // the source's status values -> "active" | "withdrawn", e.g. {"已撤案": "withdrawn"}.
  std::map<std::string, std::string> statuses;
  // the source's attribute fields -> canonical attribute name, e.g. {"损失金额": "loss_yuan"}.
  // Fields named here are read as attributes; in CSV, `attr.NAME` columns always are.
  std::map<std::string, std::string> attributes;
  // the source's values meaning true for boolean attributes, besides true/1/"true" (e.g. "是").
  std::vector<std::string> true_values;
  // absl::ParseTime format of occurred_at in the city's time zone when not ISO 8601, e.g.
  // "%Y/%m/%d %H:%M"; empty: ISO 8601 (an offset is honoured, none means the city's zone). A time
  // that does not match the format is still read when it is ISO 8601.
  std::string time_format;
  // time_format's one value that is not an absl::ParseTime format: milliseconds since 1970-01-01
  // UTC, as Java's Date goes into JSON (Jackson's default). Seconds since then are "%s".
  static constexpr std::string_view kEpochMillis = "epoch_ms";
  // The canonical type of a record that has no type field (or an empty one), e.g.
  // "labour.wage_arrears" for a source that reports one type only; empty: the type is required.
  std::string default_type;
  // The encoding of the source's files when not UTF-8: an iconv name such as "GB18030" (which
  // reads GBK and GB2312 too: Excel on Chinese Windows saves CSV in GBK). Empty: UTF-8.
  std::string encoding;
  // The coordinate system of the source's lon/lat (core/datum.h): GCJ-02 for systems on
  // AutoNavi or Tencent maps, BD-09 for Baidu's. Points are kept in WGS-84, converted at ingest.
  Datum coordinates = Datum::kWgs84;
  std::string where;  // "config/catalog/sources.toml:12", for messages
};

struct SourceDef {
  std::string id, zh, en;
  std::vector<std::string> domains;
  std::optional<SourceMapping> mapping;
};

struct DomainDef {
  std::string id, zh, en;
};

struct EventTypeDef {
  std::string id, zh, en;
  std::string source;               // the source system that reports it
  std::string domain;               // empty for types outside the 7 domains (dispute.call, ...)
  std::vector<std::string> attributes;  // names of declared attributes (Catalog::FindAttribute)
};

// One condition of a filter over attributes: `solved` (true), `deaths >= 3`.
struct Condition {
  enum class Op : uint8_t { kTrue, kEq, kNe, kGe, kGt, kLe, kLt };
  std::string attribute;
  Op op = Op::kTrue;
  double value = 0;
  uint16_t attribute_index = 0;  // into Catalog::attributes
};
// "solved", "deaths >= 3": the condition as the files write it.
std::string ConditionText(const Condition& condition);
// Whether `condition` holds for an attribute of value `value` (bools as 0/1).
bool ConditionHolds(const Condition& condition, double value);

// count, or sum of an attribute.
struct Measure {
  enum class Kind : uint8_t { kCount, kSum };
  Kind kind = Kind::kCount;
  std::string attribute;  // for kSum
  uint16_t attribute_index = 0;  // for kSum: into Catalog::attributes
};
// "count", "sum:deaths".
std::string MeasureText(const Measure& measure);

// A filter over event type and attributes plus a measure: an indicator or a key type.
struct MeasureDef {
  std::string id, zh, en;
  std::string domain;                 // indicators: one of the 7 domains; key types: empty
  std::vector<std::string> types;     // patterns as written: "criminal.*", "litigation.civil"
  std::vector<uint16_t> type_indexes; // the types they match (indexes into Catalog::types), sorted
  std::vector<Condition> where;       // all must hold
  Measure measure;
  bool higher_is_better = false;      // ↑ in INDICATORS.md
  std::string unit_zh, unit_en;       // 起 / cases, 人 / persons, 元 / yuan
  std::string where_defined;          // "config/catalog/indicators.toml:40"
};

struct Catalog {
  std::vector<SourceDef> sources;
  std::vector<DomainDef> domains;
  std::vector<EventTypeDef> types;
  std::vector<AttributeDef> attributes;  // every attribute, declared or personal, by name
  std::vector<MeasureDef> indicators;    // the 33, in the order of the files
  std::vector<MeasureDef> key_types;     // the 9
  // Rules marking events major (重大事件), from the optional major.toml: an event is major when
  // any rule's types and conditions hold (measure, unit and direction are unused).
  std::vector<MeasureDef> major_rules;

  const SourceDef* FindSource(std::string_view id) const;
  const EventTypeDef* FindType(std::string_view id) const;
  std::optional<uint16_t> TypeIndex(std::string_view id) const;
  const AttributeDef* FindAttribute(std::string_view name) const;
  const MeasureDef* FindIndicator(std::string_view id) const;
  const MeasureDef* FindKeyType(std::string_view id) const;

  // Lookup tables, filled by LoadCatalog.
  absl::flat_hash_map<std::string, uint16_t> type_index;
  absl::flat_hash_map<std::string, uint16_t> source_index;
  absl::flat_hash_map<std::string, uint16_t> attribute_index;
  absl::flat_hash_map<std::string, uint16_t> indicator_index;
  absl::flat_hash_map<std::string, uint16_t> key_type_index;
  absl::flat_hash_map<std::string, uint16_t> major_index;
};

// Loads and validates DIR/catalog/*.toml (DIR is the config directory). NotFound for a missing
// directory or file; InvalidArgument naming file:line and key for anything invalid.
absl::StatusOr<Catalog> LoadCatalog(const std::filesystem::path& config_dir);

// `pingan catalog --json`: the whole catalog, with labels, as one JSON document (text).
std::string CatalogJson(const Catalog& catalog);

// What one event adds to a measure: 0 when its type or attributes do not match (a condition on
// a missing attribute does not hold) or the event is withdrawn, else 1 (count) or the
// attribute's value (sum; a missing attribute adds 0). See event.h for EventRecord.
struct EventRecord;
// `type_index` is the event's type (Catalog::TypeIndex(event.type)).
double MeasureContribution(const MeasureDef& def, uint16_t type_index, const EventRecord& event);

}  // namespace pingan
