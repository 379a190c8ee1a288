// `pingan ingest`, `pingan quarantine [retry]` and `pingan events`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "catalog/config.h"
#include "catalog/masking.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/ingest_env.h"
#include "ingest/event_selection.h"
#include "ingest/listing_json.h"
#include "core/paths.h"
#include "core/status.h"
#include "core/text.h"
#include "core/transcode.h"
#include "core/strings.h"
#include "geocode/matcher.h"
#include "geocode/point_index.h"
#include "ingest/ingest.h"

namespace pingan::cli {
namespace {

using nlohmann::json;

// Writes one read_unmasked entry to the audit log (actor "cli", the OS user in the detail):
// what was read, never the data itself.
absl::Status AuditUnmaskedRead(const Context& context, std::string_view target, std::string_view detail) {
  PA_ASSIGN_OR_RETURN(std::unique_ptr<AuthStore> auth, OpenCliAuth(context));
  return auth->Audit(kCliActor, "read_unmasked", target, detail);
}

}  // namespace

int RunIngest(const Context& context, const std::vector<std::string>& files, const std::string& source,
              const std::string& encoding, int threads, size_t batch, bool json_output) {
  if (files.empty()) return Fail(context, "ingest: name at least one file");
  if (!Transcoder::IsUtf8(encoding)) {
    if (absl::Status known = Transcoder::Open(encoding).status(); !known.ok()) {
      return Fail(context, Cat("ingest: --encoding: ", known.message()));
    }
  }
  auto env = OpenIngestEnv(context, threads, /*need_geocoder=*/true);
  if (!env.ok()) return Fail(context, Message(env.status()));
  (*env)->env.batch_size = batch;
  // On a terminal, a progress line per file, at most twice a second: a large file takes a while.
  std::string current;
  auto started = std::chrono::steady_clock::now(), shown = started;
  bool progress_shown = false;
  if (isatty(STDERR_FILENO) == 1 && context.err == &std::cerr) {
    (*env)->env.on_batch = [&](const IngestSummary& so_far) {
      const auto now = std::chrono::steady_clock::now();
      if (now - shown < std::chrono::milliseconds(500)) return;
      shown = now;
      const double seconds = std::chrono::duration<double>(now - started).count();
      std::cerr << fmt::format("\r\x1b[Kpingan ingest: {} {} records ({} inserted, {} quarantined), {:.0f}/s",
                               current, so_far.read, so_far.inserted, so_far.quarantined_total(),
                               so_far.read / std::max(seconds, 1e-3))
                << std::flush;
      progress_shown = true;
    };
  }
  auto ingester = Ingester::Create((*env)->env);
  if (!ingester.ok()) return Fail(context, Message(ingester.status()));
  IngestSummary total;
  int failures = 0;
  for (const std::string& file : files) {
    IngestSummary summary;
    current = std::filesystem::path(file).filename().string();
    started = shown = std::chrono::steady_clock::now();
    absl::Status status = (*ingester)->IngestFile(file, &summary, source, encoding);
    if (progress_shown) std::cerr << "\r\x1b[K" << std::flush, progress_shown = false;
    total.Add(summary);
    if (!status.ok()) {
      ++failures;
      *context.err << "pingan: " << Message(status) << "\n";
    }
  }
  if (json_output) {
    *context.out << total.Json() << "\n";
  } else {
    *context.out << total.Text();
  }
  return failures == 0 ? 0 : 1;
}

int RunQuarantine(const Context& context, bool json_output, bool unmasked) {
  auto env = OpenIngestEnv(context, 1, /*need_geocoder=*/false);
  if (!env.ok()) return Fail(context, Message(env.status()));
  auto entries = (*env)->events->ListQuarantine();
  if (!entries.ok()) return Fail(context, Message(entries.status()));
  if (unmasked) {
    absl::Status audit = AuditUnmaskedRead(context, "quarantine", "quarantine --unmasked");
    if (!audit.ok()) return Fail(context, Message(audit));
  }
  const absl::TimeZone zone = ZoneOf((*env)->data.deployment);
  for (const QuarantineEntry& entry : *entries) {
    if (json_output) {
      const json line = QuarantineEntryJson(entry, zone, unmasked);
      *context.out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      *context.out << fmt::format("{}\t{}\t{}\t{}:{}\t{}\n", entry.reason, entry.source, entry.source_id,
                                  entry.file, entry.line, entry.message);
    }
  }
  if (!json_output) *context.out << entries->size() << " records in quarantine\n";
  return 0;
}

int RunQuarantineRetry(const Context& context, int threads, bool json_output) {
  auto env = OpenIngestEnv(context, threads, /*need_geocoder=*/true);
  if (!env.ok()) return Fail(context, Message(env.status()));
  auto ingester = Ingester::Create((*env)->env);
  if (!ingester.ok()) return Fail(context, Message(ingester.status()));
  IngestSummary summary;
  absl::Status status = (*ingester)->RetryQuarantine(&summary);
  if (!status.ok()) return Fail(context, Message(status));
  *context.out << (json_output ? summary.Json() + "\n" : summary.Text());
  return 0;
}

int RunEvents(const Context& context, const EventsQuery& query) {
  auto env = OpenIngestEnv(context, 1, /*need_geocoder=*/false);
  if (!env.ok()) return Fail(context, Message(env.status()));
  const absl::TimeZone zone = ZoneOf((*env)->data.deployment);
  EventFilter filter;
  const Catalog& catalog = (*env)->catalog;
  const MeasureDef* measure = nullptr;
  if (!query.indicator.empty()) {
    measure = catalog.FindIndicator(query.indicator);
    if (measure == nullptr) measure = catalog.FindKeyType(query.indicator);
    if (measure == nullptr) {
      return Fail(context, Cat("--indicator: no indicator or key type '", Printable(query.indicator, 40), "'"));
    }
  }
  // The events counted under the unit: its governance subtree (a management unit's towns coded
  // under another district are its, not that district's), and the measure's if any.
  std::optional<EventSelection> selection;
  if (!query.unit.empty()) {
    auto code = AddressCode::ParsePrefix(query.unit);
    if (!code.ok()) return Fail(context, Cat("--unit: ", Message(code.status())));
    auto unit = (*env)->registry->Resolve(*code);
    if (!unit.ok()) return Fail(context, Cat("--unit: no unit ", query.unit));
    selection = EventSelection::For(*(*env)->registry, catalog, unit->unit, measure);
  } else if (measure != nullptr) {
    selection = EventSelection::For(*(*env)->registry, catalog, (*env)->registry->nation(), measure);
  }
  if (selection) filter.unit_prefix = selection->prefix(), filter.more_unit_prefixes = selection->more_prefixes();
  if (!query.type.empty()) {
    const bool pattern = query.type.size() > 2 && query.type.substr(query.type.size() - 2) == ".*";
    if (!pattern && (*env)->catalog.FindType(query.type) == nullptr) {
      return Fail(context, Cat("--type: unknown event type '", Printable(query.type, 40), "'"));
    }
    filter.type = query.type;
  }
  for (auto [text, bound] : {std::pair{&query.from, &filter.from}, std::pair{&query.to, &filter.to}}) {
    if (text->empty()) continue;
    auto parsed = ParseBound(*text, zone);
    if (!parsed.ok()) return Fail(context, Message(parsed.status()));
    *bound = *parsed;
  }
  // The store's limit counts rows before the selection: with one, the selection counts instead.
  const bool limited_here = selection.has_value() && query.limit >= 0;
  if (query.limit >= 0 && !limited_here) filter.limit = query.limit;
  filter.unplaced = query.unplaced;
  if (query.unmasked) {
    absl::Status audit = AuditUnmaskedRead(
        context, "events",
        Cat("events --unmasked unit=", query.unit, " type=", query.type, " from=", query.from, " to=", query.to,
            query.unplaced ? " unplaced" : ""));
    if (!audit.ok()) return Fail(context, Message(audit));
  }
  int64_t count = 0;
  absl::Status status = (*env)->events->ListEvents(filter, [&](const StoredEvent& stored) {
    const EventRecord& event = stored.event;
    if (selection && !selection->Holds(event)) return true;
    if (limited_here && count >= query.limit) return false;
    const json line = StoredEventJson(catalog, stored, zone, query.unmasked);
    if (query.json) {
      *context.out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      *context.out << fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", line["occurred_at"].get<std::string>(), event.source,
                                  event.source_id, event.type, EventStatusName(event.status), event.placement.unit);
    }
    ++count;
    return true;
  });
  if (!status.ok()) return Fail(context, Message(status));
  if (!query.json) *context.out << count << " events\n";
  return 0;
}

}  // namespace pingan::cli
