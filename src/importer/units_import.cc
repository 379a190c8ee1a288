#include "importer/units_import.h"

#include <geos_c.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "address/code.h"
#include "address/registry.h"
#include "core/csv.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uintmax_t kMaxFileBytes = uintmax_t{1} << 30;  // 1 GiB
constexpr size_t kMaxFieldBytes = size_t{1} << 20;       // 1 MiB
constexpr size_t kMaxProblemsShown = 20;
constexpr int kMaxGeometryDepth = 8;  // a MultiPolygon's coordinates nest 6 deep

// The fields a row may give: CSV columns and GeoJSON properties share the names (wkt, lon and
// lat are CSV only; GeoJSON carries them in the feature's geometry).
enum Field {
  kCode,
  kName,
  kLevel,
  kParent,
  kResident,
  kFloating,
  kEnterprises,
  kHouses,
  kHouseholds,
  kEntrances,
  kFloors,
  kRoomsPerFloor,
  kRoad,
  kHouseNumber,
  kAdministers,
  kWkt,
  kLon,
  kLat,
  kFieldCount,
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "code",        "name",         "level",       "parent",    "resident", "floating",
    "enterprises", "houses",       "households",  "entrances", "floors",   "rooms_per_floor",
    "road",        "house_number", "administers", "wkt",       "lon",      "lat"};
constexpr Field kFirstFigure = kResident;
constexpr int kFigureCount = 5;
constexpr Field kFirstBuildingField = kEntrances;
constexpr Field kLastBuildingField = kHouseNumber;
constexpr Field kFirstCsvOnly = kWkt;

std::optional<Field> FieldByName(std::string_view name, bool csv) {
  for (int index = 0; index < (csv ? kFieldCount : kFirstCsvOnly); ++index) {
    if (kFieldNames[index] == name) return static_cast<Field>(index);
  }
  return std::nullopt;
}

std::string KnownFields(bool csv) {
  std::string out;
  for (int index = 0; index < (csv ? kFieldCount : kFirstCsvOnly); ++index) {
    CatTo(out, index == 0 ? "" : ", ", kFieldNames[index]);
  }
  return out;
}

// A row as read from the file: text by field, before any interpretation.
struct RawRow {
  size_t number = 0;     // CSV record number (header = 1) or 1-based feature index
  bool feature = false;  // named "feature N" rather than "row N"
  std::array<std::optional<std::string>, kFieldCount> fields;  // nullopt: absent or empty
  std::vector<std::string> administers;
  std::optional<std::string> geojson;  // GeoJSON geometry object, serialized
  std::string problem;                 // what the reader found wrong with the row, if anything
};

// A geometry checked by GEOS: a polygon (GeoJSON text and its box) or a point.
struct Geometry {
  bool point = false;
  double lon = 0, lat = 0;  // points
  BoundingBox box;          // polygons
  std::string geojson;      // polygons
};

// A row checked on its own.
struct Row {
  size_t order = 0;   // index in file order
  std::string label;  // "row 12" / "feature 3"
  std::string where;  // "row 12 (code 330106004003001)"
  AddressCode code;
  Level level = Level::kNation;
  std::string name;
  AddressCode parent;
  std::array<std::optional<int64_t>, kFigureCount> figures;
  std::optional<Geometry> geometry;
  std::optional<int64_t> entrances, floors, rooms_per_floor, house_number;
  std::optional<std::string> road;
  std::vector<AddressCode> administers;
};

// Problems found in the file: the first kMaxProblemsShown in file order are kept (found in any
// order), the rest only counted, so that a huge file of bad rows stays cheap.
class Problems {
 public:
  void Add(size_t order, std::string message) {
    ++count_;
    if (kept_.size() < kMaxProblemsShown) {
      kept_.emplace_back(order, std::move(message));
      return;
    }
    auto last = std::max_element(kept_.begin(), kept_.end(), ByOrder);
    if (order < last->first) *last = {order, std::move(message)};
  }
  bool empty() const { return count_ == 0; }
  // InvalidArgument listing the kept problems, one per line, in file order.
  absl::Status ToStatus() {
    std::stable_sort(kept_.begin(), kept_.end(), ByOrder);
    std::string text;
    for (size_t index = 0; index < kept_.size(); ++index) {
      CatTo(text, index == 0 ? "" : "\n", kept_[index].second);
    }
    if (count_ > kept_.size()) CatTo(text, "\n(", count_ - kept_.size(), " more problems)");
    return absl::InvalidArgumentError(text);
  }

 private:
  static bool ByOrder(const std::pair<size_t, std::string>& a,
                      const std::pair<size_t, std::string>& b) {
    return a.first < b.first;
  }
  std::vector<std::pair<size_t, std::string>> kept_;
  size_t count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// GEOS adapter: one reentrant context per import.

class Geos {
 public:
  Geos() : handle_(GEOS_init_r()) {
    if (handle_ == nullptr) return;
    GEOSContext_setErrorMessageHandler_r(handle_, &Geos::OnError, this);
    GEOSContext_setNoticeMessageHandler_r(handle_, &Geos::OnNotice, nullptr);
    wkt_reader_ = GEOSWKTReader_create_r(handle_);
    json_reader_ = GEOSGeoJSONReader_create_r(handle_);
    json_writer_ = GEOSGeoJSONWriter_create_r(handle_);
  }
  ~Geos() {
    if (handle_ == nullptr) return;
    if (wkt_reader_ != nullptr) GEOSWKTReader_destroy_r(handle_, wkt_reader_);
    if (json_reader_ != nullptr) GEOSGeoJSONReader_destroy_r(handle_, json_reader_);
    if (json_writer_ != nullptr) GEOSGeoJSONWriter_destroy_r(handle_, json_writer_);
    GEOS_finish_r(handle_);
  }
  Geos(const Geos&) = delete;
  Geos& operator=(const Geos&) = delete;

