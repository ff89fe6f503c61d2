#pragma once
// The transient heat inverse problem of the learned-gradient-flow paper (Norman, Rowan, Maute &
// Doostan, CMAME 460, 2026, example 1, as its authors' code sets it up): u_t = (κ u_x)_x on [0, 1]
// with κ = a₁ left of x = 0.5 and a₂ right of it, 30 sine modes sin(iπx) on a 250-point midpoint
// grid, implicit Euler over 500 times on [0, 2] from u = 0 with f₀ = 1000·sin(2πt) driving mode 2;
// the data are the solution at a* = (2, 1) and the loss is
//   f(a) = log(Δx Δt Σ_{t,x} (u_a − u_{a*})²) = log(Δt Σ_t (θ_t − θ*_t)ᵀ M (θ_t − θ*_t)),
// M = Δx FᵀF the mass matrix of the modes (so no grid values are stored). Its gradient comes from
// the forward sensitivities s_k = ∂θ/∂a_k: (M/Δt + K) s_{k,t+1} = (M/Δt) s_{k,t} − K_k θ_{t+1},
// K = a₁K₁ + a₂K₂ the stiffness (Σ_x κ F'ᵢF'ⱼ, without Δx, as the authors' code has it).
// An objective for solve_objectives (gradflow/objective.hpp); each evaluation keeps five 30×30
// matrices on the stack.
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/host_device.hpp"
#include "gradflow/objective.hpp"
#include "gradflow/sweep.hpp"

namespace gradflow {

template <class Real>
struct heat_inverse {
  static constexpr int modes = 30;
  static constexpr int points = 250;
  static constexpr int times = 500;
  static constexpr double duration = 2;
  static constexpr double forcing = 1000;
  /// a* = (2, 1), which made the data; the paper starts from (0.5, 4.05).
  static constexpr double true_left = 2, true_right = 1;
  static constexpr double start_left = 0.5, start_right = 4.05;

  GRADFLOW_HD Real value(const Real* a) const { return evaluate(a, nullptr); }
  GRADFLOW_HD void gradient(const Real* a, Real* g) const { evaluate(a, g); }

  /// f(a), and with `g` its gradient. Parameters that make M/Δt + K indefinite give NaN. Called,
  /// not inlined: a GPU kernel inlined it at each phase that evaluates, each copy with its own 36 KB
  /// of matrices (ptxas does not overlap them), 117 KB a thread in all (40 KB called).
  [[gnu::noinline]] GRADFLOW_HD Real evaluate(const Real* a, Real* g) const {
    constexpr int n = modes;
    const Real pi = Real(3.14159265358979323846);
    const Real dx = Real(1) / points;
    const Real dt = Real(duration) / (times - 1);
    Real mass[n * n], left[n * n], right[n * n], factor[n * n], true_factor[n * n];
    for (int e = 0; e < n * n; ++e) mass[e] = left[e] = right[e] = 0;
    for (int p = 0; p < points; ++p) {
      const Real x = (p + Real(0.5)) * dx;
      Real value_of[n], slope_of[n];
      for (int i = 0; i < n; ++i) {
        value_of[i] = std::sin((i + 1) * pi * x);
        slope_of[i] = (i + 1) * pi * std::cos((i + 1) * pi * x);
      }
      Real* stiffness = x > Real(0.5) ? right : left;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          mass[i * n + j] += dx * value_of[i] * value_of[j];
          stiffness[i * n + j] += slope_of[i] * slope_of[j];
        }
    }
    for (int e = 0; e < n * n; ++e) {  // symmetric: row- and column-major agree
      factor[e] = mass[e] / dt + a[0] * left[e] + a[1] * right[e];
      true_factor[e] = mass[e] / dt + Real(true_left) * left[e] + Real(true_right) * right[e];
    }
    if (!detail::cholesky_factor(factor, n) || !detail::cholesky_factor(true_factor, n))
      return std::numeric_limits<Real>::quiet_NaN();
    Real theta[n], true_theta[n], sensitivity[2][n], next[n], next_true[n], next_sensitivity[2][n];
    for (int i = 0; i < n; ++i)
      theta[i] = true_theta[i] = sensitivity[0][i] = sensitivity[1][i] = 0;
    Real sum = 0, slope[2] = {0, 0};
    for (int t = 1; t < times; ++t) {
      const Real drive = Real(forcing) * std::sin(2 * pi * t * dt);
      for (int i = 0; i < n; ++i) {  // (M/Δt)θ + the drive
        Real carried = 0, carried_true = 0;
        for (int j = 0; j < n; ++j) {
          carried += mass[i * n + j] * theta[j];
          carried_true += mass[i * n + j] * true_theta[j];
        }
        next[i] = carried / dt + (i == 1 ? drive : Real(0));
        next_true[i] = carried_true / dt + (i == 1 ? drive : Real(0));
      }
      detail::cholesky_solve(factor, n, next, 1);
      detail::cholesky_solve(true_factor, n, next_true, 1);
      if (g)
        for (int k = 0; k < 2; ++k) {
          const Real* stiffness = k == 0 ? left : right;
          for (int i = 0; i < n; ++i) {  // (M/Δt)s_k − K_k θ_{t+1}
            Real carried = 0, forced = 0;
            for (int j = 0; j < n; ++j) {
              carried += mass[i * n + j] * sensitivity[k][j];
              forced += stiffness[i * n + j] * next[j];
            }
            next_sensitivity[k][i] = carried / dt - forced;
          }
          detail::cholesky_solve(factor, n, next_sensitivity[k], 1);
        }
      for (int i = 0; i < n; ++i) {
        theta[i] = next[i];
        true_theta[i] = next_true[i];
        if (g)
          sensitivity[0][i] = next_sensitivity[0][i], sensitivity[1][i] = next_sensitivity[1][i];
      }
      for (int i = 0; i < n; ++i) {
        Real weighted = 0;  // (M e)_i
        for (int j = 0; j < n; ++j) weighted += mass[i * n + j] * (theta[j] - true_theta[j]);
        sum += dt * (theta[i] - true_theta[i]) * weighted;
        if (g)
          for (int k = 0; k < 2; ++k) slope[k] += 2 * dt * weighted * sensitivity[k][i];
      }
    }
    if (g)
      for (int k = 0; k < 2; ++k) g[k] = slope[k] / sum;
    return std::log(sum);
  }
};

/// solve_objectives and sweep_objectives (gradflow/objective_sweep.hpp) on heat problems, compiled
/// into gradflow::heat_inverse, with the GPU path whenever the library was built with CUDA.
solve_result<double> solve(const objective_batch<heat_inverse<double>, double>& batch,
                           const solve_options& options);
sweep_result sweep(const objective_batch<heat_inverse<double>, double>& problems,
                   const sweep_spec& spec, std::int64_t first, std::int64_t count,
                   solver_context& context);

}  // namespace gradflow
