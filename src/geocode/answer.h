// The geocoder's answer for one line as the JSON object `pingan geocode` writes and the HTTP API
// returns: {input, status, code, level, confidence, path[, alternatives][, formerly][, corrected]
// [, reason]}, with runs of 7 or more digits in the echoed input masked.
//
// Example:
//   NormalizedAddress scratch;
//   GeocodeAnswerWriter writer(registry);
//   std::string out;
//   writer.Write(line, GeocodeLine(matcher, line, /*too_long=*/false, scratch), out);
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "address/normalize.h"
#include "address/registry.h"
#include "geocode/matcher.h"

namespace pingan {

// Normalises and matches one line: `invalid` with a reason for a line that is too long, fails
// normalisation (bad UTF-8, control bytes) or is empty once normalised.
MatchResult GeocodeLine(const Matcher& matcher, std::string_view line, bool too_long, NormalizedAddress& normalized);

// The input as echoed, with phone and ID numbers masked.
std::string MaskedInput(std::string_view input);

// The path of a place from the province down, as JSON steps {level, code, name[, governed_by]}.
nlohmann::json PathJson(const Registry& registry, const Place& place);

// One step of such a path as JSON text, as PathJson's step dumps (keys sorted), without building
// the object: for writers that render many.
std::string PathStepJson(const Registry& registry, UnitId unit);

// `text` as a JSON string, invalid UTF-8 replaced.
std::string JsonQuoted(std::string_view text);

// Writes answers as JSON text; keeps caches of rendered paths and of their steps, so one
// writer per thread.
class GeocodeAnswerWriter {
 public:
  explicit GeocodeAnswerWriter(const Registry& registry) : registry_(registry) {}
  // Replaces `out` with the answer for `input`.
  void Write(std::string_view input, const MatchResult& result, std::string& out);

 private:
  void AppendPath(const Place& place, std::string& out);
  const std::string& Path(UnitId unit);  // the steps from the province down to `unit`
  const std::string& Step(UnitId unit);  // one step of a path, as JSON

  const Registry& registry_;
  absl::flat_hash_map<uint32_t, std::string> paths_;  // unit above the buildings -> its steps down to it
  // unit -> its own step: a path seen for the first time (a new building) renders its last
  // step only; the steps above are shared by every place under them.
  absl::flat_hash_map<uint32_t, std::string> steps_;
};

}  // namespace pingan
