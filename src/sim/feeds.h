// The demo city's seven source feeds: years of synthetic records from police, traffic, courts,
// petitions, fire, work safety and labour, each written the way its system writes them (the
// source mappings of config/catalog/sources.toml), for `pingan demo` to ingest. See
// docs/demo-feeds.md for volumes, patterns, places, styles, re-sends and the bad records.
//
// Files written into OUT (one gzip file per source and year, named SOURCE-YEAR.EXT.gz with EXT
// csv or jsonl as the source writes; the year is the year a record was sent):
//   police-2021.csv.gz, traffic-2021.jsonl.gz, ..., labour-2024.jsonl.gz
//   truth.csv.gz    source,source_id,code,type: for every valid record, the 27-digit code of the
//                   place it was generated for and its type, in their final state (re-sends applied)
//   manifest.json   the options that made them and the files, written last
// Each file is written under a temporary name and renamed when complete, so a killed run
// leaves no half-written feed; the manifest is removed first and written last, so a directory
// without one is incomplete.
//
// Deterministic: the same registry, catalog mappings and options give the same bytes.
// Thread-safety: WriteDemoFeeds may run on several threads for different directories.
//
// Example:
//   FeedOptions options{.seed = 1, .home_city = *AddressCode::ParsePrefix("3301")};
//   PA_ASSIGN_OR_RETURN(std::vector<FeedFile> files,
//                       WriteDemoFeeds(registry, catalog, options, data_dir / "feeds"));
#pragma once

#include <cstdint>
#include <functional>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "address/registry.h"
#include "catalog/catalog.h"

namespace pingan {

struct FeedOptions {
  uint64_t seed = 1;
  // The scale the registry was built at, recorded in the manifest. Volumes follow the
  // registry's populations (rates per 1,000 residents), so the scale is not applied again.
  double scale = 1.0;
  absl::CivilDay from{2021, 1, 1}, to{2024, 6, 30};  // inclusive, in the city's time (+08:00)
  AddressCode home_city;                             // REQUIRES: a city in the registry
  // Unix seconds; the bad "future" records are dated years after max(now, `to`). 0: `to`.
  int64_t now = 0;
  int gzip_level = 1;  // 1..9
};

struct FeedFile {
  std::string source;  // police, traffic, ... ("truth" for truth.csv.gz)
  std::filesystem::path path;
  int64_t records = 0;  // lines after the header (CSV) or lines (JSON Lines)
};

// Writes the feeds into `out_dir` (created when missing) and returns the files written, in the
// order they should be ingested (source by source, year by year), truth.csv.gz last.
// FailedPrecondition when the catalog lacks a source or a mapping value the generator writes
// (the mapping and the generator must agree); InvalidArgument for bad options; an I/O error
// names the file.
// `on_file`, when set, is called as each feed file is complete (renamed into place), in the
// order of the returned list, so that a caller can ingest it while the rest are written; an
// error from it stops the writing and is returned.
using FeedFileCallback = std::function<absl::Status(const FeedFile&)>;
absl::StatusOr<std::vector<FeedFile>> WriteDemoFeeds(const Registry& registry, const Catalog& catalog,
                                                     const FeedOptions& options,
                                                     const std::filesystem::path& out_dir,
                                                     const FeedFileCallback& on_file = nullptr);

// The files a complete earlier run with the same seed, scale, window and generator version
// wrote into `out_dir`, or nullopt when there is none (no manifest, other options, a file gone).
std::optional<std::vector<FeedFile>> ExistingDemoFeeds(const FeedOptions& options,
                                                       const std::filesystem::path& out_dir);

}  // namespace pingan
