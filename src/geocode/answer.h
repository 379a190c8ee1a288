// The geocoder's answer for one line as the JSON object `pingan geocode` writes and the HTTP API
// returns: {input, status, code, level, confidence, path[, alternatives][, formerly][, corrected]
// [, reason]}, with phone and ID numbers in the echoed input masked (FindPersonalNumbers,
// core/text.h).
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
void MaskedInputInto(std::string_view input, std::string& out);  // replaces `out`

// The path of a place from the province down, as JSON steps {level, code, name[, governed_by]}.
nlohmann::json PathJson(const Registry& registry, const Place& place);

// One step of such a path as JSON text, as PathJson's step dumps (keys sorted), without building
// the object: for writers that render many.
std::string PathStepJson(const Registry& registry, UnitId unit);
// The same, appended to `out`.
void AppendPathStepJson(const Registry& registry, UnitId unit, std::string& out);

// `text` as a JSON string, invalid UTF-8 replaced (nlohmann's dump; text with nothing to escape
// is copied between quotes without building a json value).
std::string JsonQuoted(std::string_view text);
void AppendJsonQuoted(std::string_view text, std::string& out);

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
  std::string echo_;  // the masked input, reused
  absl::flat_hash_map<uint32_t, std::string> paths_;  // unit above the buildings -> its steps down to it
  // unit above the buildings -> its own step, shared by the paths of the areas under it (a
  // building's step is rendered in place: few are asked for twice).
  absl::flat_hash_map<uint32_t, std::string> steps_;
};

}  // namespace pingan
