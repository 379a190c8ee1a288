// Stored events and quarantine entries as JSON, as `pingan events --json`, `pingan quarantine
// --json` and the API's /api/events and /api/quarantine list them: personal attributes and
// phone and ID numbers in address and raw text masked unless `unmasked` (the caller audits that).
#pragma once

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "catalog/catalog.h"
#include "store/event_store.h"

namespace pingan {

// {id, source, source_id, type, occurred_at, status, attributes, unit, level, placed_by, counted
//  [, address][, lon, lat][, code][, geocode: {status, confidence}]}
nlohmann::json StoredEventJson(const Catalog& catalog, const StoredEvent& stored, const absl::TimeZone& zone,
                               bool unmasked);

// {id, source, source_id, reason, message, raw, file, line, received_at}
nlohmann::json QuarantineEntryJson(const QuarantineEntry& entry, const absl::TimeZone& zone, bool unmasked);

}  // namespace pingan
