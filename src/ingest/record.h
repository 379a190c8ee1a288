// One source record → a canonical, validated, placed EventRecord, or a quarantine entry with
// its reason. Internal to the ingest module (ingest.h is its face); docs/ingest.md lists the
// rules and reasons.
//
// Thread-safety: a RecordConverter is immutable after Create; Convert may run on many threads
// at once, each with its own ConverterScratch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "catalog/event.h"
#include "ingest/ingest.h"

namespace pingan {

// A record as read: a JSON line, or a CSV row with its file's header. `source` (the file's
// source, "" when the records must name theirs) and `file` must outlive the conversion.
struct RawRecord {
  bool csv = false;
  bool oversized = false;  // the line or a field was over its limit
  std::string text;        // JSON line
  std::shared_ptr<const std::vector<std::string>> header;  // CSV
  std::vector<std::string> fields;                         // CSV
  std::string_view source;
  std::string_view file;
  int64_t line = 0;

  static RawRecord JsonLine(std::string_view text, bool oversized, std::string_view source,
                            std::string_view file, int64_t line);
  static RawRecord CsvRow(std::shared_ptr<const std::vector<std::string>> header,
                          const std::vector<std::string_view>& fields, bool oversized,
                          std::string_view source, std::string_view file, int64_t line);
  // The record's text for quarantine: the JSON line, or a CSV row as a JSON object of column →
  // value (so it can be retried without its file), cut at a bound.
  std::string RawText() const;
};

using ConvertResult = std::variant<EventRecord, QuarantineEntry>;

// Per-thread buffers, and the worker's cache of geocoded address texts.
struct ConverterScratch {
  ConverterScratch();
  ~ConverterScratch();
  ConverterScratch(ConverterScratch&&) noexcept;
  struct Impl;
  std::unique_ptr<Impl> impl;
  // Address texts answered from the cache, and geocoded.
  int64_t cache_hits() const;
  int64_t cache_misses() const;
};

struct CachedMatch;
struct CachedCode;

class RecordConverter {
 public:
  static absl::StatusOr<RecordConverter> Create(const IngestEnv& env);
  RecordConverter(RecordConverter&&) noexcept;
  ~RecordConverter();

  ConvertResult Convert(const RawRecord& record, ConverterScratch& scratch) const;

  // The source a file name names ("police-2024.csv.gz" → "police"), or "".
  std::string SourceFromFileName(std::string_view file_name) const;
  // False for reasons a configuration change cannot fix (invalid UTF-8, oversized).
  static bool Retriable(std::string_view reason);

  struct Plan;

 private:
  RecordConverter();
  const CachedMatch& MatchText(const Matcher& matcher, const std::string& address, ConverterScratch::Impl& scratch) const;
  // The registry's place for a code (and where it lies), from the worker's cache.
  const CachedCode& ResolveCode(const AddressCode& code, ConverterScratch::Impl& scratch) const;
  // The geocoder's parts, made now if they are lazy; null when absent (or their maker failed).
  const Matcher* matcher() const;
  const PointIndex* points() const;
  // True for a place strictly above the home city that holds it (the province, the nation): an
  // event placed only there is the city's, but placed nowhere in it, so it counts as unplaced.
  bool ContainsHomeCity(const Place& place) const;
  const IngestEnv* env_ = nullptr;
  std::vector<std::unique_ptr<Plan>> plans_;  // by Catalog::sources index
  absl::flat_hash_map<std::string, const Plan*> plan_by_source_;
  absl::TimeZone zone_;
  uint32_t home_city_ = 0;  // UnitId value
  std::string home_city_code_;
};

bool StartsWithBom(std::string_view text);

}  // namespace pingan
