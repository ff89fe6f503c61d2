#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/stopping.hpp"

/// One problem's part of each phase of an explicit Runge–Kutta step on the chosen dynamics. The
/// driver alternates these with the model's batched evaluations of ∇f (the `gradient` slot); every
/// function returns at once for a problem that no longer runs.
namespace gradflow::detail {

/// RMS of values_e / (atol + |reference_e|·rtol): the weighted norm of Hairer–Nørsett–Wanner.
template <class Real>
GRADFLOW_HD Real weighted_rms(const Real* values, const Real* reference, int len, Real atol,
                              Real rtol) {
  Real sum = 0;
  for (int e = 0; e < len; ++e) {
    const Real scaled = values[e] / (atol + std::fabs(reference[e]) * rtol);
    sum += scaled * scaled;
  }
  return std::sqrt(sum / len);
}

template <class Real>
GRADFLOW_HD Real clipped_step(const step_settings<Real>& s, Real dt, Real time) {
  const Real remaining = s.t_end - time;
  return dt < remaining ? dt : remaining;
}

/// K_output = F(t, Y) for the dynamics, where the U-part of Y (the accepted state for output 0,
/// else the stage input) has gradient g in the gradient slot:
///   gradient: −g;  newton: −H⁻¹g;  heavy ball: (V, −(c/m)V − g/m);
///   nesterov: (V, −(3/t)V − g), whose t → 0 limit with V(0) = 0 is (0, −g/4).
/// Records ‖g‖ as the trial gradient norm.
template <class Real>
GRADFLOW_HD void evaluate_dynamics(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                   int output, Real t, std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.len();
  const Real* point = output == 0 ? v.state_of(i) : v.stage_input_of(i);
  const Real* velocity = point + len;
  const Real* gradient = v.gradient_of(i);
  Real* k_u = v.work_of(output, i);
  Real* k_v = k_u + len;
  Real gradient_sq = 0;
  for (int e = 0; e < len; ++e) {
    const Real g = gradient[e];
    gradient_sq += g * g;
    switch (s.dynamics) {
      case dynamics::gradient:
      case dynamics::newton:
        k_u[e] = -g;
        break;
      case dynamics::heavy_ball:
        k_u[e] = velocity[e];
        k_v[e] = -v.parameter_of(i, damping) * velocity[e] - v.parameter_of(i, inverse_mass) * g;
        break;
      case dynamics::nesterov:
        k_u[e] = velocity[e];
        k_v[e] = t > 0 ? -(Real(3) / t) * velocity[e] - g : -g / Real(4);
        break;
    }
  }
  if (s.dynamics == dynamics::newton) {
    for (int c = 0; c < v.rhs_count; ++c)
      cholesky_solve(v.factor_of(i), v.unknowns, k_u + c, v.rhs_count);
  }
  v.trial_gradient_norm[i] = std::sqrt(gradient_sq);
}

/// After K_0 = F(0, y0): initialise problem i and its first step. Without a given step, a fixed
/// method takes 1/‖H‖_∞ (first-order dynamics) or 1/√(‖H‖_∞/m) (second-order: the fastest
/// oscillation), and an adaptive one the first guess h0 of Hairer–Nørsett–Wanner (Solving ODEs I,
/// II.4), writing the probe point Y = y0 + h0·K_0 for `refine_initial_step`.
template <class Real>
GRADFLOW_HD void start_integration(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                   std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.state_len();
  const Real* y = v.state_of(i);
  const Real* k0 = v.work_of(0, i);
  v.gradient_norm_initial[i] = v.trial_gradient_norm[i];
  v.time[i] = 0;
  v.gradient_evaluations[i] = 1;
  v.pi_error_memory[i] = s.pi_memory_initial;
  if (s.descent && s.descent_by_value) v.accepted_value[i] = v.value[i];
  if (!test_new_point(v, s, i, v.trial_gradient_norm[i], Real(0))) return;
  const Real atol_i = v.parameter_of(i, atol), rtol_i = v.parameter_of(i, rtol);
  Real dt = v.parameter_of(i, step);
  if (std::isnan(dt) && !s.adaptive) {
    const Real bound = curvature_bound(v.curvature_of(i), v.unknowns);
    const bool second_order = v.state_factor == 2;
    const Real scale =
        s.dynamics == dynamics::heavy_ball ? v.parameter_of(i, inverse_mass) : Real(1);
    dt = second_order ? Real(1) / std::sqrt(bound * scale) : Real(1) / bound;
  } else if (std::isnan(dt)) {
    const Real d0 = weighted_rms(y, y, len, atol_i, rtol_i);
    const Real d1 = weighted_rms(k0, y, len, atol_i, rtol_i);
    dt = (d0 < Real(1e-5) || d1 < Real(1e-5)) ? Real(1e-6) : Real(0.01) * d0 / d1;
    dt = clipped_step(s, dt, Real(0));
    Real* probe = v.stage_input_of(i);
    for (int e = 0; e < len; ++e) probe[e] = y[e] + dt * k0[e];
  }
  v.dt[i] = dt;
  v.dt_step[i] = clipped_step(s, dt, Real(0));
}

/// With K_1 = F(h0, y0 + h0·K_0): h = min(100·h0, (0.01 / max(d1, d2))^(1/(p+1))) where
/// d2 = ‖K_1 − K_0‖/h0 estimates the second derivative.
template <class Real>
GRADFLOW_HD void refine_initial_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                     std::int64_t i) {
  if (!v.running(i) || !std::isnan(v.parameter_of(i, step))) return;  // a given dt stands
  const int len = v.state_len();
  const Real* y = v.state_of(i);
  const Real* k0 = v.work_of(0, i);
  const Real* k1 = v.work_of(1, i);
  const Real atol_i = v.parameter_of(i, atol), rtol_i = v.parameter_of(i, rtol);
  const Real h0 = v.dt[i];
  Real difference_sq = 0;
  for (int e = 0; e < len; ++e) {
    const Real scaled = (k1[e] - k0[e]) / (atol_i + std::fabs(y[e]) * rtol_i);
    difference_sq += scaled * scaled;
  }
  const Real d1 = weighted_rms(k0, y, len, atol_i, rtol_i);
  const Real d2 = std::sqrt(difference_sq / len) / h0;
  const Real larger = d1 > d2 ? d1 : d2;
  const Real h1 = larger <= Real(1e-15)
                      ? (Real(1e-6) > h0 * Real(1e-3) ? Real(1e-6) : h0 * Real(1e-3))
                      : std::pow(Real(0.01) / larger, Real(1) / Real(s.scheme.order + 1));
  const Real dt = h1 < 100 * h0 ? h1 : 100 * h0;
  v.gradient_evaluations[i] += 1;
  v.dt[i] = dt;
  v.dt_step[i] = clipped_step(s, dt, v.time[i]);
}

