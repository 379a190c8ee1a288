// A memo of values by text, shared by threads: the converter's answers for recent address
// texts (feeds repeat addresses — a police station, a compound, a road — and the geocoder's
// answer depends on the text alone).
//
// Texts are held by their 128-bit XXH3 hash under a seed drawn when the memo is made, not by
// their bytes: a lookup is then one cache miss (the slot holds the key) rather than two (the
// slot, then the string on the heap), and no string is allocated per text. Two texts share an
// answer only if their hashes collide: for the memo's half a million texts about one chance in
// 10^27, and not something an input can be crafted for, the seed being unknown.
//
// Sharded by the hash, each shard under its own lock. Each shard keeps two
// generations: when the young one is full it becomes the old one (the previous old one is
// dropped), and a text found in the old one moves back into the young one. So the texts in
// use stay, the rest age out, and between `entries` and twice that many are kept.
//
// Values are copied out under the lock: keep them small and cheap to copy.
#pragma once

#include <algorithm>
#include <xxhash.h>

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
class TextMemo {
 public:
  static constexpr size_t kShards = 16;

  // `entries`: the young generations' size, all shards together (at least one per shard).
  explicit TextMemo(size_t entries)
      : per_shard_(std::max<size_t>(1, entries / kShards)), seed_(std::random_device{}() * uint64_t{0x9E3779B97F4A7C15}) {}

  // Copies the value for `text` into `out`; false when the memo does not hold it.
  bool Find(std::string_view text, Value& out) {
    const Key key = KeyOf(text);
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

  // Keeps `value` for `text`, unless the young generation holds the text already.
  void Insert(std::string_view text, const Value& value) {
    const Key key = KeyOf(text);
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mutex);
    if (shard.young.contains(key)) return;
    shard.old.erase(key);
    MakeRoom(shard);
    shard.young.try_emplace(key, value);
  }

  // Texts held (both generations).
  size_t size() const {
    size_t total = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.young.size() + shard.old.size();
    }
    return total;
  }

 private:
  struct Key {
    uint64_t low = 0, high = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const { return key.low; }  // already uniform
  };
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    absl::flat_hash_map<Key, Value, KeyHash> young, old;
  };
  Key KeyOf(std::string_view text) const {
    const XXH128_hash_t hash = XXH3_128bits_withSeed(text.data(), text.size(), seed_);
    return Key{hash.low64, hash.high64};
  }
  Shard& ShardOf(const Key& key) { return shards_[key.high % kShards]; }
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
