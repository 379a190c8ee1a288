// Stage timings for the slow paths of a start (registry, cube), printed on stderr when the
// environment has PINGAN_CUBE_TIMING set, as one line when the timer goes out of scope:
//   registry snapshot: map 2 ms, checksum 31 ms, ...
//
//   StageTimer timer("registry snapshot");
//   ... timer.Mark("checksum");
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace pingan {

class StageTimer {
 public:
  explicit StageTimer(const char* name)
      : on_(std::getenv("PINGAN_CUBE_TIMING") != nullptr), line_(std::string(name) + ":"), last_(Clock::now()) {}
  ~StageTimer() {
    if (on_ && marks_ > 0) std::fprintf(stderr, "%s\n", line_.c_str());
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

  void Mark(const char* stage) {
    if (!on_) return;
    const auto now = Clock::now();
    char piece[160];
    std::snprintf(piece, sizeof piece, "%s %s %.0f ms", marks_ == 0 ? "" : ",", stage,
                  std::chrono::duration<double, std::milli>(now - last_).count());
    line_ += piece;
    ++marks_;
    last_ = now;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool on_;
  std::string line_;
  Clock::time_point last_;
  int marks_ = 0;
};

}  // namespace pingan
