#include "cube/cube_loader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>
#include <thread>
#include <string_view>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "core/binary_file.h"
#include "core/status.h"
#include "core/stage_timer.h"
#include "core/strings.h"
#include "store/event_store.h"
#include "simdjson.h"
#include "xxhash.h"

namespace pingan {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'P', 'A', 'C', 'U', 'B', 'E', '2', '\0'};
// Bumped whenever CubeEvent's layout, the aggregates' layout or the meaning of a field changes.
// 3: the event states start at a page boundary (kEventsOffset), to be mapped in place.
constexpr uint64_t kLayoutVersion = 3;

class Statement {
 public:
  ~Statement() { sqlite3_finalize(stmt_); }
  absl::Status Prepare(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      return absl::InternalError(Cat("cube: cannot prepare a query: ", sqlite3_errmsg(db)));
    }
    return absl::OkStatus();
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// A read transaction: every query inside sees one state of the database.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : db_(db) {}
  absl::Status Begin() {
    if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return absl::InternalError(Cat("cube: cannot begin a read: ", sqlite3_errmsg(db_)));
    }
    open_ = true;
    return absl::OkStatus();
  }
  ~ReadTransaction() {
    if (open_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

std::string_view ColumnText(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string_view() : std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

constexpr const char* kEventColumns =
    "id, type, source, occurred_at, unit, level, status, in_home_city, attributes_json";

}  // namespace

struct CubeFeeder::Impl {
  const Cube& cube;
  absl::flat_hash_map<std::string, uint16_t> types;
  absl::flat_hash_map<std::string, uint8_t> sources;
  // The attributes measures and major rules read: name -> catalog index.
  absl::flat_hash_map<std::string, uint16_t> attributes;
  // Types some measure or major rule reads attributes of: the others' JSON is not parsed.
  std::vector<bool> type_needs_numbers;
  bool last_unit_counts = false;  // whether the last Unit() answer is a cube unit
  absl::flat_hash_map<uint64_t, UnitId> grid_units;  // a code's first 15 digits -> its grid
  absl::flat_hash_map<std::string, UnitId> units;    // other placement codes -> unit (a cache)
  simdjson::ondemand::parser parser;
  std::string buffer;  // a record's attributes, with simdjson's padding after them
  std::vector<std::pair<uint16_t, double>> numbers;

  explicit Impl(const Cube& cube_in) : cube(cube_in) {
    const Catalog& catalog = cube.catalog();
    for (size_t i = 0; i < catalog.types.size(); ++i) types[catalog.types[i].id] = static_cast<uint16_t>(i);
    for (size_t i = 0; i < catalog.sources.size(); ++i) sources[catalog.sources[i].id] = static_cast<uint8_t>(i);
    type_needs_numbers.assign(catalog.types.size(), false);
    auto note = [&](const MeasureDef& def) {
      for (const Condition& condition : def.where) attributes[condition.attribute] = condition.attribute_index;
      if (def.measure.kind == Measure::Kind::kSum) attributes[def.measure.attribute] = def.measure.attribute_index;
      if (!def.where.empty() || def.measure.kind == Measure::Kind::kSum) {
        for (uint16_t type : def.type_indexes) type_needs_numbers[type] = true;
      }
    };
    for (const MeasureDef& def : catalog.indicators) note(def);
    for (const MeasureDef& def : catalog.key_types) note(def);
    for (const MeasureDef& def : cube.major_rules()) note(def);
  }

  // The unit to count an event placed at `code_text` at. The cube counts no deeper than grids, and
  // a code's first 15 digits are its grid's code, so placements are looked up (and cached) by
  // that prefix: a few thousand grids instead of a million buildings and rooms.
  // The first 15 digits of a 27-digit code as a number (false for any other text).
  static bool GridKey(std::string_view code_text, uint64_t* key) {
    *key = 0;
    if (code_text.size() != static_cast<size_t>(AddressCode::kDigits)) return false;
    for (size_t i = 0; i < 15; ++i) {
      const char c = code_text[i];
      if (c < '0' || c > '9') return false;
      *key = *key * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  }

  UnitId Unit(std::string_view code_text) {
    uint64_t key = 0;
    const bool has_key = GridKey(code_text, &key);
    return Unit(code_text, has_key, key);
  }

  // Unit with the code's GridKey already parsed (`has_key`: its result).
  UnitId Unit(std::string_view code_text, bool has_key, uint64_t key) {
    last_unit_counts = true;  // the grid-prefix path answers with cube units
    if (has_key) {
      // The prefix's grid, or kNoUnit when the prefix is not a grid of the cube (a placement at
      // a town, say): remembered either way, so that such placements do not parse it again.
      auto [it, inserted] = grid_units.try_emplace(key, kNoUnit);
      if (inserted) {
        const auto prefix = AddressCode::ParsePrefix(code_text.substr(0, 15));
        if (prefix.ok()) {
          if (auto found = cube.registry().Find(*prefix); found && cube.Covers(*found)) it->second = *found;
        }
      }
      if (it->second.valid()) return it->second;
    }
    last_unit_counts = false;
    if (auto it = units.find(absl::string_view(code_text.data(), code_text.size())); it != units.end()) {
      return it->second;
    }
    UnitId unit = kNoUnit;
    const Registry& registry = cube.registry();
    if (auto code = AddressCode::Parse(code_text); code.ok()) {
      if (auto found = registry.Find(*code)) {
        unit = *found;
      } else if (auto place = registry.Resolve(*code); place.ok()) {
        unit = place->unit;
      } else {
        // A code the registry no longer knows below some level: count at its deepest known prefix.
        for (int digit_count : {22, 20, 15, 12, 9, 6, 4}) {
          auto prefix = AddressCode::ParsePrefix(code_text.substr(0, static_cast<size_t>(digit_count)));
          if (!prefix.ok()) continue;
          if (auto found = registry.Find(*prefix)) {
            unit = *found;
            break;
          }
        }
      }
    }
    if (units.size() < (1u << 20)) units.emplace(std::string(code_text), unit);
    return unit;
  }

  // Reads the numeric attributes measures use from an attributes object.
  void Numbers(std::string_view json) {
    numbers.clear();
    if (json.size() <= 2 || attributes.empty()) return;
    if (buffer.size() < json.size() + simdjson::SIMDJSON_PADDING) buffer.resize(json.size() * 2 + simdjson::SIMDJSON_PADDING);
    std::memcpy(buffer.data(), json.data(), json.size());
    simdjson::ondemand::document doc;
    if (parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc) != simdjson::SUCCESS) return;
    simdjson::ondemand::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return;
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return;
      auto it = attributes.find(absl::string_view(key.data(), key.size()));
      if (it == attributes.end()) continue;
      simdjson::ondemand::value value;
      if (field.value().get(value) != simdjson::SUCCESS) return;
      simdjson::ondemand::json_type kind;
      if (value.type().get(kind) != simdjson::SUCCESS) return;
      if (kind == simdjson::ondemand::json_type::boolean) {
        bool flag = false;
        if (value.get_bool().get(flag) == simdjson::SUCCESS) numbers.emplace_back(it->second, flag ? 1.0 : 0.0);
      } else if (kind == simdjson::ondemand::json_type::number) {
        double number = 0;
        if (value.get_double().get(number) == simdjson::SUCCESS) numbers.emplace_back(it->second, number);
      }
    }
  }

  // Puts the event of the current row of `stmt` (kEventColumns) into `cube`.
  void PutRow(sqlite3_stmt* stmt, const CivilClock& clock, Cube& target) {
    CubeEventInput input;
    const int64_t id = Row(stmt, clock, &input);
    target.Put(id, input);
  }

  // Reads the current row of `stmt` (kEventColumns) into `input` (valid until the next call);
  // returns the event's id.
  int64_t Row(sqlite3_stmt* stmt, const CivilClock& clock, CubeEventInput* out) {
    const int64_t id = RowFields(stmt, clock, out);
    out->placed = Unit(ColumnText(stmt, 4));
    out->placed_counts = last_unit_counts;
    return id;
  }

  // Row without the placement (column 4, left to the caller); `numbers` holds the numeric
  // attributes until the next call.
  int64_t RowFields(sqlite3_stmt* stmt, const CivilClock& clock, CubeEventInput* out) {
    const int64_t id = sqlite3_column_int64(stmt, 0);
    CubeEventInput& input = *out;
    auto type = types.find(absl::string_view(ColumnText(stmt, 1).data(), ColumnText(stmt, 1).size()));
    auto source = sources.find(absl::string_view(ColumnText(stmt, 2).data(), ColumnText(stmt, 2).size()));
    const CivilClock::DayHour when = clock.DayHourOf(sqlite3_column_int64(stmt, 3));
    input.day = when.day;
    input.hour = static_cast<uint8_t>(when.hour);
    input.level = static_cast<uint8_t>(sqlite3_column_int(stmt, 5));
    input.active = sqlite3_column_int(stmt, 6) == 0;
    input.in_home_city = sqlite3_column_int(stmt, 7) != 0;
    if (type == types.end() || source == sources.end()) {
      // A type or source the catalog no longer has: kept, counted nowhere.
      input.active = false;
      input.type = 0;
      input.source = source == sources.end() ? 0 : source->second;
    } else {
      input.type = type->second;
      input.source = source->second;
    }
    if (input.type < type_needs_numbers.size() && type_needs_numbers[input.type]) {
      Numbers(ColumnText(stmt, 8));
    } else {
      numbers.clear();
    }
    input.numbers = numbers;
    return id;
  }
};

namespace {

// The events with sums compiled by one scanning thread, to be installed in the cube by the owner
// (the others go straight into their slots: Cube::PutBulk).
struct Compiled {
  std::vector<std::pair<uint32_t, CubeEvent>> events;
  std::vector<int64_t> sums;  // sum_stride() values per event, in order
};

// Compiles the events with ids in [first, last] read through `db` (in its read transaction).
absl::Status ScanRange(sqlite3* db, int64_t first, int64_t last, CubeFeeder::Impl& impl, const CivilClock& clock,
                       Cube& cube, Compiled& out) {
  Statement rows;
  PA_RETURN_IF_ERROR(rows.Prepare(db, Cat("SELECT ", kEventColumns, " FROM events WHERE id BETWEEN ?1 AND ?2").c_str()));
  sqlite3_bind_int64(rows.get(), 1, first);
  sqlite3_bind_int64(rows.get(), 2, last);
  const auto slots = static_cast<int64_t>(cube.event_states().size());
  int64_t values[Cube::kMaxSumSlots];
  const size_t stride = cube.sum_stride();
  // Rows are held a batch at a time, so that their placements' lookups (a cache miss each: the
  // rows streaming through evict the grid map) are prefetched together and overlap.
  constexpr size_t kBatch = 16;
  struct Held {
    int64_t id = 0;
    CubeEventInput input;
    std::string code;
    bool has_key = false;  // code's GridKey parsed into key
    uint64_t key = 0;
    std::vector<std::pair<uint16_t, double>> numbers;
  };
  std::array<Held, kBatch> batch;
  size_t held = 0;
  auto flush = [&] {
    for (size_t at = 0; at < held; ++at) {
      Held& row = batch[at];
      row.has_key = CubeFeeder::Impl::GridKey(row.code, &row.key);
      if (row.has_key) impl.grid_units.prefetch(row.key);
    }
    for (size_t at = 0; at < held; ++at) {
      Held& row = batch[at];
      row.input.placed = impl.Unit(row.code, row.has_key, row.key);
      row.input.placed_counts = impl.last_unit_counts;
      row.input.numbers = row.numbers;
      const CubeEvent event = cube.Compile(row.input, values);
      if (event.sums == 0 && row.id < slots) {
        cube.PutBulk(row.id, event);
        continue;
      }
      if (event.sums != 0) out.sums.insert(out.sums.end(), values, values + stride);
      out.events.emplace_back(static_cast<uint32_t>(row.id), event);
    }
    held = 0;
  };
  int rc;
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    Held& row = batch[held];
    row.id = impl.RowFields(rows.get(), clock, &row.input);
    if (row.id <= 0 || row.id >= int64_t{UINT32_MAX}) continue;
    row.code.assign(ColumnText(rows.get(), 4));
    row.numbers.assign(impl.numbers.begin(), impl.numbers.end());
    if (++held == kBatch) flush();
  }
  flush();
  if (rc != SQLITE_DONE) return absl::InternalError(Cat("cube: reading events: ", sqlite3_errmsg(db)));
  return absl::OkStatus();
}

}  // namespace

