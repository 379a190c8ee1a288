// Free-text place names onto the registry: the matcher of the geocoder (issue: Geocoder).
//
// It reads normalised text (address/normalize.h: simplified, half-width, noise and personal
// numbers removed), finds every mention of a registered unit from province to community —
// official names (西湖区), display names (多福巷社区), short names (西湖, 五常), configured aliases
// (下沙, 钱江世纪城) and former names from the registry's history (江干区, 富阳市) — and picks the
// unit that the most mentions agree on, the deepest such unit, preferring the home city and then
// its province where the text does not decide. Missing upper levels are inferred from the tree.
//
// Scope of this first version: province to community. Roads, compounds, buildings, units and
// rooms are recognised as present (the answer is then `partial`) but not yet matched.
//
// Thread-safety: a Matcher is immutable after Create; Match may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "address/registry.h"

namespace pingan {

enum class MatchStatus { kMatched, kPartial, kAmbiguous, kUnmatched, kInvalid };
std::string_view MatchStatusName(MatchStatus status);

struct MatchResult {
  MatchStatus status = MatchStatus::kUnmatched;
  UnitId unit;                        // the deepest unit the text justifies (valid unless unmatched)
  double confidence = 0;              // how likely `unit` is right at its level (docs/geocoder.md)
  std::vector<UnitId> alternatives;   // when ambiguous: the other candidates, likeliest first
  const HistoryChange* formerly = nullptr;  // a former name was used
  std::string reason;                 // when unmatched
};

struct Alias {
  std::string name;   // 钱江世纪城
  AddressCode unit;   // the unit it stands for
};

class Matcher {
 public:
  // REQUIRES: `registry` outlives the matcher. `home_city` may be the nation (no preference).
  static absl::StatusOr<std::unique_ptr<Matcher>> Create(const Registry& registry, AddressCode home_city,
                                                         const std::vector<Alias>& aliases);

  // Matches one normalised address.
  MatchResult Match(std::string_view text) const;

 private:
  struct Candidate {
    UnitId unit;
    bool short_form = false;                  // matched by a short name or alias
    const HistoryChange* former = nullptr;    // a successor of this former unit
  };
  struct Mention {
    size_t begin = 0, end = 0;  // byte range in the text
    std::vector<Candidate> candidates;
  };

  explicit Matcher(const Registry& registry) : registry_(registry) {}
  void AddName(const std::string& key, Candidate candidate);
  std::vector<Mention> FindMentions(std::string_view text) const;
  bool Agrees(UnitId ancestor, UnitId unit) const;

  const Registry& registry_;
  UnitId home_city_;
  UnitId home_province_;
  absl::flat_hash_map<std::string, std::vector<Candidate>> names_;
  // Per unit: whether its statistical chain differs from its governance chain somewhere above
  // (西湖街道 under 西湖风景名胜区), so that only those need the slow statistical walk.
  std::vector<uint8_t> stat_differs_;
  size_t max_name_bytes_ = 0;
};

}  // namespace pingan
