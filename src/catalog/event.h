// One event in canonical form (INDICATORS.md "Canonical event types"), as ingest produces it,
// the store keeps it and the cube counts it; with where it was placed on the registry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pingan {

enum class EventStatus : uint8_t { kActive = 0, kWithdrawn = 1 };
std::string_view EventStatusName(EventStatus status);  // "active", "withdrawn"

// How an event was placed: by its 27-digit code, by its point, by geocoding its address text,
// or not at all (unplaced: counted at the home city as 未落地).
enum class PlaceMethod : uint8_t { kNone = 0, kCode = 1, kPoint = 2, kText = 3 };
std::string_view PlaceMethodName(PlaceMethod method);  // "none", "code", "point", "text"

struct Placement {
  PlaceMethod method = PlaceMethod::kNone;
  // The 27-digit code of the deepest unit the event was placed on (the home city's code when
  // unplaced), and its level (address/code.h Level as an integer: 2 city ... 9 room).
  std::string unit;
  uint8_t level = 0;
  // Geocoder's answer when placed by text: MatchStatusName (matched, partial, ambiguous,
  // unmatched, invalid) and confidence; "" and 1 for code and point placements.
  std::string geocode_status;
  float confidence = 0;
  // False when placed outside the home city: stored, never counted in the city's figures.
  bool in_home_city = true;
};

struct EventRecord {
  std::string source;     // source system id (police, court, ...)
  std::string source_id;  // unique within its source
  std::string type;       // canonical event type id (criminal.theft)
  int64_t occurred_at = 0;  // seconds since the Unix epoch (UTC)
  std::string address;      // as sent ("" when none)
  std::optional<double> lon, lat;
  std::string code;         // as sent, 27 digits after padding ("" when none)
  EventStatus status = EventStatus::kActive;
  // Every attribute as sent, as one JSON object with keys sorted (declared attributes in their
  // kind: bools true/false, numbers as numbers), "{}" when none.
  std::string attributes_json = "{}";
  // Declared bool/int/number attributes for measures: (Catalog::attributes index, value), sorted
  // by index; bools as 0/1.
  std::vector<std::pair<uint16_t, double>> numbers;
  Placement placement;

  // Back to a default-constructed record, keeping the capacity of its strings and vectors: a
  // record reused batch after batch costs no allocation. Every field is reset here; a new field
  // must be added too (tests/ingest: a reused record converts exactly like a fresh one).
  void Clear() {
    source.clear();
    source_id.clear();
    type.clear();
    occurred_at = 0;
    address.clear();
    lon.reset();
    lat.reset();
    code.clear();
    status = EventStatus::kActive;
    attributes_json.assign("{}");
    numbers.clear();
    placement.method = PlaceMethod::kNone;
    placement.unit.clear();
    placement.level = 0;
    placement.geocode_status.clear();
    placement.confidence = 0;
    placement.in_home_city = true;
  }

  std::optional<double> Number(uint16_t attribute) const {
    for (const auto& [index, value] : numbers) {
      if (index == attribute) return value;
    }
    return std::nullopt;
  }
};

// A tripwire for EventRecord::Clear: a field added to EventRecord or Placement changes these
// sizes (on x86-64 with libstdc++); add it to Clear, then update them.
static_assert(sizeof(void*) != 8 || sizeof(std::string) != 32 || (sizeof(EventRecord) == 352 && sizeof(Placement) == 88),
              "EventRecord changed: reset the new field in EventRecord::Clear()");

}  // namespace pingan