  // Parses WKT / a GeoJSON geometry object and checks it: a valid, non-empty Point, Polygon or
  // MultiPolygon with coordinates in lon [-180, 180], lat [-90, 90]. InvalidArgument with
  // GEOS's reason otherwise.
  absl::StatusOr<Geometry> FromWkt(const std::string& text) {
    if (!Ready()) return absl::InternalError("GEOS could not be initialised");
    error_.clear();
    return Inspect(GEOSWKTReader_read_r(handle_, wkt_reader_, text.c_str()), "WKT");
  }
  absl::StatusOr<Geometry> FromGeoJson(const std::string& text) {
    if (!Ready()) return absl::InternalError("GEOS could not be initialised");
    error_.clear();
    return Inspect(GEOSGeoJSONReader_readGeometry_r(handle_, json_reader_, text.c_str()),
                   "GeoJSON geometry");
  }

 private:
  struct GeometryDeleter {
    GEOSContextHandle_t handle;
    void operator()(GEOSGeometry* geometry) const { GEOSGeom_destroy_r(handle, geometry); }
  };
  struct BufferDeleter {
    GEOSContextHandle_t handle;
    void operator()(char* buffer) const { GEOSFree_r(handle, buffer); }
  };
  using Buffer = std::unique_ptr<char, BufferDeleter>;

  static void OnError(const char* message, void* self) {
    static_cast<Geos*>(self)->error_ = message != nullptr ? message : "unknown GEOS error";
  }
  static void OnNotice(const char*, void*) {}

  bool Ready() const {
    return handle_ != nullptr && wkt_reader_ != nullptr && json_reader_ != nullptr &&
           json_writer_ != nullptr;
  }
  std::string LastError() const { return error_.empty() ? "unknown GEOS error" : error_; }

  static std::string_view TypeName(int type) {
    switch (type) {
      case GEOS_POINT:
        return "Point";
      case GEOS_LINESTRING:
        return "LineString";
      case GEOS_LINEARRING:
        return "LinearRing";
      case GEOS_POLYGON:
        return "Polygon";
      case GEOS_MULTIPOINT:
        return "MultiPoint";
      case GEOS_MULTILINESTRING:
        return "MultiLineString";
      case GEOS_MULTIPOLYGON:
        return "MultiPolygon";
      case GEOS_GEOMETRYCOLLECTION:
        return "GeometryCollection";
      default:
        return "unknown";
    }
  }

  absl::StatusOr<Geometry> Inspect(GEOSGeometry* raw, std::string_view what) {
    if (raw == nullptr) {
      return absl::InvalidArgumentError(Cat("unreadable ", what, ": ", LastError()));
    }
    std::unique_ptr<GEOSGeometry, GeometryDeleter> geometry(raw, GeometryDeleter{handle_});
    const int type = GEOSGeomTypeId_r(handle_, raw);
    if (type != GEOS_POINT && type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
      return absl::InvalidArgumentError(
          Cat("a ", TypeName(type),
              " geometry; expected a Polygon or MultiPolygon (units) or a "
              "Point (buildings)"));
    }
    const char empty = GEOSisEmpty_r(handle_, raw);
    if (empty == 2) return absl::InvalidArgumentError(Cat("broken geometry: ", LastError()));
    if (empty == 1) return absl::InvalidArgumentError(Cat("empty ", TypeName(type)));
    const char valid = GEOSisValid_r(handle_, raw);
    if (valid == 2) return absl::InvalidArgumentError(Cat("broken geometry: ", LastError()));
    if (valid == 0) {
      Buffer reason(GEOSisValidReason_r(handle_, raw), BufferDeleter{handle_});
      return absl::InvalidArgumentError(
          Cat("invalid ", TypeName(type), ": ", reason ? reason.get() : LastError().c_str()));
    }
    Geometry out;
    double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
    if (GEOSGeom_getXMin_r(handle_, raw, &min_x) == 0 ||
        GEOSGeom_getYMin_r(handle_, raw, &min_y) == 0 ||
        GEOSGeom_getXMax_r(handle_, raw, &max_x) == 0 ||
        GEOSGeom_getYMax_r(handle_, raw, &max_y) == 0) {
      return absl::InvalidArgumentError(Cat("broken geometry: ", LastError()));
    }
    for (double lon : {min_x, max_x}) {
      if (!std::isfinite(lon) || lon < -180 || lon > 180) {
        return absl::InvalidArgumentError(Cat("longitude ", lon, " is outside [-180, 180]"));
      }
    }
    for (double lat : {min_y, max_y}) {
      if (!std::isfinite(lat) || lat < -90 || lat > 90) {
        return absl::InvalidArgumentError(Cat("latitude ", lat, " is outside [-90, 90]"));
      }
    }
    if (type == GEOS_POINT) {
      out.point = true;
      out.lon = min_x;
      out.lat = min_y;
      return out;
    }
    out.box = BoundingBox{min_x, min_y, max_x, max_y};
    Buffer text(GEOSGeoJSONWriter_writeGeometry_r(handle_, json_writer_, raw, -1),
                BufferDeleter{handle_});
    if (!text) return absl::InvalidArgumentError(Cat("cannot write GeoJSON: ", LastError()));
    out.geojson = text.get();
    return out;
  }

