#include "store/wal_checkpointer.h"

#include <cstring>

namespace pingan {

std::unique_ptr<WalCheckpointer> WalCheckpointer::Start(sqlite3* writer, Thresholds thresholds) {
  const char* path = sqlite3_db_filename(writer, "main");
  if (path == nullptr || *path == '\0') return nullptr;
  if (sqlite3_db_readonly(writer, "main") != 0) return nullptr;  // never commits: nothing to do
  sqlite3* own = nullptr;
  if (sqlite3_open_v2(path, &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close(own);
    return nullptr;
  }
  // This connection never writes pages of its own; it must not checkpoint on close either,
  // which could wait behind the writer (the writer's connection does that when it closes).
  sqlite3_busy_timeout(own, 0);
  // A connection learns that the database is in WAL mode when it first reads it; until then a
  // checkpoint does nothing (and reports -1).
  sqlite3_exec(own, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  sqlite3_db_config(own, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(writer, own, thresholds));
}

WalCheckpointer::WalCheckpointer(sqlite3* writer, sqlite3* own, Thresholds thresholds)
    : writer_(writer), own_(own), thresholds_(thresholds) {
  sqlite3_wal_hook(writer_, &WalCheckpointer::OnCommit, this);
  thread_ = std::thread([this] { Loop(); });
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_, 1000);  // SQLite's default; replaces our hook
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  sqlite3_close(own_);
}

int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

int64_t WalCheckpointer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

int WalCheckpointer::OnCommit(void* self_pointer, sqlite3* db, const char* name, int pages) {
  auto* self = static_cast<WalCheckpointer*>(self_pointer);
  if (pages >= self->thresholds_.inline_pages) {
    // Far behind (a long reader, or a slow disk): what SQLite's own hook would have done long ago.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= self->thresholds_.background_pages) {
    {
      std::lock_guard lock(self->mutex_);
      self->requested_ = true;
      ++self->requests_;
    }
    self->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    int in_wal = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own_, "main", SQLITE_CHECKPOINT_PASSIVE, &in_wal, &copied);
    lock.lock();
    if (rc == SQLITE_OK && in_wal >= 0 && copied == in_wal) ++checkpoints_;
  }
}

}  // namespace pingan
