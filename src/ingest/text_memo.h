// A memo of values by text, shared by threads: the converter's answers for recent address
// texts (feeds repeat addresses — a police station, a compound, a road — and the geocoder's
// answer depends on the text alone).
//
// Sharded by the text's hash, each shard under its own lock. Each shard keeps two
// generations: when the young one is full it becomes the old one (the previous old one is
// dropped), and a text found in the old one moves back into the young one. So the texts in
// use stay, the rest age out, and between `entries` and twice that many are kept.
//
// Values are copied out under the lock: keep them small and cheap to copy.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace pingan {

template <typename Value>
class TextMemo {
 public:
  static constexpr size_t kShards = 16;

  // `entries`: the young generations' size, all shards together (at least one per shard).
  explicit TextMemo(size_t entries) : per_shard_(std::max<size_t>(1, entries / kShards)) {}

  // Copies the value for `text` into `out`; false when the memo does not hold it.
  bool Find(std::string_view text, Value& out) {
    const absl::string_view key(text.data(), text.size());  // absl's own, for lookups
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
    const absl::string_view key(text.data(), text.size());
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mutex);
    if (shard.young.contains(key)) return;
    shard.old.erase(key);
    MakeRoom(shard);
    shard.young.try_emplace(std::string(text), value);
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
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    absl::flat_hash_map<std::string, Value> young, old;
  };
  Shard& ShardOf(absl::string_view key) {
    // The low bits pick the map's slot; the shard takes others.
    return shards_[(absl::Hash<absl::string_view>{}(key) >> 7) % kShards];
  }
  void MakeRoom(Shard& shard) const {
    if (shard.young.size() < per_shard_) return;
    std::swap(shard.young, shard.old);
    shard.young.clear();
    shard.young.reserve(per_shard_);  // one allocation, no rehashing while it fills
  }
  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace pingan
