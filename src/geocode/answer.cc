#include "geocode/answer.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include <fmt/compile.h>
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

// The input as echoed: phone and ID numbers masked (FindPersonalNumbers: runs of 7 or more
// digits, and numbers written in groups or in full width), so that personal numbers the
// normaliser removed do not reappear in the output.
std::string MaskedInput(std::string_view input) {
  std::string out;
  MaskedInputInto(input, out);
  return out;
}

void MaskedInputInto(std::string_view input, std::string& out) {
  if (IsValidUtf8(input)) out.assign(input);
  else out = Printable(input, 256);
  // Every digit of a phone or ID number becomes '*', separators stay (189 **** ****); a
  // full-width digit's three bytes become one '*'.
  const std::vector<PersonalNumber> numbers = FindPersonalNumbers(out);
  if (numbers.empty()) return;
  std::string masked;
  masked.reserve(out.size());
  size_t copied = 0;
  for (const PersonalNumber& number : numbers) {
    for (const DigitRange& digit : number.digits) {
      masked.append(out, copied, digit.begin - copied);
      masked.push_back('*');
      copied = digit.end;
    }
  }
  masked.append(out, copied, std::string::npos);
  out.swap(masked);
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

namespace {

// Whether nlohmann's dump of `text` as a string (ensure_ascii off) is `text` between quotes:
// valid UTF-8 without a quote, a backslash or a control byte (below 0x20; it leaves DEL as is).
// `known_utf8`: the caller has checked the UTF-8 already.
bool NothingToEscape(std::string_view text, bool known_utf8) {
  // Eight bytes at a time: whether some byte is below 0x20, is '"' or '\\' (a zero byte once
  // XORed with it), or has its high bit set (the word tricks of "Bit Twiddling Hacks": exact
  // as a yes or no for the whole word).
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  const auto below = [](uint64_t word, uint64_t n) { return (word - kOnes * n) & ~word & kHighs; };
  uint64_t escaped = 0, multibyte = 0;
  size_t at = 0;
  for (; at + 8 <= text.size(); at += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + at, 8);
    multibyte |= word & kHighs;
    escaped |= below(word, 0x20) | below(word ^ (kOnes * '"'), 1) | below(word ^ (kOnes * '\\'), 1);
  }
  for (; at < text.size(); ++at) {
    const auto byte = static_cast<unsigned char>(text[at]);
    escaped |= (byte < 0x20) | (byte == '"') | (byte == '\\');
    multibyte |= byte & 0x80;
  }
  return escaped == 0 && (multibyte == 0 || known_utf8 || IsValidUtf8(text));
}

void AppendQuoted(std::string_view text, bool known_utf8, std::string& out) {
  if (NothingToEscape(text, known_utf8)) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += Dump(json(text));
}

}  // namespace

void AppendJsonQuoted(std::string_view text, std::string& out) { AppendQuoted(text, false, out); }

std::string JsonQuoted(std::string_view text) {
  std::string out;
  AppendJsonQuoted(text, out);
  return out;
}

// StepJson(...) dumped, without building the object (a std::map of four nodes and their strings
// for every new building): the keys in the order nlohmann dumps them, sorted.
void AppendPathStepJson(const Registry& registry, UnitId unit, std::string& out) {
  out += R"({"code":")";
  registry.code(unit).AppendTo(out);
  out += R"(",)";
  if (registry.parent(unit) != registry.stat_parent(unit)) {
    const UnitId parent = registry.parent(unit);
    out += R"("governed_by":{"code":")";
    registry.code(parent).AppendTo(out);
    out += R"(","name":)";
    AppendJsonQuoted(registry.name(parent), out);
    out += "},";
  }
  out += R"("level":")";
  out += LevelName(registry.level(unit));
  out += R"(","name":)";
  AppendJsonQuoted(registry.name(unit), out);
  out += '}';
}

std::string PathStepJson(const Registry& registry, UnitId unit) {
  std::string out;
  AppendPathStepJson(registry, unit, out);
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
  out.reserve(1024);  // most answers fit: one allocation for a new string, not one per doubling
  out += R"({"input":)";
  MaskedInputInto(input, echo_);
  AppendQuoted(echo_, /*known_utf8=*/true, out);  // the input as it was if valid, else Printable's
  out += R"(,"status":")";
  out += MatchStatusName(result.status);
  out += '"';
  if (result.unit().valid()) {
    out += R"(,"code":")";
    registry_.PlaceCode(result.place).AppendTo(out);
    out += R"(","level":")";
    out += LevelName(result.level());
    out += R"(","confidence":)";
    fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), std::round(result.confidence * 1000) / 1000);
    out += R"(,"path":[)";
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
      if (index > 0) out += ',';
      out += R"({"code":")";
      registry_.code(unit).AppendTo(out);
      out += R"(","level":")";
      out += LevelName(level);
      out += R"(","name":)";
      AppendJsonQuoted(registry_.name(unit), out);
      out += R"(,"path":[)";
      AppendPath(Place{unit, level}, out);
      out += "]}";
    }
    out += ']';
  }
  if (result.formerly != nullptr) {
    // {code, name, until}: nlohmann's (sorted) key order.
    out += R"(,"formerly":{"code":")";
    result.formerly->code.AppendTo(out);
    out += R"(","name":)";
    AppendJsonQuoted(result.formerly->name, out);
    out += R"(,"until":)";
    AppendJsonQuoted(result.formerly->date, out);
    out += '}';
  }
  if (result.corrected) out += R"(,"corrected":true)";
  if (!result.reason.empty()) {
    out += R"(,"reason":)";
    AppendJsonQuoted(result.reason, out);
  }
  out += '}';
}

const std::string& GeocodeAnswerWriter::Step(UnitId unit) {
  constexpr size_t kCachedSteps = 200'000;
  if (steps_.size() >= kCachedSteps) steps_.clear();
  auto [it, fresh] = steps_.try_emplace(unit.value);
  if (fresh) {
    it->second.reserve(192);  // a step with governed_by fits: one allocation, not one per doubling
    AppendPathStepJson(registry_, unit, it->second);
  }
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
    size_t bytes = 0;
    for (int step = 0; step < count; ++step) bytes += Step(chain[step]).size() + 1;
    path.reserve(bytes);
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
  // building's own step, rendered in place (kept, each new building's step cost an allocation
  // and a map insertion for a step seldom asked for again).
  const bool building = registry_.level(place.unit) >= Level::kBuilding;
  const UnitId area = building ? registry_.stat_parent(place.unit) : place.unit;
  const bool above = area.valid() && area != registry_.nation();
  if (above) out += Path(area);
  if (building) {
    if (above) out += ',';
    AppendPathStepJson(registry_, place.unit, out);
  }
  // Entrance and room: digits and a fixed word, nothing to escape.
  if (place.level >= Level::kUnit && place.entrance != 0) {
    const Place entrance{place.unit, Level::kUnit, place.entrance};
    out += R"(,{"code":")";
    registry_.PlaceCode(entrance).AppendTo(out);
    fmt::format_to(std::back_inserter(out), FMT_COMPILE(R"(","level":"unit","name":"{}单元"}})"), place.entrance);
  }
  if (place.level == Level::kRoom) {
    out += R"(,{"code":")";
    registry_.PlaceCode(place).AppendTo(out);
    fmt::format_to(std::back_inserter(out), FMT_COMPILE(R"(","level":"room","name":"{}室"}})"), place.room);
  }
}

}  // namespace pingan
