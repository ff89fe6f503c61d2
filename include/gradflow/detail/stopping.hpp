#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/lockstep_state.hpp"

/// Norms and the stopping tests shared by every method. Each function touches problem i only.
namespace gradflow::detail {

template <class Real>
GRADFLOW_HD Real dot(const Real* a, const Real* b, int len) {
  Real sum = 0;
  for (int e = 0; e < len; ++e) sum += a[e] * b[e];
  return sum;
}

template <class Real>
GRADFLOW_HD Real frobenius_norm(const Real* values, int len) {
  Real sum = 0;
  for (int e = 0; e < len; ++e) sum += values[e] * values[e];
  return std::sqrt(sum);
}

/// ‖∇f‖ from the gradient slot: the gradient norm at the last operand.
template <class Real>
GRADFLOW_HD Real gradient_norm_at_operand(const lockstep_view<Real>& v, std::int64_t i) {
  return frobenius_norm(v.gradient_of(i), v.len());
}

template <class Real>
GRADFLOW_HD void set_outcome(const lockstep_view<Real>& v, std::int64_t i, status s) {
  v.outcome[i] = static_cast<std::int32_t>(s);
}

/// What a factorisation factors: H itself (once), or H + I/h for the step h about to be taken (the
/// linearly implicit method, every step); or nothing, H only prepared (a default step reads its
/// bound, for which H need not be positive definite).
enum class factor_shift { none, inverse_step, curvature_only };

/// Problem i's Cholesky factor of H_i, or of H_i + I/h for the step h about to be taken. An H_i
/// that is not positive definite makes the problem invalid_input; H_i + I/h that is not (an
/// objective's Hessian with negative curvature beyond 1/h) halves h — Levenberg–Marquardt's λ = 1/h
/// doubles — counting a rejected step each time, up to 64 times, and then ends the problem as
/// diverged (its Hessian overflowed there). An infinite h (lgf_implicit's default 1/‖H‖_∞ where
/// H = 0) shifts by nothing however halved: H itself failed, invalid_input as above. At an lgf
/// jump's landing (window_position < 0) a failed factor is marked (NaN in its first entry) for the
/// guard to reject the landing instead.
template <class Real>
GRADFLOW_HD void factor_problem(const lockstep_view<Real>& v, std::int64_t i, factor_shift shift) {
  if (shift == factor_shift::curvature_only) return;
  if (shift == factor_shift::inverse_step && !v.running(i)) return;
  const int n = v.unknowns;
  Real* factor = v.factor_of(i);
  bool shifted = shift == factor_shift::inverse_step;
  for (int attempt = 0; attempt <= 64; ++attempt) {
    const Real* curvature = v.curvature_of(i);
    for (std::int64_t e = 0; e < std::int64_t(n) * n; ++e) factor[e] = curvature[e];
    if (shifted)
      for (int d = 0; d < n; ++d) factor[d * n + d] += 1 / v.dt_step[i];
    if (cholesky_factor(factor, n)) return;
    shifted = shifted && 1 / v.dt_step[i] > 0;
    if (!shifted) break;
    v.dt_step[i] /= 2;
    v.dt[i] = v.dt_step[i];
    v.rejected[i] += 1;
  }
  if (v.window_position[i] < 0) {
    factor[0] = std::numeric_limits<Real>::quiet_NaN();
    return;
  }
  set_outcome(v, i, shifted ? status::diverged : status::invalid_input);
}

/// The model's H for problem i's factorisation (evaluator.prepare_curvature), unless it was formed
/// at this accepted point already (lockstep_view::curvature_formed_at): the linearly implicit step
/// retried after a rejection keeps H — n Hessian products of an objective, collocation's
/// Gauss–Newton matrix (about two thirds of its factorisation's time).
template <class Real, class Evaluator>
GRADFLOW_HD void prepare_curvature_once_per_point(const Evaluator& evaluator,
                                                  const lockstep_view<Real>& v, factor_shift shift,
                                                  std::int64_t i) {
  if (v.curvature_formed_at && v.running(i)) {
    const std::int64_t point = v.accepted[i] + 1;
    if (v.curvature_formed_at[i] == point) return;
    v.curvature_formed_at[i] = point;
  }
  evaluator.prepare_curvature(v, shift, i);
}

/// Whether the factor that problem i's last factorisation left is one (factor_problem marks a
/// failed one at a jump's landing).
template <class Real>
GRADFLOW_HD bool factor_defined(const lockstep_view<Real>& v, std::int64_t i) {
  return !std::isnan(v.factor_of(i)[0]);
}

/// max(gtol, rtol_grad·‖∇f(u0)‖): below it the gradient test passes.
template <class Real>
GRADFLOW_HD Real gradient_threshold(const lockstep_view<Real>& v, std::int64_t i) {
  const Real absolute = v.parameter_of(i, gtol);
  const Real relative = v.parameter_of(i, rtol_grad) * v.gradient_norm_initial[i];
  return absolute > relative ? absolute : relative;
}

/// What the convergence test compares with: ‖∇f‖ ≤ `gradient` (gradient_threshold) and the
/// velocity's norm ≤ `velocity` (vtol, or the gradient threshold when vtol is unset). Fixed once
/// ‖∇f(u0)‖ is known: the CPU lanes keep each lane's and test without reading the parameter table.
template <class Real>
struct convergence_limits {
  Real gradient, velocity;
};

template <class Real>
GRADFLOW_HD convergence_limits<Real> convergence_limits_of(const lockstep_view<Real>& v,
                                                           std::int64_t i) {
  const Real threshold = gradient_threshold(v, i);
  const Real given_vtol = v.parameter_of(i, vtol);
  return {threshold, std::isnan(given_vtol) ? threshold : given_vtol};
}

/// The stall test at an accepted point with gradient norm `norm`. The accepted points fall into
/// windows of stall_window steps; a problem is stalled when the largest ‖∇f‖ of a window is not
/// below stall_factor times the largest of the window before. The largest, not the last or the
/// smallest, so that dynamics whose ‖∇f‖ swings (heavy ball, momentum, FIRE) are judged by their
/// envelope.
template <class Real>
GRADFLOW_HD bool stalled(const lockstep_view<Real>& v, const step_settings<Real>& s, std::int64_t i,
                         Real norm) {
  if (v.accepted[i] == 0) {  // the start point opens the first window
    v.window_largest_gradient_norm[i] = norm;
    v.stall_reference[i] = 0;
    v.stall_window_start[i] = 0;
    return false;
  }
  if (norm > v.window_largest_gradient_norm[i]) v.window_largest_gradient_norm[i] = norm;
  if (s.stall_window <= 0 || v.accepted[i] - v.stall_window_start[i] < s.stall_window) return false;
  const Real largest = v.window_largest_gradient_norm[i];
  if (v.stall_reference[i] > 0 && !(largest < s.stall_factor * v.stall_reference[i])) {
    set_outcome(v, i, status::stalled);
    return true;
  }
  v.stall_reference[i] = largest;
  v.window_largest_gradient_norm[i] = 0;
  v.stall_window_start[i] = v.accepted[i];
  return false;
}

/// Records ‖∇f‖ at a new accepted point and applies the tests in order of precedence: diverged
/// (non-finite), converged (gradient and, when `velocity_norm` ≥ 0, velocity small), diverged
/// (‖∇f‖ beyond divergence_ratio·‖∇f(u0)‖, unless step_settings::accepts_only_lower_values: there
/// ‖∇f‖ grows where f steepens towards its infimum, as the heat problem's log loss does at an exact
/// fit, and f unbounded below ends non-finite), stalled. Returns true while the problem still runs.
/// `limits`: convergence_limits_of(v, i).
template <class Real>
GRADFLOW_HD bool test_new_point_within(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                       std::int64_t i, Real norm, Real velocity_norm,
                                       convergence_limits<Real> limits) {
  v.gradient_norm[i] = norm;
  if (!std::isfinite(norm) || !std::isfinite(velocity_norm)) {
    set_outcome(v, i, status::diverged);
    return false;
  }
  if (norm <= limits.gradient && velocity_norm <= limits.velocity) {
    set_outcome(v, i, status::converged);
    return false;
  }
  if (!s.accepts_only_lower_values() && norm > s.divergence_ratio * v.gradient_norm_initial[i]) {
    set_outcome(v, i, status::diverged);
    return false;
  }
  return !stalled(v, s, i, norm);
}

template <class Real>
GRADFLOW_HD bool test_new_point(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                std::int64_t i, Real norm, Real velocity_norm) {
  return test_new_point_within(v, s, i, norm, velocity_norm, convergence_limits_of(v, i));
}

template <class Real>
GRADFLOW_HD bool all_finite(const Real* values, int len) {
  for (int e = 0; e < len; ++e)
    if (!std::isfinite(values[e])) return false;
  return true;
}

/// The final test, the same for every method, with ∇f at the returned U: its
/// ‖∇f‖ is recomputed and reported, and a `converged` problem keeps that status only when U and
/// ‖∇f‖ are finite (else diverged) and ‖∇f‖ is within twice the gradient threshold (else stalled:
/// the method's answer is as close as it gets at this precision, e.g. a direct solve or CG on a
/// nearly singular G). The factor 2 leaves room for rounding between the run's products and this
/// one.
/// `norm`: ‖∇f(U)‖; `finite`: whether the whole returned state is finite.
template <class Real>
GRADFLOW_HD void judge_answer_from(const lockstep_view<Real>& v, std::int64_t i, Real norm,
                                   bool finite) {
  v.gradient_norm[i] = norm;
  if (v.outcome[i] != static_cast<std::int32_t>(status::converged)) return;
  if (!std::isfinite(norm) || !finite)
    set_outcome(v, i, status::diverged);
  else if (norm > 2 * gradient_threshold(v, i))
    set_outcome(v, i, status::stalled);
}

template <class Real>
GRADFLOW_HD void judge_answer(const lockstep_view<Real>& v, std::int64_t i) {
  judge_answer_from(v, i, gradient_norm_at_operand(v, i), all_finite(v.state_of(i), v.state_len()));
}

/// The steps of length `rate` from t = `time` to t_end, rounded to the nearest (a learned flow's
/// epochs, an optimiser's iterations); infinity without a t_end.
template <class Real>
GRADFLOW_HD Real steps_before_t_end(const step_settings<Real>& s, Real time, Real rate) {
  return s.t_end <= std::numeric_limits<Real>::max()
             ? std::floor((s.t_end - time) / rate + Real(0.5))
             : std::numeric_limits<Real>::infinity();
}

/// After an optimiser's iteration of length `rate` (t counts lr per iteration, FIRE its dt):
/// reached_t_end where no further one fits before t_end, so that a budget of flow time bounds
/// gd, momentum, nag, adam and FIRE as it bounds the integrators and the learned flows.
template <class Real>
GRADFLOW_HD void test_time_budget(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  std::int64_t i, Real rate) {
  if (v.running(i) && steps_before_t_end(s, v.time[i], rate) < 1)
    set_outcome(v, i, status::reached_t_end);
}

/// After a step attempt: max_steps on accepted + rejected.
template <class Real>
GRADFLOW_HD void test_step_budget(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  std::int64_t i) {
  if (v.running(i) && v.accepted[i] + v.rejected[i] >= s.max_steps)
    set_outcome(v, i, status::max_steps);
}

}  // namespace gradflow::detail
