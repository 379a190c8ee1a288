// A column of plain values over dense ids (units) where most entries are the zero value: only
// the others are stored (a hash map by id). Reads of an absent id give the zero value.
//
// Why not an array: at 3.7 million units only the ~37,000 grids and units above carry figures
// and boxes, spread through the id space (each grid sits among its buildings). A dense array
// of 40-byte entries touched there faults in all of its 150 MB, and fresh memory is the cost
// that dominates a start on the machines measured (core/huge_pages.h): the three such arrays
// were 1.3 s of a cold 3 s registry load at 10 M events.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace pingan {

template <typename T>
class SparseColumn {
 public:
  // The value at `index` (T{} where none is stored). The reference stays valid until the next
  // Set or Add.
  const T& operator[](uint32_t index) const {
    auto it = values_.find(index);
    return it == values_.end() ? kZero : it->second;
  }
  // Stores `value` at `index` (removes the entry when it is the zero value).
  void Set(uint32_t index, const T& value) {
    if (value == T{}) {
      values_.erase(index);
    } else {
      values_.insert_or_assign(index, value);
    }
  }
  // Adds `value` (T::operator+=) to the value at `index`.
  void Add(uint32_t index, const T& value) {
    if (value == T{}) return;
    values_[index] += value;
  }
  void Reserve(size_t entries) { values_.reserve(entries); }
  void Clear() { values_.clear(); }
  size_t entries() const { return values_.size(); }
  // The stored (index, value) pairs in index order (deterministic output).
  std::vector<std::pair<uint32_t, T>> Sorted() const {
    std::vector<std::pair<uint32_t, T>> out(values_.begin(), values_.end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }

 private:
  static constexpr T kZero{};
  absl::flat_hash_map<uint32_t, T> values_;
};

}  // namespace pingan