CubeFeeder::CubeFeeder(const Cube& cube, CivilClock clock)
    : impl_(std::make_unique<Impl>(cube)), clock_(std::move(clock)) {}
CubeFeeder::~CubeFeeder() = default;

absl::StatusOr<int64_t> CubeFeeder::LoadAll(sqlite3* db, Cube& cube) {
  const auto t_start = std::chrono::steady_clock::now();
  PA_RETURN_IF_ERROR(cube.Restore({}, {}));
  auto max_of = [](sqlite3* handle, const char* sql) -> absl::StatusOr<int64_t> {
    Statement statement;
    PA_RETURN_IF_ERROR(statement.Prepare(handle, sql));
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return absl::InternalError(Cat("cube: ", sqlite3_errmsg(handle)));
    return sqlite3_column_int64(statement.get(), 0);
  };
  // Both scanning connections read the file mapped (no copy of each page into SQLite's cache);
  // the caller's connection gets its own setting back on the way out (declared before the
  // transaction, so restored after it ends).
  const int64_t mmap_before = max_of(db, "PRAGMA mmap_size").value_or(0);
  sqlite3_exec(db, "PRAGMA mmap_size = 17179869184", nullptr, nullptr, nullptr);
  std::unique_ptr<sqlite3, std::function<void(sqlite3*)>> restore_mmap(db, [mmap_before](sqlite3* handle) {
    sqlite3_exec(handle, Cat("PRAGMA mmap_size = ", mmap_before).c_str(), nullptr, nullptr, nullptr);
  });
  ReadTransaction transaction(db);
  PA_RETURN_IF_ERROR(transaction.Begin());
  PA_ASSIGN_OR_RETURN(const int64_t seq, max_of(db, kLastSeqSql));
  PA_ASSIGN_OR_RETURN(const int64_t max_id, max_of(db, "SELECT coalesce(max(id), 0) FROM events"));
  cube.Reserve(max_id);
  cube.BeginBulk();  // the scanning threads write events into their slots (PutBulk)

  // Two threads scan halves of the id range, each on its own connection in a read transaction
  // that must see the same state (the same last change); otherwise one thread reads it all.
  sqlite3* second = nullptr;
  const char* file = sqlite3_db_filename(db, "main");
  std::unique_ptr<ReadTransaction> second_transaction;
  bool parallel = max_id > 1000 && file != nullptr && file[0] != '\0' &&
                  sqlite3_open_v2(file, &second, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK;
  if (parallel) {
    sqlite3_busy_timeout(second, 5000);
    sqlite3_exec(second, "PRAGMA mmap_size = 17179869184", nullptr, nullptr, nullptr);
    second_transaction = std::make_unique<ReadTransaction>(second);
    absl::StatusOr<int64_t> second_seq = second_transaction->Begin().ok() ? max_of(second, kLastSeqSql)
                                                                          : absl::StatusOr<int64_t>(-1);
    parallel = second_seq.ok() && *second_seq == seq;
  }
  const int64_t middle = parallel ? max_id / 2 : max_id;
  Compiled first_half, second_half;
  absl::Status second_status = absl::OkStatus();
  std::thread helper;
  Impl second_impl(cube);
  if (parallel) {
    helper = std::thread([&] {
      second_status = ScanRange(second, middle + 1, max_id, second_impl, clock_, cube, second_half);
    });
  }
  absl::Status first_status = ScanRange(db, 1, middle, *impl_, clock_, cube, first_half);
  if (helper.joinable()) helper.join();
  second_transaction.reset();
  if (second != nullptr) sqlite3_close_v2(second);
  if (!first_status.ok() || !second_status.ok()) {
    // Nothing half-loaded stays: the cube is left empty, as the restore above made it.
    cube.Restore({}, {}).IgnoreError();
    cube.EndBulk();
    return first_status.ok() ? second_status : first_status;
  }
  const auto t_scan = std::chrono::steady_clock::now();
  for (const Compiled* part : {&first_half, &second_half}) {
    size_t next_sums = 0;
    for (const auto& [id, event] : part->events) {
      const int64_t* values = nullptr;
      if (event.sums != 0) {
        values = part->sums.data() + next_sums;
        next_sums += cube.sum_stride();
      }
      cube.PutCompiled(id, event, values);
    }
  }
  const auto t_install = std::chrono::steady_clock::now();
  cube.EndBulk();
  if (std::getenv("PINGAN_CUBE_TIMING") != nullptr) {
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::fprintf(stderr, "cube load: scan %.0f ms (%s), install %.0f ms, aggregates %.0f ms\n", ms(t_start, t_scan),
                 parallel ? "2 threads" : "1 thread", ms(t_scan, t_install), ms(t_install, std::chrono::steady_clock::now()));
  }
  return seq;
}

absl::StatusOr<int64_t> CubeFeeder::ApplyChanges(sqlite3* db, int64_t after_seq, Cube& cube, int64_t* changed,
                                                 int64_t max_changes) {
  if (changed != nullptr) *changed = 0;
  ReadTransaction transaction(db);
  PA_RETURN_IF_ERROR(transaction.Begin());
  Statement last;
  PA_RETURN_IF_ERROR(last.Prepare(db, kLastSeqSql));
  if (sqlite3_step(last.get()) != SQLITE_ROW) return absl::InternalError(Cat("cube: ", sqlite3_errmsg(db)));
  const int64_t latest = sqlite3_column_int64(last.get(), 0);
  const int64_t seq = latest - after_seq > max_changes ? after_seq + max_changes : latest;
  if (latest < after_seq) {
    return absl::FailedPreconditionError("cube: the store's change sequence went backwards (a new database?)");
  }
  if (seq == after_seq) return seq;
  PA_ASSIGN_OR_RETURN(const auto ranges, ChangedEventIds(db, after_seq, seq));
  Statement rows;
  PA_RETURN_IF_ERROR(rows.Prepare(db, Cat("SELECT ", kEventColumns, " FROM events WHERE id BETWEEN ?1 AND ?2").c_str()));
  int64_t count = 0;
  for (const auto& [from, to] : ranges) {
    sqlite3_bind_int64(rows.get(), 1, from);
    sqlite3_bind_int64(rows.get(), 2, to);
    int rc;
    while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
      impl_->PutRow(rows.get(), clock_, cube);
      ++count;
    }
    if (rc != SQLITE_DONE) return absl::InternalError(Cat("cube: reading changes: ", sqlite3_errmsg(db)));
    sqlite3_reset(rows.get());
  }
  if (changed != nullptr) *changed = count;
  return seq;
}

