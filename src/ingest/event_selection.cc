#include "ingest/event_selection.h"

#include <vector>

#include <nlohmann/json.hpp>

namespace pingan {

EventSelection EventSelection::For(const Registry& registry, const Catalog& catalog, UnitId unit,
                                   const MeasureDef* measure) {
  EventSelection selection(registry, catalog);
  selection.unit_ = unit;
  selection.prefix_ = registry.code(unit).ToString().substr(
      0, static_cast<size_t>(std::max(2, LevelDigits(registry.level(unit)))));
  // Units it governs down to the towns whose codes lie outside its own (below a town, codes
  // follow the governance tree): their prefixes too.
  if (unit == registry.nation()) selection.prefix_.clear();  // everything: no prefix to add to
  for (std::vector<UnitId> pending{unit}; !pending.empty() && !selection.prefix_.empty();) {
    const UnitId at = pending.back();
    pending.pop_back();
    const std::string code = registry.code(at).ToString();
    if (!code.starts_with(selection.prefix_)) {
      selection.more_prefixes_.push_back(
          code.substr(0, static_cast<size_t>(std::max(2, LevelDigits(registry.level(at))))));
      continue;  // its subtree lies under its own prefix
    }
    if (registry.level(at) < Level::kTown) {
      for (UnitId child : registry.children(at)) pending.push_back(child);
    }
  }
  if (measure != nullptr) {
    selection.counted_ = *measure;
    selection.counted_->measure = Measure{};  // whether an event is counted, whatever it adds
  }
  return selection;
}

bool EventSelection::Holds(const EventRecord& event) const {
  // In the unit's governance subtree. A code the registry does not resolve (a unit retired since)
  // is left to the prefix.
  if (const absl::StatusOr<AddressCode> code = AddressCode::Parse(event.placement.unit); code.ok()) {
    if (const absl::StatusOr<Place> place = registry_->Resolve(*code); place.ok() && !registry_->IsWithin(place->unit, unit_)) {
      return false;
    }
  }
  if (!counted_) return true;
  const std::optional<uint16_t> type = catalog_->TypeIndex(event.type);
  if (!type) return false;
  // The measure's conditions read declared attributes as numbers (bools as 0/1), as the cube
  // reads them from the stored JSON.
  probe_.status = event.status;
  probe_.numbers.clear();
  if (!counted_->where.empty()) {
    const nlohmann::json attributes = nlohmann::json::parse(event.attributes_json, nullptr, false);
    if (attributes.is_object()) {
      for (const auto& [name, value] : attributes.items()) {
        const auto index = catalog_->attribute_index.find(name);
        if (index == catalog_->attribute_index.end()) continue;
        if (value.is_boolean()) probe_.numbers.emplace_back(index->second, value.get<bool>() ? 1.0 : 0.0);
        if (value.is_number()) probe_.numbers.emplace_back(index->second, value.get<double>());
      }
    }
  }
  return MeasureContribution(*counted_, *type, probe_) != 0;
}

}  // namespace pingan
