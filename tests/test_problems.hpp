#pragma once
// Small problems with known answers, shared by the tests.
#include <cmath>
#include <cstdint>
#include <vector>

#include "gradflow/detail/host_device.hpp"
#include "gradflow/least_squares.hpp"
#include "gradflow/sweep.hpp"

namespace gradflow::testing {

/// Rosenbrock's valley as a user's objective with its own a and b: f = (a − x)² + b (y − x²)²,
/// minimum 0 at (a, a²). Compiled for the GPU too; no hessian_times, so methods that need ∇²f take
/// it from differences of the gradient.
struct rosenbrock_valley {
  double a = 1, b = 100;
  GRADFLOW_HD double value(const double* x) const {
    const double valley = x[1] - x[0] * x[0];
    return (a - x[0]) * (a - x[0]) + b * valley * valley;
  }
  GRADFLOW_HD void gradient(const double* x, double* g) const {
    const double valley = x[1] - x[0] * x[0];
    g[0] = -2 * (a - x[0]) - 4 * b * x[0] * valley;
    g[1] = 2 * b * valley;
  }
};

/// f(u) = ½ μ (u − u*)² as least squares — A = √μ, B = √μ·u*, one unknown, one right-hand side —
/// `copies` times, each starting at `start`.
inline least_squares_batch<double> scalar_quadratic(double curvature, double minimum, double start,
                                                    std::int64_t copies = 1) {
  least_squares_batch<double> batch;
  batch.batch_size = copies;
  batch.rows = batch.unknowns = batch.rhs_count = 1;
  batch.matrix = {std::sqrt(curvature)};
  batch.rhs = {std::sqrt(curvature) * minimum};
  batch.initial.assign(copies, start);
  return batch;
}

/// f = ½ Σ λ_k (u_k − m_k)² as least squares: A = diag(√λ), B = √λ·m, one member from `start`.
inline least_squares_batch<double> diagonal_quadratic(const std::vector<double>& curvature,
                                                      const std::vector<double>& minimum,
                                                      const std::vector<double>& start) {
  const int n = int(curvature.size());
  least_squares_batch<double> batch;
  batch.batch_size = 1;
  batch.rows = batch.unknowns = n;
  batch.rhs_count = 1;
  batch.matrix.assign(std::size_t(n) * n, 0.0);
  for (int k = 0; k < n; ++k) {
    batch.matrix[k * n + k] = std::sqrt(curvature[k]);
    batch.rhs.push_back(std::sqrt(curvature[k]) * minimum[k]);
  }
  batch.initial = start;
  return batch;
}

/// Two seed problems (50×5, k = 2) with random starts.
inline least_squares_batch<double> two_seed_problems() {
  random_spec spec;
  spec.batch_size = 2;
  spec.random_initial = true;
  return random_least_squares<double>(spec);
}

/// A sweep of 24 members over two problems: rk4 and tsit5 × 3 learning rates × ζ ∈ {0.5, 2}
/// (heavy ball, CPU), so that contiguous slices straddle the method boundary.
inline sweep_spec two_method_sweep() {
  sweep_spec spec;
  spec.axes = {parse_axis("lr", "1e-3:1e-1:3:log"), parse_axis("zeta", "0.5,2")};
  spec.methods = {method::rk4, method::tsit5};
  spec.base.dynamics = dynamics::heavy_ball;
  spec.base.backend = backend_kind::cpu;
  spec.base.max_steps = 2000;
  return spec;
}

}  // namespace gradflow::testing