uint64_t CubeFingerprint(const Cube& cube, std::string_view registry_generation, std::string_view time_zone) {
  std::string text = Cat("layout=", kLayoutVersion, ";event=", sizeof(CubeEvent), ";registry=", registry_generation,
                         ";units=", cube.registry().size(), ";city=", cube.home_city().value, ";tz=", time_zone,
                         ";dense=", static_cast<int>(Cube::kDenseLevel), ";");
  const Catalog& catalog = cube.catalog();
  for (const SourceDef& source : catalog.sources) text += Cat("source ", source.id, ";");
  for (const EventTypeDef& type : catalog.types) text += Cat("type ", type.id, ";");
  auto measure = [&](const MeasureDef& def) {
    text += Cat(def.id, ":", MeasureText(def.measure), ":");
    for (uint16_t type : def.type_indexes) text += Cat(type, ",");
    for (const Condition& condition : def.where) text += Cat(ConditionText(condition), "&");
    text += ";";
  };
  for (const MeasureDef& def : catalog.indicators) measure(def);
  for (const MeasureDef& def : catalog.key_types) measure(def);
  text += "major;";
  for (const MeasureDef& def : cube.major_rules()) measure(def);
  return XXH3_64bits(text.data(), text.size());
}

namespace {

struct SnapshotHeader {
  char magic[8];
  uint64_t fingerprint;
  int64_t seq;
  uint64_t events;
  uint64_t sums;
  uint64_t aggregates;  // bytes of Cube::SaveAggregates
};

// Where the event states start in the file: a page boundary, so that they can be mapped and
// used in place (core/mappable_allocator.h). Zero bytes lie between the header and them.
constexpr size_t kEventsOffset = 4096;
static_assert(sizeof(SnapshotHeader) <= kEventsOffset);

uint64_t SnapshotChecksum(const SnapshotHeader& header, const CubeEvents& events,
                          const std::vector<int64_t>& sums, std::string_view aggregates) {
  static const std::string padding(kEventsOffset - sizeof(SnapshotHeader), '\0');
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, &header, sizeof header);
  XXH3_64bits_update(state, padding.data(), padding.size());
  XXH3_64bits_update(state, events.data(), events.size() * sizeof(CubeEvent));
  XXH3_64bits_update(state, sums.data(), sums.size() * sizeof(int64_t));
  XXH3_64bits_update(state, aggregates.data(), aggregates.size());
  const uint64_t checksum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return checksum;
}

}  // namespace

