// A memo of values by key, shared by threads: the converter's answers for recent address texts
// and codes (feeds repeat addresses — a police station, a compound, a road — and the answer
// depends on the text or code alone).
//
// Keys are 128 bits. A code is its own key (its two halves). A text is keyed by its 128-bit
// XXH3 hash under a seed drawn when the memo is made, not by its bytes: a lookup is then one
// cache miss (the slot holds the key) rather than two (the slot, then the string on the heap),
// and no string is allocated per text. Two texts share an answer only if their hashes collide:
// for the memo's half a million texts about one chance in 10^27, and not something an input can
// be crafted for, the seed being unknown.
//
// Sharded by the key's hash, each shard under its own lock. Each shard keeps two generations:
// when the young one is full it becomes the old one (the previous old one is dropped), and a
// key found in the old one moves back into the young one. So the keys in use stay, the rest age
// out, and between `entries` and twice that many are kept.
//
// Values are copied out under the lock: keep them small and cheap to copy.
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace pingan {

template <typename Value>
class SharedMemo {
 public:
  static constexpr size_t kShards = 16;

  struct Key {
    uint64_t low = 0, high = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };

  // `entries`: the young generations' size, all shards together (at least one per shard).
  explicit SharedMemo(size_t entries)
      : per_shard_(std::max<size_t>(1, entries / kShards)), seed_(std::random_device{}() * uint64_t{0x9E3779B97F4A7C15}) {}

  // A text's key (see above).
  Key KeyOf(std::string_view text) const {
    const XXH128_hash_t hash = XXH3_128bits_withSeed(text.data(), text.size(), seed_);
    return Key{hash.low64, hash.high64};
  }

  // Copies the value for `key` into `out`; false when the memo does not hold it.
  bool Find(const Key& key, Value& out) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mutex);
    if (auto found = shard.young.find(key); found != shard.young.end()) {
      out = found->second;
      return true;
    }
    auto found = shard.old.find(key);
    if (found == shard.old.end()) return false;
    out = found->second;
    auto node = shard.old.extract(found);  // before MakeRoom, which may drop the old generation
    MakeRoom(shard);
    shard.young.insert(std::move(node));
    return true;
  }

  // Keeps `value` for `key`, unless the young generation holds the key already.
  void Insert(const Key& key, const Value& value) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mutex);
    if (shard.young.contains(key)) return;
    shard.old.erase(key);
    MakeRoom(shard);
    shard.young.try_emplace(key, value);
  }

  bool Find(std::string_view text, Value& out) { return Find(KeyOf(text), out); }
  void Insert(std::string_view text, const Value& value) { Insert(KeyOf(text), value); }

  // Keys held (both generations).
  size_t size() const {
    size_t total = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.young.size() + shard.old.size();
    }
    return total;
  }

 private:
  // Mixes both halves: a code's halves are far from uniform.
  static uint64_t Mix(const Key& key) {
    uint64_t h = key.low * 0x9E3779B97F4A7C15ULL ^ key.high;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    return h ^ (h >> 32);
  }
  struct KeyHash {
    size_t operator()(const Key& key) const { return Mix(key); }
  };
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    absl::flat_hash_map<Key, Value, KeyHash> young, old;
  };
  Shard& ShardOf(const Key& key) { return shards_[(Mix(key) >> 59) % kShards]; }
  void MakeRoom(Shard& shard) const {
    if (shard.young.size() < per_shard_) return;
    std::swap(shard.young, shard.old);
    shard.young.clear();
    shard.young.reserve(per_shard_);  // one allocation, no rehashing while it fills
  }
  const size_t per_shard_;
  const uint64_t seed_;
  std::array<Shard, kShards> shards_;
};

}  // namespace pingan
