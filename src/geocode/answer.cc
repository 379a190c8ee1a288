#include "geocode/answer.h"

#include <cmath>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "address/names.h"
#include "core/text.h"

namespace pingan {

using nlohmann::json;

MatchResult GeocodeLine(const Matcher& matcher, std::string_view line, bool too_long, NormalizedAddress& normalized) {
  MatchResult result;
  if (too_long) {
    result.status = MatchStatus::kInvalid;
    result.reason = "too long";
    return result;
  }
  absl::Status status = NormalizeAddressInto(line, NormalizeOptions{.max_bytes = 4096}, normalized);
  if (!status.ok()) {
    result.status = MatchStatus::kInvalid;
    result.reason = InputProblemName(InputProblemOf(status));
    return result;
  }
  if (normalized.text.empty()) {
    result.status = MatchStatus::kInvalid;
    result.reason = "empty";
    return result;
  }
  return matcher.Match(normalized.text);
}

// The input as echoed: runs of 7 or more digits (phone and ID numbers) masked, so that personal
// numbers the normaliser removed do not reappear in the output.
std::string MaskedInput(std::string_view input) {
  std::string out = IsValidUtf8(input) ? std::string(input) : Printable(input, 256);
  size_t run_start = 0, run = 0;
  for (size_t at = 0; at <= out.size(); ++at) {
    const bool digit = at < out.size() && ((out[at] >= '0' && out[at] <= '9') || out[at] == 'X' || out[at] == 'x');
    if (digit) {
      if (run++ == 0) run_start = at;
      continue;
    }
    if (run >= 7) std::fill(out.begin() + run_start, out.begin() + at, '*');
    run = 0;
  }
  return out;
}

namespace {

// A path step as JSON: {"level":..,"code":..,"name":..[,"governed_by":{..}]}.
json StepJson(const Registry& registry, UnitId unit) {
  json step{{"level", LevelName(registry.level(unit))}, {"code", registry.code(unit).ToString()},
            {"name", registry.name(unit)}};
  if (registry.parent(unit) != registry.stat_parent(unit)) {
    step["governed_by"] = {{"code", registry.code(registry.parent(unit)).ToString()},
                           {"name", registry.name(registry.parent(unit))}};
  }
  return step;
}

std::string Dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string JsonQuoted(std::string_view text) { return Dump(json(text)); }

// StepJson(...) dumped, without building the object (a std::map of four nodes and their strings
// for every new building): the keys in the order nlohmann dumps them, sorted.
std::string PathStepJson(const Registry& registry, UnitId unit) {
  std::string out = fmt::format(R"({{"code":"{}",)", registry.code(unit).ToString());
  if (registry.parent(unit) != registry.stat_parent(unit)) {
    const UnitId parent = registry.parent(unit);
    fmt::format_to(std::back_inserter(out), R"("governed_by":{{"code":"{}","name":{}}},)",
                   registry.code(parent).ToString(), JsonQuoted(registry.name(parent)));
  }
  fmt::format_to(std::back_inserter(out), R"("level":"{}","name":{}}})", LevelName(registry.level(unit)),
                 JsonQuoted(registry.name(unit)));
  return out;
}

json PathJson(const Registry& registry, const Place& place) {
  std::vector<UnitId> chain;
  for (UnitId at = place.unit; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) chain.push_back(at);
  json path = json::array();
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    path.push_back(StepJson(registry, *it));
  }
  // Entrance and room inside a building.
  if (place.level >= Level::kUnit && place.entrance != 0) {
    Place entrance{place.unit, Level::kUnit, place.entrance};
    path.push_back({{"level", LevelName(Level::kUnit)}, {"code", registry.PlaceCode(entrance).ToString()},
                    {"name", registry.PlaceName(entrance)}});
  }
  if (place.level == Level::kRoom) {
    path.push_back({{"level", LevelName(Level::kRoom)}, {"code", registry.PlaceCode(place).ToString()},
                    {"name", registry.PlaceName(place)}});
  }
  return path;
}


void GeocodeAnswerWriter::Write(std::string_view input, const MatchResult& result, std::string& out) {
  out.clear();
  fmt::format_to(std::back_inserter(out), R"({{"input":{},"status":"{}")", JsonQuoted(MaskedInput(input)),
                 MatchStatusName(result.status));
  if (result.unit().valid()) {
    fmt::format_to(std::back_inserter(out), R"(,"code":"{}","level":"{}","confidence":{},"path":[)",
                   registry_.PlaceCode(result.place).ToString(), LevelName(result.level()),
                   std::round(result.confidence * 1000) / 1000);
    AppendPath(result.place, out);
    out += ']';
  } else {
    out += R"(,"confidence":0)";
  }
  if (!result.alternatives.empty()) {
    // Each {code, level, name, path} in nlohmann's (sorted) key order, the path from the caches.
    out += R"(,"alternatives":[)";
    for (size_t index = 0; index < result.alternatives.size(); ++index) {
      const UnitId unit = result.alternatives[index];
      const Level level = registry_.level(unit);
      fmt::format_to(std::back_inserter(out), R"({}{{"code":"{}","level":"{}","name":{},"path":[)", index > 0 ? "," : "",
                     registry_.code(unit).ToString(), LevelName(level), JsonQuoted(registry_.name(unit)));
      AppendPath(Place{unit, level}, out);
      out += "]}";
    }
    out += ']';
  }
  if (result.formerly != nullptr) {
    out += R"(,"formerly":)";
    out += Dump({{"name", result.formerly->name}, {"code", result.formerly->code.ToString()},
                 {"until", result.formerly->date}});
  }
  if (result.corrected) out += R"(,"corrected":true)";
  if (!result.reason.empty()) {
    out += R"(,"reason":)";
    out += Dump(std::string(result.reason));
  }
  out += '}';
}

const std::string& GeocodeAnswerWriter::Step(UnitId unit) {
  constexpr size_t kCachedSteps = 200'000;
  if (steps_.size() >= kCachedSteps) steps_.clear();
  auto [it, fresh] = steps_.try_emplace(unit.value);
  if (fresh) it->second = PathStepJson(registry_, unit);
  return it->second;
}

const std::string& GeocodeAnswerWriter::Path(UnitId unit) {
  constexpr size_t kCachedPaths = 100'000;
  if (paths_.size() >= kCachedPaths) paths_.clear();
  auto [it, fresh] = paths_.try_emplace(unit.value);
  if (fresh) {
    UnitId chain[2 * kLevelCount];
    int count = 0;
    for (UnitId at = unit; at.valid() && at != registry_.nation() && count < 2 * kLevelCount;
         at = registry_.stat_parent(at)) {
      chain[count++] = at;
    }
    std::string& path = it->second;
    for (int step = count - 1; step >= 0; --step) {
      if (!path.empty()) path += ',';
      path += Step(chain[step]);
    }
  }
  return it->second;
}

// The steps from the province down to `place`, comma-separated.
void GeocodeAnswerWriter::AppendPath(const Place& place, std::string& out) {
  // The steps down to the area holding the place, rendered once per area (a feed names a few
  // thousand grids and communities, but a new building in every other line: whole paths cached
  // per building were ~700 bytes each, allocated and faulted in for each new one), then the
  // building's own step.
  const bool building = registry_.level(place.unit) >= Level::kBuilding;
  const UnitId area = building ? registry_.stat_parent(place.unit) : place.unit;
  const bool above = area.valid() && area != registry_.nation();
  if (above) out += Path(area);
  if (building) {
    if (above) out += ',';
    out += Step(place.unit);
  }
  // Entrance and room: digits and a fixed word, nothing to escape.
  if (place.level >= Level::kUnit && place.entrance != 0) {
    const Place entrance{place.unit, Level::kUnit, place.entrance};
    fmt::format_to(std::back_inserter(out), R"(,{{"code":"{}","level":"unit","name":"{}单元"}})",
                   registry_.PlaceCode(entrance).ToString(), place.entrance);
  }
  if (place.level == Level::kRoom) {
    fmt::format_to(std::back_inserter(out), R"(,{{"code":"{}","level":"room","name":"{}室"}})",
                   registry_.PlaceCode(place).ToString(), place.room);
  }
}

}  // namespace pingan