absl::Status SaveCubeSnapshot(const fs::path& path, const Cube& cube, int64_t seq, uint64_t fingerprint) {
  const CubeEvents& events = cube.event_states();
  const std::vector<int64_t>& sums = cube.sum_values();
  SnapshotHeader header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.fingerprint = fingerprint;
  header.seq = seq;
  header.events = events.size();
  header.sums = sums.size();
  const std::string aggregates = cube.SaveAggregates();
  header.aggregates = aggregates.size();
  const uint64_t checksum = SnapshotChecksum(header, events, sums, aggregates);

  const std::string padding(kEventsOffset - sizeof header, '\0');
  auto bytes = [](const auto* data, size_t count) {
    return std::string_view(reinterpret_cast<const char*>(data), count * sizeof *data);
  };
  return WriteFileAtomically(path,
                             {bytes(&header, 1), padding, bytes(events.data(), events.size()),
                              bytes(sums.data(), sums.size()), bytes(aggregates.data(), aggregates.size()),
                              bytes(&checksum, 1)},
                             "the cube snapshot");
}

absl::StatusOr<CubeSnapshotData> ReadCubeSnapshot(const fs::path& path, size_t columns) {
  // Mapped, not read: the events and sums are copied once out of the page cache into their
  // vectors (no zeroed buffer first), and the aggregates parse straight from the mapping.
  auto damaged = [&](std::string_view what) {
    return absl::FailedPreconditionError(Cat("cube snapshot ", path.string(), ": ", what));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(Cat("no cube snapshot at ", path.string()));
  struct stat info {};
  const bool stat_ok = ::fstat(fd, &info) == 0;
  const uintmax_t size = stat_ok ? static_cast<uintmax_t>(info.st_size) : 0;
  absl::Cleanup close_fd = [fd] { ::close(fd); };  // open until the events are mapped
  if (!stat_ok || size < kEventsOffset + sizeof(uint64_t)) return damaged("too short");
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (mapped == MAP_FAILED) return damaged("cannot be mapped");
  std::unique_ptr<void, std::function<void(void*)>> unmap(mapped, [size](void* at) { ::munmap(at, size); });
  ::madvise(mapped, size, MADV_SEQUENTIAL);
  const char* bytes = static_cast<const char*>(mapped);
  SnapshotHeader header{};
  std::memcpy(&header, bytes, sizeof header);
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) return damaged("not a cube snapshot");
  if (header.events > (uintmax_t{1} << 33) / sizeof(CubeEvent) || header.sums > (uintmax_t{1} << 33) / 8 ||
      header.aggregates > (uintmax_t{1} << 35) ||
      kEventsOffset + header.events * sizeof(CubeEvent) + header.sums * 8 + header.aggregates + 8 != size) {
    return damaged("sizes do not add up");
  }
  StageTimer timer("cube snapshot");
  const char* events_at = bytes + kEventsOffset;
  const char* sums_at = events_at + header.events * sizeof(CubeEvent);
  const std::string_view aggregates(sums_at + header.sums * sizeof(int64_t), header.aggregates);
  uint64_t stored = 0;
  std::memcpy(&stored, aggregates.data() + aggregates.size(), sizeof stored);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, bytes, size - sizeof stored);
  const uint64_t checksum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  if (checksum != stored) return damaged("checksum mismatch");
  timer.Mark("mapped and checked");
  CubeSnapshotData data;
  data.fingerprint = header.fingerprint;
  data.seq = header.seq;
  static_assert(std::is_trivially_copyable_v<CubeEvent>);
  // The event states are used where they lie: a private writable mapping of their pages, read
  // from the page cache and copied only where an update writes (no 300 MB of fresh memory at 10 M
  // events). Small arrays, or a mapping refused, are copied.
  const size_t events_bytes = header.events * sizeof(CubeEvent);
  static_assert(kEventsOffset % alignof(CubeEvent) == 0);
  const bool in_place = MapOrCopy(data.events, fd, kEventsOffset, header.events, events_at);
  if (reinterpret_cast<uintptr_t>(sums_at) % alignof(int64_t) == 0) {
    const auto* sums = reinterpret_cast<const int64_t*>(sums_at);
    data.sums.assign(sums, sums + header.sums);
  } else {
    data.sums.resize(header.sums);
    std::memcpy(data.sums.data(), sums_at, header.sums * sizeof(int64_t));
  }
  timer.Mark(Cat("events ", in_place ? "mapped in place" : "copied", " (", events_bytes >> 20, " MB)").c_str());
  if (columns > 0) {
    absl::StatusOr<Cube::ParsedAggregates> parsed = Cube::ParseAggregates(aggregates, columns, data.events.size());
    if (!parsed.ok()) return absl::FailedPreconditionError(Cat(path.string(), ": ", parsed.status().message()));
    data.parsed = *std::move(parsed);
    timer.Mark(Cat("aggregates parsed (", aggregates.size() >> 20, " MB)").c_str());
  } else {
    data.aggregates.assign(aggregates);
  }
  return data;
}

