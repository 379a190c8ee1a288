// Events and quarantine in the store (SQLite, the same pingan.db as the registry).
//
// Events are keyed on (source, source_id). WriteBatch upserts a batch in one transaction:
// a new key is inserted, a known key whose content changed is updated, an identical re-send
// (same content hash: type, occurred_at, address, lon, lat, code, status, attributes) changes
// nothing. Every insert and update takes the next number of one change sequence and, for an
// update, keeps what the record was before (its type, time, unit, status, attributes), so that
// a follower (the cube) can take the old counts out and put the new ones in.
//
// Quarantine holds records that failed validation, with their reason and raw text; an entry is
// cleared when a valid record with the same (source, source_id) is written, and replaced when the
// same record is quarantined again (same key; for records without a source_id, the same raw
// text), so that running an ingest twice leaves one entry per bad record.
//
// Durability: WAL, synchronous=NORMAL (FULL when configured): a batch is whole or absent after
// a kill -9 of the writer, and writing the same batch again converges to the same state.
// The tables (docs/store.md) are part of schema version 2: SqliteStore::Create makes them and
// SqliteStore::Open (read-write) adds them to a version 1 database in place.
//
// Thread-safety: one EventStore per thread; one writer at a time per database (SQLite's lock;
// a second writer waits up to the busy timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/event.h"

struct sqlite3;

namespace pingan {

enum class UpsertOutcome : uint8_t { kInserted, kUpdated, kUnchanged };

struct StoredEvent {
  int64_t id = 0;   // the store's row id
  int64_t seq = 0;  // change sequence number of its last insert or update
  EventRecord event;
};

// What an updated record was before the update (for followers of the change sequence).
struct EventBefore {
  std::string type;
  int64_t occurred_at = 0;
  std::string unit;  // placement unit (27 digits)
  uint8_t level = 0;
  bool in_home_city = true;
  EventStatus status = EventStatus::kActive;
  std::string attributes_json;
};

struct EventChange {
  int64_t seq = 0;
  StoredEvent after;                  // the record as it is now (its latest state)
  std::optional<EventBefore> before;  // none for an insert
};

struct QuarantineEntry {
  int64_t id = 0;            // assigned by the store
  std::string source;        // "" when the record names none (or an unknown one: then as sent)
  std::string source_id;     // "" when missing
  std::string reason;        // short code: bad_json, missing_field, unknown_type, bad_time, ...
  std::string message;       // one line for people (never personal data)
  std::string raw;           // the record's raw text (JSON line or CSV record), bounded
  std::string file;          // where it came from (path or "http")
  int64_t line = 0;          // 1-based line/record number in `file`
  int64_t received_at = 0;   // Unix seconds
};

struct EventFilter {
  std::string unit_prefix;          // significant digits of a code: events placed in that subtree
  std::vector<std::string> more_unit_prefixes;  // or in these (a management unit's towns coded elsewhere)
  std::string type;                 // exact type id, or "criminal.*"
  std::optional<int64_t> from, to;  // occurred_at in [from, to)
  bool unplaced = false;            // only events placed no deeper than the city (未落地, for review)
  std::optional<int64_t> limit;
};

// Longest text field WriteBatch accepts (an event's or a quarantine entry's): longer ones are
// InvalidArgument, nothing written. Ingest bounds raw records well below this.
inline constexpr size_t kMaxEventFieldBytes = 16 << 20;

// Creates the event, change-log and quarantine tables when absent (inside the caller's
// transaction, if any). Used by SqliteStore's Create and its version 1 -> 3 migration.
absl::Status CreateEventTables(sqlite3* db);
// Adds the change log's `run` column to a version 2 database (its rows are runs of one).
absl::Status AddChangeRuns(sqlite3* db);

// The number of the last change in the log (0 when empty), for any connection to the database.
inline constexpr char kLastSeqSql[] =
    "SELECT coalesce((SELECT seq + run - 1 FROM changes ORDER BY seq DESC LIMIT 1), 0)";
// The ids of the events that changes after_seq + 1 .. upto_seq wrote, as sorted, disjoint,
// non-adjacent ranges [first, last] (a run of inserts is one range, not one id per change).
absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> ChangedEventIds(sqlite3* db, int64_t after_seq,
                                                                         int64_t upto_seq);

class EventStore {
 public:
  // Opens the event tables of the database at `db` (a handle from SqliteStore, which created
  // or migrated them; FailedPrecondition when they are missing). `db` must outlive the
  // EventStore.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(sqlite3* db);
  ~EventStore();

  // Writes one batch atomically: upserts `events` (outcomes[i] for events[i]), adds
  // `quarantine`, and clears quarantine entries with the (source, source_id) of any written
  // event. Either everything is committed or nothing is. InvalidArgument (nothing written) for
  // a text field over kMaxEventFieldBytes or a non-finite lon/lat; any SQLite error rolls the
  // batch back and is returned. Placement alone never makes a re-send kUpdated.
  // `hashes`, when not empty, holds ContentHash(events[i]) for each event, worked out by the
  // caller (ingest does it on its workers, off the writer's thread); InvalidArgument when its
  // size is not the events'.
  absl::Status WriteBatch(std::span<const EventRecord> events,
                          std::span<const QuarantineEntry> quarantine,
                          std::vector<UpsertOutcome>* outcomes,
                          std::span<const uint64_t> hashes = {});

  // Events matching `filter`, in (occurred_at, id) order. `visit` returns false to stop.
  // InvalidArgument when unit_prefix is not all digits. StoredEvent::event.numbers is left
  // empty (it is derived from attributes_json by the catalog).
  absl::Status ListEvents(const EventFilter& filter,
                          const std::function<bool(const StoredEvent&)>& visit);
  // The events of `ids` (row ids), in the order given; ids with no event are passed over.
  // `visit` returns false to stop. As ListEvents, event.numbers is left empty.
  absl::Status ReadEvents(std::span<const int64_t> ids, const std::function<bool(const StoredEvent&)>& visit);
  absl::StatusOr<std::optional<StoredEvent>> FindEvent(std::string_view source,
                                                       std::string_view source_id);
  absl::StatusOr<int64_t> CountEvents();

  // Changes with seq > `after_seq`, in seq order, at most `limit`. Every insert and update is
  // one change. `after` is the state the change left: the current record for the event's
  // latest change; for a change superseded by a later one, the record with its type, time,
  // unit, level, in_home_city, status and attributes as that change left them (and
  // after.seq == seq). So a follower applies each change alone: take `before` out (if any),
  // put `after` in.
  absl::StatusOr<std::vector<EventChange>> ChangesSince(int64_t after_seq, int64_t limit);
  absl::StatusOr<int64_t> LastSeq();

  absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine();
  // Ids of the entries of `file` that hold no key and were quarantined for `reason` (the
  // records of a file read in the wrong encoding: bad_utf8), oldest first.
  absl::StatusOr<std::vector<int64_t>> KeylessQuarantineIds(std::string_view file, std::string_view reason);
  // Removes quarantine entries by id (after a retry placed them or re-quarantined them anew).
  absl::Status DeleteQuarantine(std::span<const int64_t> ids);

  // The content hash that decides "identical re-send" (exposed for tests).
  static uint64_t ContentHash(const EventRecord& event);

  struct Impl;

 private:
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pingan
