#pragma once
// The plain CPU baseline the CPU backend is measured against: an OpenMP loop over problems that
// calls OpenBLAS for every product, as a user without gradflow would write it.
#include <vector>

#include "gradflow/least_squares.hpp"

namespace gradflow::bench {

/// Forms G_i = A_iᵀA_i + λ_i I and C_i = A_iᵀB_i with OpenBLAS, then takes up to `steps` explicit
/// Euler steps of gradient flow, U ← U − dt·(G_i U − C_i), each product one cblas_dgemm, stopping a
/// problem once ‖∇f‖ ≤ gtol. Returns every final U (batch·n·k row-major) and the seconds spent in
/// the step loop.
std::vector<double> blas_euler_loop(const least_squares_batch<double>& batch, double dt,
                                    std::int64_t steps, double gtol, double& seconds);

}  // namespace gradflow::bench
