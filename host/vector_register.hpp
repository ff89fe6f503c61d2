#pragma once
// GCC vectors as wide as the target's vector registers, for CPU loops that carry sums across a
// loop: a sum kept in such a vector stays in a register, where an array of sums is stored and
// reloaded at every step.
#include <cstring>

namespace gradflow::detail {

/// The width of the target's vector registers in bytes.
#if defined(__AVX512F__)
inline constexpr int native_vector_bytes = 64;
#elif defined(__AVX__)
inline constexpr int native_vector_bytes = 32;
#else
inline constexpr int native_vector_bytes = 16;
#endif

/// `Lanes` values of Real as one GCC vector. Its arithmetic is elementwise, each element's the
/// scalar one (so the same bits); `vector * scalar` multiplies every element by the scalar.
template <class Real, int Lanes = native_vector_bytes / int(sizeof(Real))>
struct vector_register {
  static constexpr int lanes = Lanes;
  typedef Real type __attribute__((vector_size(Lanes * sizeof(Real))));
  /// The vector at `values` (copied: one unaligned load, whatever the pointer's type says).
  static type load(const Real* values) {
    type vector;
    std::memcpy(&vector, values, sizeof vector);
    return vector;
  }
  static void store(const type& vector, Real* values) {
    std::memcpy(values, &vector, sizeof vector);
  }
};

}  // namespace gradflow::detail
