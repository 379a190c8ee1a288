// The numbers of each road (house numbers) or compound (幢 numbers) of the registry, and what
// each leads to: the matcher's index below the community (geocode/matcher.cc).
//
// Which numbers exist is a bitmap per road or compound ("detail"), for numbers below kMaxBits:
// the matcher asks it of every namesake a name has (about 20 times an address), and the bitmaps
// of a city are a few hundred kilobytes, so the question stays in the cache. What a number leads
// to lies at its rank among the set bits: one cache miss, where a hash map of the city's million
// numbers cost two (its control bytes, then the slot). Numbers from kMaxBits on are kept in a
// small hash map.
//
// Example:
//   NumberIndex<uint32_t> index;
//   index.Build({{.detail = 0, .number = 478, .value = 12}}, /*details=*/1);
//   index.Has(0, 478);   // true
//   *index.Find(0, 478); // 12
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/binary_file.h"

namespace pingan {

template <typename Value>
class NumberIndex {
 public:
  static constexpr uint32_t kMaxBits = 1 << 16;  // larger numbers are kept in a hash map

  struct Item {
    uint32_t detail = 0, number = 0;
    Value value{};
  };

  // From `items`, every detail below `details`; of two items with the same detail and number,
  // the first. REQUIRES: item.detail < details.
  void Build(const std::vector<Item>& items, size_t details) {
    std::vector<uint32_t> top(details, 0);  // words per detail
    for (const Item& item : items) {
      if (item.number < kMaxBits) top[item.detail] = std::max(top[item.detail], item.number / 64 + 1);
    }
    offsets_.assign(details + 1, 0);
    for (size_t detail = 0; detail < details; ++detail) offsets_[detail + 1] = offsets_[detail] + top[detail];
    words_.assign(offsets_.back(), 0);
    for (const Item& item : items) {
      if (item.number < kMaxBits) words_[offsets_[item.detail] + item.number / 64] |= uint64_t{1} << (item.number % 64);
    }
    ranks_.resize(words_.size());
    uint32_t total = 0;
    for (size_t word = 0; word < words_.size(); ++word) {
      ranks_[word] = total;
      total += static_cast<uint32_t>(std::popcount(words_[word]));
    }
    values_.assign(total, Value{});
    std::vector<uint8_t> filled(total, 0);
    large_.clear();
    for (const Item& item : items) {
      if (item.number >= kMaxBits) {
        large_.emplace(Key(item.detail, item.number), item.value);  // the first stays
        continue;
      }
      const uint32_t word = offsets_[item.detail] + item.number / 64;
      const uint64_t below = words_[word] & ((uint64_t{1} << (item.number % 64)) - 1);
      const uint32_t rank = ranks_[word] + static_cast<uint32_t>(std::popcount(below));
      if (!filled[rank]) values_[rank] = item.value, filled[rank] = 1;
    }
  }

  // Whether `detail` has `number`. REQUIRES: detail < the details built with.
  bool Has(uint32_t detail, uint32_t number) const {
    if (number >= kMaxBits) return large_.contains(Key(detail, number));
    const uint32_t first = offsets_[detail], word = number / 64;
    return word < offsets_[detail + 1] - first && ((words_[first + word] >> (number % 64)) & 1) != 0;
  }

  // What `number` of `detail` leads to, or null. REQUIRES: detail < the details built with.
  const Value* Find(uint32_t detail, uint32_t number) const {
    if (number >= kMaxBits) {
      auto it = large_.find(Key(detail, number));
      return it == large_.end() ? nullptr : &it->second;
    }
    const uint32_t first = offsets_[detail], word = number / 64;
    if (word >= offsets_[detail + 1] - first) return nullptr;
    const uint64_t bits = words_[first + word], bit = uint64_t{1} << (number % 64);
    if ((bits & bit) == 0) return nullptr;
    return &values_[ranks_[first + word] + static_cast<uint32_t>(std::popcount(bits & (bit - 1)))];
  }

  // The index as bytes (the matcher's index file), and back. Load checks what it reads — the
  // words' offsets, a value per set bit, `details` details, every value by `valid` — and
  // recomputes the ranks; false when anything is off (the index is then unusable).
  void Save(BinaryWriter& writer) const {
    writer.PutArray(offsets_);
    writer.PutArray(words_);
    writer.PutArray(values_);
    std::vector<LargeItem> large;
    for (const auto& [key, value] : large_) large.push_back({key, value});
    writer.PutArray(large);
  }
  template <typename Valid>
  bool Load(BinaryReader& reader, size_t details, const Valid& valid) {
    std::vector<LargeItem> large;
    if (!reader.GetArray(offsets_, details + 1) || !reader.GetArray(words_) || !reader.GetArray(values_) ||
        !reader.GetArray(large)) {
      return false;
    }
    if (offsets_.front() != 0 || offsets_.back() != words_.size()) return false;
    for (size_t detail = 0; detail < details; ++detail) {
      if (offsets_[detail] > offsets_[detail + 1] || offsets_[detail + 1] - offsets_[detail] > kMaxBits / 64) return false;
    }
    ranks_.resize(words_.size());
    uint64_t total = 0;
    for (size_t word = 0; word < words_.size(); ++word) {
      ranks_[word] = static_cast<uint32_t>(total);
      total += static_cast<uint64_t>(std::popcount(words_[word]));
    }
    if (total != values_.size()) return false;
    for (const Value& value : values_) {
      if (!valid(value)) return false;
    }
    large_.clear();
    for (const auto& [key, value] : large) {
      if ((key >> 32) >= details || static_cast<uint32_t>(key) < kMaxBits || !valid(value)) return false;
      large_.emplace(key, value);
    }
    return true;
  }

 private:
  struct LargeItem {
    uint64_t key;
    Value value;
  };
  static uint64_t Key(uint32_t detail, uint32_t number) { return (static_cast<uint64_t>(detail) << 32) | number; }

  std::vector<uint32_t> offsets_;  // detail -> its first word; one past the last detail at the end
  std::vector<uint64_t> words_;
  std::vector<uint32_t> ranks_;    // per word: the set bits of the words before it
  std::vector<Value> values_;      // per set bit, in word order
  absl::flat_hash_map<uint64_t, Value> large_;
};

}  // namespace pingan
