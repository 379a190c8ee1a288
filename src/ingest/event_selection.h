// Which stored events a listing shows for a unit and a measure, as the report counts them
// (`pingan events` and GET /api/events).
//
// Events are counted up the governance tree (docs/registry.md): a management unit such as
// 西湖风景名胜区 holds towns coded under another district (西湖街道, 330106...), and that district
// does not count their events. A unit's events are therefore not simply those whose code starts
// with the unit's digits: `EventSelection` gives the code prefixes for the store's query
// (EventFilter::unit_prefix, more_unit_prefixes) and the exact test for each event it returns.
//
// Example:
//   EventSelection selection = EventSelection::For(registry, catalog, unit, catalog.FindIndicator("criminal.solved"));
//   filter.unit_prefix = selection.prefix(), filter.more_unit_prefixes = selection.more_prefixes();
//   store.ListEvents(filter, [&](const StoredEvent& e) { if (!selection.Holds(e.event)) return true; ... });
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "address/registry.h"
#include "catalog/catalog.h"
#include "catalog/event.h"

namespace pingan {

class EventSelection {
 public:
  // The events counted under `unit`; with `measure` (an indicator or key type), only those its
  // measure counts (its types and conditions; withdrawn records never).
  static EventSelection For(const Registry& registry, const Catalog& catalog, UnitId unit,
                            const MeasureDef* measure = nullptr);

  // The digits a selected event's unit code starts with: the unit's own, or one of the others
  // (the towns a management unit governs under another district's codes).
  const std::string& prefix() const { return prefix_; }
  const std::vector<std::string>& more_prefixes() const { return more_prefixes_; }
  // Whether `event` (as stored: its placement's unit, its attributes as JSON) is selected.
  bool Holds(const EventRecord& event) const;

 private:
  EventSelection(const Registry& registry, const Catalog& catalog) : registry_(&registry), catalog_(&catalog) {}

  const Registry* registry_;
  const Catalog* catalog_;
  UnitId unit_;
  std::string prefix_;
  std::vector<std::string> more_prefixes_;
  std::optional<MeasureDef> counted_;  // the measure as a count: whether an event adds to it
  mutable EventRecord probe_;          // what the measure reads of an event (not thread-safe)
};

}  // namespace pingan
