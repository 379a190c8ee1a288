#include "ingest/record.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <span>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "absl/container/flat_hash_set.h"
#include "absl/time/civil_time.h"
#include "address/normalize.h"
#include "core/strings.h"
#include "core/text.h"
#include "geocode/matcher.h"
#include "geocode/point_index.h"
#include "ingest/shared_memo.h"

namespace pingan {

namespace {

using nlohmann::json;

constexpr size_t kMaxRawBytes = 16 << 10;      // raw text kept in quarantine
constexpr size_t kMaxSourceIdBytes = 128;
constexpr size_t kMaxAddressBytes = 2048;
constexpr size_t kMaxAttributes = 256;
constexpr size_t kMaxFieldBytes = 64 << 10;     // any other field
constexpr int64_t kFutureSkewSeconds = 600;    // clocks of source systems drift a little

enum class Role : uint8_t {
  kIgnore, kSource, kSourceId, kType, kOccurredAt, kAddress, kLon, kLat, kCode, kStatus,
  kAttributes, kAttribute,
};

struct FieldRole {
  Role role = Role::kIgnore;
  std::string attribute;  // kAttribute
};

// A field's value as read: JSON scalars keep their kind; CSV values are strings.
struct Value {
  enum Kind : uint8_t { kNull, kString, kNumber, kBool, kRaw };
  Kind kind = kNull;
  std::string_view text;  // string value, number token, raw JSON of an object/array
  double number = 0;
  bool boolean = false;
};

struct Pair {
  std::string_view key;
  Value value;
  bool nested = false;  // inside "attributes": the key is the attribute's name
};

// A record failed validation.
struct Reject {
  std::string reason;
  std::string message;
};

bool IsBlank(const Value& value) {
  return value.kind == Value::kNull || (value.kind == Value::kString && value.text.empty());
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<double> ParseNumber(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<double> NumberOf(const Value& value) {
  if (value.kind == Value::kNumber) return std::isfinite(value.number) ? std::optional(value.number) : std::nullopt;
  if (value.kind == Value::kString) return ParseNumber(value.text);
  return std::nullopt;
}

// The form a spreadsheet shows and saves a date in (Excel on Chinese Windows: 2024/6/1 8:00):
// YYYY/M/D or YYYY-M-D, then optionally H:MM[:SS], months, days and hours of one or two digits,
// in `zone`. nullopt when the text is not of that form or names no real date.
std::optional<absl::Time> ParseSpreadsheetTime(std::string_view text, const absl::TimeZone& zone) {
  text = Trim(text);
  size_t at = 0;
  auto number = [&](size_t min_digits, size_t max_digits, int& out) {
    size_t start = at;
    int value = 0;
    while (at < text.size() && at - start < max_digits && text[at] >= '0' && text[at] <= '9') {
      value = value * 10 + (text[at++] - '0');
    }
    out = value;
    return at - start >= min_digits && (at == text.size() || text[at] < '0' || text[at] > '9');
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, 4, year) || at >= text.size() || (text[at] != '/' && text[at] != '-')) return std::nullopt;
  const char separator = text[at++];
  if (!number(1, 2, month) || at >= text.size() || text[at++] != separator || !number(1, 2, day)) return std::nullopt;
  if (at < text.size()) {
    if (text[at++] != ' ') return std::nullopt;
    while (at < text.size() && text[at] == ' ') ++at;
    if (!number(1, 2, hour) || at >= text.size() || text[at++] != ':' || !number(2, 2, minute)) return std::nullopt;
    if (at < text.size() && (text[at++] != ':' || !number(2, 2, second))) return std::nullopt;
    if (at != text.size()) return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.year() != year || civil.month() != month || civil.day() != day) return std::nullopt;  // 2/30
  return absl::FromCivil(civil, zone);
}

// ISO 8601: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:]MM]. Without an offset the time is in
// `zone`. nullopt when the text is not of that form or names no real date.
std::optional<absl::Time> ParseIso8601(std::string_view text, const absl::TimeZone& zone) {
  text = Trim(text);
  auto digits = [&](size_t at, size_t count, int& out) {
    if (at + count > text.size()) return false;
    int value = 0;
    for (size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    out = value;
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day)) {
    return std::nullopt;
  }
  size_t at = 10;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    if (!digits(at + 1, 2, hour) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(at + 4, 2, minute)) {
      return std::nullopt;
    }
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits(at + 1, 2, second)) return std::nullopt;
      at += 3;
      if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
        ++at;
        size_t start = at;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
        if (at == start || at - start > 9) return std::nullopt;
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, std::min(second, 59));
  if (civil.year() != year || civil.month() != month || civil.day() != day) return std::nullopt;  // 02-30
  if (at == text.size()) return absl::FromCivil(civil, zone);
  int offset_minutes = 0;
  if (text[at] == 'Z' || text[at] == 'z') {
    ++at;
  } else if (text[at] == '+' || text[at] == '-') {
    const int sign = text[at] == '-' ? -1 : 1;
    int hours = 0, minutes = 0;
    if (!digits(at + 1, 2, hours)) return std::nullopt;
    at += 3;
    if (at < text.size() && text[at] == ':') ++at;
    if (!digits(at, 2, minutes)) return std::nullopt;
    at += 2;
    if (hours > 14 || minutes > 59) return std::nullopt;
    offset_minutes = sign * (hours * 60 + minutes);
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  return absl::FromCivil(civil, absl::UTCTimeZone()) - absl::Minutes(offset_minutes);
}

// One attribute of the record being converted, before it is written as JSON.
struct Attribute {
  enum Kind : uint8_t { kNull, kString, kDouble, kInt, kBool, kJson };
  std::string_view name;
  Kind kind = kNull;
  std::string_view text;  // kString
  double number = 0;      // kDouble
  int64_t integer = 0;    // kInt
  bool truth = false;     // kBool
  std::string json;       // kJson: an object or array as nlohmann writes it
};

// The attributes as one JSON object, byte for byte what a nlohmann::json object given them in
// this order would dump: keys sorted (bytewise, as std::map orders them), the last of a
// repeated key kept, numbers written by nlohmann. Only strings are escaped here.
void WriteAttributes(std::span<Attribute> attributes, std::string& out) {
  auto by_name = [](const Attribute& a, const Attribute& b) { return a.name < b.name; };
  if (attributes.size() <= 16) {
    // A record has a few attributes: a stable insertion sort, where std::stable_sort allocated a
    // buffer for every record. Many (a hostile record): std::stable_sort, not n².
    for (size_t at = 1; at < attributes.size(); ++at) {
      for (size_t j = at; j > 0 && by_name(attributes[j], attributes[j - 1]); --j) std::swap(attributes[j], attributes[j - 1]);
    }
  } else {
    std::stable_sort(attributes.begin(), attributes.end(), by_name);
  }
  out.assign("{");
  for (size_t at = 0; at < attributes.size(); ++at) {
    if (at + 1 < attributes.size() && attributes[at + 1].name == attributes[at].name) continue;  // a later one wins
    const Attribute& attribute = attributes[at];
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(out, attribute.name);
    out.push_back(':');
    switch (attribute.kind) {
      case Attribute::kNull: out.append("null"); break;
      case Attribute::kString: AppendJsonString(out, attribute.text); break;
      case Attribute::kDouble: out.append(json(attribute.number).dump()); break;
      case Attribute::kInt: out.append(json(attribute.integer).dump()); break;
      case Attribute::kBool: out.append(attribute.truth ? "true" : "false"); break;
      case Attribute::kJson: out.append(attribute.json); break;
    }
  }
  out.push_back('}');
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool TimeFormatCannotReadT(std::string_view format) {
  if (format.empty()) return false;
  for (size_t at = 0; at < format.size(); ++at) {
    if (format[at] == 'T' || format[at] == 't') return false;  // a literal T (UTF-8 never has 0x54 inside a character)
    if (format[at] != '%') continue;  // other literals and whitespace: they read themselves
    if (++at == format.size()) return false;
    if (format[at] == 'E') {  // %E4Y, %Ez, %E*z, %E*S, %E3S
      ++at;
      while (at < format.size() && ((format[at] >= '0' && format[at] <= '9') || format[at] == '*')) ++at;
      if (at == format.size() || (format[at] != 'Y' && format[at] != 'z' && format[at] != 'S')) return false;
      continue;
    }
    switch (format[at]) {
      // Numbers (with a sign at most), offsets (+08:00, Z), and %F %T %R: numbers and separators.
      case 'Y': case 'y': case 'C': case 'm': case 'd': case 'e': case 'j': case 'H': case 'I': case 'M': case 'S':
      case 's': case 'z': case 'F': case 'T': case 'R': case '%':
        break;
      default:  // names of days, months, zones, AM/PM, locale forms: letters
        return false;
    }
  }
  return true;
}

bool StartsWithBom(std::string_view text) { return text.substr(0, 3) == "\xEF\xBB\xBF"; }

void RawRecord::SetJsonLine(std::string_view line_text, bool is_oversized, std::string_view record_source,
                            std::string_view record_file, int64_t line_number) {
  csv = false;
  oversized = is_oversized;
  text.assign(line_text);
  header.reset();
  field_ends.clear();
  source = record_source;
  file = record_file;
  line = line_number;
}

void RawRecord::SetCsvRow(const std::shared_ptr<const std::vector<std::string>>& row_header,
                          const std::vector<std::string_view>& fields, bool is_oversized,
                          std::string_view record_source, std::string_view record_file, int64_t line_number) {
  csv = true;
  oversized = is_oversized;
  if (header != row_header) header = row_header;
  text.clear();
  field_ends.clear();
  for (std::string_view field : fields) {
    text.append(field);
    field_ends.push_back(static_cast<uint32_t>(text.size()));
  }
  source = record_source;
  file = record_file;
  line = line_number;
}

void AppendJsonString(std::string& out, std::string_view text) {
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the bytes still to copy as they are
  for (size_t at = 0; at < text.size(); ++at) {
    const auto byte = static_cast<unsigned char>(text[at]);
    if (byte >= 0x20 && byte != '"' && byte != '\\') continue;
    out.append(text.data() + run, at - run);
    run = at + 1;
    out.push_back('\\');
    switch (byte) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out.append("u00");
        out.push_back(kHex[byte >> 4]);
        out.push_back(kHex[byte & 15]);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

std::string RawRecord::RawText() const {
  std::string out;
  if (!csv) {
    out = text;
  } else {
    json object = json::object();
    for (size_t i = 0; i < field_count(); ++i) {
      std::string column = header != nullptr && i < header->size() ? (*header)[i] : Cat("column", i + 1);
      object[column] = std::string(field(i).substr(0, kMaxRawBytes));
    }
    out = object.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (out.size() > kMaxRawBytes) {
    size_t cut = kMaxRawBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

struct RecordConverter::Plan {
  const SourceDef* def = nullptr;
  absl::flat_hash_map<std::string, FieldRole> roles;
  absl::flat_hash_map<std::string, std::string> types;
  absl::flat_hash_map<std::string, std::string> statuses;
  absl::flat_hash_set<std::string> true_values;
  std::string time_format;
  bool format_cannot_read_t = false;  // TimeFormatCannotReadT(time_format)
  bool epoch_millis = false;          // time_format is SourceMapping::kEpochMillis
  std::string default_type;
  Datum coordinates = Datum::kWgs84;  // of the source's points (converted to WGS-84 as read)
};

// What the geocoder answered for one address text, kept in the converter's memo (shared_memo.h).
// Trivially copyable: a hit is copied out under its shard's lock.
struct CachedMatch {
  std::optional<Place> place;
  MatchStatus status = MatchStatus::kUnmatched;
  bool normalized = true;  // false: the text did not normalise (invalid)
  float confidence = 0;
  std::array<char, AddressCode::kDigits> unit{};  // the place's 27-digit code
  bool in_home_city = true;
};

// What a 27-digit code resolved to, kept in the converter's memo: a feed names the same
// buildings again and again (bench/ingest.sh's coded file: 919,322 codes, 198,670 distinct),
// and resolving one costs the registry's hash table, the unit's level and its building record:
// a cache miss each.
struct CachedCode {
  std::optional<Place> place;   // none: the code names no registered place
  bool contains_home = false;   // the place holds the home city (a province): not placed
  bool in_home_city = true;
};

struct ConverterScratch::Impl {
  CachedCode code;    // the last ResolveCode's answer
  simdjson::ondemand::parser parser;
  std::string padded;
  std::vector<Pair> pairs;
  NormalizedAddress normalized;
  CachedMatch match;  // the last MatchText's answer
  int64_t cache_hits = 0, cache_misses = 0;
  // Convert's working strings, kept so that converting allocates nothing once they have grown.
  std::string source, source_id, type_text;
  std::vector<Attribute> attributes;
  // What the last records' fields meant, by position: the records of a file have the same keys
  // in the same order, so a field's role and attribute are found by comparing its key with
  // the one before rather than by hashing it into the source's and the catalog's maps (a
  // tenth of converting, measured). Filled afresh for a field whose key or source differs.
  struct KeyMeaning {
    std::string key;
    const RecordConverter::Plan* plan = nullptr;  // the source's plan it was read under
    bool nested = false;
    Role role = Role::kIgnore;
    enum class Name : uint8_t { kPlan, kKey, kKeySuffix } name = Name::kKey;  // where kAttribute's name is
    std::string_view plan_attribute;  // Name::kPlan: owned by the plan
    const AttributeDef* def = nullptr;  // kAttribute: the catalog's, or null when undeclared
  };
  std::vector<KeyMeaning> meanings;
  // The last record's source and type, resolved.
  std::string last_source;
  const RecordConverter::Plan* last_plan = nullptr;
  std::string last_type_text;
  const RecordConverter::Plan* last_type_plan = nullptr;
  const EventTypeDef* last_type = nullptr;
};

ConverterScratch::ConverterScratch() : impl(std::make_unique<Impl>()) {}
ConverterScratch::~ConverterScratch() = default;
ConverterScratch::ConverterScratch(ConverterScratch&&) noexcept = default;
int64_t ConverterScratch::cache_hits() const { return impl->cache_hits; }
int64_t ConverterScratch::cache_misses() const { return impl->cache_misses; }

RecordConverter::RecordConverter() = default;
RecordConverter::RecordConverter(RecordConverter&&) noexcept = default;
RecordConverter::~RecordConverter() = default;

namespace {

constexpr std::pair<std::string_view, Role> kCanonicalFields[] = {
    {"source", Role::kSource},       {"source_id", Role::kSourceId}, {"type", Role::kType},
    {"occurred_at", Role::kOccurredAt}, {"address", Role::kAddress}, {"lon", Role::kLon},
    {"lat", Role::kLat},             {"code", Role::kCode},           {"status", Role::kStatus},
    {"attributes", Role::kAttributes}};

}  // namespace

absl::StatusOr<RecordConverter> RecordConverter::Create(const IngestEnv& env) {
  RecordConverter converter;
  converter.env_ = &env;
  converter.text_memo_ = std::make_unique<SharedMemo<CachedMatch>>(kMemoEntries);
  converter.code_memo_ = std::make_unique<SharedMemo<CachedCode>>(kMemoEntries);
  if (!absl::LoadTimeZone(env.deployment->time_zone, &converter.zone_)) {
    return absl::InvalidArgumentError(Cat("unknown time zone '", env.deployment->time_zone, "'"));
  }
  std::optional<UnitId> home = env.registry->Find(env.deployment->home_city);
  if (!home) return absl::FailedPreconditionError("the home city is not in the registry");
  converter.home_city_ = home->value;
  converter.home_city_code_ = env.deployment->home_city.ToString();
  for (const SourceDef& source : env.catalog->sources) {
    auto plan = std::make_unique<Plan>();
    plan->def = &source;
    for (const auto& [name, role] : kCanonicalFields) plan->roles[std::string(name)] = FieldRole{role, ""};
    if (source.mapping) {
      const SourceMapping& mapping = *source.mapping;
      for (const auto& [canonical, own] : mapping.fields) {
        Role role = Role::kIgnore;
        for (const auto& [name, field_role] : kCanonicalFields) {
          if (name == canonical) role = field_role;
        }
        if (role == Role::kIgnore) {
          return absl::InvalidArgumentError(Cat(mapping.where, ": mapping names unknown field '", canonical, "'"));
        }
        plan->roles[own] = FieldRole{role, ""};
      }
      for (const auto& [own, attribute] : mapping.attributes) plan->roles[own] = FieldRole{Role::kAttribute, attribute};
      for (const auto& [own, type] : mapping.types) plan->types[own] = type;
      for (const auto& [own, status] : mapping.statuses) plan->statuses[own] = status;
      for (const std::string& value : mapping.true_values) plan->true_values.insert(value);
      plan->time_format = mapping.time_format;
      plan->epoch_millis = mapping.time_format == SourceMapping::kEpochMillis;
      plan->format_cannot_read_t = !plan->epoch_millis && TimeFormatCannotReadT(mapping.time_format);
      plan->default_type = mapping.default_type;
      plan->coordinates = mapping.coordinates;
    }
    converter.plan_by_source_[source.id] = plan.get();
    converter.plans_.push_back(std::move(plan));
  }
  return converter;
}

std::string RecordConverter::SourceFromFileName(std::string_view file_name) const {
  for (const auto& [id, plan] : plan_by_source_) {
    if (file_name.size() > id.size() && file_name.substr(0, id.size()) == id &&
        (file_name[id.size()] == '-' || file_name[id.size()] == '.' || file_name[id.size()] == '_')) {
      return id;
    }
  }
  return "";
}

bool RecordConverter::KnowsField(std::string_view source, std::string_view name) const {
  name = Trim(name);
  if (StartsWithBom(name)) name.remove_prefix(3);
  if (name.starts_with("attr.")) return true;
  for (const auto& [id, plan] : plan_by_source_) {
    if ((source.empty() || id == source) && plan->roles.contains(absl::string_view(name.data(), name.size()))) return true;
  }
  return false;
}

bool RecordConverter::Retriable(std::string_view reason) {
  return reason != "bad_utf8" && reason != "oversized";
}

namespace {

// Most files that are not UTF-8 are GBK: Excel on Chinese Windows saves CSV in it.
constexpr const char* kNotUtf8 =
    "the record is not valid UTF-8 (for a file in GBK or GB18030, as Excel on Chinese Windows saves CSV, give "
    "--encoding GB18030, or the source's encoding in the catalog)";

// Reads a JSON line into pairs (top-level keys, and the keys of "attributes" marked nested).
std::optional<Reject> ReadJson(const RawRecord& record, ConverterScratch::Impl& scratch) {
  scratch.pairs.clear();
  scratch.padded.assign(record.text);
  scratch.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document document;
  if (scratch.parser.iterate(scratch.padded.data(), record.text.size(), scratch.padded.size()).get(document)) {
    // simdjson checks the whole line's UTF-8 as it indexes it, so a line it takes is valid UTF-8;
    // one it refuses is told apart here, invalid UTF-8 first, as for CSV rows.
    if (!simdjson::validate_utf8(record.text.data(), record.text.size())) {
      return Reject{"bad_utf8", kNotUtf8};
    }
    return Reject{"bad_json", "the line is not valid JSON"};
  }
  simdjson::ondemand::object object;
  simdjson::ondemand::json_type type;
  if (document.type().get(type) || type != simdjson::ondemand::json_type::object) {
    return Reject{"not_object", "the line is not a JSON object"};
  }
  if (document.get_object().get(object)) return Reject{"bad_json", "the line is not valid JSON"};
  auto read_value = [&](simdjson::ondemand::value value, Value& out) -> bool {
    simdjson::ondemand::json_type kind;
    if (value.type().get(kind)) return false;
    switch (kind) {
      case simdjson::ondemand::json_type::string: out.kind = Value::kString; return !value.get_string().get(out.text);
      case simdjson::ondemand::json_type::number:
        out.kind = Value::kNumber;
        out.text = Trim(value.raw_json_token());
        return !value.get_double().get(out.number);
      case simdjson::ondemand::json_type::boolean: out.kind = Value::kBool; return !value.get_bool().get(out.boolean);
      case simdjson::ondemand::json_type::null: out.kind = Value::kNull; return true;
      case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object inner;
        out.kind = Value::kRaw;
        return !value.get_object().get(inner) && !inner.raw_json().get(out.text);
      }
      case simdjson::ondemand::json_type::array: {
        simdjson::ondemand::array inner;
        out.kind = Value::kRaw;
        return !value.get_array().get(inner) && !inner.raw_json().get(out.text);
      }
    }
    return false;
  };
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Reject{"bad_json", "the line is not valid JSON"};
    simdjson::ondemand::value value;
    if (field.value().get(value)) return Reject{"bad_json", "the line is not valid JSON"};
    if (key == "attributes") {
      simdjson::ondemand::json_type kind;
      if (value.type().get(kind)) return Reject{"bad_json", "the line is not valid JSON"};
      if (kind == simdjson::ondemand::json_type::null) continue;
      simdjson::ondemand::object attributes;
      if (kind != simdjson::ondemand::json_type::object || value.get_object().get(attributes)) {
        return Reject{"bad_attribute", "'attributes' must be an object"};
      }
      for (auto attribute : attributes) {
        Pair pair;
        pair.nested = true;
        simdjson::ondemand::value inner;
        if (attribute.unescaped_key().get(pair.key) || attribute.value().get(inner) ||
            !read_value(inner, pair.value)) {
          return Reject{"bad_json", "the line is not valid JSON"};
        }
        scratch.pairs.push_back(pair);
      }
      continue;
    }
    Pair pair;
    pair.key = key;
    if (!read_value(value, pair.value)) return Reject{"bad_json", "the line is not valid JSON"};
    scratch.pairs.push_back(pair);
  }
  return std::nullopt;
}

// A CSV row into pairs by its header; a row of another width than the header is rejected.
std::optional<Reject> ReadCsv(const RawRecord& record, ConverterScratch::Impl& scratch) {
  scratch.pairs.clear();
  const std::vector<std::string>& header = *record.header;
  if (record.field_count() != header.size()) {
    return Reject{"bad_columns", Cat("the row has ", record.field_count(), " fields, the header ", header.size())};
  }
  for (size_t i = 0; i < header.size(); ++i) {
    Pair pair;
    pair.key = header[i];
    pair.value.kind = Value::kString;
    pair.value.text = record.field(i);
    scratch.pairs.push_back(pair);
  }
  return std::nullopt;
}

}  // namespace

const Matcher* RecordConverter::matcher() const {
  if (env_->matcher != nullptr) return env_->matcher;
  return env_->lazy_matcher != nullptr ? env_->lazy_matcher->Get() : nullptr;
}

const PointIndex* RecordConverter::points() const {
  if (env_->points != nullptr) return env_->points;
  return env_->lazy_points != nullptr ? env_->lazy_points->Get() : nullptr;
}

const CachedMatch& RecordConverter::MatchText(const Matcher& matcher, const std::string& address,
                                              ConverterScratch::Impl& scratch) const {
  CachedMatch& cached = scratch.match;
  const SharedMemo<CachedMatch>::Key key = text_memo_->KeyOf(address);  // hashed once, for Insert too
  if (text_memo_->Find(key, cached)) {
    ++scratch.cache_hits;
    return cached;
  }
  ++scratch.cache_misses;
  cached = CachedMatch{};
  absl::Status normalized =
      NormalizeAddressInto(address, NormalizeOptions{.max_bytes = kMaxAddressBytes}, scratch.normalized);
  if (!normalized.ok() || scratch.normalized.text.empty()) {
    cached.normalized = false;
    cached.status = MatchStatus::kInvalid;
  } else {
    MatchResult match = matcher.Match(scratch.normalized.text);
    cached.status = match.status;
    if (match.status == MatchStatus::kMatched || match.status == MatchStatus::kPartial) {
      cached.place = match.place;
      cached.confidence = static_cast<float>(match.confidence);
    } else if (match.status == MatchStatus::kAmbiguous) {
      // The text fits several places: the event is counted where all of them lie (their
      // lowest common unit), not at the likeliest one, so that no sub-unit counts an event
      // that may not be its own. Candidates that share only the nation leave it unplaced.
      const UnitId common = match.common;
      if (common.valid() && env_->registry->level(common) >= Level::kCity) {
        cached.place = Place{.unit = common, .level = env_->registry->level(common)};
        cached.confidence = static_cast<float>(match.confidence);
      }
    }
  }
  if (cached.place) {
    const std::string unit = env_->registry->PlaceCode(*cached.place).ToString();
    std::copy_n(unit.data(), cached.unit.size(), cached.unit.data());
    cached.in_home_city = env_->registry->IsWithin(cached.place->unit, UnitId{home_city_});
  }
  text_memo_->Insert(key, cached);
  return cached;
}

const CachedCode& RecordConverter::ResolveCode(const AddressCode& code, ConverterScratch::Impl& scratch) const {
  CachedCode& cached = scratch.code;
  const SharedMemo<CachedCode>::Key key{code.admin(), code.local()};
  if (code_memo_->Find(key, cached)) return cached;
  cached = CachedCode{};
  if (auto resolved = env_->registry->Resolve(code); resolved.ok()) {
    cached.place = *resolved;
    cached.contains_home = ContainsHomeCity(*resolved);
    cached.in_home_city = env_->registry->IsWithin(resolved->unit, UnitId{home_city_});
  }
  code_memo_->Insert(key, cached);
  return cached;
}

bool RecordConverter::ContainsHomeCity(const Place& place) const {
  return place.unit.value != home_city_ && env_->registry->IsWithin(UnitId{home_city_}, place.unit);
}

bool RecordConverter::Convert(const RawRecord& record, ConverterScratch& scratch_holder, EventRecord& event,
                              QuarantineEntry& rejected) const {
  ConverterScratch::Impl& scratch = *scratch_holder.impl;
  const Catalog& catalog = *env_->catalog;
  const Registry& registry = *env_->registry;

  std::string& source_id_text = scratch.source_id;  // for the quarantine entry
  source_id_text.clear();
  std::string& source_text = scratch.source;
  source_text.assign(record.source);
  auto reject = [&](std::string reason, std::string message) -> bool {
    QuarantineEntry& entry = rejected;
    entry = QuarantineEntry{};
    entry.source = source_text;
    entry.source_id = source_id_text;
    entry.reason = std::move(reason);
    entry.message = std::move(message);
    entry.raw = record.RawText();
    entry.file = std::string(record.file);
    entry.line = record.line;
    entry.received_at = env_->now != 0 ? env_->now : static_cast<int64_t>(std::time(nullptr));
    return false;
  };

  if (record.oversized) return reject("oversized", "the record or one of its fields is over the size limit");
  auto valid = [](std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); };
  // Each CSV field on its own: two fields may join into a character neither holds whole. A JSON
  // line's UTF-8 is checked by simdjson as it reads it (ReadJson).
  bool valid_utf8 = true;
  for (size_t i = 0; record.csv && valid_utf8 && i < record.field_count(); ++i) valid_utf8 = valid(record.field(i));
  if (!valid_utf8) return reject("bad_utf8", kNotUtf8);
  if (auto problem = record.csv ? ReadCsv(record, scratch) : ReadJson(record, scratch)) {
    return reject(problem->reason, problem->message);
  }

  // The source: the record's own field wins over the file's.
  for (const Pair& pair : scratch.pairs) {
    if (!pair.nested && pair.key == "source" && pair.value.kind == Value::kString && !pair.value.text.empty()) {
      source_text.assign(pair.value.text.substr(0, kMaxSourceIdBytes));
    }
  }
  if (source_text.empty()) return reject("missing_field", "the record names no source (field 'source' or --source)");
  if (scratch.last_plan == nullptr || scratch.last_source != source_text) {
    auto plan_it = plan_by_source_.find(source_text);
    if (plan_it == plan_by_source_.end()) return reject("unknown_source", Cat("unknown source '", source_text, "'"));
    scratch.last_source.assign(source_text);
    scratch.last_plan = plan_it->second;
  }
  const Plan& plan = *scratch.last_plan;

  event.Clear();
  event.source.assign(source_text);
  std::optional<Value> type_value, time_value, status_value;
  std::optional<double> lon, lat;
  std::vector<Attribute>& attributes = scratch.attributes;
  size_t attribute_used = 0;  // attributes[0, attribute_used): this record's (the rest keep their buffers)
  auto next_attribute = [&](std::string_view name, Attribute::Kind kind) -> Attribute& {
    if (attribute_used == attributes.size()) attributes.emplace_back();
    Attribute& attribute = attributes[attribute_used++];
    attribute.name = name;
    attribute.kind = kind;
    return attribute;
  };
  std::vector<std::pair<uint16_t, double>>& numbers = event.numbers;
  size_t attribute_count = 0;

  // `def`: catalog.FindAttribute(name), looked up once per field position (KeyMeaning).
  auto add_attribute = [&](std::string_view name, const AttributeDef* def, const Value& value) -> std::optional<Reject> {
    if (++attribute_count > kMaxAttributes) return Reject{"oversized", "too many attributes"};
    if (IsBlank(value)) return std::nullopt;
    if (value.text.size() > kMaxFieldBytes) return Reject{"oversized", Cat("attribute '", name, "' is too long")};
    if (def == nullptr) {  // undeclared: kept as sent, ignored by measures
      switch (value.kind) {
        case Value::kNull: next_attribute(name, Attribute::kNull); break;
        case Value::kString: next_attribute(name, Attribute::kString).text = value.text; break;
        case Value::kNumber: next_attribute(name, Attribute::kDouble).number = value.number; break;
        case Value::kBool: next_attribute(name, Attribute::kBool).truth = value.boolean; break;
        case Value::kRaw: {
          // An object or array: as nlohmann reads and writes it (its text as a string if it fails).
          Attribute& attribute = next_attribute(name, Attribute::kJson);
          json parsed = json::parse(value.text, nullptr, /*allow_exceptions=*/false);
          attribute.json = (parsed.is_discarded() ? json(std::string(value.text)) : parsed)
                               .dump(-1, ' ', false, json::error_handler_t::replace);
          break;
        }
      }
      return std::nullopt;
    }
    const auto index = static_cast<uint16_t>(def - catalog.attributes.data());
    switch (def->kind) {
      case AttrKind::kBool: {
        bool truth = false;
        if (value.kind == Value::kBool) {
          truth = value.boolean;
        } else if (value.kind == Value::kNumber && (value.number == 0 || value.number == 1)) {
          truth = value.number == 1;
        } else if (value.kind == Value::kString) {
          std::string_view text = Trim(value.text);
          if (text == "true" || text == "1" || plan.true_values.contains(absl::string_view(text.data(), text.size()))) {
            truth = true;
          } else if (text == "false" || text == "0" || !plan.true_values.empty()) {
            truth = false;
          } else {
            return Reject{"bad_attribute", Cat("attribute '", name, "' must be true or false")};
          }
        } else {
          return Reject{"bad_attribute", Cat("attribute '", name, "' must be true or false")};
        }
        next_attribute(def->name, Attribute::kBool).truth = truth;
        numbers.emplace_back(index, truth ? 1.0 : 0.0);
        return std::nullopt;
      }
      case AttrKind::kInt:
      case AttrKind::kNumber: {
        std::optional<double> number = NumberOf(value);
        if (!number || (def->kind == AttrKind::kInt && *number != std::floor(*number)) ||
            std::fabs(*number) > 1e15) {
          return Reject{"bad_attribute", Cat("attribute '", name, "' must be ",
                                             def->kind == AttrKind::kInt ? "an integer" : "a number")};
        }
        if (def->kind == AttrKind::kInt) {
          next_attribute(def->name, Attribute::kInt).integer = static_cast<int64_t>(*number);
        } else {
          next_attribute(def->name, Attribute::kDouble).number = *number;
        }
        numbers.emplace_back(index, *number);
        return std::nullopt;
      }
      case AttrKind::kText: {
        if (value.kind == Value::kRaw) return Reject{"bad_attribute", Cat("attribute '", name, "' must be text")};
        const std::string_view text = value.kind == Value::kBool ? (value.boolean ? "true" : "false") : value.text;
        if (text.size() > def->max_bytes) return Reject{"oversized", Cat("attribute '", name, "' is too long")};
        next_attribute(def->name, Attribute::kString).text = text;
        return std::nullopt;
      }
    }
    return std::nullopt;
  };

  using KeyMeaning = ConverterScratch::Impl::KeyMeaning;
  if (scratch.meanings.size() < scratch.pairs.size()) scratch.meanings.resize(scratch.pairs.size());
  for (size_t index = 0; index < scratch.pairs.size(); ++index) {
    const Pair& pair = scratch.pairs[index];
    if (pair.value.kind != Value::kRaw && pair.value.text.size() > kMaxFieldBytes) {
      return reject("oversized", Cat("field '", Printable(pair.key, 40), "' is too long"));
    }
    KeyMeaning& meaning = scratch.meanings[index];
    if (meaning.plan != &plan || meaning.nested != pair.nested || meaning.key != pair.key) {
      meaning.key.assign(pair.key);
      meaning.plan = &plan;
      meaning.nested = pair.nested;
      meaning.role = Role::kIgnore;
      meaning.def = nullptr;
      std::string_view name;
      if (pair.nested) {
        meaning.role = Role::kAttribute;
        meaning.name = KeyMeaning::Name::kKey;
        name = pair.key;
      } else if (auto it = plan.roles.find(absl::string_view(pair.key.data(), pair.key.size())); it != plan.roles.end()) {
        meaning.role = it->second.role;
        meaning.name = KeyMeaning::Name::kPlan;
        meaning.plan_attribute = name = it->second.attribute;
      } else if (pair.key.substr(0, 5) == "attr.") {
        meaning.role = Role::kAttribute;
        meaning.name = KeyMeaning::Name::kKeySuffix;
        name = pair.key.substr(5);
      }
      if (meaning.role == Role::kAttribute) meaning.def = catalog.FindAttribute(name);
    }
    const Role role = meaning.role;
    std::string_view attribute_name;  // kAttribute
    if (role == Role::kAttribute) {
      attribute_name = meaning.name == KeyMeaning::Name::kPlan ? meaning.plan_attribute
                       : meaning.name == KeyMeaning::Name::kKey ? pair.key
                                                                : pair.key.substr(5);
    }
    const Value& value = pair.value;
    switch (role) {
      case Role::kIgnore:
      case Role::kSource:
      case Role::kAttributes:
        break;
      case Role::kSourceId:
        if (value.kind == Value::kString || value.kind == Value::kNumber) source_id_text.assign(Trim(value.text));
        break;
      case Role::kType: type_value = value; break;
      case Role::kOccurredAt: time_value = value; break;
      case Role::kStatus: status_value = value; break;
      case Role::kAddress:
        if (value.kind == Value::kString) event.address.assign(Trim(value.text));
        else if (!IsBlank(value)) return reject("bad_field", "field 'address' must be text");
        break;
      case Role::kLon:
      case Role::kLat: {
        if (IsBlank(value)) break;
        std::optional<double> number = NumberOf(value);
        if (!number) return reject("bad_point", "longitude and latitude must be numbers");
        (role == Role::kLon ? lon : lat) = *number;
        break;
      }
      case Role::kCode:
        if (value.kind == Value::kString) event.code.assign(Trim(value.text));
        else if (value.kind == Value::kNumber) event.code.assign(value.text);
        else if (!IsBlank(value)) return reject("bad_code", "field 'code' must be a string of digits");
        break;
      case Role::kAttribute:
        if (auto problem = add_attribute(attribute_name, meaning.def, value)) return reject(problem->reason, problem->message);
        break;
    }
  }

  // source_id
  if (source_id_text.size() > kMaxSourceIdBytes) {
    source_id_text.resize(kMaxSourceIdBytes);
    return reject("oversized", "source_id is longer than 128 bytes");
  }
  if (source_id_text.empty()) return reject("missing_field", "the record has no source_id");
  event.source_id.assign(source_id_text);

  // type
  std::string& type_text = scratch.type_text;
  type_text.clear();
  if (type_value && !IsBlank(*type_value)) type_text.assign(Trim(type_value->text));
  const EventTypeDef* type = nullptr;
  if (scratch.last_type_plan == &plan && scratch.last_type_text == type_text) {
    type = scratch.last_type;  // as the record before: resolved then
  } else {
    scratch.last_type_text.assign(type_text);
    scratch.last_type_plan = nullptr;  // set once the type is resolved
    if (type_text.empty()) {
      if (plan.default_type.empty()) return reject("missing_field", "the record has no type");
      type_text = plan.default_type;
    } else if (!plan.types.empty()) {
      // The source's own code, or a canonical id (a source may send either).
      auto it = plan.types.find(type_text);
      if (it != plan.types.end()) {
        type_text = it->second;
      } else if (catalog.FindType(type_text) == nullptr) {
        return reject("unknown_type", Cat("unknown type code '", Printable(type_text, 40), "'"));
      }
    }
    type = catalog.FindType(type_text);
    if (type == nullptr) return reject("unknown_type", Cat("unknown type '", Printable(type_text, 40), "'"));
    if (type->source != plan.def->id) {
      return reject("unknown_type", Cat("type '", type->id, "' is not reported by source '", plan.def->id, "'"));
    }
    scratch.last_type_plan = &plan;
    scratch.last_type = type;
  }
  event.type.assign(type->id);

  // occurred_at
  if (!time_value || IsBlank(*time_value)) return reject("missing_field", "the record has no occurred_at");
  if (time_value->kind != Value::kString && time_value->kind != Value::kNumber) {
    return reject("bad_time", "occurred_at must be text");
  }
  std::optional<absl::Time> when;
  const std::string_view trimmed = Trim(time_value->text);
  // A format that cannot read the 'T' of an ISO 8601 time would fail on it: the fallback alone.
  if (plan.epoch_millis) {
    int64_t millis = 0;
    const char* end = trimmed.data() + trimmed.size();
    // Digits only (a JSON number or a CSV field): 1717200000000. No sign, fraction or exponent.
    if (!trimmed.empty() && trimmed.front() != '-' && trimmed.size() <= 16 &&
        std::from_chars(trimmed.data(), end, millis).ptr == end) {
      when = absl::FromUnixMillis(millis);
    } else {
      when = ParseIso8601(trimmed, zone_);  // a source may send canonical times too
    }
  } else if (plan.time_format.empty() || (plan.format_cannot_read_t && trimmed.find('T') != std::string_view::npos)) {
    when = ParseIso8601(trimmed, zone_);
  } else {
    absl::Time parsed;
    // No copy of the text and no error message: a record in canonical time fails here first.
    if (absl::ParseTime(plan.time_format, absl::string_view(trimmed.data(), trimmed.size()), zone_, &parsed, nullptr)) {
      when = parsed;
    } else {
      when = ParseIso8601(trimmed, zone_);  // a source may send canonical times too
    }
  }
  if (!when) when = ParseSpreadsheetTime(trimmed, zone_);  // as a spreadsheet saved it
  if (!when) {
    return reject("bad_time", plan.time_format.empty() ? std::string("occurred_at is not an ISO 8601 time")
                              : plan.epoch_millis  ? std::string("occurred_at is not milliseconds since 1970 (epoch_ms)")
                                                   : Cat("occurred_at does not match the format ", plan.time_format));
  }
  event.occurred_at = absl::ToUnixSeconds(*when);
  const int64_t now = env_->now != 0 ? env_->now : static_cast<int64_t>(std::time(nullptr));
  if (event.occurred_at > now + kFutureSkewSeconds) return reject("future_time", "occurred_at lies in the future");
  if (event.occurred_at < -2208988800) return reject("bad_time", "occurred_at is before 1900");

  // status
  if (status_value && !IsBlank(*status_value)) {
    std::string text(Trim(status_value->text));
    if (auto it = plan.statuses.find(text); it != plan.statuses.end()) text = it->second;
    if (text == "active") {
      event.status = EventStatus::kActive;
    } else if (text == "withdrawn") {
      event.status = EventStatus::kWithdrawn;
    } else {
      return reject("bad_status", Cat("unknown status '", Printable(text, 40), "'"));
    }
  }

  // place fields
  if (event.address.size() > kMaxAddressBytes) return reject("oversized", "address is longer than 2048 bytes");
  if (lon.has_value() != lat.has_value()) return reject("bad_point", "a point needs both longitude and latitude");
  if (lon && (*lon < -180 || *lon > 180 || *lat < -90 || *lat > 90)) {
    return reject("bad_point", "longitude or latitude out of range");
  }
  if (lon && *lon == 0 && *lat == 0) lon.reset(), lat.reset();  // "no point" in many systems
  if (lon && plan.coordinates != Datum::kWgs84) {  // a source on GCJ-02 or BD-09 maps: kept in WGS-84
    const LonLat wgs = ToWgs84(plan.coordinates, LonLat{*lon, *lat});
    lon = wgs.lon, lat = wgs.lat;
  }
  event.lon = lon;
  event.lat = lat;
  std::optional<AddressCode> code;
  if (!event.code.empty()) {
    auto parsed = AddressCode::ParsePrefix(event.code);
    if (!parsed.ok()) return reject("bad_code", "code is not a 27-digit address code or its prefix");
    code = *parsed;
    event.code = parsed->ToString();
  }
  std::sort(numbers.begin(), numbers.end());
  WriteAttributes(std::span<Attribute>(attributes.data(), attribute_used), event.attributes_json);

  // Placement: by code, else by point, else by the address text.
  Placement& placement = event.placement;
  std::optional<Place> place;
  const CachedCode* resolved_code = nullptr;
  if (code) {
    resolved_code = &ResolveCode(*code, scratch);
    if (resolved_code->place) {
      place = resolved_code->place;
      placement.method = PlaceMethod::kCode;
      placement.confidence = 1;
    }
  }
  const PointIndex* point_index = !place && lon ? points() : nullptr;
  if (point_index != nullptr) {
    PointResult located = point_index->Locate(*lon, *lat);
    if (located.grid.valid()) {
      place = located.building.valid() ? Place{.unit = located.building, .level = Level::kBuilding}
                                       : Place{.unit = located.grid, .level = Level::kGrid};
      placement.method = PlaceMethod::kPoint;
      placement.confidence = 1;
    }
  }
  const Matcher* text_matcher = !place && !event.address.empty() ? matcher() : nullptr;
  if (text_matcher != nullptr) {
    const CachedMatch& match = MatchText(*text_matcher, event.address, scratch);
    placement.geocode_status.assign(match.normalized ? MatchStatusName(match.status) : std::string_view("invalid"));
    if (match.place && !ContainsHomeCity(*match.place)) {
      placement.method = PlaceMethod::kText;
      placement.confidence = match.confidence;
      placement.unit.assign(match.unit.data(), match.unit.size());
      placement.level = static_cast<uint8_t>(match.place->level);
      placement.in_home_city = match.in_home_city;
      return true;
    }
  }
  const bool by_code = placement.method == PlaceMethod::kCode;
  // "浙江省" alone: ours, but not placed.
  if (place && (by_code ? resolved_code->contains_home : ContainsHomeCity(*place))) place.reset();
  if (place) {
    // A place resolved from a code is that code (Resolve refuses digits below the unit it
    // names), already written out: no second read of the registry's codes.
    assert(!by_code || registry.PlaceCode(*place).ToString() == event.code);
    if (by_code) {
      placement.unit.assign(event.code);
    } else {
      placement.unit.assign(registry.PlaceCode(*place).ToString());
    }
    placement.level = static_cast<uint8_t>(place->level);
    placement.in_home_city = by_code ? resolved_code->in_home_city : registry.IsWithin(place->unit, UnitId{home_city_});
  } else {
    placement.method = PlaceMethod::kNone;
    placement.unit.assign(home_city_code_);
    placement.level = static_cast<uint8_t>(Level::kCity);
    placement.confidence = 0;
    placement.in_home_city = true;
  }
  return true;
}

}  // namespace pingan
