#pragma once
#include <cmath>

#include "gradflow/detail/host_device.hpp"

/// Whether multiply_add rounds once. The build decides it (CMakeLists.txt: where the library's
/// target has a fused multiply–add instruction, as x86-64 with FMA3 under -march=native, AArch64)
/// and hands the same choice to every consumer, so that per-problem templates compiled elsewhere
/// compute the library's bits; without the build's word, the compiler's target decides.
#ifndef GRADFLOW_FUSED_MULTIPLY_ADD
#if defined(__CUDA_ARCH__) || defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define GRADFLOW_FUSED_MULTIPLY_ADD 1
#else
#define GRADFLOW_FUSED_MULTIPLY_ADD 0
#endif
#endif

namespace gradflow::detail {

/// a·b + c, the one multiply–add of the step's sums (the products G·X, the stage inputs, the error
/// estimate's weighted stages, the controller's series): one rounding where the target fuses it
/// (one instruction: the sums' instruction count nearly halves), two where it does not, where a
/// library call emulating it would be slower than both. The compiler never contracts on its own
/// (-ffp-contract=off), so every path that calls this computes the same bits (README, "Design").
template <class Real>
GRADFLOW_HD Real multiply_add(Real a, Real b, Real c) {
#if GRADFLOW_FUSED_MULTIPLY_ADD
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

}  // namespace gradflow::detail