absl::StatusOr<int64_t> AdoptCubeSnapshot(CubeSnapshotData data, uint64_t fingerprint, Cube& cube) {
  if (data.fingerprint != fingerprint) {
    return absl::FailedPreconditionError("cube snapshot: made for another catalog, registry or layout");
  }
  if (absl::Status adopted = data.parsed ? cube.AdoptParsed(std::move(data.events), std::move(data.sums), *std::move(data.parsed))
                                         : cube.AdoptAggregates(std::move(data.events), std::move(data.sums), data.aggregates);
      !adopted.ok()) {
    return absl::FailedPreconditionError(Cat("cube snapshot: ", adopted.message()));
  }
  return data.seq;
}

absl::StatusOr<int64_t> LoadCubeSnapshot(const fs::path& path, uint64_t fingerprint, Cube& cube) {
  PA_ASSIGN_OR_RETURN(CubeSnapshotData data, ReadCubeSnapshot(path));
  return AdoptCubeSnapshot(std::move(data), fingerprint, cube);
}

absl::StatusOr<int64_t> OpenCube(sqlite3* db, const fs::path& snapshot, uint64_t fingerprint, CubeFeeder& feeder,
                                 Cube& cube, bool save, CubeOpenStats* stats, int64_t save_after,
                                 absl::StatusOr<CubeSnapshotData>* preread) {
  CubeOpenStats local;
  CubeOpenStats& out = stats != nullptr ? *stats : local;
  out = CubeOpenStats{};
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  int64_t seq = 0;
  bool rebuilt = false;
  auto start = Clock::now();
  absl::StatusOr<int64_t> restored =
      preread != nullptr ? (preread->ok() ? AdoptCubeSnapshot(*std::move(*preread), fingerprint, cube)
                                          : absl::StatusOr<int64_t>(preread->status()))
                         : LoadCubeSnapshot(snapshot, fingerprint, cube);
  out.restore_ms = ms_since(start);
  if (restored.ok()) {
    start = Clock::now();
    absl::StatusOr<int64_t> caught_up = feeder.ApplyChanges(db, *restored, cube, &out.changes_applied);
    out.catch_up_ms = ms_since(start);
    if (caught_up.ok()) {
      seq = *caught_up;
      out.from_snapshot = true;
    } else if (absl::IsFailedPrecondition(caught_up.status())) {
      out.snapshot_note = std::string(caught_up.status().message());
    } else {
      return caught_up.status();
    }
  } else {
    out.snapshot_note = std::string(restored.status().message());
  }
  if (!out.from_snapshot) {
    start = Clock::now();
    PA_ASSIGN_OR_RETURN(seq, feeder.LoadAll(db, cube));
    out.rebuild_ms = ms_since(start);
    rebuilt = true;
  }
  if (save && (rebuilt || out.changes_applied > save_after)) {
    start = Clock::now();
    out.snapshot_saved = SaveCubeSnapshot(snapshot, cube, seq, fingerprint).ok();
    out.save_ms = ms_since(start);
  }
  return seq;
}

}  // namespace pingan
