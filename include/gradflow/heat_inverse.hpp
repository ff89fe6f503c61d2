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
// An objective for solve_objectives (gradflow/objective.hpp); each evaluation keeps three 30×30
// matrices on the stack: K₁ and the two system matrices' inverses. A time step multiplies by the
// inverses (a product's rows are independent; a solve's wait on each other: about 3× faster on
// the CPU). M/Δt + K's condition number, which bounds what the inverse adds to the rounding:
// 1.1·10³ at a*, 2.1·10³ at the paper's start, 3.8·10⁴ at a = (200, 1).
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
  /// not inlined: a GPU kernel inlined it at each phase that evaluates, each copy with its own
  /// matrices (ptxas does not overlap them).
  [[gnu::noinline]] GRADFLOW_HD Real evaluate(const Real* a, Real* g) const {
    constexpr int n = modes;
    const Real dt = Real(duration) / (times - 1);
    const Real carried = Real(0.5) / dt;  // M/Δt: M = I/2 (see stiffness_halves)
    // The system matrices, then their factors, then their inverses, each in place.
    Real left[n * n], inverse[n * n], true_inverse[n * n], whole[n];
    stiffness_halves(left, whole);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {  // M/Δt + a₁K₁ + a₂(K − K₁), symmetric
        const int e = i * n + j;
        const Real diagonal = i == j ? carried : Real(0), rest = i == j ? whole[i] : Real(0);
        inverse[e] = diagonal + a[1] * rest + (a[0] - a[1]) * left[e];
        true_inverse[e] =
            diagonal + Real(true_right) * rest + (Real(true_left) - Real(true_right)) * left[e];
      }
    if (!detail::cholesky_factor(inverse, n) || !detail::cholesky_factor(true_inverse, n))
      return std::numeric_limits<Real>::quiet_NaN();
    detail::cholesky_inverse(inverse, n);
    detail::cholesky_inverse(true_inverse, n);
    const Real pi = Real(3.14159265358979323846);
    Real theta[n], true_theta[n], sensitivity[2][n], weighted[n];
    for (int i = 0; i < n; ++i)
      theta[i] = true_theta[i] = sensitivity[0][i] = sensitivity[1][i] = 0;
    Real sum = 0, slope[2] = {0, 0};
    // With `g`, step t's sensitivities are solved with step t + 1's θ and θ*.
    for (int t = 1; t < times; ++t) {
      const bool sensitivities = g && t > 1;
      if (sensitivities) sensitivity_rhs(left, whole, carried, theta, sensitivity);
      const Real drive = Real(forcing) * std::sin(2 * pi * t * dt);
      for (int i = 0; i < n; ++i) {  // (M/Δt)θ + the drive
        theta[i] = carried * theta[i] + (i == 1 ? drive : Real(0));
        true_theta[i] = carried * true_theta[i] + (i == 1 ? drive : Real(0));
      }
      apply_inverse(inverse, theta);
      apply_inverse(true_inverse, true_theta);
      if (sensitivities) {
        for (auto& s : sensitivity) apply_inverse(inverse, s);
        add_slope(dt, weighted, sensitivity, slope);
      }
      for (int i = 0; i < n; ++i) {
        weighted[i] = Real(0.5) * (theta[i] - true_theta[i]);  // (M e)_i
        sum += dt * (theta[i] - true_theta[i]) * weighted[i];
      }
    }
    if (g) {  // the last step's sensitivities
      sensitivity_rhs(left, whole, carried, theta, sensitivity);
      for (auto& s : sensitivity) apply_inverse(inverse, s);
      add_slope(dt, weighted, sensitivity, slope);
      for (int k = 0; k < 2; ++k) g[k] = slope[k] / sum;
    }
    return std::log(sum);
  }

  /// x ← S x, S a system matrix's inverse (symmetric): what a step solves for.
  GRADFLOW_HD static void apply_inverse(const Real* inverse, Real (&x)[modes]) {
    Real product[modes];
    detail::symmetric_product(inverse, modes, x, product);
    for (int i = 0; i < modes; ++i) x[i] = product[i];
  }

  /// The sensitivities' right-hand sides (M/Δt)s_k − K_k θ, from the θ they are solved with;
  /// K₂θ = Kθ − K₁θ (K₁ symmetric).
  GRADFLOW_HD static void sensitivity_rhs(const Real* left, const Real* whole, Real carried,
                                          const Real* theta, Real (&sensitivity)[2][modes]) {
    Real left_theta[modes];
    detail::symmetric_product(left, modes, theta, left_theta);
    for (int i = 0; i < modes; ++i) {
      sensitivity[0][i] = carried * sensitivity[0][i] - left_theta[i];
      sensitivity[1][i] = carried * sensitivity[1][i] - (whole[i] * theta[i] - left_theta[i]);
    }
  }

  /// ∂/∂a_k of Δt Σ eᵀMe at one step: 2Δt (Me)·s_k, from that step's Me (`weighted`).
  GRADFLOW_HD static void add_slope(Real dt, const Real* weighted,
                                    const Real (&sensitivity)[2][modes], Real (&slope)[2]) {
    for (int i = 0; i < modes; ++i)
      for (int k = 0; k < 2; ++k) slope[k] += 2 * dt * weighted[i] * sensitivity[k][i];
  }

  /// The stiffness of the left half, K₁ (n×n), and the diagonal of the whole grid's, K = K₁ + K₂,
  /// in closed form. On the midpoint grid x_p = (p + ½)/P the modes are discretely orthogonal
  /// (DST-II), so M = Δx·FᵀF = I/2 and Σ_p cos(mπx_p) = 0 for 0 < m < 2P; over the left half,
  /// Σ_{p<P/2} cos(mπx_p) = sin(mπ/2) / (2 sin(mπ/(2P))). With cos·cos = ½(cos(i−j) + cos(i+j)):
  /// (K₁)_ij = ijπ²/2 · (C(i − j) + C(i + j)), C(0) = P/2, and K_ii = i²π²P/2.
  GRADFLOW_HD static void stiffness_halves(Real* left, Real* whole) {
    static_assert(points % 2 == 0 && 2 * modes < points, "the closed forms' grid");
    constexpr int n = modes;
    const Real pi = Real(3.14159265358979323846);
    const auto half_sum = [pi](int m) {  // C(m), m ≥ 0; sin(mπ/2) exactly
      if (m == 0) return Real(points / 2);
      const Real quarter_turns[4] = {0, 1, 0, -1};
      return quarter_turns[m % 4] / (2 * std::sin(m * pi / (2 * points)));
    };
    for (int i = 1; i <= n; ++i) {
      whole[i - 1] = Real(i) * i * pi * pi * (points / 2);
      for (int j = 1; j <= n; ++j)
        left[(i - 1) * n + j - 1] =
            Real(i) * j * pi * pi / 2 * (half_sum(i > j ? i - j : j - i) + half_sum(i + j));
    }
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
