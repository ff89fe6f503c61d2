#pragma once
// Learned gradient flow over gradient descent or Newton (lgf), over linearly implicit Euler
// (lgf_implicit) and over Adam (lgf_adam) (Norman, Rowan, Maute & Doostan, "Learning Gradient
// Flow", CMAME 460, 2026), one problem per call, written once for the CPU and CUDA threads.
//
// Windows of M iterations: K true base steps θ_{j+1} = θ_j − lr·d_j are recorded (gd: d = ∇f;
// over Newton dynamics: d = ∇²f⁻¹∇f; lgf_implicit: lr·d = (I/lr + ∇²f)⁻¹∇f), a surrogate of the
// flow, θ̇ = Ξᵀφ(a), is fitted to them in the span of the window's iterates (reduced coordinates a =
// Qᵀ(θ − θ_0), Q an orthonormal basis of θ_j − θ_0 by Gram–Schmidt: POD at the snapshots' numerical
// rank, or at most `lgf_rank` modes; φ the polynomial library of degree lgf_degree,
// surrogate_fit.hpp) against the tracked target (the base's own velocities −d_j), a strong one
// (finite differences of the iterates) or a weak one (bump test functions), by least squares (ridge
// α) or STLSQ, and the remaining M − K iterations are RK4 steps of Δt = lr on the surrogate from
// θ_K — a jump with no true gradient. The next true evaluation, which is the next window's first,
// guards the landing: if f rose from the last true point (models without f: its exact change on a
// quadratic, ½(g + g_L)ᵀ(θ_L − θ)) the jump is rejected, the problem resumes at θ_K and later jumps
// are halved (doubled back towards M − K after each accepted one). A jump whose path outruns the
// base method (lgf_reach_factor) is refused the same way before any evaluation. Over Adam the true
// steps are Adam's, the tracked fit is of the gradient itself, g(θ) ≈ Σ_c φ_c(a)·G_c, and a jump
// integrates the continuous Adam system with it (jump_on_learned_adam); a rejected landing
// resumes at θ_K with its moments.
//
// t_end, when finite, bounds the pseudo-time (status reached_t_end), so that runs compare at equal
// epochs. Counters: accepted steps are the iterations taken (true gd steps and accepted jumps, one
// each; stall windows and max_steps count them), t the pseudo-time (t/lr: the paper's epochs,
// surrogate steps included), gradient_evaluations the true gradients only, surrogate_evaluations
// the learned field's (four per RK4 step of every jump integrated, refused ones included), rejected
// steps the rejected jumps. Work vectors: learned_flow_layout.
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/adam_step.hpp"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/stopping.hpp"
#include "gradflow/detail/surrogate_fit.hpp"

namespace gradflow::detail {

/// Basis vectors whose part left after Gram–Schmidt is below this fraction of the largest
/// θ_j − θ_0, or below the rounding of θ itself, are dropped: the numerical rank of the window's
/// snapshots. (Over a short window, modes with lr·λ ≪ 1/K move alike — linearly in j — so slow
/// modes of an ill-conditioned problem merge into few directions.)
inline constexpr double lgf_rank_tolerance = 1e-10;

/// What became of a window's jump.
enum class jump_outcome {
  landed,   ///< u is the landing, to be guarded by the next true evaluation
  too_far,  ///< the surrogate's path outran what gradient flow can travel: refused
  no_jump,  ///< the iterates did not move, or the fit is not determined
};

/// A landing farther from θ_K than this many times τ times the fastest true step of the window
/// (‖θ_{j+1} − θ_j‖/lr; gd: ‖∇f(θ_j)‖) — the way the base method covers in time τ when it does not
/// speed up — is refused without a true evaluation: the surrogate has left the region its window
/// describes (e.g. towards a plateau where f is lower, far away).
inline constexpr double lgf_reach_factor = 2;

/// Where lgf keeps its vectors among a problem's work vectors (K_max = the batch's largest K):
/// θ_j (then the origin θ_0 and the basis) in 0 … K_max − 1, the base's step directions at θ_j
/// (gd: ∇f(θ_j); Newton: ∇²f⁻¹∇f(θ_j); linearly implicit: (I + lr·∇²f)⁻¹∇f(θ_j); Adam: ∇f(θ_j))
/// in K_max … 2K_max − 1, θ_{K−1} at 2K_max; over Newton or linearly implicit Euler also ∇f at the
/// last true point; over Adam its moments m and s, the θ_K, m, s a
/// jump starts from, the learned gradient's library columns (K_max vectors), and RK4's start, sum
/// and slope of θ, m, s.
struct learned_flow_layout {
  int largest_record = 2;
  bool over_adam = false;
  bool curvature_base = false;  ///< the base's step solves with ∇²f: Newton, linearly implicit

