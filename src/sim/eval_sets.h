// Labelled address sets for measuring the geocoder: `pingan init` writes them to DIR/eval/.
//
//   clean.jsonl     ~10,000 addresses of the demo city (rooms, entrances, buildings, compounds,
//                   road and village house numbers, communities, towns, districts), written the
//                   ways real records write them;
//   noisy.jsonl     ~10,000 of the same kind with one kind of noise each (field "noise");
//   national.jsonl  ~20,000 addresses of all 31 provinces, province to village, from the
//                   registry's real names, with a detail tail that is not in the registry.
//
// Each line: {"text": ..., "expect": {"district": "西湖区", ..., "room": "<27 digits>"},
// "noise": ..., "style": ...}. Levels down to community are expected by official name, building,
// unit (entrance) and room by their 27-digit code. Every line is labelled with the deepest level
// its text names and every level above it the registry defines, and only when the text names
// exactly one place: the generator reads each line back against the registry and drops it
// otherwise. See docs/eval-sets.md.
//
// Deterministic: the same registry and seed give the same files, byte for byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "address/registry.h"

namespace pingan {

struct EvalExpectation {
  Level level = Level::kNation;
  std::string value;  // official name (province..community) or 27-digit code (building..room)
};

struct EvalLine {
  std::string text;
  std::vector<EvalExpectation> expect;  // shallowest first
  std::string noise;                    // the kind of noise (noisy set only)
  std::string style;                    // how the address is written, for breaking results down
};

// The kinds of noise of noisy.jsonl, in the order lines cycle through them.
inline constexpr std::string_view kEvalNoiseKinds[] = {
    "fullwidth", "chinese_numerals", "traditional", "separators", "person_phone",
    "noise_words", "label", "alias", "old_name", "typo"};

struct EvalSetOptions {
  uint64_t seed = 1;
  // The demo city (clean and noisy sets); the nation (all zeros) writes no city sets.
  AddressCode home_city;
  size_t clean = 10'000;
  size_t noisy = 10'000;
  size_t national = 20'000;
};

// The sets as lines (empty when the registry has no such city or no synthetic levels).
std::vector<EvalLine> MakeCleanEvalSet(const Registry& registry, const EvalSetOptions& options);
std::vector<EvalLine> MakeNoisyEvalSet(const Registry& registry, const EvalSetOptions& options);
// Spread evenly over the provinces the registry holds.
std::vector<EvalLine> MakeNationalEvalSet(const Registry& registry, const EvalSetOptions& options);

// One JSON line (no newline).
std::string EvalLineJson(const EvalLine& line);

struct EvalSetStats {
  size_t clean = 0, noisy = 0, national = 0;
};

// Writes DIR/eval/{clean,noisy,national}.jsonl: into DIR/eval.tmp-PID first, then renamed over
// DIR/eval, so that a killed run leaves no half-written set (its temporary directory is
// removed by the next run). clean and noisy are skipped without a home city.
absl::StatusOr<EvalSetStats> WriteEvalSets(const Registry& registry, const std::filesystem::path& data_dir,
                                           const EvalSetOptions& options);

}  // namespace pingan