  GEOSContextHandle_t handle_;
  GEOSWKTReader* wkt_reader_ = nullptr;
  GEOSGeoJSONReader* json_reader_ = nullptr;
  GEOSGeoJSONWriter* json_writer_ = nullptr;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Reading the two formats into RawRows.

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

absl::StatusOr<std::vector<RawRow>> ReadCsvRows(const fs::path& file) {
  std::vector<RawRow> rows;
  std::vector<Field> columns;
  const std::string path = file.string();
  absl::Status status = ReadCsvFile(
      path,
      [&](const CsvRow& row) -> absl::Status {
        if (row.number == 1) {
          std::array<bool, kFieldCount> seen{};
          for (size_t index = 0; index < row.fields.size(); ++index) {
            std::string_view name = Trim(row.fields[index]);
            if (index == 0 && name.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
              name.remove_prefix(kUtf8Bom.size());
            }
            std::optional<Field> field = FieldByName(name, /*csv=*/true);
            if (!field) {
              return absl::InvalidArgumentError(Cat("row 1: unknown column '", Printable(name),
                                                    "' (known: ", KnownFields(true), ")"));
            }
            if (seen[*field]) {
              return absl::InvalidArgumentError(Cat("row 1: column '", name, "' appears twice"));
            }
            seen[*field] = true;
            columns.push_back(*field);
          }
          for (Field required : {kCode, kName, kLevel, kParent}) {
            if (!seen[required]) {
              return absl::InvalidArgumentError(
                  Cat("row 1: missing column '", kFieldNames[required], "'"));
            }
          }
          return absl::OkStatus();
        }
        RawRow raw{.number = row.number};
        if (row.fields.size() != columns.size()) {
          for (size_t index = 0; index < row.fields.size() && index < columns.size(); ++index) {
            if (columns[index] == kCode) raw.fields[kCode] = std::string(Trim(row.fields[index]));
          }
          raw.problem = Cat(row.fields.size(), " fields; the header has ", columns.size());
          rows.push_back(std::move(raw));
          return absl::OkStatus();
        }
        for (size_t index = 0; index < columns.size(); ++index) {
          std::string_view value = Trim(row.fields[index]);
          if (value.empty()) continue;
          if (columns[index] == kAdministers) {
            size_t start = 0;
            while (start <= value.size()) {
              size_t end = value.find(';', start);
              if (end == std::string_view::npos) end = value.size();
              std::string_view item = Trim(value.substr(start, end - start));
              if (!item.empty()) raw.administers.emplace_back(item);
              start = end + 1;
            }
            continue;
          }
          raw.fields[columns[index]] = std::string(value);
        }
        rows.push_back(std::move(raw));
        return absl::OkStatus();
      },
      CsvLimits{.max_field_bytes = kMaxFieldBytes});
  if (!status.ok()) {
    // The CSV layer says "FILE: record N: ..."; the import calls the same numbers rows.
    std::string message = Message(status);
    const std::string prefix = Cat(path, ": record ");
    if (message.rfind(prefix, 0) == 0) message = Cat(path, ": row ", message.substr(prefix.size()));
    return absl::Status(status.code(), message);
  }
  if (columns.empty() && rows.empty()) {
    return absl::InvalidArgumentError(Cat(path, " has no header and no rows"));
  }
  if (rows.empty()) return absl::InvalidArgumentError(Cat(path, " has a header but no rows"));
  return rows;
}

// The text of a JSON property for a RawRow; nullopt for null. Sets `problem` when the value is
// of a type no field takes.
std::optional<std::string> PropertyText(std::string_view key, const json& value,
                                        std::string& problem) {
  switch (value.type()) {
    case json::value_t::null:
      return std::nullopt;
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case json::value_t::number_float: {
      if (key == "code" || key == "parent") {
        problem = Cat("property '", key, "' is a JSON number too large to be exact (", value.dump(),
                      "); write codes as strings");
        return std::nullopt;
      }
      return value.dump();
    }
    default:
      problem = Cat("property '", key, "' must be a string or a number, not ", value.type_name());
      return std::nullopt;
  }
}

bool TooDeep(const json& root, int max_depth) {
  std::vector<std::pair<const json*, int>> stack{{&root, 1}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (depth > max_depth) return true;
    if (value->is_structured()) {
      for (const json& child : *value) stack.emplace_back(&child, depth + 1);
    }
  }
  return false;
}

RawRow ReadFeature(const json& feature, size_t number) {
  RawRow raw{.number = number, .feature = true};
  if (!feature.is_object()) {
    raw.problem = "not a JSON object";
    return raw;
  }
  auto type = feature.find("type");
  if (type == feature.end() || !type->is_string() || type->get<std::string>() != "Feature") {
    raw.problem = "not a GeoJSON Feature (\"type\": \"Feature\")";
    return raw;
  }
  auto properties = feature.find("properties");
  if (properties == feature.end() || !properties->is_object()) {
    raw.problem = "no \"properties\" object";
    return raw;
  }
  // The code first, so that any problem below is reported with it.
  if (auto code = properties->find("code"); code != properties->end() && code->is_string()) {
    raw.fields[kCode] = code->get<std::string>();
  }
  for (const auto& [key, value] : properties->items()) {
    std::optional<Field> field = FieldByName(key, /*csv=*/false);
    if (!field) {
      raw.problem =
          Cat("unknown property '", Printable(key), "' (known: ", KnownFields(false), ")");
      return raw;
    }
    if (*field == kAdministers) {
      if (value.is_null()) continue;
      if (!value.is_array()) {
        raw.problem = "property 'administers' must be an array of codes";
        return raw;
      }
      for (const json& item : value) {
        std::optional<std::string> text = PropertyText("parent", item, raw.problem);
        if (!raw.problem.empty()) {
          raw.problem = "property 'administers' must be an array of codes (strings)";
          return raw;
        }
        if (text && !text->empty()) raw.administers.push_back(std::move(*text));
      }
      continue;
    }
    std::optional<std::string> text = PropertyText(key, value, raw.problem);
    if (!raw.problem.empty()) return raw;
    if (text && !Trim(*text).empty()) raw.fields[*field] = std::string(Trim(*text));
  }
  auto geometry = feature.find("geometry");
  if (geometry != feature.end() && !geometry->is_null()) {
    if (!geometry->is_object()) {
      raw.problem = "\"geometry\" must be an object or null";
      return raw;
    }
    if (TooDeep(*geometry, kMaxGeometryDepth)) {
      raw.problem = "\"geometry\" nests deeper than any Point, Polygon or MultiPolygon";
      return raw;
    }
    raw.geojson = geometry->dump();
  }
  return raw;
}

absl::StatusOr<std::vector<RawRow>> ReadGeoJsonRows(const fs::path& file, const std::string& text) {
  const std::string path = file.string();
  try {
    json document = json::parse(text);
    auto fail = [&](std::string_view what) {
      return absl::InvalidArgumentError(Cat(path, ": ", what));
    };
    if (!document.is_object()) return fail("expected a GeoJSON FeatureCollection object");
    auto type = document.find("type");
    if (type == document.end() || !type->is_string() ||
        type->get<std::string>() != "FeatureCollection") {
      return fail("expected a GeoJSON FeatureCollection (\"type\": \"FeatureCollection\")");
    }
    auto features = document.find("features");
    if (features == document.end() || !features->is_array()) {
      return fail("a FeatureCollection needs a \"features\" array");
    }
    if (features->empty()) return fail("the FeatureCollection has no features");
    std::vector<RawRow> rows;
    rows.reserve(features->size());
    size_t number = 0;
    for (const json& feature : *features) rows.push_back(ReadFeature(feature, ++number));
    return rows;
  } catch (const json::parse_error& error) {
    return absl::InvalidArgumentError(Cat(path, ": not valid JSON: ", error.what()));
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(Cat(path, ": cannot read GeoJSON: ", error.what()));
  }
}

absl::StatusOr<std::string> ReadWholeFile(const fs::path& file, uintmax_t size) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat(file.string(), ": cannot open"));
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return absl::DataLossError(Cat(file.string(), ": read error"));
  return text;
}

