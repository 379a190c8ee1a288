// `pingan geocode --points`: `lon,lat` lines on stdin, one JSON object per line on stdout, in
// input order (docs/points.md).
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "absl/container/flat_hash_map.h"
#include "cli/commands.h"
#include "cli/line_io.h"
#include "core/datum.h"
#include "core/strings.h"
#include "core/text.h"
#include "geocode/answer.h"
#include "geocode/point_index.h"
#include "store/data_dir.h"

namespace pingan::cli {
namespace {

using nlohmann::json;
constexpr size_t kEchoBytes = 256;         // how much of an invalid line the answer echoes

struct Parsed {
  double lon = 0, lat = 0;
  const char* problem = nullptr;  // the reason the line is invalid, or null
};

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

Parsed ParsePoint(std::string_view line, bool too_long) {
  Parsed parsed;
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

// Answers lines; one per thread, each with its own cache of grid paths.
class Worker {
 public:
  Worker(const Registry& registry, const PointIndex& index, Datum datum)
      : registry_(registry), index_(index), datum_(datum) {}

  // Answers lines [begin, end): parsed first, then located together (LocateMany overlaps the
  // memory reads of many points), then written.
  void Answer(std::span<const std::string> lines, std::span<const uint8_t> too_long, std::span<std::string> answers) {
    parsed_.clear();
    points_.clear();
    for (size_t at = 0; at < lines.size(); ++at) {
      parsed_.push_back(ParsePoint(lines[at], too_long[at] != 0));
      if (parsed_.back().problem != nullptr) continue;
      const LonLat wgs = ToWgs84(datum_, LonLat{parsed_.back().lon, parsed_.back().lat});
      points_.push_back(Point{wgs.lon, wgs.lat});
    }
    places_.resize(points_.size());
    index_.LocateMany(points_, places_);
    size_t next_place = 0;
    for (size_t at = 0; at < lines.size(); ++at) {
      const Parsed& parsed = parsed_[at];
      Write(lines[at], parsed, parsed.problem == nullptr ? places_[next_place++] : PointResult{}, answers[at]);
    }
  }

 private:
  void Write(std::string_view line, const Parsed& parsed, const PointResult& place, std::string& out) {
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

  const std::string& GridSteps(UnitId grid) {
    auto [it, inserted] = grid_steps_.try_emplace(grid.value);
    if (inserted) it->second = PathSteps(registry_, grid);
    return it->second;
  }

  const Registry& registry_;
  const PointIndex& index_;
  const Datum datum_;
  absl::flat_hash_map<uint32_t, std::string> grid_steps_;
  std::vector<Parsed> parsed_;
  std::vector<Point> points_;
  std::vector<PointResult> places_;
};

}  // namespace

int RunGeocodePoints(const Context& context, int threads, bool timing, Datum datum) {
  if (threads < 1) return Fail(context, "--threads must be at least 1");
  const auto started = std::chrono::steady_clock::now();
  auto data = DataDir::Open(context.data_dir, SqliteStore::Mode::kReadOnly);
  if (!data.ok()) return Fail(context, Message(data.status()));
  auto registry = data->store->LoadRegistry();
  if (!registry.ok()) return Fail(context, Message(registry.status()));
  std::optional<UnitId> city = registry->Find(data->deployment.home_city);
  if (!city) {
    return Fail(context, Cat("home city ", data->deployment.home_city.ToString().substr(0, 4),
                             " of the deployment is not in the registry"));
  }
  auto index = PointIndex::Create(*registry, *city,
                                  PointIndexOptions{.building_distance_m = data->deployment.geocode.building_distance_m});
  if (!index.ok()) return Fail(context, Message(index.status()));

  std::vector<Worker> workers;
  for (int at = 0; at < threads; ++at) workers.emplace_back(*registry, **index, datum);
  LineReader reader(STDIN_FILENO);
  const auto ready = std::chrono::steady_clock::now();
  const size_t answered =
      AnswerInBlocks(reader, threads, *context.out,
                     [&](size_t worker, std::span<const std::string> lines, std::span<const uint8_t> too_long,
                         std::span<std::string> answers) { workers[worker].Answer(lines, too_long, answers); });
  if (timing) ReportTiming(*context.err, "geocode --points", started, ready, answered);
  return 0;
}

}  // namespace pingan::cli
