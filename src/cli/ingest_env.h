// What the ingest-side commands (`ingest`, `quarantine`, `events`, `demo`) open: the data
// directory read-write, its registry, the catalog, the geocoder (matcher and point index) when
// records are to be placed, and the event store.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/lazy.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "geocode/matcher.h"
#include "geocode/point_index.h"
#include "ingest/ingest.h"
#include "store/data_dir.h"
#include "store/event_store.h"

namespace pingan::cli {

struct OpenedIngest {
  DataDir data;
  std::unique_ptr<Registry> registry;
  Catalog catalog;
  // With need_geocoder: made when the first record needs them (a file of codes never does).
  std::unique_ptr<Lazy<Matcher>> matcher;
  std::unique_ptr<Lazy<PointIndex>> points;
  std::unique_ptr<EventStore> events;
  IngestEnv env;                        // points at the members above
};

absl::StatusOr<std::unique_ptr<OpenedIngest>> OpenIngestEnv(const Context& context, int threads,
                                                            bool need_geocoder);

}  // namespace pingan::cli
