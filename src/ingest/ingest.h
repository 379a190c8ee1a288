// Ingest: source records (JSON Lines, CSV, gzip of either, HTTP bodies) → validated canonical
// events → placed on the registry (by code, else point, else geocoded text) → upserted in the
// store on (source, source_id); records that fail validation go to quarantine with a reason.
// docs/ingest.md describes the rules.
//
// Example:
//   PA_ASSIGN_OR_RETURN(auto ingester, Ingester::Create(env));
//   IngestSummary summary;
//   PA_RETURN_IF_ERROR(ingester->IngestFile("police-2024.csv.gz", &summary));
//   PA_RETURN_IF_ERROR(ingester->Finish());
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "address/registry.h"
#include "catalog/catalog.h"
#include "catalog/deployment.h"
#include "core/lazy.h"
#include "store/event_store.h"

namespace pingan {

class Matcher;
class PointIndex;

struct IngestSummary {
  int64_t read = 0, inserted = 0, updated = 0, unchanged = 0, withdrawn = 0;
  std::map<std::string, int64_t> quarantined;  // by reason
  std::map<std::string, int64_t> placed;       // by method and level: "text/community", "none"
  int64_t outside_home_city = 0;
  // Address texts geocoded, and answered from the workers' caches of recent texts.
  int64_t geocoded = 0, geocode_cache_hits = 0;
  double seconds = 0;

  int64_t quarantined_total() const;
  void Add(const IngestSummary& other);
  std::string Text() const;  // the lines `pingan ingest` prints
  std::string Json() const;  // the same as one JSON object
};

// What an ingester works with; everything must outlive it.
struct IngestEnv {
  const Catalog* catalog = nullptr;
  const Registry* registry = nullptr;
  const Deployment* deployment = nullptr;
  const Matcher* matcher = nullptr;        // required for address text
  const PointIndex* points = nullptr;      // required for lon/lat
  // Or, where `matcher` / `points` are null: made on the first record that needs one, so that
  // a file of codes never pays for the geocoder's index (~60 % of an ingest's start-up). A
  // maker's error stops the ingest before the batch that needed it is written.
  const Lazy<Matcher>* lazy_matcher = nullptr;
  const Lazy<PointIndex>* lazy_points = nullptr;
  EventStore* store = nullptr;
  int threads = 2;                         // workers that parse, validate and place
  size_t batch_size = 20000;               // records per transaction
  int64_t now = 0;                         // Unix seconds for "in the future" (0: the clock)
  // Called on the writer's thread after each committed batch, with the running totals of the
  // file or body being read (its `seconds` not yet set): for a progress line. May be empty.
  std::function<void(const IngestSummary&)> on_batch;
};

class Ingester {
 public:
  // Copies `env`: the ingester may outlive it (not what it points to: the catalog, registry,
  // deployment, geocoder and store must outlive the ingester).
  static absl::StatusOr<std::unique_ptr<Ingester>> Create(const IngestEnv& env);
  ~Ingester();

  // Reads a file; the format comes from its name: .jsonl/.ndjson/.json, .csv, each optionally
  // .gz. The source comes from each record's `source` field, or from `source` when given (a
  // source-specific file without that column). `encoding` (an iconv name: GB18030, GBK, ...)
  // is the file's encoding; empty: the `encoding` of the file's source (from `source` or the
  // file name) in the catalog, else UTF-8. Errors only when the file cannot be read at all or
  // the encoding is unknown.
  absl::Status IngestFile(const std::filesystem::path& path, IngestSummary* summary,
                          std::string_view source = "", std::string_view encoding = "");
  // A body (HTTP ingest) of JSON Lines, of CSV with a header line, or an Excel workbook, named
  // `name` in quarantine entries; `encoding` as for IngestFile (the charset of the request's
  // Content-Type, else the source's; not for a workbook).
  // kJsonArray: one JSON array of records (what many systems POST as application/json), read
  // whole before any record is: a body that is not one array stores nothing.
  enum class BodyFormat { kJsonLines, kCsv, kXlsx, kJsonArray };
  absl::Status IngestBody(std::string_view body, BodyFormat format, std::string_view name, IngestSummary* summary,
                          std::string_view source = "", std::string_view encoding = "");
  absl::Status IngestJsonLines(std::string_view body, std::string_view name, IngestSummary* summary,
                               std::string_view source = "", std::string_view encoding = "");
  // Re-reads every quarantined record (after a config fix): those now valid are written, the
  // rest stay with their (possibly new) reason.
  absl::Status RetryQuarantine(IngestSummary* summary);

  struct Impl;

 private:
  explicit Ingester(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pingan
