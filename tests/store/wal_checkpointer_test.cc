#include "store/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <climits>
#include <filesystem>
#include <string>
#include <thread>

#include "testing/temp_dir.h"

namespace pingan {
namespace {

constexpr int kPage = 4096;

// A WAL database at `path` with a table of page-sized rows.
struct WalDb {
  explicit WalDb(const std::filesystem::path& file) : path(file) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    Exec("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(x BLOB)");
  }
  ~WalDb() { sqlite3_close(db); }
  void Exec(const std::string& sql) {
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK) << (message ? message : "");
    sqlite3_free(message);
  }
  // One transaction of `rows` rows of about a page each.
  void Commit(int rows) {
    Exec("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < " + std::to_string(rows) +
         ") INSERT INTO t SELECT randomblob(4000) FROM s");
  }
  int64_t WalPages() const {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path.string() + "-wal", ec);
    return ec ? 0 : static_cast<int64_t>(size / (kPage + 24));
  }
  std::filesystem::path path;
  sqlite3* db = nullptr;
};

int64_t CountRows(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &stmt, nullptr);
  int64_t count = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

TEST(WalCheckpointer, TheBackgroundThreadCheckpointsAndTheWalIsReused) {
  testing::TempDir dir;
  WalDb wal(dir.path() / "a.db");
  auto checkpointer = WalCheckpointer::Start(wal.db, {.background_pages = 64, .inline_pages = INT_MAX});
  ASSERT_NE(checkpointer, nullptr);
  int64_t largest = 0;
  for (int round = 0; round < 40; ++round) {
    const int64_t before = checkpointer->checkpoints(), asked = checkpointer->requests();
    wal.Commit(50);  // ~53 pages: every second commit crosses 64 pages and asks for a checkpoint
    largest = std::max(largest, wal.WalPages());
    if (checkpointer->requests() > asked) {
      // The writer went on at once; the checkpoint completes on the other thread.
      for (int wait = 0; wait < 1000 && checkpointer->checkpoints() == before; ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ASSERT_GT(checkpointer->checkpoints(), before) << "round " << round;
    }
  }
  // 2,000 pages were written; SQLite's automatic checkpoints are off while the hook is ours, so
  // only the checkpointer's kept the WAL this small (it is rewound after a complete checkpoint).
  EXPECT_LT(largest, 64 + 2 * 60);
  EXPECT_GE(checkpointer->requests(), 15);
  EXPECT_EQ(checkpointer->checkpoints(), checkpointer->requests());
  EXPECT_EQ(CountRows(wal.path), 2000);
}

TEST(WalCheckpointer, AWriterFarAheadCheckpointsItself) {
  testing::TempDir dir;
  WalDb wal(dir.path() / "a.db");
  auto checkpointer = WalCheckpointer::Start(wal.db, {.background_pages = INT_MAX, .inline_pages = 100});
  ASSERT_NE(checkpointer, nullptr);
  int64_t largest = 0;
  for (int round = 0; round < 40; ++round) {
    wal.Commit(50);
    largest = std::max(largest, wal.WalPages());
  }
  EXPECT_LT(largest, 100 + 2 * 60);
  EXPECT_EQ(checkpointer->requests(), 0);  // the thread was never asked
  EXPECT_EQ(CountRows(wal.path), 2000);
}

TEST(WalCheckpointer, SqlitesOwnCheckpointsComeBackWhenItStops) {
  testing::TempDir dir;
  WalDb wal(dir.path() / "a.db");
  WalCheckpointer::Start(wal.db, {.background_pages = INT_MAX, .inline_pages = INT_MAX}).reset();
  int64_t largest = 0;
  for (int round = 0; round < 60; ++round) {
    wal.Commit(50);
    largest = std::max(largest, wal.WalPages());
  }
  EXPECT_LT(largest, 1000 + 2 * 60);  // SQLite's default: 1,000 pages
  EXPECT_EQ(CountRows(wal.path), 3000);
}

TEST(WalCheckpointer, ADatabaseWithoutAFileOrAReadOnlyConnectionHasNone) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  EXPECT_EQ(WalCheckpointer::Start(db), nullptr);
  sqlite3_close(db);

  testing::TempDir dir;
  WalDb wal(dir.path() / "a.db");
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(wal.path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_EQ(WalCheckpointer::Start(reader), nullptr);
  sqlite3_close(reader);
  EXPECT_NE(WalCheckpointer::Start(wal.db), nullptr);
}

}  // namespace
}  // namespace pingan
