// Free-text addresses onto the registry: the matcher of the geocoder (issue: Geocoder).
//
// It reads normalised text (address/normalize.h: simplified, half-width, noise and personal
// numbers removed) and finds every mention of a registered name: units from province to
// community — official names (西湖区), display names (多福巷社区), short names (西湖, 五常),
// configured aliases (下沙, 钱江世纪城) and former names from the registry's history (江干区,
// 富阳市) — and the roads and compounds (小区) of the registry. It picks the reading that the
// most mentions agree on, the deepest such, preferring the home city and then its province where
// the text does not decide; missing upper levels are inferred from the tree. Then it reads the
// detail after the chosen road or compound: house number (文三路478号), building (12幢, 12栋,
// 12号楼, 12#), entrance (3单元) and room (1203室), or the short form 12-3-1203.
// Names the exact pass does not find are tried once more with one character wrong (a typo or
// a homophone: 肖山区, 余航区), at lower confidence.
//
// docs/geocoder.md describes the rules, the scores and the confidence.
//
// Thread-safety: a Matcher is immutable after Create; Match may run on many threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
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
  // The deepest place the text justifies (valid unless unmatched): a registered unit, and for
  // level kUnit/kRoom the entrance and room inside the building `place.unit`.
  Place place;
  double confidence = 0;              // how likely `place` is right at its level (docs/geocoder.md)
  std::vector<UnitId> alternatives;   // when ambiguous: the other candidates, likeliest first (5 at most)
  UnitId common;                      // when ambiguous: the deepest unit holding every candidate
  const HistoryChange* formerly = nullptr;  // a former name was used
  bool corrected = false;             // a name was read with one character wrong (typo, homophone)
  std::string_view reason;            // when unmatched or partial (a static string)

  UnitId unit() const { return place.unit; }
  Level level() const { return place.level; }
};

struct Alias {
  std::string name;   // 钱江世纪城
  AddressCode unit;   // the unit it stands for
};

// Where a matcher's index is kept between runs: a file beside the database
// (DIR/pingan.db.matcher). Building the index is most of a geocoding process's start (about a
// second for Zhejiang and the demo city); reading it back, about a tenth of that.
struct MatcherIndexFile {
  std::filesystem::path path;        // empty: never kept
  uint64_t registry_generation = 0;  // the store's registry generation; 0: none (never kept)
  bool write = true;                 // write the file after building (false: read-only use)
};

// What Matcher::Open did with the index file.
struct MatcherOpened {
  bool read = false;    // the index came from the file
  absl::Status saved;   // built: how writing the file went (OK when not asked to write)
};

class Matcher {
 public:
  // REQUIRES: `registry` outlives the matcher. `home_city` may be the nation (no preference).
  static absl::StatusOr<std::unique_ptr<Matcher>> Create(const Registry& registry, AddressCode home_city,
                                                         const std::vector<Alias>& aliases);
  // The index from `file` when it was written for this registry generation and unit count, home
  // city and aliases, by this very program (its build id); otherwise Create, then (when
  // file.write) SaveIndex, whose failure is not an error: the file is a cache. `opened`, when
  // given, says which it was and how the write went (`pingan init` reports a failed one).
  static absl::StatusOr<std::unique_ptr<Matcher>> Open(const Registry& registry, AddressCode home_city,
                                                       const std::vector<Alias>& aliases, const MatcherIndexFile& file,
                                                       MatcherOpened* opened = nullptr);
  // The index, atomically (temporary file, fsync, rename), keyed as Open describes.
  absl::Status SaveIndex(const std::filesystem::path& path, uint64_t registry_generation) const;
  // The index from `path`: NotFound when absent, FailedPrecondition when written for another
  // registry, configuration or program, DataLoss when damaged (checksum, or anything out of
  // bounds: the file is checked against the registry before use).
  static absl::StatusOr<std::unique_ptr<Matcher>> LoadIndex(const Registry& registry, AddressCode home_city,
                                                            const std::vector<Alias>& aliases,
                                                            const std::filesystem::path& path,
                                                            uint64_t registry_generation);
  ~Matcher();

  // Matches one normalised address.
  MatchResult Match(std::string_view text) const;

  // What the index holds, for `pingan info` and tests.
  struct Stats {
    size_t keys = 0, entries = 0, trie_nodes = 0, fuzzy_keys = 0;
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pingan
