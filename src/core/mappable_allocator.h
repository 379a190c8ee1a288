// An allocator for large arrays of plain values that can take over a region the caller mapped
// from a file (MAP_PRIVATE: read in place from the page cache, copied on write page by page),
// so that a vector holds a snapshot's array without copying it into fresh memory.
//
// Why: fresh memory is what a start costs on the machines measured (docs/architecture.md: ~2 ms
// per MB the first time the machine hands it out); pages already in the page cache cost nothing
// more. The cube's 300 MB of event states at 10 M events took 0.9 s to copy out of its snapshot
// that way, and are now used where they lie.
//
// Use: MapOrCopy (below). What it does by hand: map the region (page-aligned offset,
// PROT_READ | PROT_WRITE, MAP_PRIVATE), call AdoptNext(region, bytes), resize() an empty vector
// to exactly bytes / sizeof(T) elements and call EndAdoption(), all on the same thread: that
// allocation returns the region, and the elements default-constructed in it are left as they
// lie. If data() != region afterwards (another allocation took place), unmap the region.
//
// Otherwise: blocks of 64 KiB and more are anonymous mappings (from 2 MiB on advised for huge
// pages), smaller ones come from malloc; elements are constructed as usual. Deallocation unmaps
// what was mapped (an adopted region too). Stateless apart from the per-thread hint;
// thread-safe.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace pingan {

namespace mappable_internal {
struct Hint {
  void* region = nullptr;
  size_t bytes = 0;
  bool adopting = false;  // the region was handed out: default construction writes nothing
};
inline thread_local Hint hint;
}  // namespace mappable_internal

template <typename T>
class MappableAllocator {
  static_assert(std::is_trivially_copyable_v<T>, "MappableAllocator is for plain values");

 public:
  using value_type = T;
  MappableAllocator() = default;
  template <typename U>
  MappableAllocator(const MappableAllocator<U>&) {}  // NOLINT: rebinding

  static constexpr size_t kMappedFrom = size_t{64} << 10;
  static constexpr size_t kHugePage = size_t{2} << 20;

  // The next allocation of exactly `bytes` on this thread returns `region` (see above).
  // REQUIRES: bytes >= kMappedFrom; region mapped with at least that length.
  static void AdoptNext(void* region, size_t bytes) { mappable_internal::hint = {region, bytes, false}; }
  // Ends an adoption (and forgets an unused hint).
  static void EndAdoption() { mappable_internal::hint = {}; }

  T* allocate(size_t count) {
    const size_t bytes = count * sizeof(T);
    mappable_internal::Hint& hint = mappable_internal::hint;
    if (hint.region != nullptr && hint.bytes == bytes && bytes >= kMappedFrom) {
      void* region = hint.region;
      hint = {nullptr, 0, true};
      return static_cast<T*>(region);
    }
    if (bytes < kMappedFrom) {
      void* small = std::malloc(bytes == 0 ? 1 : bytes);
      if (small == nullptr) throw std::bad_alloc();
      return static_cast<T*>(small);
    }
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    if (bytes >= kHugePage) ::madvise(memory, bytes, MADV_HUGEPAGE);
    return static_cast<T*>(memory);
  }
  void deallocate(T* pointer, size_t count) {
    if (count * sizeof(T) < kMappedFrom) {
      std::free(pointer);
    } else {
      ::munmap(pointer, count * sizeof(T));
    }
  }

  // Default construction writes nothing into an adopted region (its values stay).
  template <typename U>
  void construct(U* at) {
    if (!mappable_internal::hint.adopting) ::new (static_cast<void*>(at)) U();
  }
  template <typename U, typename... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }

  template <typename U>
  bool operator==(const MappableAllocator<U>&) const { return true; }
};

// Fills `values` with the `count` elements stored at `offset` (page-aligned) in the file `fd`
// (open for reading): a private writable mapping used in place when the array is large enough
// to be mapped (kMappedFrom) and the mapping succeeds; otherwise a copy of `bytes` (the same
// elements, already in memory: a mapping of the whole file, say). True when mapped in place.
template <typename T>
bool MapOrCopy(std::vector<T, MappableAllocator<T>>& values, int fd, size_t offset, size_t count,
               const void* bytes) {
  const size_t size = count * sizeof(T);
  values.clear();
  values.shrink_to_fit();
  if (size >= MappableAllocator<T>::kMappedFrom) {
    void* region = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, static_cast<off_t>(offset));
    if (region != MAP_FAILED) {
      // Page tables filled for reading in one call (MAP_POPULATE on a writable private mapping
      // would copy every page); before Linux 5.14 they fault in as they are read.
      ::madvise(region, size, 22 /* MADV_POPULATE_READ */);
      MappableAllocator<T>::AdoptNext(region, size);
      values.resize(count);
      MappableAllocator<T>::EndAdoption();
      if (values.data() == region) return true;
      ::munmap(region, size);
      values.clear();
    }
  }
  values.resize(count);
  if (size > 0) std::memcpy(values.data(), bytes, size);
  return false;
}

}  // namespace pingan
