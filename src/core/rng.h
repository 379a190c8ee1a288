// A small deterministic random generator for the demo city and its feeds.
//
// std::mt19937 is portable but the std distributions are not (their output differs between
// standard libraries), so the same seed must go through these fixed transforms to give the
// same city everywhere. Not for cryptography. Not thread-safe: one per thread or per stream.
#pragma once

#include <cmath>
#include <cstdint>

namespace pingan {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // Derives an independent stream from a seed and a key (e.g. a unit's code), so that
  // generating one area does not shift the numbers of another.
  static Rng Derive(uint64_t seed, uint64_t key) { return Rng(Mix(seed ^ Mix(key + 0x9E37))); }

  // splitmix64: passes BigCrush, one multiply-xorshift chain per call.
  uint64_t Next() { return Mix(state_ += 0x9E3779B97F4A7C15ULL); }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] (inclusive). REQUIRES: lo <= hi.
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Uniform() * static_cast<double>(hi - lo + 1));
  }
  // Standard normal by Box-Muller (one value per call; simplicity over speed).
  double Normal() {
    double u1 = 1.0 - Uniform();  // (0, 1]
    double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  // Log-normal with median 1 and log-scale sigma.
  double LogNormal(double sigma) { return std::exp(sigma * Normal()); }
  bool Chance(double probability) { return Uniform() < probability; }

  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace pingan