// True when the file's first meaningful byte (after a BOM and white space) is '{'.
bool StartsWithBrace(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::string_view view = head;
  if (view.substr(0, kUtf8Bom.size()) == kUtf8Bom) view.remove_prefix(kUtf8Bom.size());
  size_t first = view.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && view[first] == '{';
}

absl::StatusOr<std::vector<RawRow>> ReadRows(const fs::path& file) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    return absl::NotFoundError(Cat(file.string(), ": no such file"));
  }
  const uintmax_t size = fs::file_size(file, error);
  if (error) return absl::NotFoundError(Cat(file.string(), ": ", error.message()));
  if (size == 0) return absl::InvalidArgumentError(Cat(file.string(), " is empty"));
  if (size > kMaxFileBytes) {
    return absl::InvalidArgumentError(Cat(file.string(), " is ", size, " bytes; files over 1 GiB (",
                                          kMaxFileBytes, " bytes) are refused"));
  }
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  bool geojson = extension == ".geojson" || extension == ".json";
  if (!geojson && extension != ".csv") geojson = StartsWithBrace(file);
  if (!geojson) return ReadCsvRows(file);
  PA_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file, size));
  return ReadGeoJsonRows(file, text);
}

// ---------------------------------------------------------------------------------------------
// Checking a row on its own.

// A non-negative integer of at most 18 digits (no sign, no spaces, no fraction).
std::optional<int64_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Names are printed one per line: no line breaks, tabs or other C0/DEL controls.
bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

std::string CodeText(const AddressCode& code, Level level) {
  return code.ToString().substr(0, std::max(LevelDigits(level), 2));
}

constexpr Level kImportLevels[] = {Level::kDistrict, Level::kTown, Level::kCommunity, Level::kGrid,
                                   Level::kBuilding};

bool IsManagementLevel(Level level) { return level == Level::kDistrict || level == Level::kTown; }