/// Y = y + h·Σ_{j<stage} a_{stage,j}·K_j.
template <class Real>
GRADFLOW_HD void form_stage_input(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  int stage, std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.state_len();
  const Real h = v.dt_step[i];
  const Real* y = v.state_of(i);
  Real* target = v.stage_input_of(i);
  for (int e = 0; e < len; ++e) target[e] = y[e];
  for (int j = 0; j < stage; ++j) {
    const Real weight = h * s.scheme.a[stage][j];
    if (weight == Real(0)) continue;
    const Real* k = v.work_of(j, i);
    for (int e = 0; e < len; ++e) target[e] += weight * k[e];
  }
}

/// Y = y + (I/h + H)⁻¹K_0 (K_0 = −∇f(y)): the linearly implicit Euler step, by the Cholesky factor
/// of H + I/h that factor_problem left for this step.
template <class Real>
GRADFLOW_HD void form_implicit_stage_input(const lockstep_view<Real>& v, std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.len();
  const Real* y = v.state_of(i);
  const Real* k0 = v.work_of(0, i);
  Real* target = v.stage_input_of(i);
  for (int e = 0; e < len; ++e) target[e] = k0[e];
  for (int c = 0; c < v.rhs_count; ++c)
    cholesky_solve(v.factor_of(i), v.unknowns, target + c, v.rhs_count);
  for (int e = 0; e < len; ++e) target[e] += y[e];
}

/// EEst = RMS_e(err_e / (atol + max(|y_e|, |y_new,e|)·rtol)), err = h·Σ_j (b_j − b̂_j)·K_j.
template <class Real>
GRADFLOW_HD Real error_estimate(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                std::int64_t i) {
  const int len = v.state_len();
  const Real h = v.dt_step[i];
  const Real atol_i = v.parameter_of(i, atol), rtol_i = v.parameter_of(i, rtol);
  const Real* y = v.state_of(i);
  const Real* y_new = v.stage_input_of(i);
  Real sum = 0;
  for (int e = 0; e < len; ++e) {
    Real err = 0;
    for (int j = 0; j < s.scheme.stage_count; ++j)
      err += s.scheme.error_weights[j] * v.work_of(j, i)[e];
    err *= h;
    const Real magnitude =
        std::fabs(y[e]) > std::fabs(y_new[e]) ? std::fabs(y[e]) : std::fabs(y_new[e]);
    const Real scaled = err / (atol_i + magnitude * rtol_i);
    sum += scaled * scaled;
  }
  return std::sqrt(sum / len);
}

/// SER's growth after an accepted step: dt ← 1.1·h·‖∇f(y)‖/‖∇f(y_new)‖, limited to q_max for
/// explicit methods. Returns true (the step stands).
template <class Real>
GRADFLOW_HD bool grow_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                           std::int64_t i, Real h, Real& next_dt) {
  const Real g_new = v.trial_gradient_norm[i];
  Real growth = g_new > 0 ? Real(1.1) * v.gradient_norm[i] / g_new : s.q_max;
  if (!s.linearly_implicit && growth > s.q_max) growth = s.q_max;
  next_dt = h * growth;
  return true;
}

