// An allocator for large arrays of plain values whose all-zero bytes are the default value
// (counts, boxes of doubles): a large block comes from the kernel already zeroed (an anonymous
// mapping) and default construction writes nothing, so `resize(n)` on a fresh vector costs no
// pass over memory, and pages never written (most units carry no figures) are never allocated.
// Small blocks come from calloc. Stateless; thread-safe.
//
// REQUIRES of T: trivially copyable, and T{} is all zero bytes.
// REQUIRES of the caller: grow only fresh storage (construct with a size, or resize a vector
// that never held more elements): a vector that shrank keeps the old values in its capacity,
// and growing into them again would not reset them.
#pragma once

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace pingan {

template <typename T>
class ZeroedAllocator {
  static_assert(std::is_trivially_copyable_v<T>, "ZeroedAllocator is for plain values");

 public:
  using value_type = T;
  ZeroedAllocator() = default;
  template <typename U>
  ZeroedAllocator(const ZeroedAllocator<U>&) {}  // NOLINT: rebinding

  static constexpr size_t kMappedFrom = size_t{1} << 20;
  static constexpr size_t kHugePage = size_t{2} << 20;

  T* allocate(size_t count) {
    const size_t bytes = count * sizeof(T);
    if (bytes < kMappedFrom) {
      void* small = std::calloc(count == 0 ? 1 : count, sizeof(T));
      if (small == nullptr) throw std::bad_alloc();
      return static_cast<T*>(small);
    }
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    // Huge pages where the kernel waits for advice: a fault on a fresh 4 KiB page costs 5-14 µs
    // on the VMs measured (core/huge_pages.h), zeroing a 2 MiB page ~70 µs.
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

  // Default construction writes nothing: fresh storage is zero already (see REQUIRES).
  template <typename U>
  void construct(U*) noexcept {}
  template <typename U, typename... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }

  template <typename U>
  bool operator==(const ZeroedAllocator<U>&) const { return true; }
};

}  // namespace pingan