absl::StatusOr<Row> CheckRow(const RawRow& raw, size_t order, Geos& geos) {
  Row row{.order = order};
  row.label = Cat(raw.feature ? "feature " : "row ", raw.number);
  row.where = row.label;
  if (const auto& code = raw.fields[kCode]; code && code->size() <= 64) {
    row.where = Cat(row.label, " (code ", Printable(*code, 40), ")");
  }
  auto fail = [&](std::string_view what) {
    return absl::InvalidArgumentError(Cat(row.where, ": ", what));
  };
  if (!raw.problem.empty()) return fail(raw.problem);
  for (int index = 0; index < kFieldCount; ++index) {
    if (raw.fields[index] && raw.fields[index]->size() > kMaxFieldBytes) {
      return fail(Cat("'", kFieldNames[index], "' is over the 1 MiB limit for a field"));
    }
  }
  if (raw.geojson && raw.geojson->size() > kMaxFieldBytes) {
    return fail(Cat("geometry of ", raw.geojson->size(), " bytes is over the 1 MiB limit"));
  }

  // Code and level.
  if (!raw.fields[kCode]) return fail("missing code");
  const std::string& code_text = *raw.fields[kCode];
  auto code = AddressCode::ParsePrefix(code_text);
  if (!code.ok()) return fail(Cat("code: ", Message(code.status())));
  row.code = *code;
  if (!raw.fields[kLevel]) {
    return fail("missing level (district, town, community, grid or building)");
  }
  std::optional<Level> level = ParseLevel(*raw.fields[kLevel]);
  if (!level || std::find(std::begin(kImportLevels), std::end(kImportLevels), *level) ==
                    std::end(kImportLevels)) {
    return fail(Cat("unknown level '", Printable(*raw.fields[kLevel]),
                    "' (district, town, community, grid or building)"));
  }
  row.level = *level;
  const int digits = LevelDigits(row.level);
  const int above = LevelDigits(static_cast<Level>(static_cast<int>(row.level) - 1));
  if (static_cast<int>(code_text.size()) != digits &&
      static_cast<int>(code_text.size()) != AddressCode::kDigits) {
    return fail(Cat("a ", LevelName(row.level), " code has ", digits, " digits (or all 27), not ",
                    code_text.size()));
  }
  if (row.code.SignificantDigits() > digits) {
    return fail(Cat("a ", LevelName(row.level), " code must not set digits after digit ", digits));
  }
  if (row.code.SignificantDigits() <= above) {
    return fail(Cat("a ", LevelName(row.level), " code must set digits ", above + 1, "-", digits,
                    " (all zero here)"));
  }
  if (row.level == Level::kDistrict && row.code.Digits(4, 2) < 90) {
    return fail(
        Cat("district rows are management units and take a reserved code: digits 5-6 "
            "must be 90-99, not ",
            code_text.substr(4, 2)));
  }
  if (row.level == Level::kTown && row.code.Digits(6, 3) < 900) {
    return fail(
        Cat("town rows are management units and take a reserved code: digits 7-9 must "
            "be 900-999, not ",
            code_text.substr(6, 3)));
  }

  // Name and parent.
  if (!raw.fields[kName]) return fail("missing name");
  if (!IsValidUtf8(*raw.fields[kName])) return fail("name is not valid UTF-8");
  if (HasControlCharacter(*raw.fields[kName])) return fail("name contains a control character");
  row.name = *raw.fields[kName];
  if (!raw.fields[kParent]) return fail("missing parent");
  auto parent = AddressCode::ParsePrefix(*raw.fields[kParent]);
  if (!parent.ok()) return fail(Cat("parent: ", Message(parent.status())));
  row.parent = *parent;

  // Figures.
  for (int index = 0; index < kFigureCount; ++index) {
    const auto& text = raw.fields[kFirstFigure + index];
    if (!text) continue;
    row.figures[index] = ParseCount(*text);
    if (!row.figures[index]) {
      return fail(Cat(kFieldNames[kFirstFigure + index], " '", Printable(*text, 40),
                      "' is not a non-negative integer"));
    }
  }

  // Building details.
  for (int index = kFirstBuildingField; index <= kLastBuildingField; ++index) {
    if (raw.fields[index] && row.level != Level::kBuilding) {
      return fail(Cat("'", kFieldNames[index], "' is only for buildings"));
    }
  }
  struct Bounded {
    Field field;
    int64_t min, max;
    std::optional<int64_t>* out;
  };
  for (const Bounded& spec :
       {Bounded{kEntrances, 0, 99, &row.entrances}, Bounded{kFloors, 1, 999, &row.floors},
        Bounded{kRoomsPerFloor, 1, 99, &row.rooms_per_floor},
        Bounded{kHouseNumber, 1, UINT32_MAX, &row.house_number}}) {
    const auto& text = raw.fields[spec.field];
    if (!text) continue;
    std::optional<int64_t> value = ParseCount(*text);
    if (!value || *value < spec.min || *value > spec.max) {
      return fail(Cat(kFieldNames[spec.field], " '", Printable(*text, 40), "' must be an integer ",
                      spec.min, "-", spec.max));
    }
    *spec.out = value;
  }
  if (raw.fields[kRoad]) {
    if (!IsValidUtf8(*raw.fields[kRoad])) return fail("road is not valid UTF-8");
    if (HasControlCharacter(*raw.fields[kRoad])) return fail("road contains a control character");
    row.road = *raw.fields[kRoad];
  }
  if (row.road.has_value() != row.house_number.has_value()) {
    return fail("road and house_number go together");
  }

  // Administered units.
  if (!raw.administers.empty() && !IsManagementLevel(row.level)) {
    return fail("'administers' is only for management units (district or town rows)");
  }
  for (const std::string& text : raw.administers) {
    if (text.size() > 64) return fail("administers: a code is too long");
    auto administered = AddressCode::ParsePrefix(text);
    if (!administered.ok()) return fail(Cat("administers: ", Message(administered.status())));
    if (std::find(row.administers.begin(), row.administers.end(), *administered) !=
        row.administers.end()) {
      return fail(Cat("administers ", text, " twice"));
    }
    row.administers.push_back(*administered);
  }

  // Geometry.
  const bool has_lon_lat = raw.fields[kLon] || raw.fields[kLat];
  if (raw.fields[kWkt] && has_lon_lat) return fail("give either wkt or lon/lat, not both");
  if (has_lon_lat) {
    if (!raw.fields[kLon] || !raw.fields[kLat]) return fail("lon and lat go together");
    std::optional<double> lon = ParseDouble(*raw.fields[kLon]);
    std::optional<double> lat = ParseDouble(*raw.fields[kLat]);
    if (!lon) return fail(Cat("lon '", Printable(*raw.fields[kLon], 40), "' is not a number"));
    if (!lat) return fail(Cat("lat '", Printable(*raw.fields[kLat], 40), "' is not a number"));
    if (*lon < -180 || *lon > 180) return fail(Cat("lon ", *lon, " is outside [-180, 180]"));
    if (*lat < -90 || *lat > 90) return fail(Cat("lat ", *lat, " is outside [-90, 90]"));
    row.geometry = Geometry{.point = true, .lon = *lon, .lat = *lat};
  } else if (raw.fields[kWkt] || raw.geojson) {
    absl::StatusOr<Geometry> geometry =
        raw.fields[kWkt] ? geos.FromWkt(*raw.fields[kWkt]) : geos.FromGeoJson(*raw.geojson);
    if (!geometry.ok()) {
      if (geometry.status().code() != absl::StatusCode::kInvalidArgument) return geometry.status();
      return fail(Cat("geometry: ", Message(geometry.status())));
    }
    row.geometry = std::move(*geometry);
  }
  if (row.geometry) {
    if (row.level == Level::kBuilding && !row.geometry->point) {
      return fail("a building is located by a Point (lon/lat), not a polygon");
    }
    if (row.level != Level::kBuilding && row.geometry->point) {
      return fail(Cat("a ", LevelName(row.level),
                      " takes a Polygon or MultiPolygon; Points (lon/lat) locate buildings"));
    }
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// Checking the rows against each other and the registry, and planning the changes.

// A unit a row names: one already in the registry, or one the file adds (by row index).
struct Target {
  UnitId existing = kNoUnit;
  int row = -1;
  bool valid() const { return existing.valid() || row >= 0; }
  friend bool operator==(const Target&, const Target&) = default;
  template <typename H>
  friend H AbslHashValue(H state, const Target& target) {
    return H::combine(std::move(state), target.existing.value, target.row);
  }
};

struct Plan {
  std::vector<int> order;         // row indices, parents' levels first (stable in file order)
  std::vector<Target> target;     // per row: the unit it replaces, or itself (added)
  std::vector<Target> parent;     // per row
  std::vector<Target> town;       // per building row with a road: the road's town
  std::vector<uint8_t> retiring;  // per registry unit
  size_t retired = 0;
  std::vector<std::pair<Target, Target>> administered;  // (management unit, administered unit)
};

class Planner {
 public:
  // `failed_codes`: codes of rows that have problems of their own (and are not in `rows`);
  // rows naming them are not reported again.
  Planner(const Registry& registry, const std::vector<Row>& rows,
          const absl::flat_hash_set<AddressCode>& failed_codes, Problems& problems)
      : registry_(registry), rows_(rows), failed_codes_(failed_codes), problems_(problems) {}

  Plan Make() {
    plan_.target.assign(rows_.size(), Target{});
    plan_.parent.assign(rows_.size(), Target{});
    plan_.town.assign(rows_.size(), Target{});
    plan_.retiring.assign(registry_.size(), 0);
    for (size_t index = 0; index < rows_.size(); ++index) {
      auto [it, inserted] = by_code_.try_emplace(rows_[index].code, static_cast<int>(index));
      if (!inserted) {
        problems_.Add(rows_[index].order, Cat(rows_[index].where, ": duplicate code (also ",
                                              rows_[it->second].label, ")"));
      }
    }
    plan_.order.resize(rows_.size());
    std::iota(plan_.order.begin(), plan_.order.end(), 0);
    std::stable_sort(plan_.order.begin(), plan_.order.end(),
                     [&](int a, int b) { return rows_[a].level < rows_[b].level; });
    for (size_t begin = 0; begin < plan_.order.size();) {
      size_t end = begin;
      while (end < plan_.order.size() &&
             rows_[plan_.order[end]].level == rows_[plan_.order[begin]].level) {
        ++end;
      }
      // Parents first (they retire synthetic siblings), then replace-or-add: a row's own code
      // may name a synthetic unit that its level's rows retire.
      for (size_t at = begin; at < end; ++at) ResolveParent(plan_.order[at]);
      for (size_t at = begin; at < end; ++at) ResolveSelf(plan_.order[at]);
      begin = end;
    }
    for (int index : plan_.order) {
      ResolveAdministered(index);
      ResolveTown(index);
    }
    return std::move(plan_);
  }

 private:
  // The unit a code names for this import: a row of the file, else a live registry unit.
  // `retiring` is set when it is a registry unit this import retires.
  std::optional<Target> Lookup(const AddressCode& code, bool& retiring) const {
    retiring = false;
    if (auto it = by_code_.find(code); it != by_code_.end()) return Target{.row = it->second};
    if (std::optional<UnitId> id = registry_.Find(code); id && !registry_.retired(*id)) {
      retiring = plan_.retiring[id->value] != 0;
      return Target{.existing = *id};
    }
    return std::nullopt;
  }
  Level LevelOf(const Target& target) const {
    return target.existing.valid() ? registry_.level(target.existing) : rows_[target.row].level;
  }
  const AddressCode& CodeOf(const Target& target) const {
    return target.existing.valid() ? registry_.code(target.existing) : rows_[target.row].code;
  }
  std::string Describe(UnitId id) const {
    return Cat(CodeText(registry_.code(id), registry_.level(id)), " (", registry_.name(id), ")");
  }

  void ResolveParent(int index) {
    const Row& row = rows_[index];
    bool retiring = false;
    std::optional<Target> found = Lookup(row.parent, retiring);
    const std::string parent_text =
        row.parent.ToString().substr(0, std::max(row.parent.SignificantBoundary(), 2));
    if (!found) {
      if (failed_codes_.contains(row.parent)) return;  // that row's problem is reported
      problems_.Add(row.order, Cat(row.where, ": parent ", parent_text, " is not a known unit"));
      return;
    }
    if (retiring) {
      problems_.Add(row.order, Cat(row.where, ": parent ", Describe(found->existing),
                                   " is a synthetic unit that this import retires"));
      return;
    }
    Target parent = *found;
    if (parent.row >= 0) {
      if (rows_[parent.row].level >= row.level) {
        problems_.Add(row.order,
                      Cat(row.where, ": a ", LevelName(row.level),
                          " must be below its parent's level (", parent_text, " is a ",
                          LevelName(rows_[parent.row].level), ", ", rows_[parent.row].label, ")"));
        return;
      }
      parent = plan_.target[parent.row];  // decided: its level comes earlier
      if (!parent.valid()) return;        // the parent row had a problem of its own
    }
    const Level parent_level = LevelOf(parent);
    if (parent_level >= row.level) {
      problems_.Add(row.order, Cat(row.where, ": a ", LevelName(row.level),
                                   " must be below its parent's level (", parent_text, " is a ",
                                   LevelName(parent_level), ")"));
      return;
    }
    if (row.code.Truncate(LevelDigits(parent_level)) != CodeOf(parent)) {
      problems_.Add(row.order,
                    Cat(row.where, ": code is not under its parent's code ", parent_text));
      return;
    }
    plan_.parent[index] = parent;
    if (parent.existing.valid()) RetireSyntheticChildren(parent.existing, row.level);
  }

  // The first time the file gives `parent`'s children at `level`, its synthetic children at
  // that level retire, with everything below them.
  void RetireSyntheticChildren(UnitId parent, Level level) {
    if (!retired_parents_.insert({parent.value, level}).second) return;
    std::vector<UnitId> stack;
    for (UnitId child : registry_.children(parent)) {
      if (registry_.level(child) == level && registry_.kind(child) == UnitKind::kSynthetic) {
        stack.push_back(child);
      }
    }
    while (!stack.empty()) {
      UnitId at = stack.back();
      stack.pop_back();
      if (plan_.retiring[at.value]) continue;
      plan_.retiring[at.value] = 1;
      ++plan_.retired;
      for (UnitId child : registry_.children(at)) stack.push_back(child);
    }
  }

  void ResolveSelf(int index) {
    const Row& row = rows_[index];
    std::optional<UnitId> existing = registry_.Find(row.code);
    if (!existing || registry_.retired(*existing) || plan_.retiring[existing->value]) {
      plan_.target[index] = Target{.row = index};
      return;
    }
    plan_.target[index] = Target{.existing = *existing};
    if (registry_.level(*existing) != row.level) {
      problems_.Add(row.order, Cat(row.where, ": ", Describe(*existing), " is a ",
                                   LevelName(registry_.level(*existing)),
                                   " in the registry, not a ", LevelName(row.level)));
      return;
    }
    const Target& parent = plan_.parent[index];
    if (!parent.valid()) return;  // already reported
    if (parent.existing != registry_.parent(*existing) &&
        parent.existing != registry_.stat_parent(*existing)) {
      problems_.Add(row.order, Cat(row.where, ": already registered under ",
                                   Describe(registry_.parent(*existing)),
                                   "; an import does not move units to another parent"));
    }
  }

  void ResolveAdministered(int index) {
    const Row& row = rows_[index];
    const Target manager = plan_.target[index];
    for (const AddressCode& code : row.administers) {
      std::string shown = code.ToString().substr(0, std::max(code.SignificantBoundary(), 2));
      bool retiring = false;
      std::optional<Target> found = Lookup(code, retiring);
      if (!found) {
        if (failed_codes_.contains(code)) continue;  // that row's problem is reported
        problems_.Add(row.order,
                      Cat(row.where, ": administers ", shown, ", which is not a known unit"));
        continue;
      }
      if (retiring) {
        problems_.Add(row.order, Cat(row.where, ": administers ", Describe(found->existing),
                                     ", which this import retires"));
        continue;
      }
      Target unit = found->row >= 0 ? plan_.target[found->row] : *found;
      if (!unit.valid() || !manager.valid()) continue;
      if (LevelOf(unit) <= row.level) {
        problems_.Add(row.order,
                      Cat(row.where, ": administers ", shown, ", a ", LevelName(LevelOf(unit)),
                          ", which is not below a ", LevelName(row.level)));
        continue;
      }
      auto [it, inserted] = administered_by_.try_emplace(unit, index);
      if (!inserted) {
        problems_.Add(row.order, Cat(row.where, ": administers ", shown, ", which ",
                                     rows_[it->second].label, " administers too"));
        continue;
      }
      plan_.administered.emplace_back(manager, unit);
    }
  }

  void ResolveTown(int index) {
    const Row& row = rows_[index];
    if (!row.road || !plan_.parent[index].valid()) return;
    const AddressCode town_code = row.code.Truncate(LevelDigits(Level::kTown));
    bool retiring = false;
    std::optional<Target> found = Lookup(town_code, retiring);
    if (found && found->row >= 0) found = plan_.target[found->row];
    if (!found && failed_codes_.contains(town_code)) return;  // that row's problem is reported
    if (!found || retiring || !found->valid() || LevelOf(*found) != Level::kTown) {
      problems_.Add(row.order,
                    Cat(row.where, ": road '", Printable(*row.road), "' needs a town, and no town ",
                        CodeText(town_code, Level::kTown), " is above the building"));
      return;
    }
    plan_.town[index] = *found;
  }

  const Registry& registry_;
  const std::vector<Row>& rows_;
  const absl::flat_hash_set<AddressCode>& failed_codes_;
  Problems& problems_;
  Plan plan_;
  absl::flat_hash_map<AddressCode, int> by_code_;
  absl::flat_hash_map<Target, int> administered_by_;
  absl::flat_hash_set<std::pair<uint32_t, Level>> retired_parents_;
};

// ---------------------------------------------------------------------------------------------
// Applying the plan to a builder holding the registry.

void ApplyRow(const Row& row, UnitRecord& record) {
  record.name = row.name;
  int64_t* figures[kFigureCount] = {&record.figures.resident, &record.figures.floating,
                                    &record.figures.enterprises, &record.figures.houses,
                                    &record.figures.households};
  for (int index = 0; index < kFigureCount; ++index) {
    if (row.figures[index]) *figures[index] = *row.figures[index];
  }
  if (row.geometry) {
    if (row.geometry->point) {
      record.building.lon = row.geometry->lon;
      record.building.lat = row.geometry->lat;
    } else {
      record.geometry = row.geometry->geojson;
      record.box = row.geometry->box;
    }
  }
  if (row.level == Level::kBuilding) {
    BuildingInfo& info = record.building;
    if (row.entrances) info.entrances = static_cast<uint8_t>(*row.entrances);
    if (row.floors) info.floors = static_cast<uint16_t>(*row.floors);
    if (row.rooms_per_floor) info.rooms_per_floor = static_cast<uint8_t>(*row.rooms_per_floor);
    if (row.house_number) info.house_number = static_cast<uint32_t>(*row.house_number);
  }
}

absl::StatusOr<Registry> Apply(const Registry& registry, const std::vector<Row>& rows,
                               const Plan& plan, UnitsImportResult& result) {
  RegistryBuilder builder = RegistryBuilder::FromRegistry(registry);
  for (size_t index = 0; index < plan.retiring.size(); ++index) {
    if (plan.retiring[index]) builder.record(UnitId{static_cast<uint32_t>(index)}).retired = true;
  }
  absl::flat_hash_map<std::pair<uint32_t, std::string>, uint32_t> roads;
  for (size_t index = 0; index < builder.roads().size(); ++index) {
    const Road& road = builder.roads()[index];
    roads.try_emplace(std::make_pair(road.town.value, road.name), static_cast<uint32_t>(index));
  }
  std::vector<UnitId> ids(rows.size());
  auto id_of = [&](const Target& target) {
    return target.existing.valid() ? target.existing : ids[target.row];
  };
  for (int index : plan.order) {
    const Row& row = rows[index];
    const Target& target = plan.target[index];
    if (target.existing.valid()) {
      ids[index] = target.existing;
      ApplyRow(row, builder.record(target.existing));
      ++result.replaced;
    } else {
      UnitRecord record{
          .code = row.code,
          .level = row.level,
          .parent = id_of(plan.parent[index]),
          .kind = IsManagementLevel(row.level) ? UnitKind::kManagement : UnitKind::kImported};
      ApplyRow(row, record);
      ids[index] = builder.Add(std::move(record));
      ++result.added;
    }
    if (row.road) {
      const UnitId town = id_of(plan.town[index]);
      auto [it, inserted] = roads.try_emplace(std::make_pair(town.value, *row.road),
                                              static_cast<uint32_t>(builder.roads().size()));
      if (inserted) {
        builder.AddRoad(Road{.name = *row.road, .town = town});
        ++result.roads_added;
      }
      builder.record(ids[index]).building.road = it->second;
    }
  }
  for (const auto& [manager, unit] : plan.administered) {
    UnitRecord& record = builder.record(id_of(unit));
    if (!record.stat_parent.valid()) record.stat_parent = record.parent;
    record.parent = id_of(manager);
    ++result.administered;
  }
  absl::StatusOr<Registry> built = std::move(builder).Build();
  if (!built.ok()) {
    return absl::InvalidArgumentError(
        Cat("the import would leave an inconsistent registry: ", Message(built.status())));
  }
  return built;
}

}  // namespace

absl::StatusOr<UnitsImportResult> ImportUnitsFile(const std::filesystem::path& file, DataDir& data,
                                                  bool dry_run) {
  if (!data.store)
    return absl::FailedPreconditionError("import units: the data directory is not open");
  PA_ASSIGN_OR_RETURN(std::vector<RawRow> raw_rows, ReadRows(file));
  UnitsImportResult result;
  result.rows = raw_rows.size();

  Problems problems;
  std::vector<Row> rows;
  rows.reserve(raw_rows.size());
  absl::flat_hash_set<AddressCode> failed_codes;
  {
    Geos geos;
    for (size_t index = 0; index < raw_rows.size(); ++index) {
      absl::StatusOr<Row> row = CheckRow(raw_rows[index], index, geos);
      if (row.ok()) {
        rows.push_back(std::move(*row));
      } else if (row.status().code() == absl::StatusCode::kInvalidArgument) {
        problems.Add(index, Message(row.status()));
        if (const auto& code = raw_rows[index].fields[kCode]; code && code->size() <= 64) {
          if (auto parsed = AddressCode::ParsePrefix(*code); parsed.ok()) {
            failed_codes.insert(*parsed);
          }
        }
      } else {
        return row.status();
      }
    }
  }
  raw_rows.clear();
  raw_rows.shrink_to_fit();

  // The rows without problems of their own are checked against each other and the registry
  // too, so that one run reports every problem.
  // Read the generation first: the save refuses if another writer saved in between.
  PA_ASSIGN_OR_RETURN(std::optional<std::string> generation, data.store->GetMeta("registry_generation"));
  PA_ASSIGN_OR_RETURN(Registry registry, data.store->LoadRegistry());
  Plan plan = Planner(registry, rows, failed_codes, problems).Make();
  if (!problems.empty()) return problems.ToStatus();
  result.retired = plan.retired;

  PA_ASSIGN_OR_RETURN(Registry updated, Apply(registry, rows, plan, result));
  result.units = updated.size();
  if (!dry_run) PA_RETURN_IF_ERROR(data.store->SaveRegistry(updated, generation.value_or("")));
  return result;
}

}  // namespace pingan
