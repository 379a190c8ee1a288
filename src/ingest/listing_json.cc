#include "ingest/listing_json.h"

#include <charconv>
#include <cstdlib>

#include "address/code.h"
#include "catalog/masking.h"
#include "core/civil_time.h"

namespace pingan {

using nlohmann::json;

namespace {

// A stored float as the shortest decimal that reads back as it (0.9f is 0.9, not the double
// 0.8999999761581421 that converting it gives).
double Shown(float value) {
  char text[32];
  const auto [end, error] = std::to_chars(text, text + sizeof(text) - 1, value);
  if (error != std::errc()) return static_cast<double>(value);
  *end = '\0';
  return std::strtod(text, nullptr);
}

}  // namespace

json StoredEventJson(const Catalog& catalog, const StoredEvent& stored, const absl::TimeZone& zone, bool unmasked) {
  const EventRecord& event = stored.event;
  const Placement& placement = event.placement;
  const std::string attributes = unmasked ? event.attributes_json : MaskAttributesJson(catalog, event.attributes_json);
  json line{{"id", stored.id},
            {"source", event.source},
            {"source_id", event.source_id},
            {"type", event.type},
            {"occurred_at", FormatTime(event.occurred_at, zone)},
            {"status", EventStatusName(event.status)},
            {"attributes", json::parse(attributes, nullptr, false)},
            {"unit", placement.unit},
            {"level", LevelName(static_cast<Level>(placement.level))},
            {"placed_by", PlaceMethodName(placement.method)},
            {"counted", placement.in_home_city}};
  if (!event.address.empty()) line["address"] = unmasked ? event.address : MaskDigitRuns(event.address);
  if (event.lon) line["lon"] = *event.lon, line["lat"] = *event.lat;
  if (!event.code.empty()) line["code"] = event.code;
  if (placement.method == PlaceMethod::kText || !placement.geocode_status.empty()) {
    line["geocode"] = {{"status", placement.geocode_status}, {"confidence", Shown(placement.confidence)}};
  }
  return line;
}

json QuarantineEntryJson(const QuarantineEntry& entry, const absl::TimeZone& zone, bool unmasked) {
  return json{{"id", entry.id},
              {"source", entry.source},
              {"source_id", entry.source_id},
              {"reason", entry.reason},
              {"message", entry.message},
              {"raw", unmasked ? entry.raw : MaskDigitRuns(entry.raw)},
              {"file", entry.file},
              {"line", entry.line},
              {"received_at", FormatTime(entry.received_at, zone)}};
}

}  // namespace pingan
