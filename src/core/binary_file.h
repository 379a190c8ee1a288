// Binary cache files beside the database (the registry snapshot, the matcher's index, the
// cube's snapshot): values appended to a buffer and read back with bounds checks, a file
// written atomically, and a file mapped read-only.
//
// These files are caches: each carries its own magic, version, key and checksum, and a reader
// that finds any of them wrong rebuilds from the source of truth.
//
// Thread-safety: none needed; each object belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pingan {

// Appends plain values, arrays and strings to a byte buffer, in the machine's byte order.
class BinaryWriter {
 public:
  template <typename T>
  void Put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  // A 64-bit count, then the elements.
  template <typename Vector>
  void PutArray(const Vector& values) {
    using T = typename Vector::value_type;
    static_assert(std::is_trivially_copyable_v<T>);
    Put<uint64_t>(values.size());
    out_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  // A 32-bit size, then the bytes.
  void PutString(std::string_view text) {
    Put<uint32_t>(static_cast<uint32_t>(text.size()));
    out_.append(text);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Reads what a BinaryWriter wrote; every getter returns false, reading nothing more, when the
// bytes left are too few or a count is out of bounds.
class BinaryReader {
 public:
  explicit BinaryReader(std::string_view data) : data_(data) {}
  template <typename T>
  bool Get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (data_.size() < sizeof value) return false;
    std::memcpy(&value, data_.data(), sizeof value);
    data_.remove_prefix(sizeof value);
    return true;
  }
  // PutArray's form; false also when `expected_size` is given and the count differs.
  template <typename T, typename Allocator>
  bool GetArray(std::vector<T, Allocator>& values, uint64_t expected_size = UINT64_MAX) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t size = 0;
    if (!Get(size) || (expected_size != UINT64_MAX && size != expected_size)) return false;
    if (size > data_.size() / sizeof(T)) return false;
    values.resize(size);
    if (size > 0) std::memcpy(values.data(), data_.data(), size * sizeof(T));
    data_.remove_prefix(size * sizeof(T));
    return true;
  }
  // A 64-bit size, then that many bytes (PutArray of chars).
  bool GetBytes(std::string& bytes) { return GetSized<uint64_t>(bytes); }
  // A 32-bit size, then that many bytes (PutString).
  bool GetString(std::string& text) { return GetSized<uint32_t>(text); }
  // The bytes not read yet; Skip drops `count` of them (REQUIRES: count <= rest().size()).
  std::string_view rest() const { return data_; }
  void Skip(size_t count) { data_.remove_prefix(count); }
  bool done() const { return data_.empty(); }

 private:
  template <typename Size>
  bool GetSized(std::string& text) {
    Size size = 0;
    if (!Get(size) || size > data_.size()) return false;
    text.assign(data_.data(), size);
    data_.remove_prefix(size);
    return true;
  }
  std::string_view data_;
};

// Writes `parts`, one after the other, to `path` atomically: a temporary file beside it
// (path + ".tmp-PID"), fsync, rename over `path`, fsync of the directory. On failure the
// temporary file is removed and `path` is as it was. `what` names the file in errors.
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::initializer_list<std::string_view> parts,
                                 std::string_view what);

// A whole file mapped read-only (MAP_PRIVATE, populated), unmapped when destroyed.
class MappedFile {
 public:
  // NotFound when absent; DataLoss when its size is below `min_size` or above `max_size`.
  static absl::StatusOr<MappedFile> Open(const std::filesystem::path& path, size_t min_size, size_t max_size);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  int fd() const { return fd_; }  // open while mapped: arrays may be mapped from it in place

 private:
  MappedFile(int fd, void* data, size_t size) : fd_(fd), data_(data), size_(size) {}
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
};

// The GNU build id of the running program (the linker's hash of its contents, hex), or "" when
// it has none. A cache derived by code (the matcher's index) is keyed by it, so that a rebuilt
// binary never reads what another build wrote.
std::string_view ProgramBuildId();

}  // namespace pingan
