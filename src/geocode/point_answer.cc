#include "geocode/point_answer.h"

#include <charconv>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/text.h"
#include "geocode/answer.h"

namespace pingan {
namespace {

constexpr size_t kEchoBytes = 256;  // how much of an invalid line the answer echoes

// One number, with optional spaces around it; the whole field must be the number.
const char* ParseNumber(std::string_view field, double& value) {
  while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
  while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
  if (field.empty()) return "missing number";
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error == std::errc::result_out_of_range) return "number out of range";
  if (error != std::errc() || end != field.data() + field.size()) return "not a number";
  if (!std::isfinite(value)) return "not a finite number";
  return nullptr;
}

// Steps from the province down to `unit` along the statistical tree, comma-separated.
std::string PathSteps(const Registry& registry, UnitId unit) {
  std::vector<UnitId> chain;
  for (UnitId at = unit; at.valid() && at != registry.nation(); at = registry.stat_parent(at)) chain.push_back(at);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (!out.empty()) out += ',';
    out += PathStepJson(registry, *it);
  }
  return out;
}

}  // namespace

ParsedPoint ParsePointLine(std::string_view line, bool too_long) {
  ParsedPoint parsed;
  if (too_long) return parsed.problem = "too long", parsed;
  if (line.empty()) return parsed.problem = "empty", parsed;
  for (char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return parsed.problem = "control character", parsed;
  }
  if (!IsValidUtf8(line)) return parsed.problem = "invalid UTF-8", parsed;
  const size_t comma = line.find(',');
  if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
    return parsed.problem = "expected lon,lat", parsed;
  }
  if ((parsed.problem = ParseNumber(line.substr(0, comma), parsed.lon)) != nullptr) return parsed;
  if ((parsed.problem = ParseNumber(line.substr(comma + 1), parsed.lat)) != nullptr) return parsed;
  if (parsed.lon < -180 || parsed.lon > 180) return parsed.problem = "longitude outside [-180, 180]", parsed;
  if (parsed.lat < -90 || parsed.lat > 90) return parsed.problem = "latitude outside [-90, 90]", parsed;
  return parsed;
}

void PointAnswerWriter::Write(std::string_view line, const ParsedPoint& parsed, const PointResult& place,
                              std::string& out) {
  if (parsed.problem != nullptr) {
    out = fmt::format(R"({{"input":{},"status":"invalid","confidence":0,"reason":"{}"}})",
                      JsonQuoted(Printable(line, kEchoBytes)), parsed.problem);
    return;
  }
  if (!place.grid.valid()) {
    out = fmt::format(R"({{"input":{},"status":"unmatched","confidence":0,"reason":"outside"}})", JsonQuoted(line));
    return;
  }
  const UnitId unit = place.building.valid() ? place.building : place.grid;
  out = fmt::format(R"({{"input":{},"status":"matched","code":"{}","level":"{}","confidence":1,"path":[{})",
                    JsonQuoted(line), registry_.code(unit).ToString(), LevelName(registry_.level(unit)),
                    GridSteps(place.grid));
  if (place.building.valid()) {
    if (registry_.stat_parent(place.building) == place.grid) {
      out += ',';
      out += PathStepJson(registry_, place.building);
    } else {  // a building whose statistical parent is not its grid: its own chain
      out = fmt::format(R"({{"input":{},"status":"matched","code":"{}","level":"building","confidence":1,"path":[{})",
                        JsonQuoted(line), registry_.code(unit).ToString(), PathSteps(registry_, unit));
    }
    out += fmt::format(R"(],"distance_m":{:.2f}}})", place.building_distance_m);
  } else {
    out += "]}";
  }
}

const std::string& PointAnswerWriter::GridSteps(UnitId grid) {
  auto [it, inserted] = grid_steps_.try_emplace(grid.value);
  if (inserted) it->second = PathSteps(registry_, grid);
  return it->second;
}

}  // namespace pingan
