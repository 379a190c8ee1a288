#include "store/event_store.h"

#include <sqlite3.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <variant>

#include "core/status.h"
#include "core/strings.h"
#include "store/wal_checkpointer.h"
#include "store/write_gate.h"

namespace pingan {
namespace {

// Why these tables look as they do (docs/store.md has the measurements):
// - events: one row per (source, source_id); the UNIQUE index is the only index. An index on
//   occurred_at roughly doubled the cost of a fresh write (bench/event_store_benchmark), so
//   ListEvents scans and sorts; the cube, not this table, answers time queries. `hash` is ContentHash, `seq` the change that last wrote the row.
// - changes: append-only log keyed by seq (the rowid, no extra index). b_* is the before-image
//   of an update (NULL for an insert); next_seq is set when a later change of the same event
//   supersedes this one, so that ChangesSince can give each change its own after-state.
//   `run` > 1 is a run of inserts: changes seq .. seq+run-1 inserted events event_id ..
//   event_id+run-1 (a batch's fresh events have consecutive seqs and rowids). One row per
//   event cost 10-16 % of a fresh write. A run never has next_seq or a before-image: linking
//   one of its changes splits it first (SplitRun).
// - quarantine: raw is a BLOB (records may be any bytes); indexed on the key for clearing.
constexpr char kEventSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  type TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  address TEXT NOT NULL,
  lon REAL, lat REAL,
  code TEXT NOT NULL,
  status INTEGER NOT NULL,
  attributes_json TEXT NOT NULL,
  method INTEGER NOT NULL,
  unit TEXT NOT NULL,
  level INTEGER NOT NULL,
  geocode_status TEXT NOT NULL,
  confidence REAL NOT NULL,
  in_home_city INTEGER NOT NULL,
  hash INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  UNIQUE(source, source_id)
);
CREATE TABLE IF NOT EXISTS changes(
  seq INTEGER PRIMARY KEY,
  event_id INTEGER NOT NULL,
  next_seq INTEGER,
  b_type TEXT, b_occurred_at INTEGER, b_unit TEXT, b_level INTEGER, b_in_home_city INTEGER,
  b_status INTEGER, b_attributes_json TEXT,
  run INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS quarantine(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  message TEXT NOT NULL,
  raw BLOB NOT NULL,
  file TEXT NOT NULL,
  line INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_key ON quarantine(source, source_id);
)sql";

// The columns a StoredEvent is read from, in ReadEvent's order.
#define PA_EVENT_COLUMNS                                                                        \
  "id, seq, source, source_id, type, occurred_at, address, lon, lat, code, status, "            \
  "attributes_json, method, unit, level, geocode_status, confidence, in_home_city"
// Selects the change-log rows from the one holding change ?1 (a run of inserts may start before
// it) onwards.
#define PA_FROM_THE_ROW_HOLDING_1 "WHERE seq >= coalesce((SELECT max(seq) FROM changes WHERE seq <= ?1), ?1) "
// The before-image columns of `changes`, in ReadBefore's order.
#define PA_BEFORE_COLUMNS "b_type, b_occurred_at, b_unit, b_level, b_in_home_city, b_status, b_attributes_json"

// A prepared statement for the hot path. Unlike sqlite::Statement it binds without copying
// (the caller keeps the bound text alive until Reset) and can be reset after reading a row.
class Query {
 public:
  Query() = default;
  ~Query() { sqlite3_finalize(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  absl::Status Prepare(sqlite3* db, std::string_view sql) {
    db_ = db;
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      return absl::FailedPreconditionError(Cat("event store: ", sqlite3_errmsg(db)));
    }
    return absl::OkStatus();
  }
  // Text is never bound as NULL: an empty view may have no data pointer.
  void Text(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void Blob(int index, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.empty() ? "" : bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }
  void Int(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void Null(int index) { sqlite3_bind_null(stmt_, index); }
  void Real(int index, std::optional<double> value) {
    value ? sqlite3_bind_double(stmt_, index, *value) : sqlite3_bind_null(stmt_, index);
  }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() { sqlite3_reset(stmt_); }
  // Steps a statement that returns no row and resets it.
  absl::Status Run() {
    int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    return rc == SQLITE_DONE ? absl::OkStatus() : Error();
  }
  absl::Status Error() const { return absl::InternalError(Cat("event store: ", sqlite3_errmsg(db_))); }

  int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::optional<double> ColumnReal(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt_, column);
  }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string ColumnText(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    return data == nullptr ? std::string()
                           : std::string(static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

void PutU64(std::string& out, uint64_t value) {
  char bytes[8];  // little-endian whatever the host; one append instead of eight push_backs
  for (int at = 0; at < 8; ++at) bytes[at] = static_cast<char>(value >> (8 * at));
  out.append(bytes, sizeof bytes);
}
void PutText(std::string& out, std::string_view text) {
  PutU64(out, text.size());
  out.append(text);
}
void PutCoordinate(std::string& out, std::optional<double> value) {
  out.push_back(value ? 1 : 0);
  if (value) PutU64(out, std::bit_cast<uint64_t>(*value == 0 ? 0.0 : *value));  // -0 is 0
}

StoredEvent ReadEvent(const Query& row, int first) {
  StoredEvent stored;
  stored.id = row.ColumnInt(first);
  stored.seq = row.ColumnInt(first + 1);
  EventRecord& event = stored.event;
  event.source = row.ColumnText(first + 2);
  event.source_id = row.ColumnText(first + 3);
  event.type = row.ColumnText(first + 4);
  event.occurred_at = row.ColumnInt(first + 5);
  event.address = row.ColumnText(first + 6);
  event.lon = row.ColumnReal(first + 7);
  event.lat = row.ColumnReal(first + 8);
  event.code = row.ColumnText(first + 9);
  event.status = row.ColumnInt(first + 10) == 1 ? EventStatus::kWithdrawn : EventStatus::kActive;
  event.attributes_json = row.ColumnText(first + 11);
  Placement& placement = event.placement;
  placement.method = static_cast<PlaceMethod>(std::clamp<int64_t>(row.ColumnInt(first + 12), 0, 3));
  placement.unit = row.ColumnText(first + 13);
  placement.level = static_cast<uint8_t>(row.ColumnInt(first + 14));
  placement.geocode_status = row.ColumnText(first + 15);
  placement.confidence = static_cast<float>(row.ColumnReal(first + 16).value_or(0));
  placement.in_home_city = row.ColumnInt(first + 17) != 0;
  return stored;
}

EventBefore ReadBefore(const Query& row, int first) {
  return EventBefore{.type = row.ColumnText(first),
                     .occurred_at = row.ColumnInt(first + 1),
                     .unit = row.ColumnText(first + 2),
                     .level = static_cast<uint8_t>(row.ColumnInt(first + 3)),
                     .in_home_city = row.ColumnInt(first + 4) != 0,
                     .status = row.ColumnInt(first + 5) == 1 ? EventStatus::kWithdrawn : EventStatus::kActive,
                     .attributes_json = row.ColumnText(first + 6)};
}

absl::Status CheckField(std::string_view text, std::string_view what, size_t index) {
  if (text.size() <= kMaxEventFieldBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(Cat(what, " of record ", index, " is ", text.size(), " bytes (at most ",
                                        kMaxEventFieldBytes, ")"));
}

absl::Status Validate(std::span<const EventRecord> events, std::span<const QuarantineEntry> quarantine) {
  for (size_t index = 0; index < events.size(); ++index) {
    const EventRecord& event = events[index];
    for (std::string_view field : {std::string_view(event.source), std::string_view(event.source_id),
                                   std::string_view(event.type), std::string_view(event.address),
                                   std::string_view(event.code), std::string_view(event.attributes_json),
                                   std::string_view(event.placement.unit),
                                   std::string_view(event.placement.geocode_status)}) {
      PA_RETURN_IF_ERROR(CheckField(field, "a field", index));
    }
    if ((event.lon && !std::isfinite(*event.lon)) || (event.lat && !std::isfinite(*event.lat))) {
      return absl::InvalidArgumentError(Cat("record ", index, " has a non-finite lon or lat"));
    }
  }
  for (size_t index = 0; index < quarantine.size(); ++index) {
    const QuarantineEntry& entry = quarantine[index];
    for (std::string_view field : {std::string_view(entry.source), std::string_view(entry.source_id),
                                   std::string_view(entry.reason), std::string_view(entry.message),
                                   std::string_view(entry.raw), std::string_view(entry.file)}) {
      PA_RETURN_IF_ERROR(CheckField(field, "a quarantine field", index));
    }
  }
  return absl::OkStatus();
}

}  // namespace

namespace {
absl::Status ExecEventSql(sqlite3* db, const char* sql, std::string_view doing) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return absl::InternalError(Cat(doing, ": ", text));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status CreateEventTables(sqlite3* db) { return ExecEventSql(db, kEventSchema, "creating the event tables"); }

absl::Status AddChangeRuns(sqlite3* db) {
  return ExecEventSql(db, "ALTER TABLE changes ADD COLUMN run INTEGER NOT NULL DEFAULT 1", "adding change runs");
}

struct EventStore::Impl {
  sqlite3* db;
  Query begin, commit, rollback;
  Query last_seq, any_quarantine;
  Query insert_event, find_id, update_event;
  Query log_run, log_update, find_run, cut_run, log_linked;
  // The runs of inserts of the open batch, written before any update (whose link may name one
  // of their changes) and before COMMIT.
  struct Run {
    int64_t seq, event_id, count;
  };
  std::vector<Run> pending_runs;
  Query clear_quarantine, replace_quarantine, insert_quarantine;
  std::unique_ptr<WalCheckpointer> checkpointer;  // null for a database without a file

  // What reading needs, at Open: a database without the event tables fails here.
  absl::Status PrepareReads() { return last_seq.Prepare(db, kLastSeqSql); }

  // What writing needs, at the first write: a read-only connection to a version 2 database
  // reads the change log through a view (SqliteStore::Open) that these could not name.
  bool writes_prepared = false;
  absl::Status PrepareWrites() {
    if (writes_prepared) return absl::OkStatus();
    const std::pair<Query*, const char*> statements[] = {
        {&begin, "BEGIN IMMEDIATE"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&any_quarantine, "SELECT EXISTS(SELECT 1 FROM quarantine)"},
        // Insert first: for a new key this is the only statement; a known key makes it a no-op.
        {&insert_event,
         "INSERT INTO events(source, source_id, type, occurred_at, address, lon, lat, code, status, "
         "attributes_json, method, unit, level, geocode_status, confidence, in_home_city, hash, seq) "
         "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18) "
         "ON CONFLICT(source, source_id) DO NOTHING"},
        {&find_id, "SELECT id, hash, seq FROM events WHERE source = ?1 AND source_id = ?2"},
        {&update_event,
         "UPDATE events SET type=?3, occurred_at=?4, address=?5, lon=?6, lat=?7, code=?8, status=?9, "
         "attributes_json=?10, method=?11, unit=?12, level=?13, geocode_status=?14, confidence=?15, "
         "in_home_city=?16, hash=?17, seq=?18 WHERE id=?19"},
        {&log_run, "INSERT INTO changes(seq, event_id, run) VALUES(?1, ?2, ?3)"},
        {&log_update,
         "INSERT INTO changes(seq, event_id, " PA_BEFORE_COLUMNS ") "
         "SELECT ?1, id, type, occurred_at, unit, level, in_home_city, status, attributes_json "
         "FROM events WHERE id = ?2"},
        {&find_run, "SELECT seq, event_id, run FROM changes WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1"},
        {&cut_run, "UPDATE changes SET run = ?1, next_seq = ?2 WHERE seq = ?3"},
        {&log_linked, "INSERT INTO changes(seq, event_id, next_seq) VALUES(?1, ?2, ?3)"},
        {&clear_quarantine, "DELETE FROM quarantine WHERE source = ?1 AND source_id = ?2"},
        {&replace_quarantine,
         "DELETE FROM quarantine WHERE source = ?1 AND source_id = ?2 AND (?2 <> '' OR raw = ?3)"},
        {&insert_quarantine,
         "INSERT INTO quarantine(source, source_id, reason, message, raw, file, line, received_at) "
         "VALUES(?,?,?,?,?,?,?,?)"},
    };
    for (const auto& [query, sql] : statements) PA_RETURN_IF_ERROR(query->Prepare(db, sql));
    writes_prepared = true;
    return absl::OkStatus();
  }

  absl::Status LogRun(int64_t seq, int64_t event_id, int64_t count) {
    log_run.Int(1, seq);
    log_run.Int(2, event_id);
    log_run.Int(3, count);
    return log_run.Run();
  }

  absl::Status FlushLog() {
    for (const Run& run : pending_runs) PA_RETURN_IF_ERROR(LogRun(run.seq, run.event_id, run.count));
    pending_runs.clear();
    return absl::OkStatus();
  }

  // Records that change `seq` supersedes change `stored_seq` (next_seq). A change inside a run of
  // inserts gets a row of its own: the run is cut into the part before it, it, and the part after.
  absl::Status LinkNext(int64_t stored_seq, int64_t seq) {
    find_run.Int(1, stored_seq);
    if (find_run.Step() != SQLITE_ROW) {
      find_run.Reset();
      return absl::DataLossError(Cat("event store: change ", stored_seq, " is missing from the log"));
    }
    const int64_t first = find_run.ColumnInt(0), event_id = find_run.ColumnInt(1), count = find_run.ColumnInt(2);
    find_run.Reset();
    if (first + count <= stored_seq) {
      return absl::DataLossError(Cat("event store: change ", stored_seq, " is missing from the log"));
    }
    // The row keeps the part of the run before the change, or the change alone when it is the
    // run's first; the change and the part after it get rows of their own.
    const int64_t at = stored_seq - first;
    cut_run.Int(1, at == 0 ? 1 : at);
    at == 0 ? cut_run.Int(2, seq) : cut_run.Null(2);
    cut_run.Int(3, first);
    PA_RETURN_IF_ERROR(cut_run.Run());
    if (at > 0) {
      log_linked.Int(1, stored_seq);
      log_linked.Int(2, event_id + at);
      log_linked.Int(3, seq);
      PA_RETURN_IF_ERROR(log_linked.Run());
    }
    if (count - at - 1 > 0) PA_RETURN_IF_ERROR(LogRun(stored_seq + 1, event_id + at + 1, count - at - 1));
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> ReadInt(Query& query) {
    int rc = query.Step();
    int64_t value = rc == SQLITE_ROW ? query.ColumnInt(0) : 0;
    query.Reset();
    if (rc != SQLITE_ROW) return query.Error();
    return value;
  }

  // Binds ?3..?18 of insert_event / update_event (?1, ?2 are the key).
  static void BindContent(Query& query, const EventRecord& event, uint64_t hash, int64_t seq) {
    query.Text(3, event.type);
    query.Int(4, event.occurred_at);
    query.Text(5, event.address);
    query.Real(6, event.lon);
    query.Real(7, event.lat);
    query.Text(8, event.code);
    query.Int(9, static_cast<int64_t>(event.status));
    query.Text(10, event.attributes_json);
    query.Int(11, static_cast<int64_t>(event.placement.method));
    query.Text(12, event.placement.unit);
    query.Int(13, event.placement.level);
    query.Text(14, event.placement.geocode_status);
    query.Real(15, static_cast<double>(event.placement.confidence));
    query.Int(16, event.placement.in_home_city ? 1 : 0);
    query.Int(17, static_cast<int64_t>(hash));
    query.Int(18, seq);
  }

  // One event inside the open transaction; `seq` is the last change number used.
  absl::StatusOr<UpsertOutcome> Upsert(const EventRecord& event, uint64_t hash, int64_t& seq) {
    insert_event.Text(1, event.source);
    insert_event.Text(2, event.source_id);
    BindContent(insert_event, event, hash, seq + 1);
    PA_RETURN_IF_ERROR(insert_event.Run());
    if (sqlite3_changes(db) == 1) {
      ++seq;
      const int64_t event_id = sqlite3_last_insert_rowid(db);
      if (!pending_runs.empty() && pending_runs.back().seq + pending_runs.back().count == seq &&
          pending_runs.back().event_id + pending_runs.back().count == event_id) {
        ++pending_runs.back().count;
      } else {
        pending_runs.push_back(Run{seq, event_id, 1});
      }
      return UpsertOutcome::kInserted;
    }
    find_id.Text(1, event.source);
    find_id.Text(2, event.source_id);
    if (find_id.Step() != SQLITE_ROW) {
      find_id.Reset();
      return find_id.Error();
    }
    const int64_t id = find_id.ColumnInt(0);
    const uint64_t stored_hash = static_cast<uint64_t>(find_id.ColumnInt(1));
    const int64_t stored_seq = find_id.ColumnInt(2);
    find_id.Reset();
    if (stored_hash == hash) return UpsertOutcome::kUnchanged;
    PA_RETURN_IF_ERROR(FlushLog());  // LinkNext below may cut a run still pending
    ++seq;
    log_update.Int(1, seq);
    log_update.Int(2, id);
    PA_RETURN_IF_ERROR(log_update.Run());
    PA_RETURN_IF_ERROR(LinkNext(stored_seq, seq));
    BindContent(update_event, event, hash, seq);
    update_event.Int(19, id);
    PA_RETURN_IF_ERROR(update_event.Run());
    return UpsertOutcome::kUpdated;
  }

  absl::Status WriteInTransaction(std::span<const EventRecord> events, std::span<const QuarantineEntry> quarantine,
                                  std::span<const uint64_t> hashes, std::vector<UpsertOutcome>& outcomes) {
    pending_runs.clear();  // left over from a batch that failed
    PA_ASSIGN_OR_RETURN(int64_t seq, ReadInt(last_seq));
    // Clearing costs an index probe per event; skip it while the quarantine is empty (the
    // usual case), since this batch's own entries are added after clearing.
    PA_ASSIGN_OR_RETURN(const int64_t has_quarantine, ReadInt(any_quarantine));
    for (size_t i = 0; i < events.size(); ++i) {
      const EventRecord& event = events[i];
      PA_ASSIGN_OR_RETURN(UpsertOutcome outcome, Upsert(event, hashes.empty() ? ContentHash(event) : hashes[i], seq));
      outcomes.push_back(outcome);
      if (has_quarantine != 0) {
        clear_quarantine.Text(1, event.source);
        clear_quarantine.Text(2, event.source_id);
        PA_RETURN_IF_ERROR(clear_quarantine.Run());
      }
    }
    for (const QuarantineEntry& entry : quarantine) {
      // The same record quarantined again replaces its entry, so that re-running an ingest
      // (after a crash, or by mistake) does not pile entries up.
      replace_quarantine.Text(1, entry.source), replace_quarantine.Text(2, entry.source_id);
      replace_quarantine.Blob(3, entry.raw);
      PA_RETURN_IF_ERROR(replace_quarantine.Run());
      Query& q = insert_quarantine;
      q.Text(1, entry.source), q.Text(2, entry.source_id), q.Text(3, entry.reason), q.Text(4, entry.message);
      q.Blob(5, entry.raw), q.Text(6, entry.file), q.Int(7, entry.line), q.Int(8, entry.received_at);
      PA_RETURN_IF_ERROR(q.Run());
    }
    PA_RETURN_IF_ERROR(FlushLog());
    return commit.Run();
  }
};

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventStore::~EventStore() = default;

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(sqlite3* db) {
  // A write touches random leaves of the time index and the key index: with SQLite's default
  // 2 MB page cache a million-row table makes that a disk read per row (4x slower, measured).
  // The cache is per connection; 64 MB holds the index pages of tens of millions of events.
  if (sqlite3_exec(db, "PRAGMA cache_size = -65536", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return absl::InternalError(Cat("event store: ", sqlite3_errmsg(db)));
  }
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  PA_RETURN_IF_ERROR(impl->PrepareReads());
  impl->checkpointer = WalCheckpointer::Start(db);
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

uint64_t EventStore::ContentHash(const EventRecord& event) {
  // Format 1. Changing it makes every stored hash stale (re-sends would all look updated):
  // bump the leading byte and rehash the table in a migration.
  thread_local std::string buffer;
  buffer.clear();
  buffer.push_back(1);
  PutText(buffer, event.type);
  PutU64(buffer, static_cast<uint64_t>(event.occurred_at));
  PutText(buffer, event.address);
  PutCoordinate(buffer, event.lon);
  PutCoordinate(buffer, event.lat);
  PutText(buffer, event.code);
  buffer.push_back(static_cast<char>(event.status));
  PutText(buffer, event.attributes_json);
  return XXH3_64bits(buffer.data(), buffer.size());
}

absl::Status EventStore::WriteBatch(std::span<const EventRecord> events, std::span<const QuarantineEntry> quarantine,
                                    std::vector<UpsertOutcome>* outcomes, std::span<const uint64_t> hashes) {
  std::vector<UpsertOutcome> local;
  std::vector<UpsertOutcome>& out = outcomes != nullptr ? *outcomes : local;
  out.clear();
  PA_RETURN_IF_ERROR(Validate(events, quarantine));
  if (!hashes.empty() && hashes.size() != events.size()) {
    return absl::InvalidArgumentError(Cat("event batch: ", hashes.size(), " hashes for ", events.size(), " events"));
  }
  out.reserve(events.size());
  PA_RETURN_IF_ERROR(impl_->PrepareWrites());
  WriteTurn turn;
  PA_RETURN_IF_ERROR(impl_->begin.Run());
  absl::Status status = impl_->WriteInTransaction(events, quarantine, hashes, out);
  if (!status.ok()) {
    (void)impl_->rollback.Run();  // also when COMMIT failed: nothing of the batch stays
    out.clear();
  }
  return status;
}

absl::Status EventStore::ListEvents(const EventFilter& filter, const std::function<bool(const StoredEvent&)>& visit) {
  for (const std::string& digits : filter.more_unit_prefixes) {
    if (digits.find_first_not_of("0123456789") != std::string::npos) {
      return absl::InvalidArgumentError(Cat("unit prefix \"", digits, "\" is not all digits"));
    }
  }
  if (filter.unit_prefix.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(Cat("unit prefix \"", filter.unit_prefix, "\" is not all digits"));
  }
  std::string sql = "SELECT " PA_EVENT_COLUMNS " FROM events WHERE 1";
  std::vector<std::variant<int64_t, std::string_view>> parameters;
  auto prefix = [&](std::string_view column, std::string_view digits) {
    sql += Cat(" AND substr(", column, ", 1, ?) = ?");
    parameters.emplace_back(static_cast<int64_t>(digits.size()));
    parameters.emplace_back(digits);
  };
  if (!filter.more_unit_prefixes.empty()) {
    // Any of the prefixes: (substr(unit, 1, ?) = ? OR ...).
    sql += " AND (substr(unit, 1, ?) = ?";
    parameters.emplace_back(static_cast<int64_t>(filter.unit_prefix.size()));
    parameters.emplace_back(std::string_view(filter.unit_prefix));
    for (const std::string& more : filter.more_unit_prefixes) {
      sql += " OR substr(unit, 1, ?) = ?";
      parameters.emplace_back(static_cast<int64_t>(more.size()));
      parameters.emplace_back(std::string_view(more));
    }
    sql += ")";
  } else if (!filter.unit_prefix.empty()) {
    prefix("unit", filter.unit_prefix);
  }
  if (filter.type.ends_with(".*")) {
    prefix("type", std::string_view(filter.type).substr(0, filter.type.size() - 1));  // keeps the dot
  } else if (!filter.type.empty()) {
    sql += " AND type = ?";
    parameters.emplace_back(std::string_view(filter.type));
  }
  if (filter.unplaced) sql += " AND level <= 2";  // Level::kCity
  if (filter.from) sql += " AND occurred_at >= ?", parameters.emplace_back(*filter.from);
  if (filter.to) sql += " AND occurred_at < ?", parameters.emplace_back(*filter.to);
  sql += " ORDER BY occurred_at, id";
  if (filter.limit) sql += Cat(" LIMIT ", std::max<int64_t>(*filter.limit, 0));
  Query query;
  PA_RETURN_IF_ERROR(query.Prepare(impl_->db, sql));
  for (size_t index = 0; index < parameters.size(); ++index) {
    const int position = static_cast<int>(index) + 1;
    if (const auto* text = std::get_if<std::string_view>(&parameters[index])) {
      query.Text(position, *text);
    } else {
      query.Int(position, std::get<int64_t>(parameters[index]));
    }
  }
  int rc;
  while ((rc = query.Step()) == SQLITE_ROW) {
    if (!visit(ReadEvent(query, 0))) return absl::OkStatus();
  }
  return rc == SQLITE_DONE ? absl::OkStatus() : query.Error();
}

absl::Status EventStore::ReadEvents(std::span<const int64_t> ids,
                                    const std::function<bool(const StoredEvent&)>& visit) {
  Query query;
  PA_RETURN_IF_ERROR(query.Prepare(impl_->db, "SELECT " PA_EVENT_COLUMNS " FROM events WHERE id = ?"));
  for (const int64_t id : ids) {
    query.Int(1, id);
    const int rc = query.Step();
    if (rc == SQLITE_ROW) {
      const bool go_on = visit(ReadEvent(query, 0));
      query.Reset();
      if (!go_on) return absl::OkStatus();
    } else {
      const absl::Status failed = rc == SQLITE_DONE ? absl::OkStatus() : query.Error();
      query.Reset();
      PA_RETURN_IF_ERROR(failed);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredEvent>> EventStore::FindEvent(std::string_view source, std::string_view source_id) {
  Query query;
  PA_RETURN_IF_ERROR(query.Prepare(impl_->db, "SELECT " PA_EVENT_COLUMNS " FROM events WHERE source = ? AND source_id = ?"));
  query.Text(1, source);
  query.Text(2, source_id);
  int rc = query.Step();
  if (rc == SQLITE_ROW) return std::optional<StoredEvent>(ReadEvent(query, 0));
  if (rc != SQLITE_DONE) return query.Error();
  return std::optional<StoredEvent>();
}

absl::StatusOr<int64_t> EventStore::CountEvents() {
  Query query;
  PA_RETURN_IF_ERROR(query.Prepare(impl_->db, "SELECT count(*) FROM events"));
  return impl_->ReadInt(query);
}

absl::StatusOr<int64_t> EventStore::LastSeq() { return impl_->ReadInt(impl_->last_seq); }

absl::StatusOr<std::vector<EventChange>> EventStore::ChangesSince(int64_t after_seq, int64_t limit) {
  Query rows, event, next;
  PA_RETURN_IF_ERROR(rows.Prepare(impl_->db,
                                  "SELECT seq, event_id, run, next_seq, " PA_BEFORE_COLUMNS " FROM changes "
                                  PA_FROM_THE_ROW_HOLDING_1
                                  "ORDER BY seq"));
  PA_RETURN_IF_ERROR(event.Prepare(impl_->db, "SELECT " PA_EVENT_COLUMNS " FROM events WHERE id = ?"));
  PA_RETURN_IF_ERROR(next.Prepare(impl_->db, "SELECT " PA_BEFORE_COLUMNS " FROM changes WHERE seq = ?"));
  rows.Int(1, after_seq + 1);
  std::vector<EventChange> changes;
  const size_t wanted = static_cast<size_t>(std::max<int64_t>(limit, 0));
  int rc = SQLITE_DONE;
  while (changes.size() < wanted && (rc = rows.Step()) == SQLITE_ROW) {
    const int64_t first = rows.ColumnInt(0), event_id = rows.ColumnInt(1), count = rows.ColumnInt(2);
    for (int64_t at = std::max<int64_t>(after_seq + 1 - first, 0); at < count && changes.size() < wanted; ++at) {
      event.Int(1, event_id + at);
      if (event.Step() != SQLITE_ROW) {
        event.Reset();
        return absl::DataLossError(Cat("change ", first + at, " names a missing event"));
      }
      EventChange change{.seq = first + at, .after = ReadEvent(event, 0)};
      event.Reset();
      if (count == 1 && !rows.IsNull(4)) change.before = ReadBefore(rows, 4);
      if (count == 1 && !rows.IsNull(3)) {
        // Superseded: the state this change left is the next change's before-image.
        next.Int(1, rows.ColumnInt(3));
        if (next.Step() != SQLITE_ROW) {
          next.Reset();
          return absl::DataLossError(Cat("change ", change.seq, " links to a missing change"));
        }
        EventBefore state = ReadBefore(next, 0);
        next.Reset();
        EventRecord& after = change.after.event;
        after.type = std::move(state.type);
        after.occurred_at = state.occurred_at;
        after.placement.unit = std::move(state.unit);
        after.placement.level = state.level;
        after.placement.in_home_city = state.in_home_city;
        after.status = state.status;
        after.attributes_json = std::move(state.attributes_json);
        change.after.seq = change.seq;
      }
      changes.push_back(std::move(change));
    }
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return rows.Error();
  return changes;
}

absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> ChangedEventIds(sqlite3* db, int64_t after_seq, int64_t upto_seq) {
  Query rows;
  PA_RETURN_IF_ERROR(rows.Prepare(db,
                                  "SELECT seq, event_id, run FROM changes "
                                  PA_FROM_THE_ROW_HOLDING_1
                                  "AND seq <= ?2 ORDER BY seq"));
  rows.Int(1, after_seq + 1);
  rows.Int(2, upto_seq);
  std::vector<std::pair<int64_t, int64_t>> ranges;
  int rc;
  while ((rc = rows.Step()) == SQLITE_ROW) {
    const int64_t first = rows.ColumnInt(0), event_id = rows.ColumnInt(1), count = rows.ColumnInt(2);
    const int64_t from = std::max<int64_t>(after_seq + 1 - first, 0), to = std::min<int64_t>(count, upto_seq + 1 - first);
    if (from < to) ranges.emplace_back(event_id + from, event_id + to - 1);
  }
  if (rc != SQLITE_DONE) return rows.Error();
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& range : ranges) {
    if (!merged.empty() && range.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, range.second);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

absl::StatusOr<std::vector<QuarantineEntry>> EventStore::ListQuarantine() {
  Query query;
  PA_RETURN_IF_ERROR(query.Prepare(impl_->db,
                                   "SELECT id, source, source_id, reason, message, raw, file, line, received_at "
                                   "FROM quarantine ORDER BY id"));
  std::vector<QuarantineEntry> entries;
  int rc;
  while ((rc = query.Step()) == SQLITE_ROW) {
    entries.push_back(QuarantineEntry{.id = query.ColumnInt(0),
                                      .source = query.ColumnText(1),
                                      .source_id = query.ColumnText(2),
                                      .reason = query.ColumnText(3),
                                      .message = query.ColumnText(4),
                                      .raw = query.ColumnText(5),
                                      .file = query.ColumnText(6),
                                      .line = query.ColumnInt(7),
                                      .received_at = query.ColumnInt(8)});
  }
  if (rc != SQLITE_DONE) return query.Error();
  return entries;
}

absl::StatusOr<std::vector<int64_t>> EventStore::KeylessQuarantineIds(std::string_view file, std::string_view reason) {
  Query query;
  PA_RETURN_IF_ERROR(query.Prepare(
      impl_->db, "SELECT id FROM quarantine WHERE file = ?1 AND reason = ?2 AND source_id = '' ORDER BY id"));
  query.Text(1, file);
  query.Text(2, reason);
  std::vector<int64_t> ids;
  int rc;
  while ((rc = query.Step()) == SQLITE_ROW) ids.push_back(query.ColumnInt(0));
  if (rc != SQLITE_DONE) return query.Error();
  return ids;
}

absl::Status EventStore::DeleteQuarantine(std::span<const int64_t> ids) {
  Query erase;
  PA_RETURN_IF_ERROR(erase.Prepare(impl_->db, "DELETE FROM quarantine WHERE id = ?"));
  PA_RETURN_IF_ERROR(impl_->PrepareWrites());
  PA_RETURN_IF_ERROR(impl_->begin.Run());
  for (int64_t id : ids) {
    erase.Int(1, id);
    if (absl::Status status = erase.Run(); !status.ok()) {
      (void)impl_->rollback.Run();
      return status;
    }
  }
  return impl_->commit.Run();
}

}  // namespace pingan