  GRADFLOW_HD int gradient(int j) const { return largest_record + j; }
  GRADFLOW_HD int last_true() const { return 2 * largest_record; }
  GRADFLOW_HD int last_true_gradient() const { return 2 * largest_record + 1; }   // Newton
  GRADFLOW_HD int moment(int k) const { return 2 * largest_record + 1 + k; }      // m, s
  GRADFLOW_HD int jump_start(int k) const { return 2 * largest_record + 3 + k; }  // θ_K, m, s
  GRADFLOW_HD int learned_gradient(int c) const { return 2 * largest_record + 6 + c; }
  /// role 0: a step's start, 1: the weighted sum of slopes, 2: the slope; k: θ, m, s.
  GRADFLOW_HD int runge_kutta(int role, int k) const {
    return 3 * largest_record + 6 + 3 * role + k;
  }
  GRADFLOW_HD int extra() const { return over_adam ? 15 : curvature_base ? 2 : 1; }
  GRADFLOW_HD int count() const { return (over_adam ? 3 : 2) * largest_record + extra(); }
};

/// Whether lgf's base step solves with ∇²f: Newton (lgf over dynamics::newton), or linearly
/// implicit Euler (lgf_implicit).
GRADFLOW_HD bool solves_with_curvature(method m, dynamics base) {
  return (m == method::lgf && base == dynamics::newton) || m == method::lgf_implicit;
}

/// The layout of a run whose method learns a flow, from its work-vector count.
template <class Real>
GRADFLOW_HD learned_flow_layout learned_flow_layout_of(const step_settings<Real>& s) {
  learned_flow_layout layout;
  layout.over_adam = s.method == method::lgf_adam;
  layout.curvature_base = solves_with_curvature(s.method, s.dynamics);
  layout.largest_record = (s.work_vectors - layout.extra()) / (layout.over_adam ? 3 : 2);
  return layout;
}

/// The work vectors `m` (a learned flow) over `base` dynamics needs for a batch whose largest
/// window records `largest_record` steps.
inline int lgf_work_vectors(method m, dynamics base, int largest_record) {
  return learned_flow_layout{largest_record, m == method::lgf_adam, solves_with_curvature(m, base)}
      .count();
}

/// The window's reduced coordinates: keeps θ_{K−1}, then Gram–Schmidt (twice) on θ_j − θ_0 leaves
/// the origin θ_0 in work vector 0 and an orthonormal basis Q in 1 … rank (POD at the snapshots'
/// numerical rank, or at most lgf_rank modes, or at most `rank_limit`: what the fit can
/// determine), and f's rows j < K the regressors [1, Qᵀ(θ_j − θ_0)]. Returns the rank (0: the
/// iterates did not move).
template <class Real>
GRADFLOW_HD int reduce_window(const lockstep_view<Real>& v, std::int64_t i, int record,
                              const learned_flow_layout& layout, int rank_limit,
                              Real (*f)[lgf_max_record + 1]) {
  const int len = v.len();
  const int rank_given = int(v.parameter_of(i, lgf_rank));
  int rank_cap = rank_given > 0 && rank_given < record - 1 ? rank_given : record - 1;
  rank_cap = rank_cap < rank_limit ? rank_cap : rank_limit;
  const Real* origin = v.work_of(0, i);
  Real* last_true = v.work_of(layout.last_true(), i);
  const Real* before_last = v.work_of(record - 1, i);
  for (int e = 0; e < len; ++e) last_true[e] = before_last[e];
  const Real rounding = 64 * std::numeric_limits<Real>::epsilon() * frobenius_norm(origin, len);
  Real scale = 0;
  for (int j = 1; j < record; ++j) {
    Real* difference = v.work_of(j, i);
    for (int e = 0; e < len; ++e) difference[e] -= origin[e];
    const Real norm = frobenius_norm(difference, len);
    scale = norm > scale ? norm : scale;
  }
  int rank = 0;
  for (int j = 0; j < record; ++j)
    for (int c = 0; c <= rank_cap; ++c) f[j][c] = c == 0 ? Real(1) : Real(0);
  for (int j = 1; j < record && scale > 0; ++j) {
    Real* w = v.work_of(j, i);
    for (int pass = 0; pass < 2; ++pass)  // Gram–Schmidt twice: orthogonal to rounding
      for (int c = 0; c < rank; ++c) {
        const Real* q = v.work_of(1 + c, i);
        const Real h = dot(q, w, len);
        f[j][1 + c] += h;
        for (int e = 0; e < len; ++e) w[e] -= h * q[e];
      }
    const Real remaining = frobenius_norm(w, len);
    if (rank < rank_cap && remaining > Real(lgf_rank_tolerance) * scale && remaining > rounding) {
      Real* q = v.work_of(1 + rank, i);
      for (int e = 0; e < len; ++e) q[e] = w[e] / remaining;
      f[j][1 + rank] = remaining;
      ++rank;
    }
  }
  return rank;
}

/// The surrogate's RK4 over `steps` steps of Δt = lr: `field(stage, y, slope)` evaluates it at y
/// (stage 0 … 3 of the step), `start_step()` keeps a step's start, `stage_input(h)` sets y to the
/// start + h·slope and adds the slope to the sum with weight 1 (first) or 2, `finish_step(w, h)`
/// adds the last slope with weight w and sets y = start + h/6 · sum.
template <class Real, class Field, class Stepper>
GRADFLOW_HD void integrate_surrogate(Real rate, std::int64_t steps, Field&& field,
                                     Stepper&& stepper) {
  const Real stage_step[3] = {rate / 2, rate / 2, rate};
  const Real stage_weight[3] = {2, 2, 1};  // of the slopes after the first
  for (std::int64_t q = 0; q < steps; ++q) {
    stepper.start_step();
    field(0);
    stepper.sum_slope(Real(1), true);
    for (int k = 0; k < 3; ++k) {
      stepper.stage_input(stage_step[k]);
      field(k + 1);
      stepper.sum_slope(stage_weight[k], false);
    }
    stepper.finish_step(rate / 6);
  }
}

/// The rows of the fit of window of K recorded steps against `target`: tracked, one per θ_j
/// (j < K); strong, one per θ_j whose difference stencil of `order` lies in θ_0 … θ_K; weak, one
/// per bump inside [t_0, t_K].
GRADFLOW_HD int fitted_rows(surrogate_target target, int order, int record) {
  switch (target) {
    case surrogate_target::strong:
      return record - (order >= 4 ? 3 : order - 1);
    case surrogate_target::weak:
      return record - 2 * weak_half_width(record) + 1;
    case surrogate_target::tracked:
      break;
  }
  return record;
}

/// The strong target's θ̇ at iterate j from the coordinates a_0 … a_K: forward (order 1), central
/// (2) or fourth-order central differences over steps of `rate`.
template <class Real>
GRADFLOW_HD Real difference(const Real (*a)[lgf_max_record], int j, int c, int order, Real rate) {
  if (order == 1) return (a[j + 1][c] - a[j][c]) / rate;
  if (order == 2) return (a[j + 1][c] - a[j - 1][c]) / (2 * rate);
  return (-a[j + 2][c] + 8 * a[j + 1][c] - 8 * a[j - 1][c] + a[j - 2][c]) / (12 * rate);
}

/// The strong or weak fit's rows from the coordinates a_0 … a_K of θ_0 … θ_K: f the library (weak:
/// ∫ψ φ(a) dt by the rectangle rule, exact as trapezoids since ψ vanishes at its ends), b the
/// target (weak: −∫ψ' a dt, over the same steps).
template <class Real>
GRADFLOW_HD void differenced_rows(const Real (*a)[lgf_max_record], int record, int rank, int degree,
                                  surrogate_target target, int order, Real rate,
                                  Real (*f)[lgf_max_record + 1], Real (*b)[lgf_max_record]) {
  const int rows = fitted_rows(target, order, record);
  const int columns = library_size(rank, degree);
  if (target == surrogate_target::strong) {
    const int first = order / 2;
    for (int r = 0; r < rows; ++r) {
      library_row(a[first + r], rank, degree, f[r]);
      for (int c = 0; c < rank; ++c) b[r][c] = difference(a, first + r, c, order, rate);
    }
    return;
  }
  const int width = weak_half_width(record);
  Real phi[lgf_max_record + 1];
  for (int r = 0; r < rows; ++r) {  // the bump on [t_r, t_{r + 2w}]
    for (int c = 0; c < columns; ++c) f[r][c] = 0;
    for (int c = 0; c < rank; ++c) b[r][c] = 0;
    for (int j = r + 1; j < r + 2 * width; ++j) {
      Real value, slope;
      bump(j, r, width, value, slope);
      library_row(a[j], rank, degree, phi);
      for (int c = 0; c < columns; ++c) f[r][c] += rate * value * phi[c];
      for (int c = 0; c < rank; ++c) b[r][c] -= slope * a[j][c];
    }
  }
}

/// The strong or weak fit's rows (differenced_rows) from the window's coordinates a_j = Qᵀ(θ_j −
/// θ_0), whose first K are F's columns 1 … rank on entry; θ_K's (u's) into start. Called, not
/// inlined, as fit_on_support is, so that a GPU thread's stack holds the coordinates and the fit's
/// reduced copy of F (8.4 KB each in f64) in one place at different times: ptxas gives each array
/// of an inlined body slots of its own.
template <class Real>
[[gnu::noinline]] GRADFLOW_HD void differenced_window(const lockstep_view<Real>& v, std::int64_t i,
                                                      int record, int rank, int degree,
                                                      surrogate_target target, int order, Real rate,
                                                      Real* start, Real (*f)[lgf_max_record + 1],
                                                      Real (*b)[lgf_max_record]) {
  const int len = v.len();
  const Real* u = v.state_of(i);
  const Real* origin = v.work_of(0, i);
  Real a[lgf_max_record + 1][lgf_max_record];  // a_0 … a_K
  for (int c = 0; c < rank; ++c) {
    const Real* q = v.work_of(1 + c, i);
    Real sum = 0;
    for (int e = 0; e < len; ++e) sum += q[e] * (u[e] - origin[e]);
    start[c] = a[record][c] = sum;
    for (int j = 0; j < record; ++j) a[j][c] = f[j][1 + c];
  }
  differenced_rows(a, record, rank, degree, target, order, rate, f, b);
}

/// lgf over gd or Newton, after the window's K-th true step: fits the surrogate θ̇ = Ξᵀφ(a) (φ the
/// degree-p library of the reduced coordinates a = Qᵀ(θ − θ_0)) to the window against its target,
/// by least squares or STLSQ, and integrates it from θ_K (u on entry) for `steps` RK4 steps of
/// Δt = lr, leaving the landing in u when it landed (else u is θ_K still).
template <class Real>
GRADFLOW_HD jump_outcome jump_on_learned_flow(const lockstep_view<Real>& v,
                                              const step_settings<Real>& s, std::int64_t i,
                                              int record, std::int64_t steps) {
  const int len = v.len();
  const learned_flow_layout layout = learned_flow_layout_of(s);
  const Real rate = v.parameter_of(i, step);
  const int degree = int(v.parameter_of(i, lgf_degree));
  const auto target = surrogate_target(int(v.parameter_of(i, lgf_target)));
  const int order = int(v.parameter_of(i, lgf_order));
  const Real threshold = v.parameter_of(i, lgf_threshold);
  Real* u = v.state_of(i);
  const auto direction_at = [&](int j) { return v.work_of(layout.gradient(j), i); };
  // f: rows of the library at the window's coordinates; b: the targets in the basis.
  Real f[lgf_max_record][lgf_max_record + 1];
  Real b[lgf_max_record][lgf_max_record];
  const int rows = fitted_rows(target, order, record);
  const int rank = reduce_window(v, i, record, layout, largest_fitted_rank(rows, degree), f);
  if (rank == 0) return jump_outcome::no_jump;
  Real start[lgf_max_record];                 // θ_K's coordinates
  if (target == surrogate_target::tracked) {  // θ_K = θ_{K−1} − lr·d_{K−1}
    for (int j = 0; j < record; ++j)
      for (int c = 0; c < rank; ++c) b[j][c] = -dot(v.work_of(1 + c, i), direction_at(j), len);
    for (int c = 0; c < rank; ++c) start[c] = f[record - 1][1 + c] + rate * b[record - 1][c];
    expand_to_library(f, record, rank, degree);
  } else {
    differenced_window(v, i, record, rank, degree, target, order, rate, start, f, b);
  }
  Real fastest = 0;
  for (int j = 0; j < record; ++j) {
    const Real speed = frobenius_norm(direction_at(j), len);
    fastest = speed > fastest ? speed : fastest;
  }
  const int columns = library_size(rank, degree);
  const Real ridge = v.parameter_of(i, lgf_ridge);
  const bool fitted = threshold > 0
                          ? thresholded_least_squares(f, b, rows, columns, rank, ridge, threshold)
                          : small_least_squares(f, b, rows, columns, rank, ridge);
  if (!fitted) return jump_outcome::no_jump;
  // ȧ_k = Σ_col φ_col(a) Ξ[col][k], RK4 with Δt = lr.
  Real a[lgf_max_record], stage[lgf_max_record], slope[lgf_max_record], sum[lgf_max_record];
  for (int c = 0; c < rank; ++c) a[c] = start[c];
  struct {
    Real *a, *stage, *slope, *sum, *at;
    int rank;
    GRADFLOW_HD void start_step() { at = a; }
    GRADFLOW_HD void sum_slope(Real weight, bool first) {
      for (int c = 0; c < rank; ++c) sum[c] = first ? slope[c] : sum[c] + weight * slope[c];
    }
    GRADFLOW_HD void stage_input(Real h) {
      for (int c = 0; c < rank; ++c) stage[c] = a[c] + h * slope[c];
      at = stage;
    }
    GRADFLOW_HD void finish_step(Real h) {
      for (int c = 0; c < rank; ++c) a[c] += h * sum[c];
    }
  } stepper{a, stage, slope, sum, a, rank};
  Real phi[lgf_max_record + 1];
  integrate_surrogate(
      rate, steps,
      [&](int) {
        library_row(stepper.at, rank, degree, phi);
        for (int k = 0; k < rank; ++k) {
          Real total = phi[0] * b[0][k];
          for (int c = 1; c < columns; ++c) total += phi[c] * b[c][k];
          slope[k] = total;
        }
      },
      stepper);
  v.surrogate_evaluations[i] += 4 * steps;  // the field, four times per RK4 step
  Real travelled_sq = 0;  // ‖θ_L − θ_K‖ = ‖a − a_K‖: the basis is orthonormal
  for (int c = 0; c < rank; ++c) travelled_sq += (a[c] - start[c]) * (a[c] - start[c]);
  const Real reach = Real(lgf_reach_factor) * Real(steps) * rate * fastest;
  if (!(std::sqrt(travelled_sq) <= reach)) return jump_outcome::too_far;
  // θ_L = θ_K + Q (a − a_K): what lies outside the basis stays as it was at θ_K.
  for (int c = 0; c < rank; ++c) {
    const Real* q = v.work_of(1 + c, i);
    const Real moved = a[c] - start[c];
    for (int e = 0; e < len; ++e) u[e] += moved * q[e];
  }
  return jump_outcome::landed;
}

/// lgf over Adam, after the window's K-th true step (u = θ_K, the moments m_K and s_K): fits the
/// learned gradient g(θ) = c + B·Qᵀ(θ − θ_0) to the recorded ∇f(θ_j) (the paper's tracked target;
/// c and B's columns as linear combinations of the ∇f(θ_j), weights F⁺ by the reduced least
/// squares), and integrates the continuous Adam system with it (η = lr, n = t/η iterations):
///   ṁ = (1 − β₁)(g − m)/η,  ṡ = (1 − β₂)(g² − s)/η,  θ̇ = −m̂/(√ŝ + ε),  m̂ = m/(1 − β₁ⁿ),
///   ŝ = s/(1 − β₂ⁿ),
/// for `steps` RK4 steps of Δt = η from n_K. Landed: u, m, s are the landing's; otherwise θ_K's.
template <class Real>
GRADFLOW_HD jump_outcome jump_on_learned_adam(const lockstep_view<Real>& v,
                                              const step_settings<Real>& s, std::int64_t i,
                                              int record, std::int64_t steps) {
  const int len = v.len();
  const learned_flow_layout layout = learned_flow_layout_of(s);
  const Real rate = v.parameter_of(i, step);
  const Real b1 = v.parameter_of(i, beta1), b2 = v.parameter_of(i, beta2);
  const Real eps = v.parameter_of(i, epsilon);
  Real* live[3] = {v.state_of(i), v.work_of(layout.moment(0), i), v.work_of(layout.moment(1), i)};
  Real* origin_of_jump[3];
  for (int k = 0; k < 3; ++k) {
    origin_of_jump[k] = v.work_of(layout.jump_start(k), i);
    for (int e = 0; e < len; ++e) origin_of_jump[k][e] = live[k][e];
  }
  Real fastest = 0;  // the window's fastest true step, before the snapshots become the basis
  for (int j = 0; j < record; ++j) {
    const Real* from = v.work_of(j, i);
    const Real* to = j + 1 < record ? v.work_of(j + 1, i) : live[0];
    Real step_sq = 0;
    for (int e = 0; e < len; ++e) step_sq += (to[e] - from[e]) * (to[e] - from[e]);
    const Real speed = std::sqrt(step_sq) / rate;
    fastest = speed > fastest ? speed : fastest;
  }
  Real f[lgf_max_record][lgf_max_record + 1];
  Real weights[lgf_max_record][lgf_max_record];  // F⁺: the fit of each recorded gradient
  const int degree = int(v.parameter_of(i, lgf_degree));
  const int rank = reduce_window(v, i, record, layout, largest_fitted_rank(record, degree), f);
  if (rank == 0) return jump_outcome::no_jump;
  const int columns = library_size(rank, degree);
  expand_to_library(f, record, rank, degree);
  Real a[lgf_max_record];  // a stage's reduced coordinates during the jump
  for (int j = 0; j < record; ++j)
    for (int k = 0; k < record; ++k) weights[j][k] = j == k ? Real(1) : Real(0);
  if (!small_least_squares(f, weights, record, columns, record, v.parameter_of(i, lgf_ridge)))
    return jump_outcome::no_jump;
  for (int c = 0; c < columns; ++c) {  // the learned gradient's coefficient of φ_c
    Real* column = v.work_of(layout.learned_gradient(c), i);
    for (int e = 0; e < len; ++e) column[e] = 0;
    for (int j = 0; j < record; ++j) {
      const Real* recorded = v.work_of(layout.gradient(j), i);
      for (int e = 0; e < len; ++e) column[e] += weights[c][j] * recorded[e];
    }
  }
  const Real* origin = v.work_of(0, i);
  const Real* learned[lgf_max_record];  // by library column: the offset, B's columns, …
  for (int c = 0; c < columns; ++c) learned[c] = v.work_of(layout.learned_gradient(c), i);
  Real* slope[3];
  Real* start[3];
  Real* sum[3];
  for (int k = 0; k < 3; ++k) {
    start[k] = v.work_of(layout.runge_kutta(0, k), i);
    sum[k] = v.work_of(layout.runge_kutta(1, k), i);
    slope[k] = v.work_of(layout.runge_kutta(2, k), i);
  }
  Real count = std::floor(v.time[i] / rate + Real(0.5));  // iterations so far
  const Real stage_offset[4] = {0, Real(0.5), Real(0.5), 1};
  struct {
    Real **live, **start, **sum, **slope;
    int len;
    GRADFLOW_HD void start_step() {
      for (int k = 0; k < 3; ++k)
        for (int e = 0; e < len; ++e) start[k][e] = live[k][e];
    }
    GRADFLOW_HD void sum_slope(Real weight, bool first) {
      for (int k = 0; k < 3; ++k)
        for (int e = 0; e < len; ++e)
          sum[k][e] = first ? slope[k][e] : sum[k][e] + weight * slope[k][e];
    }
    GRADFLOW_HD void stage_input(Real h) {
      for (int k = 0; k < 3; ++k)
        for (int e = 0; e < len; ++e) live[k][e] = start[k][e] + h * slope[k][e];
    }
    GRADFLOW_HD void finish_step(Real h) {
      for (int k = 0; k < 3; ++k)
        for (int e = 0; e < len; ++e) live[k][e] = start[k][e] + h * sum[k][e];
    }
  } stepper{live, start, sum, slope, len};
  integrate_surrogate(
      rate, steps,
      [&](int stage) {
        for (int c = 0; c < rank; ++c) {
          const Real* q = v.work_of(1 + c, i);
          Real sum_c = 0;
          for (int e = 0; e < len; ++e) sum_c += q[e] * (live[0][e] - origin[e]);
          a[c] = sum_c;
        }
        Real phi[lgf_max_record];
        library_row(a, rank, degree, phi);
        const adam_corrections<Real> corrections(b1, b2, count + stage_offset[stage]);
        for (int e = 0; e < len; ++e) {
          Real g = phi[0] * learned[0][e];
          for (int c = 1; c < columns; ++c) g += phi[c] * learned[c][e];
          slope[1][e] = (1 - b1) * (g - live[1][e]) / rate;
          slope[2][e] = (1 - b2) * (g * g - live[2][e]) / rate;
          slope[0][e] = -adam_direction(live[1][e], live[2][e], corrections, eps);
        }
        if (stage == 3) count += 1;
      },
      stepper);
  v.surrogate_evaluations[i] += 4 * steps;  // the field, four times per RK4 step
  Real travelled_sq = 0;
  for (int e = 0; e < len; ++e)
    travelled_sq += (live[0][e] - origin_of_jump[0][e]) * (live[0][e] - origin_of_jump[0][e]);
  const Real reach = Real(lgf_reach_factor) * Real(steps) * rate * fastest;
  if (std::sqrt(travelled_sq) <= reach) return jump_outcome::landed;
  for (int k = 0; k < 3; ++k)
    for (int e = 0; e < len; ++e) live[k][e] = origin_of_jump[k][e];
  return jump_outcome::too_far;
}

/// A rejected or refused jump's successor: half as long, at least one step.
GRADFLOW_HD std::int64_t shorter_jump(std::int64_t steps) { return steps > 1 ? steps / 2 : 1; }

/// One lgf or lgf_adam iteration after the true evaluation at u (see the top of this file).
template <class Real>
GRADFLOW_HD void learned_flow_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                   std::int64_t i) {
  const int len = v.len();
  const learned_flow_layout layout = learned_flow_layout_of(s);
  const int record = int(v.parameter_of(i, lgf_record));
  const std::int64_t jump_cap = std::int64_t(v.parameter_of(i, lgf_window)) - record;
  const Real rate = v.parameter_of(i, step);
  Real* u = v.state_of(i);
  const Real* gradient = v.gradient_of(i);
  const Real norm = frobenius_norm(gradient, len);
  v.gradient_evaluations[i] += 1;
  v.dt_step[i] = rate;  // lgf_implicit: h back to lr where this iteration's factor halved it
  if (v.accepted[i] == 0) v.gradient_norm_initial[i] = norm;  // lgf_implicit may have halved h
  if (v.window_position[i] < 0) {                             // u is a jump's landing: guard it
    const Real* last = v.work_of(layout.last_true(), i);
    const Real* last_direction = v.work_of(layout.gradient(record - 1), i);
    const Real* last_gradient =
        layout.curvature_base ? v.work_of(layout.last_true_gradient(), i) : last_direction;
    Real change = 0;
    if (s.descent_by_value) {
      change = v.value[i] - v.accepted_value[i];
    } else {
      for (int e = 0; e < len; ++e) change += (last_gradient[e] + gradient[e]) * (u[e] - last[e]);
      change /= 2;
    }
    const bool converged_there = norm <= gradient_threshold(v, i);
    // Over Newton or linearly implicit Euler, a landing where ∇²f (+ I/h) has no factor is one
    // where the base's flow is not defined.
    const bool base_defined = !layout.curvature_base || factor_defined(v, i);
    if (!(base_defined && std::isfinite(norm) && std::isfinite(change) &&
          (change <= 0 || converged_there))) {
      v.rejected[i] += 1;
      if (layout.over_adam) {  // back to θ_K and its moments
        for (int k = 0; k < 3; ++k) {
          Real* target = k == 0 ? u : v.work_of(layout.moment(k - 1), i);
          const Real* kept = v.work_of(layout.jump_start(k), i);
          for (int e = 0; e < len; ++e) target[e] = kept[e];
        }
      } else {
        for (int e = 0; e < len; ++e) u[e] = last[e] - rate * last_direction[e];
      }
      v.jump_steps[i] = shorter_jump(v.jump_steps[i]);
      v.window_position[i] = 0;
      test_step_budget(v, s, i);
      return;
    }
    v.jump_steps[i] = 2 * v.jump_steps[i] < jump_cap ? 2 * v.jump_steps[i] : jump_cap;
    v.window_position[i] = 0;
  }
  if (!test_new_point(v, s, i, norm, Real(0))) return;
  const int position = int(v.window_position[i]);
  Real* snapshot = v.work_of(position, i);
  Real* recorded_direction = v.work_of(layout.gradient(position), i);
  for (int e = 0; e < len; ++e) {
    snapshot[e] = u[e];
    recorded_direction[e] = gradient[e];
  }
  if (layout.curvature_base) {  // with the factor of ∇²f (Newton) or ∇²f + I/h (implicit)
    Real* kept_gradient = v.work_of(layout.last_true_gradient(), i);
    for (int e = 0; e < len; ++e) kept_gradient[e] = gradient[e];
    for (int c = 0; c < v.rhs_count; ++c)
      cholesky_solve(v.factor_of(i), v.unknowns, recorded_direction + c, v.rhs_count);
    if (s.method == method::lgf_implicit)  // the step (I/h + ∇²f)⁻¹∇f is lr·d
      for (int e = 0; e < len; ++e) recorded_direction[e] /= rate;
  }
  if (layout.over_adam) {  // Adam's step, its clock the epochs (jumps included)
    Real* m = v.work_of(layout.moment(0), i);
    Real* second = v.work_of(layout.moment(1), i);
    const Real b1 = v.parameter_of(i, beta1), b2 = v.parameter_of(i, beta2);
    const Real eps = v.parameter_of(i, epsilon);
    const adam_corrections<Real> corrections(b1, b2, std::floor(v.time[i] / rate + Real(0.5)) + 1);
    for (int e = 0; e < len; ++e) {
      m[e] = b1 * m[e] + (1 - b1) * gradient[e];
      second[e] = b2 * second[e] + (1 - b2) * gradient[e] * gradient[e];
      u[e] -= rate * adam_direction(m[e], second[e], corrections, eps);
    }
  } else {
    for (int e = 0; e < len; ++e) u[e] -= rate * recorded_direction[e];
  }
  if (s.descent_by_value) v.accepted_value[i] = v.value[i];
  v.accepted[i] += 1;
  v.time[i] += rate;
  v.window_position[i] = position + 1;
  // t_end bounds the epochs (t/lr): a jump leaves room for the step after its guard.
  const Real epochs_left = steps_before_t_end(s, v.time[i], rate);
  if (epochs_left < 1) {
    set_outcome(v, i, status::reached_t_end);
    return;
  }
  // A jump needs one more iteration of the budget: its guard.
  const bool guard_fits = v.accepted[i] + v.rejected[i] + 1 < s.max_steps;
  if (position + 1 == record) {
    v.window_position[i] = 0;
    const std::int64_t steps =
        Real(v.jump_steps[i]) > epochs_left - 1 ? std::int64_t(epochs_left) - 1 : v.jump_steps[i];
    jump_outcome jump = jump_outcome::no_jump;
    if (guard_fits && steps > 0)
      jump = layout.over_adam ? jump_on_learned_adam(v, s, i, record, steps)
                              : jump_on_learned_flow(v, s, i, record, steps);
    if (jump == jump_outcome::landed) {
      v.window_position[i] = -1;
      v.accepted[i] += 1;
      v.time[i] += Real(steps) * rate;
    } else if (jump == jump_outcome::too_far) {
      v.rejected[i] += 1;
      v.jump_steps[i] = shorter_jump(steps);
    }
  }
  test_step_budget(v, s, i);
}

}  // namespace gradflow::detail
