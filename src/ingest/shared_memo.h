// A memo of values by key, shared by threads: the converter's answers for recent address texts
// and codes (feeds repeat addresses — a police station, a compound, a road — and the answer
// depends on the text or code alone).
//
// Keys are 128 bits. A code is its own key (its two halves). A text is keyed by its 128-bit
// XXH3 hash under a seed drawn when the memo is made, not by its bytes: no string is held or
// allocated per text. Two texts share an answer only if their hashes collide: for the memo's
// half a million texts about one chance in 10^27, and not something an input can be crafted
// for, the seed being unknown.
//
// Laid out like a CPU cache: a key's hash picks a set of kWays slots, and the set's tags (64
// bits of the hash each) and its recency order share one cache line. A lookup that misses —
// most of them, in a feed of mostly distinct texts — reads that one line; a hit reads the slot
// as well. Each set keeps its keys in least-recently-used order (four bits per way in one word),
// so the keys in use stay and the rest age out, set by set; nothing is moved or allocated after
// the memo is made. (It replaced two generations of hash maps per shard, which cost a lookup
// two cache misses and a fresh table whenever a generation filled: 6 % of a text file's
// ingest samples, 2026-11-30.)
//
// Sets are guarded by striped locks. Values are copied in and out under the lock, and are
// stored without construction: they must be trivially copyable.
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <string_view>
#include <type_traits>

namespace pingan {

template <typename Value>
class SharedMemo {
  static_assert(std::is_trivially_copyable_v<Value> && std::is_trivially_destructible_v<Value>,
                "slots are raw memory, copied in and out");

 public:
  static constexpr size_t kWays = 7;  // seven 8-byte tags and the order word: one cache line

  struct Key {
    uint64_t low = 0, high = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };

  // Holds between `entries` and about twice that many keys (a power of two of sets).
  explicit SharedMemo(size_t entries)
      : sets_(std::bit_floor(std::max<size_t>(1, 2 * entries / kWays))),
        seed_(std::random_device{}() * uint64_t{0x9E3779B97F4A7C15}),
        // calloc: a large block comes as fresh zero pages, touched only as sets fill (every way
        // empty, the identity order); over-allocated by a line to align the lines by hand.
        line_memory_(std::calloc(sets_ + 1, sizeof(Line))),
        slots_(static_cast<Slot*>(std::malloc(sets_ * kWays * sizeof(Slot)))) {
    if (line_memory_ == nullptr || slots_ == nullptr) throw std::bad_alloc();
    void* aligned = line_memory_.get();
    size_t space = (sets_ + 1) * sizeof(Line);
    lines_ = static_cast<Line*>(std::align(alignof(Line), sets_ * sizeof(Line), aligned, space));
  }

  // A text's key (see above).
  Key KeyOf(std::string_view text) const {
    const XXH128_hash_t hash = XXH3_128bits_withSeed(text.data(), text.size(), seed_);
    return Key{hash.low64, hash.high64};
  }

  // Copies the value for `key` into `out`; false when the memo does not hold it.
  bool Find(const Key& key, Value& out) {
    const uint64_t hash = Mix(key);
    const size_t set = hash & (sets_ - 1);
    std::lock_guard lock(LockOf(set));
    const int way = WayOf(set, key, hash);
    if (way < 0) return false;
    out = slots_[set * kWays + static_cast<size_t>(way)].value;
    Promote(lines_[set], way);
    return true;
  }

  // Keeps `value` for `key`, unless the memo holds the key already; the set's least recently
  // used key (or an empty slot) makes room.
  void Insert(const Key& key, const Value& value) {
    const uint64_t hash = Mix(key);
    const size_t set = hash & (sets_ - 1);
    std::lock_guard lock(LockOf(set));
    if (WayOf(set, key, hash) >= 0) return;
    Line& line = lines_[set];
    const int way = WayAt(line, kWays - 1);
    line.tags[way] = TagOf(hash);
    ::new (&slots_[set * kWays + static_cast<size_t>(way)]) Slot{key, value};
    Promote(line, way);
  }

  bool Find(std::string_view text, Value& out) { return Find(KeyOf(text), out); }
  void Insert(std::string_view text, const Value& value) { Insert(KeyOf(text), value); }

  // Keys held (counts every set: for tests and diagnostics).
  size_t size() const {
    size_t total = 0;
    for (size_t set = 0; set < sets_; ++set) {
      std::lock_guard lock(LockOf(set));
      for (uint64_t tag : lines_[set].tags) total += tag != 0;
    }
    return total;
  }
  size_t capacity() const { return sets_ * kWays; }

 private:
  struct alignas(64) Line {
    uint64_t tags[kWays];  // 0: an empty way
    // The ways from most to least recently used, four bits each, stored XOR kIdentityOrder so
    // that a zeroed line is in order 0, 1, ..., kWays - 1.
    uint64_t order;
  };
  static_assert(sizeof(Line) == 64);
  static constexpr uint64_t kIdentityOrder = [] {
    uint64_t order = 0;
    for (size_t way = 0; way < kWays; ++way) order |= uint64_t{way} << (4 * way);
    return order;
  }();
  struct Slot {
    Key key;
    Value value;
  };
  struct FreeDeleter {
    void operator()(void* memory) const { std::free(memory); }
  };
  struct alignas(64) Lock {
    mutable std::mutex mutex;
  };
  static constexpr size_t kLocks = 64;

  // Mixes both halves: a code's halves are far from uniform.
  static uint64_t Mix(const Key& key) {
    uint64_t h = key.low * 0x9E3779B97F4A7C15ULL ^ key.high;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    return h ^ (h >> 32);
  }
  static uint64_t TagOf(uint64_t hash) { return hash | 1; }  // never 0, the empty way
  static int WayAt(const Line& line, size_t position) {
    return static_cast<int>(((line.order ^ kIdentityOrder) >> (4 * position)) & 0xF);
  }
  // Makes `way` the most recently used of its set.
  static void Promote(Line& line, int way) {
    const uint64_t order = line.order ^ kIdentityOrder;
    size_t position = 0;
    while (static_cast<int>((order >> (4 * position)) & 0xF) != way) ++position;
    const uint64_t below = order & ((uint64_t{1} << (4 * position)) - 1);
    const uint64_t above = order & ~((uint64_t{1} << (4 * (position + 1))) - 1);
    line.order = (above | (below << 4) | static_cast<uint64_t>(way)) ^ kIdentityOrder;
  }
  // The way holding `key` in `set`, or -1.
  int WayOf(size_t set, const Key& key, uint64_t hash) const {
    const Line& line = lines_[set];
    const uint64_t tag = TagOf(hash);
    for (size_t way = 0; way < kWays; ++way) {
      if (line.tags[way] == tag && slots_[set * kWays + way].key == key) return static_cast<int>(way);
    }
    return -1;
  }
  std::mutex& LockOf(size_t set) const { return locks_[set % kLocks].mutex; }

  const size_t sets_;
  const uint64_t seed_;
  std::unique_ptr<void, FreeDeleter> line_memory_;
  Line* lines_ = nullptr;  // in line_memory_
  std::unique_ptr<Slot[], FreeDeleter> slots_;
  mutable std::array<Lock, kLocks> locks_;
};

}  // namespace pingan
