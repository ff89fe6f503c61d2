#pragma once
// Which of OpenBLAS's kernels the CPU ceiling and the BLAS loop ran on. OpenBLAS picks them when it
// loads, by the CPU it recognises or by OPENBLAS_CORETYPE; kernels narrower than the CPU's vectors
// understate both (an AVX-512 Zen 5 held to the AVX2 "Haswell" kernels: DGEMM 125 against 207–212
// GFLOP/s, the BLAS loop 8× slower; bench/results/cpu_targets_zen5_2026-12-08).
#include <string>

namespace gradflow::bench {

/// The kernels OpenBLAS chose (openblas_get_corename), e.g. "Haswell", "SkylakeX".
std::string openblas_kernels();

/// Whether OpenBLAS runs kernels without AVX-512 on a CPU with AVX-512 (F, DQ, BW, VL: what its
/// SkylakeX kernels use).
bool openblas_passes_over_avx512();

}  // namespace gradflow::bench
