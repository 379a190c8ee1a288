// Strings by index, packed in one buffer and found through offsets into it: a registry's
// millions of names in two allocations instead of one heap string each (a start at 10 million
// events made 10 million of them). Built by appending in index order; read as string_views.
//
// Example:
//   StringColumn names;
//   names.Append("西湖区");
//   std::string_view first = names[0];
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pingan {

class StringColumn {
 public:
  StringColumn() : offsets_{0} {}

  size_t size() const { return offsets_.size() - 1; }
  std::string_view operator[](size_t index) const {
    return std::string_view(blob_.data() + offsets_[index], offsets_[index + 1] - offsets_[index]);
  }

  // Room for `count` more strings of `bytes` in all (a hint).
  void Reserve(size_t count, size_t bytes) {
    offsets_.reserve(offsets_.size() + count);
    blob_.reserve(blob_.size() + bytes);
  }
  // Appends `text` as the next index; false (nothing appended) when the buffer would pass
  // 4 GiB, the reach of its offsets.
  bool Append(std::string_view text) {
    if (text.size() > UINT32_MAX - blob_.size()) return false;
    blob_.append(text);
    offsets_.push_back(static_cast<uint32_t>(blob_.size()));
    return true;
  }

  // The packed form, as snapshots store it: size() + 1 offsets from 0, and the buffer.
  const std::vector<uint32_t>& offsets() const { return offsets_; }
  const std::string& blob() const { return blob_; }
  // Takes a packed form over; false (and unchanged) unless the offsets start at 0, never
  // decrease and end at the buffer's size.
  bool Adopt(std::vector<uint32_t> offsets, std::string blob) {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != blob.size()) return false;
    for (size_t at = 1; at < offsets.size(); ++at) {
      if (offsets[at] < offsets[at - 1]) return false;
    }
    offsets_ = std::move(offsets);
    blob_ = std::move(blob);
    return true;
  }

 private:
  std::vector<uint32_t> offsets_;
  std::string blob_;
};

}  // namespace pingan
