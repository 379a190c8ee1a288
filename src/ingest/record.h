// One source record → a canonical, validated, placed EventRecord, or a quarantine entry with
// its reason. Internal to the ingest module (ingest.h is its face); docs/ingest.md lists the
// rules and reasons.
//
// Thread-safety: a RecordConverter is immutable after Create but for its memos of geocoded
// address texts and resolved codes, which have their own locks; Convert may run on many threads at once, each with
// its own ConverterScratch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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
  std::string text;        // JSON line; a CSV row's fields one after the other
  std::shared_ptr<const std::vector<std::string>> header;  // CSV
  std::vector<uint32_t> field_ends;  // CSV: where each field ends in `text` (two allocations a row, not one a field)
  std::string_view source;
  std::string_view file;
  int64_t line = 0;

  // Fill this record anew, reusing its buffers (a chunk's records are reused chunk after chunk).
  void SetJsonLine(std::string_view text, bool oversized, std::string_view source, std::string_view file,
                   int64_t line);
  void SetCsvRow(const std::shared_ptr<const std::vector<std::string>>& header,
                 const std::vector<std::string_view>& fields, bool oversized, std::string_view source,
                 std::string_view file, int64_t line);
  size_t field_count() const { return field_ends.size(); }
  std::string_view field(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : field_ends[i - 1];
    return std::string_view(text).substr(begin, field_ends[i] - begin);
  }
  // The record's text for quarantine: the JSON line, or a CSV row as a JSON object of column →
  // value (so it can be retried without its file), cut at a bound.
  std::string RawText() const;
};

// Per-thread buffers, and the worker's counts of the text memo's answers.
struct ConverterScratch {
  ConverterScratch();
  ~ConverterScratch();
  ConverterScratch(ConverterScratch&&) noexcept;
  struct Impl;
  std::unique_ptr<Impl> impl;
  // Address texts this worker answered from the converter's memo, and geocoded.
  int64_t cache_hits() const;
  int64_t cache_misses() const;
};

struct CachedMatch;
struct CachedCode;
template <typename Value>
class SharedMemo;

class RecordConverter {
 public:
  // Keeps a pointer to `env`, which must outlive it (Rebind moves it to a copy that does).
  static absl::StatusOr<RecordConverter> Create(const IngestEnv& env);
  void Rebind(const IngestEnv& env) { env_ = &env; }
  RecordConverter(RecordConverter&&) noexcept;
  ~RecordConverter();

  // Converts `record` into `event`, which is cleared first and keeps the capacity of its strings
  // (a batch's records are reused batch after batch, so converting allocates nothing): true
  // when the record is valid; false, with `rejected` filled, when it goes to quarantine (`event`
  // is then unspecified).
  bool Convert(const RawRecord& record, ConverterScratch& scratch, EventRecord& event,
               QuarantineEntry& rejected) const;

  // The source a file name names ("police-2024.csv.gz" → "police"), or "".
  std::string SourceFromFileName(std::string_view file_name) const;
  // Whether a header cell names a field records of `source` are read by (a canonical field, an
  // attr.NAME column, or one of the source's own; any source's when `source` is empty).
  bool KnowsField(std::string_view source, std::string_view name) const;
  // False for reasons a configuration change cannot fix (invalid UTF-8, oversized).
  static bool Retriable(std::string_view reason);

  struct Plan;

 private:
  RecordConverter();
  // The geocoder's answer for an address text, from the memo when it holds the text; valid
  // until the scratch's next MatchText.
  const CachedMatch& MatchText(const Matcher& matcher, const std::string& address, ConverterScratch::Impl& scratch) const;
  // The registry's place for a code (and where it lies), from the memo when it holds the code;
  // valid until the scratch's next ResolveCode.
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
  // Answers for recent address texts, and places of recent codes, shared by the threads that
  // call Convert (ingest/shared_memo.h): each worker keeping its own resolved a text or code
  // once per worker, and a feed's texts and codes recur across the workers' blocks. 917,504
  // slots of each (131,072 sets of 7), 76 bytes a text's and 40 a code's, touched as they fill:
  // with half as many, bench/ingest.sh's text file (269,344 distinct texts) geocoded 328,000
  // texts instead of 272,000, the sets overflowing.
  static constexpr size_t kMemoEntries = size_t{1} << 19;
  std::unique_ptr<SharedMemo<CachedMatch>> text_memo_;
  std::unique_ptr<SharedMemo<CachedCode>> code_memo_;
};

bool StartsWithBom(std::string_view text);

// Whether absl::ParseTime with `format` can never read a text holding a 'T': its fields are all
// numeric or offsets (%Y %m %d %H %M %S, %E4Y, %z, %F %T ...) and none of its literals is a T.
// A source's time is read with its format first and as ISO 8601 after; with such a format an
// ISO 8601 time (2024-06-01T08:00:00+08:00) goes to ISO 8601 at once, the answer unchanged. False
// for an empty format and for anything else (%b, %Z, %p and %c read letters).
bool TimeFormatCannotReadT(std::string_view format);

// Appends `text` as a JSON string exactly as nlohmann::json's dump() writes it (attributes are
// stored as JSON text and hashed to tell an identical re-send: the bytes must never change).
// Valid UTF-8 is copied but for '"', '\\' and the C0 controls; anything else goes through
// nlohmann itself.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace pingan