/// Descent (SER) control after a step Δ = y_new − y on gradient flow, whose ∇f(y_new) is in the
/// gradient slot. f(y_new) − f(y) = ⟨Δ, (∇f(y) + ∇f(y_new))/2⟩ exactly for a quadratic (the
/// trapezoidal rule), without the cancellation of subtracting two values of f near the minimum;
/// models that evaluate f compare f itself (step_settings::descent_by_value).
/// Accept when that is ≤ 0 (beyond rounding), then dt ← 1.1·h·‖∇f(y)‖/‖∇f(y_new)‖, its growth
/// limited to q_max for explicit methods (whose stability it would overrun) and unlimited for the
/// linearly implicit step (whose convergence it makes quadratic); on a rise, dt ← h/2.
template <class Real>
GRADFLOW_HD bool descent_decision(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  std::int64_t i, Real h, Real& next_dt) {
  if (s.descent_by_value) {
    const Real f_old = v.accepted_value[i], f_new = v.value[i];
    if (!(f_new <= f_old + 16 * std::numeric_limits<Real>::epsilon() * std::fabs(f_old))) {
      next_dt = h / 2;
      return false;
    }
    v.accepted_value[i] = f_new;
    return grow_step(v, s, i, h, next_dt);
  }
  const Real* y = v.state_of(i);
  const Real* y_new = v.stage_input_of(i);
  const Real* k0 = v.work_of(0, i);  // −∇f(y)
  const Real* gradient = v.gradient_of(i);
  Real change = 0, scale = 0;
  for (int e = 0; e < v.len(); ++e) {
    const Real step = y_new[e] - y[e];
    const Real gradient_mean = (gradient[e] - k0[e]) / 2;
    change += step * gradient_mean;
    scale += std::fabs(step) * (std::fabs(gradient[e]) + std::fabs(k0[e]));
  }
  if (!(change <= 4 * std::numeric_limits<Real>::epsilon() * scale)) {  // a NaN rejects too
    next_dt = h / 2;
    return false;
  }
  return grow_step(v, s, i, h, next_dt);
}

/// After the last stage (Y = y_new, K_last = F(t + h, y_new)): accept or reject, propose the next
/// dt (PI controller, OrdinaryDiffEq form, or descent control), and apply the stopping tests in
/// order of precedence: diverged, converged, diverged by growth, reached_t_end, max_steps,
/// step_underflow.
template <class Real>
GRADFLOW_HD void finish_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                             std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.state_len();
  const int last = s.scheme.stage_count - 1;
  const Real h = v.dt_step[i];
  v.gradient_evaluations[i] += last;

  bool accept = true;
  Real next_dt = v.dt[i];
  if (s.descent) {
    accept = descent_decision(v, s, i, h, next_dt);
  } else if (s.adaptive) {
    const Real estimate = error_estimate(v, s, i);
    if (!std::isfinite(estimate)) {
      accept = false;
      next_dt = h * s.q_min;
    } else if (estimate <= 1) {
      // q = EEst^β1 / EEst_old^β2, clamped so that dt changes by a factor in [qmin, qmax].
      Real q = std::pow(estimate, s.pi_exponent_error) /
               std::pow(v.pi_error_memory[i], s.pi_exponent_memory) / s.safety;
      q = q < 1 / s.q_max ? 1 / s.q_max : (q > 1 / s.q_min ? 1 / s.q_min : q);
      next_dt = h / q;
      v.pi_error_memory[i] = estimate > s.pi_memory_initial ? estimate : s.pi_memory_initial;
    } else {
      accept = false;
      const Real shrink = std::pow(estimate, s.pi_exponent_error) / s.safety;
      next_dt = h / (shrink < 1 / s.q_min ? shrink : 1 / s.q_min);
    }
  }
  v.dt[i] = next_dt;

  if (!accept) {
    v.rejected[i] += 1;
  } else {
    const bool reaches_end = h >= s.t_end - v.time[i];
    v.time[i] = reaches_end ? s.t_end : v.time[i] + h;
    v.accepted[i] += 1;
    Real* y = v.state_of(i);
    const Real* y_new = v.stage_input_of(i);
    Real* k0 = v.work_of(0, i);
    const Real* k_last = v.work_of(last, i);
    for (int e = 0; e < len; ++e) {
      y[e] = y_new[e];
      k0[e] = k_last[e];
    }
    const Real velocity_norm = v.state_factor == 2 ? frobenius_norm(y + v.len(), v.len()) : Real(0);
    if (!test_new_point(v, s, i, v.trial_gradient_norm[i], velocity_norm)) return;
    if (reaches_end) {
      set_outcome(v, i, status::reached_t_end);
      return;
    }
  }

  test_step_budget(v, s, i);
  const Real t = v.time[i];
  const Real floor =
      s.dt_min > 0 ? s.dt_min : 16 * std::numeric_limits<Real>::epsilon() * (t > 1 ? t : Real(1));
  if (v.running(i) && (s.adaptive || s.descent) && next_dt < floor)
    set_outcome(v, i, status::step_underflow);
  v.dt_step[i] = clipped_step(s, next_dt, t);
}

}  // namespace gradflow::detail
