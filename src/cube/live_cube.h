// A cube kept current while it is read: a follower thread polls the store's change sequence
// (every `poll`, 200 ms by default) and applies what other processes wrote, so an event ingested
// by a separate `pingan ingest` shows within a second. Readers share a lock; the follower takes it
// exclusively for at most `max_changes_per_step` changes at a time, so a large ingest does not
// stall readers for long. The snapshot is rewritten after `snapshot_every` changes and at Stop.
//
// Thread-safety: Read and Sequence may be called from any thread; the rest from the owner.
//
// Example:
//   PA_ASSIGN_OR_RETURN(auto live, LiveCube::Start(db_path, std::move(cube), clock, seq, options));
//   double value = live->Read([&](const Cube& cube) { ... });
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "cube/cube.h"
#include "cube/cube_loader.h"

namespace pingan {

class LiveCube {
 public:
  struct Options {
    std::chrono::milliseconds poll{200};
    int64_t max_changes_per_step = 50'000;
    std::filesystem::path snapshot;  // empty: none written
    uint64_t fingerprint = 0;
    int64_t snapshot_every = 200'000;
  };
  // Follows the database at `db_path` (opened read-only on the follower's own connection) from
  // sequence `seq`, which `cube` reflects.
  static absl::StatusOr<std::unique_ptr<LiveCube>> Start(const std::filesystem::path& db_path,
                                                          std::unique_ptr<Cube> cube, CivilClock clock,
                                                          int64_t seq, Options options);
  ~LiveCube();  // stops the follower (writing the snapshot when due)

  // Runs `read(const Cube&)` under the shared lock and returns what it returns.
  template <typename Reader>
  auto Read(Reader&& read) const {
    std::shared_lock lock(mutex_);
    return read(static_cast<const Cube&>(*cube_));
  }
  // The change sequence the cube reflects.
  int64_t Sequence() const { return seq_.load(std::memory_order_acquire); }
  // Applies every pending change now (the follower does the same on its own).
  absl::Status CatchUp();
  // The follower's last error (OK while it works).
  absl::Status LastError() const;

 private:
  LiveCube(std::unique_ptr<Cube> cube, CivilClock clock, int64_t seq, Options options);
  void Follow();
  absl::Status Step(bool* more);

  mutable std::shared_mutex mutex_;  // guards *cube_
  std::unique_ptr<Cube> cube_;
  CubeFeeder feeder_;
  Options options_;
  sqlite3* db_ = nullptr;        // the follower's connection (used under step_mutex_)
  std::mutex step_mutex_;        // one Step at a time
  std::atomic<int64_t> seq_;
  int64_t changes_since_snapshot_ = 0;
  mutable std::mutex error_mutex_;
  absl::Status last_error_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread follower_;
};

}  // namespace pingan
