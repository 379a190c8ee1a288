// Points -> places as the JSON objects `pingan geocode --points` writes and the HTTP API returns
// (docs/points.md): one `lon,lat` text read, located by the point index, answered as
// {input, status, code, level, confidence, path[, distance_m]} or {input, status, confidence,
// reason}.
//
// Example:
//   ParsedPoint parsed = ParsePointLine("120.15,30.28", /*too_long=*/false);
//   PointAnswerWriter writer(registry);
//   std::string out;
//   writer.Write("120.15,30.28", parsed, parsed.problem ? PointResult{} : index.Locate(parsed.lon, parsed.lat), out);
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "address/registry.h"
#include "geocode/point_index.h"

namespace pingan {

// One `lon,lat` text: decimal degrees, longitude first, spaces around either number allowed.
struct ParsedPoint {
  double lon = 0, lat = 0;
  const char* problem = nullptr;  // why the text cannot be read (docs/points.md, Input), or null
};
// `too_long`: the caller cut the line (it is then `too long`, whatever the rest).
ParsedPoint ParsePointLine(std::string_view line, bool too_long);

// Writes answers as JSON text; keeps a cache of rendered grid paths, so one writer per thread.
class PointAnswerWriter {
 public:
  explicit PointAnswerWriter(const Registry& registry) : registry_(registry) {}
  // Replaces `out` with the answer for `line` (as written: echoed, at most 256 bytes of it when
  // invalid); `place` is where the point lies, ignored when `parsed` has a problem.
  void Write(std::string_view line, const ParsedPoint& parsed, const PointResult& place, std::string& out);

 private:
  const std::string& GridSteps(UnitId grid);

  const Registry& registry_;
  absl::flat_hash_map<uint32_t, std::string> grid_steps_;
};

}  // namespace pingan
