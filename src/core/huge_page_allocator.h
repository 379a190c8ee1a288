// An allocator for large, randomly accessed arrays: 2 MiB-aligned and advised for transparent
// huge pages (MADV_HUGEPAGE), so a lookup into a 50 MB table costs one cache miss instead of a
// cache miss plus a page-table walk. Falls back to ordinary pages where THP is off.
// Stateless; thread-safe.
#pragma once

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace pingan {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding

  T* allocate(size_t count) {
    constexpr size_t kHugePage = size_t{2} << 20;
    size_t bytes = count * sizeof(T);
    if (bytes < kHugePage) {
      void* small = std::malloc(bytes == 0 ? 1 : bytes);
      if (small == nullptr) throw std::bad_alloc();
      return static_cast<T*>(small);
    }
    size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* memory = std::aligned_alloc(kHugePage, rounded);
    if (memory == nullptr) throw std::bad_alloc();
    ::madvise(memory, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(memory);
  }
  void deallocate(T* pointer, size_t) { std::free(pointer); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

}  // namespace pingan
