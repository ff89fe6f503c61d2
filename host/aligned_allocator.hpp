#pragma once
// A std::allocator that aligns every allocation to `Alignment` bytes (C++17 aligned new): the CPU
// lanes' arrays start on a cache line, so that no W-lane vector load or store straddles two
// (std::allocator aligns only to 16 bytes, and every 512-bit access of such an array would split).
#include <cstddef>
#include <new>

namespace gradflow::detail {

template <class T, std::size_t Alignment>
class aligned_allocator {
public:
  using value_type = T;
  template <class U>
  struct rebind {
    using other = aligned_allocator<U, Alignment>;
  };

  aligned_allocator() = default;
  template <class U>
  aligned_allocator(const aligned_allocator<U, Alignment>&) {}

  T* allocate(std::size_t count) {
    return static_cast<T*>(::operator new(count * sizeof(T), std::align_val_t(Alignment)));
  }
  void deallocate(T* pointer, std::size_t) {
    ::operator delete(pointer, std::align_val_t(Alignment));
  }

  template <class U>
  bool operator==(const aligned_allocator<U, Alignment>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const aligned_allocator<U, Alignment>&) const {
    return false;
  }
};

}  // namespace gradflow::detail
