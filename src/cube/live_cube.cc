#include "cube/live_cube.h"

#include <sqlite3.h>

#include "core/status.h"
#include "core/strings.h"

namespace pingan {

LiveCube::LiveCube(std::unique_ptr<Cube> cube, CivilClock clock, int64_t seq, Options options)
    : cube_(std::move(cube)), feeder_(*cube_, std::move(clock)), options_(std::move(options)), seq_(seq) {}

absl::StatusOr<std::unique_ptr<LiveCube>> LiveCube::Start(const std::filesystem::path& db_path,
                                                          std::unique_ptr<Cube> cube, CivilClock clock, int64_t seq,
                                                          Options options) {
  std::unique_ptr<LiveCube> live(new LiveCube(std::move(cube), std::move(clock), seq, std::move(options)));
  if (sqlite3_open_v2(db_path.c_str(), &live->db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string message = live->db_ != nullptr ? sqlite3_errmsg(live->db_) : "out of memory";
    return absl::FailedPreconditionError(Cat("cannot open ", db_path.string(), " to follow it: ", message));
  }
  sqlite3_busy_timeout(live->db_, 5000);
  live->follower_ = std::thread([raw = live.get()] { raw->Follow(); });
  return live;
}

LiveCube::~LiveCube() {
  {
    std::lock_guard lock(stop_mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  if (!options_.snapshot.empty() && changes_since_snapshot_ > 0) {
    std::shared_lock lock(mutex_);
    // Best effort: a failed write leaves the older snapshot, which the next start catches up from.
    (void)SaveCubeSnapshot(options_.snapshot, *cube_, seq_.load(), options_.fingerprint);
  }
  sqlite3_close_v2(db_);
}

absl::Status LiveCube::Step(bool* more) {
  std::lock_guard step(step_mutex_);
  const int64_t from = seq_.load(std::memory_order_acquire);
  int64_t changed = 0;
  absl::StatusOr<int64_t> seq;
  {
    std::unique_lock lock(mutex_);
    seq = feeder_.ApplyChanges(db_, from, *cube_, &changed, options_.max_changes_per_step);
    // Published under the same lock: a reader that sees the changes sees their sequence too
    // (stored after the unlock, a reader scheduled in between saw new counts at the old one).
    if (seq.ok()) seq_.store(*seq, std::memory_order_release);
  }
  if (!seq.ok()) return seq.status();
  changes_since_snapshot_ += *seq - from;
  *more = *seq - from >= options_.max_changes_per_step;
  if (!options_.snapshot.empty() && changes_since_snapshot_ >= options_.snapshot_every && !*more) {
    std::shared_lock lock(mutex_);
    if (SaveCubeSnapshot(options_.snapshot, *cube_, *seq, options_.fingerprint).ok()) changes_since_snapshot_ = 0;
  }
  return absl::OkStatus();
}

absl::Status LiveCube::CatchUp() {
  bool more = true;
  while (more) PA_RETURN_IF_ERROR(Step(&more));
  return absl::OkStatus();
}

absl::Status LiveCube::LastError() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

void LiveCube::Follow() {
  std::unique_lock stop_lock(stop_mutex_);
  while (!stop_) {
    stop_lock.unlock();
    bool more = false;
    absl::Status status = Step(&more);
    {
      std::lock_guard lock(error_mutex_);
      last_error_ = status;
    }
    stop_lock.lock();
    if (!more || !status.ok()) stop_cv_.wait_for(stop_lock, options_.poll, [&] { return stop_; });
  }
}

}  // namespace pingan
