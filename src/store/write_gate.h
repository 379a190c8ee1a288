// Turns at writing the database, in arrival order, for the writers of one process.
//
// SQLite lets one connection write at a time; the others wait in their busy handler, which
// sleeps and retries and is not fair: a writer that commits in a loop (the task writer under
// load) leaves the others only the instant between its COMMIT and its next BEGIN, and a login
// or an ingest batch can time out behind it. Every write transaction of the server's stores
// takes a turn here first (a ticket lock: first come, first served), so that in one process the
// busy handler is left only for other processes (the CLI).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace pingan {

class WriteGate {
 public:
  static WriteGate& Instance() {
    static WriteGate gate;
    return gate;
  }
  void Lock() {
    std::unique_lock lock(mutex_);
    const uint64_t ticket = next_++;
    turn_.wait(lock, [&] { return serving_ == ticket; });
  }
  void Unlock() {
    {
      std::lock_guard lock(mutex_);
      ++serving_;
    }
    turn_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable turn_;
  uint64_t next_ = 0, serving_ = 0;
};

// Holds a turn for its scope.
class WriteTurn {
 public:
  WriteTurn() { WriteGate::Instance().Lock(); }
  ~WriteTurn() { WriteGate::Instance().Unlock(); }
  WriteTurn(const WriteTurn&) = delete;
  WriteTurn& operator=(const WriteTurn&) = delete;
};

}  // namespace pingan
