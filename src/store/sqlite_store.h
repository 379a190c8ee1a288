// The SQLite backend of the store: one file in the data directory, WAL mode, durable against
// kill -9 (synchronous=NORMAL; FULL when configured).
//
// SQLite's C API is used directly rather than through SQLiteCpp: the registry loads 1-2 million
// rows at start and the thin adapter below keeps that loop free of exceptions and copies.
//
// Example:
//   PA_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(dir / "pingan.db"));
//   PA_ASSIGN_OR_RETURN(Registry registry, store->LoadRegistry());
#pragma once

#include <filesystem>
#include <memory>

#include "store/store.h"

struct sqlite3;

namespace pingan {

inline constexpr char kStoreFormat[] = "pingan";
// Version 2 adds events, their change log and the quarantine (event_store.h); version 3 the
// change log's runs of inserts. Open upgrades a version 1 or 2 database in place when opened
// read-write, and reads a version 2 database opened read-only as version 3.
inline constexpr int kSchemaVersion = 3;

// Process-wide SQLite settings, to be called first in main() (before any thread opens a
// database; SQLite refuses them later, harmlessly). Turns off SQLite's memory statistics, which
// pingan never reads and which take a global mutex on every allocation: 5-10 % of a write
// batch (bench/event_store_benchmark).
void ConfigureSqlite();

class SqliteStore final : public Store {
 public:
  enum class Mode { kReadOnly, kReadWrite };

  // Opens an existing pingan database. FailedPrecondition when the file is missing, not a
  // SQLite database, not a pingan database, or of another schema version (version 1 is
  // upgraded when opened read-write, and read as it is otherwise).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::filesystem::path& path,
                                                           Mode mode = Mode::kReadWrite);
  // Creates a new database at `path`, which must not exist, with the schema. Built for bulk
  // loading (no journal until Finish()).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Create(const std::filesystem::path& path);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status SaveRegistry(const Registry& registry,
                            std::optional<std::string> expected_generation = std::nullopt) override;
  absl::StatusOr<Registry> LoadRegistry() override;
  absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& key) override;
  absl::Status SetMeta(const std::string& key, const std::string& value) override;
  // The level of the live unit whose code is exactly `code`, without loading the registry (one
  // index lookup); nullopt when there is none.
  absl::StatusOr<std::optional<Level>> FindUnitLevel(const AddressCode& code);

  // The registry snapshot beside the database (see snapshot.h).
  std::filesystem::path snapshot_path() const { return std::filesystem::path(path_.string() + ".registry"); }
  // Where the geocoder's index is kept beside the database (geocode/matcher.h), and the
  // registry generation it must have been built from: that of the registry the last
  // LoadRegistry returned (0 before, or when the database has none).
  std::filesystem::path matcher_index_path() const { return std::filesystem::path(path_.string() + ".matcher"); }
  uint64_t loaded_registry_generation() const { return loaded_generation_; }
  // Whether this connection may write (files beside the database included).
  bool writable() const { return mode_ == Mode::kReadWrite; }
  // Switches a freshly created database to WAL and syncs it to disk.
  absl::Status Finish();
  // Runs `sql` (no results) — for transactions and maintenance.
  absl::Status Exec(const char* sql);
  sqlite3* handle() { return db_; }

 private:
  explicit SqliteStore(sqlite3* db, std::filesystem::path path, Mode mode)
      : db_(db), path_(std::move(path)), mode_(mode) {}
  absl::Status Error(std::string_view what) const;
  absl::StatusOr<Registry> LoadRegistryTables(History history);
  absl::StatusOr<History> LoadHistory();
  absl::Status Migrate();  // to kSchemaVersion, in one transaction

  sqlite3* db_;
  std::filesystem::path path_;
  uint64_t loaded_generation_ = 0;
  Mode mode_;
};

}  // namespace pingan
