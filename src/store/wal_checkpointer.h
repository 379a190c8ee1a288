// Checkpoints a writer connection's WAL on a thread of its own.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses wal_autocheckpoint pages:
// the writer then copies the WAL's pages into the database file and waits for fdatasync, 15 ms
// per 20,000-event batch on average here (bench/event_store_benchmark), a fifth of a batch's
// time. With a WalCheckpointer the writer's COMMIT only signals; a second connection runs
// PASSIVE checkpoints (which never block the writer nor readers) while the writer goes on.
// Should the checkpoints fall far behind (inline_pages), the writer checkpoints itself, as SQLite
// would, so that the WAL stays bounded. Durability is SQLite's either way: a checkpoint only
// copies committed pages, and a crash in the middle of one is recovered from the WAL at the next
// open.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace pingan {

class WalCheckpointer {
 public:
  struct Thresholds {
    // WAL pages (of the database's page size) after which the background thread checkpoints:
    // 64 MB at pingan's 16 KB pages (32 MB in a file made with 8 KB pages), four times SQLite's
    // default in pages (fewer fdatasyncs; pages written by several batches are copied once).
    int background_pages = 4096;
    // WAL pages after which the writer checkpoints in its own COMMIT (the background is behind).
    int inline_pages = 64 * 1024;
  };

  // Takes over `writer`'s WAL hook (and so its automatic checkpoints) until destroyed. Returns
  // null, leaving `writer` as it was, for a database without a file (in memory, temporary), a
  // read-only connection (the server's readers), or when the second connection cannot be opened.
  static std::unique_ptr<WalCheckpointer> Start(sqlite3* writer, Thresholds thresholds);
  static std::unique_ptr<WalCheckpointer> Start(sqlite3* writer) { return Start(writer, Thresholds()); }
  ~WalCheckpointer();  // stops the thread and gives `writer` back SQLite's automatic checkpoints

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // For tests: commits that asked the thread for a checkpoint, and the checkpoints it completed.
  int64_t requests() const;
  int64_t checkpoints() const;

 private:
  WalCheckpointer(sqlite3* writer, sqlite3* own, Thresholds thresholds);
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Loop();

  sqlite3* writer_;
  sqlite3* own_;
  Thresholds thresholds_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false, stopping_ = false;
  int64_t requests_ = 0, checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace pingan
