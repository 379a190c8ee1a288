// libFuzzer target for the geocoder's matcher (src/geocode/matcher.h) behind the normaliser:
// every input is normalised as `pingan geocode` does and matched against Zhejiang's registry
// with the demo city (small scale), its history and the configured aliases. Built with clang
// only; `make fuzz` runs it for a bounded time on the seeds in fuzz/corpus/geocode/.
//
// Invariants checked on every input:
//   - matching is deterministic (the same text twice gives the same answer);
//   - an answer with a place names a place that exists: its code resolves to the same unit,
//     level, entrance and room; its confidence is in (0, 1];
//   - unmatched answers have no place and a reason; partial answers have a reason;
//   - alternatives and former names point into the registry;
//   - the raw input, when it is valid UTF-8, is matched without a crash as well (the matcher
//     must not rely on the normaliser for its safety).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include "address/normalize.h"
#include "catalog/config.h"
#include "core/text.h"
#include "fuzz_check.h"
#include "fuzz_registry.h"
#include "geocode/matcher.h"
#include "sim/init.h"

namespace {


const pingan::Registry* registry = nullptr;
const pingan::Matcher* matcher = nullptr;

void CheckResult(const pingan::MatchResult& result) {
  using namespace pingan;
  if (result.status == MatchStatus::kUnmatched || result.status == MatchStatus::kInvalid) {
    FUZZ_CHECK(!result.unit().valid());
    FUZZ_CHECK(!result.reason.empty());
    return;
  }
  FUZZ_CHECK(result.unit().valid() && registry->Contains(result.unit()));
  FUZZ_CHECK(result.confidence > 0 && result.confidence <= 1);
  if (result.status == MatchStatus::kPartial) FUZZ_CHECK(!result.reason.empty());
  const Place& place = result.place;
  if (place.level <= Level::kBuilding) FUZZ_CHECK(registry->level(place.unit) == place.level);
  absl::StatusOr<Place> resolved = registry->Resolve(registry->PlaceCode(place));
  FUZZ_CHECK(resolved.ok());
  FUZZ_CHECK(resolved->unit == place.unit && resolved->level == place.level);
  FUZZ_CHECK(resolved->entrance == place.entrance && resolved->room == place.room);
  for (UnitId alternative : result.alternatives) FUZZ_CHECK(registry->Contains(alternative));
  if (result.formerly != nullptr) FUZZ_CHECK(!result.formerly->name.empty());
}

bool Same(const pingan::MatchResult& a, const pingan::MatchResult& b) {
  return a.status == b.status && a.place.unit == b.place.unit && a.place.level == b.place.level &&
         a.place.entrance == b.place.entrance && a.place.room == b.place.room && a.confidence == b.confidence &&
         a.alternatives == b.alternatives && a.formerly == b.formerly && a.corrected == b.corrected;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace pingan;
  fuzz::FuzzRegistry built = fuzz::BuildFuzzRegistry();
  registry = built.registry;
  std::vector<Alias> aliases;
  for (const AliasConfig& alias : built.config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
  auto created = Matcher::Create(*registry, *AddressCode::ParsePrefix("3301"), aliases);
  if (!created.ok()) std::abort();
  matcher = created->release();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pingan;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<NormalizedAddress> normalized = NormalizeAddress(line, NormalizeOptions{.max_bytes = 4096});
  if (normalized.ok()) {
    const MatchResult first = matcher->Match(normalized->text);
    CheckResult(first);
    FUZZ_CHECK(Same(first, matcher->Match(normalized->text)));
  }
  if (IsValidUtf8(line)) CheckResult(matcher->Match(line));
  return 0;
}
