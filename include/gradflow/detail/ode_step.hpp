#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/control_power.hpp"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/multiply_add.hpp"
#include "gradflow/detail/stopping.hpp"

/// One problem's part of each phase of an explicit Runge–Kutta step on the chosen dynamics. The
/// driver alternates these with the model's batched evaluations of ∇f (the `gradient` slot); every
/// function returns at once for a problem that no longer runs.
namespace gradflow::detail {

/// value / (atol + magnitude·rtol): one element of Hairer–Nørsett–Wanner's weighted norms.
template <class Real>
GRADFLOW_HD Real scaled_by_tolerance(Real value, Real magnitude, Real atol, Real rtol) {
  return value / (atol + magnitude * rtol);
}

/// RMS of values_e / (atol + |reference_e|·rtol): the weighted norm of Hairer–Nørsett–Wanner.
template <class Real>
GRADFLOW_HD Real weighted_rms(const Real* values, const Real* reference, int len, Real atol,
                              Real rtol) {
  Real sum = 0;
  for (int e = 0; e < len; ++e) {
    const Real scaled = scaled_by_tolerance(values[e], std::fabs(reference[e]), atol, rtol);
    sum += scaled * scaled;
  }
  return std::sqrt(sum / len);
}

template <class Real>
GRADFLOW_HD Real clipped_step(const step_settings<Real>& s, Real dt, Real time) {
  const Real remaining = s.t_end - time;
  return dt < remaining ? dt : remaining;
}

/// One element of F's U-part and V-part for gradient g and velocity (second-order dynamics): see
/// evaluate_dynamics. Newton's −g is solved with H afterwards.
template <class Real>
struct rate_element {
  Real u, v;
};

template <class Real>
GRADFLOW_HD rate_element<Real> dynamics_rate(dynamics flow, Real g, Real velocity, Real damping_i,
                                             Real inverse_mass_i, Real t) {
  switch (flow) {
    case dynamics::heavy_ball:
      return {velocity, -damping_i * velocity - inverse_mass_i * g};
    case dynamics::nesterov:
      return {velocity, t > 0 ? -(Real(3) / t) * velocity - g : -g / Real(4)};
    case dynamics::gradient:
    case dynamics::newton:
      break;
  }
  return {-g, Real(0)};
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
  const bool second_order = v.state_factor == 2;
  const Real damping_i = v.parameter_of(i, damping),
             inverse_mass_i = v.parameter_of(i, inverse_mass);
  Real gradient_sq = 0;
  for (int e = 0; e < len; ++e) {
    const Real g = gradient[e];
    gradient_sq += g * g;
    const rate_element<Real> rate = dynamics_rate(
        s.dynamics, g, second_order ? velocity[e] : Real(0), damping_i, inverse_mass_i, t);
    k_u[e] = rate.u;
    if (second_order) k_v[e] = rate.v;
  }
  if (s.dynamics == dynamics::newton) {
    for (int c = 0; c < v.rhs_count; ++c)
      cholesky_solve(v.factor_of(i), v.unknowns, k_u + c, v.rhs_count);
  }
  v.trial_gradient_norm[i] = std::sqrt(gradient_sq);
}

/// After K_0 = F(0, y0): problem i's counters, t = 0 and the tests at y0 (its ‖∇f‖ is the trial
/// norm). False when the problem ended there.
template <class Real>
GRADFLOW_HD bool open_integration(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  std::int64_t i) {
  v.gradient_norm_initial[i] = v.trial_gradient_norm[i];
  v.time[i] = 0;
  v.gradient_evaluations[i] = 1;
  v.pi_error_memory[i] = s.pi_memory_initial;
  if (s.descent && s.descent_by_value) v.accepted_value[i] = v.value[i];
  return test_new_point(v, s, i, v.trial_gradient_norm[i], Real(0));
}

/// A fixed method's step when none is given: 1/‖H‖_∞ (first-order dynamics) or 1/√(‖H‖_∞/m)
/// (second-order: the fastest oscillation).
template <class Real>
GRADFLOW_HD Real default_fixed_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                    std::int64_t i) {
  const Real bound = curvature_bound(v.curvature_of(i), v.unknowns);
  const bool second_order = v.state_factor == 2;
  const Real scale = s.dynamics == dynamics::heavy_ball ? v.parameter_of(i, inverse_mass) : Real(1);
  return second_order ? Real(1) / std::sqrt(bound * scale) : Real(1) / bound;
}

/// Hairer–Nørsett–Wanner's first guess h0 from the weighted norms d0 = ‖y0‖ and d1 = ‖K_0‖.
template <class Real>
GRADFLOW_HD Real first_step_guess(Real d0, Real d1) {
  return (d0 < Real(1e-5) || d1 < Real(1e-5)) ? Real(1e-6) : Real(0.01) * d0 / d1;
}

template <class Real>
GRADFLOW_HD void set_first_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                std::int64_t i, Real dt) {
  v.dt[i] = dt;
  v.dt_step[i] = clipped_step(s, dt, Real(0));
}

/// After K_0 = F(0, y0): initialise problem i and its first step. Without a given step, a fixed
/// method takes default_fixed_step and an adaptive one the first guess h0 of Hairer–Nørsett–Wanner
/// (Solving ODEs I, II.4), writing the probe point Y = y0 + h0·K_0 for `refine_initial_step`.
template <class Real>
GRADFLOW_HD void start_integration(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                   std::int64_t i) {
  if (!v.running(i) || !open_integration(v, s, i)) return;
  Real dt = v.parameter_of(i, step);
  if (std::isnan(dt) && !s.adaptive) {
    dt = default_fixed_step(v, s, i);
  } else if (std::isnan(dt)) {
    const int len = v.state_len();
    const Real* y = v.state_of(i);
    const Real* k0 = v.work_of(0, i);
    const Real atol_i = v.parameter_of(i, atol), rtol_i = v.parameter_of(i, rtol);
    dt = clipped_step(s,
                      first_step_guess(weighted_rms(y, y, len, atol_i, rtol_i),
                                       weighted_rms(k0, y, len, atol_i, rtol_i)),
                      Real(0));
    Real* probe = v.stage_input_of(i);
    for (int e = 0; e < len; ++e) probe[e] = y[e] + dt * k0[e];
  }
  set_first_step(v, s, i, dt);
}

/// With K_1 = F(h0, y0 + h0·K_0): h = min(100·h0, (0.01 / max(d1, d2))^(1/(p+1))) where
/// d2 = ‖K_1 − K_0‖/h0 estimates the second derivative; `difference_sq` is Σ_e of the weighted
/// (K_1 − K_0)_e², d1 the weighted RMS of K_0. Only where no dt is given.
template <class Real>
GRADFLOW_HD void refine_initial_step_from(const lockstep_view<Real>& v,
                                          const step_settings<Real>& s, std::int64_t i,
                                          Real difference_sq, Real d1) {
  const Real h0 = v.dt[i];
  const Real d2 = std::sqrt(difference_sq / v.state_len()) / h0;
  const Real larger = d1 > d2 ? d1 : d2;
  const Real h1 = larger <= Real(1e-15)
                      ? (Real(1e-6) > h0 * Real(1e-3) ? Real(1e-6) : h0 * Real(1e-3))
                      : std::pow(Real(0.01) / larger, Real(1) / Real(s.scheme.order + 1));
  const Real dt = h1 < 100 * h0 ? h1 : 100 * h0;
  v.gradient_evaluations[i] += 1;
  v.dt[i] = dt;
  v.dt_step[i] = clipped_step(s, dt, v.time[i]);
}

/// Whether problem i's first step still awaits refine_initial_step.
template <class Real>
GRADFLOW_HD bool refines_initial_step(const lockstep_view<Real>& v, std::int64_t i) {
  return v.running(i) && std::isnan(v.parameter_of(i, step));  // a given dt stands
}

template <class Real>
GRADFLOW_HD void refine_initial_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                     std::int64_t i) {
  if (!refines_initial_step(v, i)) return;
  const int len = v.state_len();
  const Real* y = v.state_of(i);
  const Real* k0 = v.work_of(0, i);
  const Real* k1 = v.work_of(1, i);
  const Real atol_i = v.parameter_of(i, atol), rtol_i = v.parameter_of(i, rtol);
  Real difference_sq = 0;
  for (int e = 0; e < len; ++e) {
    const Real scaled = scaled_by_tolerance(k1[e] - k0[e], std::fabs(y[e]), atol_i, rtol_i);
    difference_sq += scaled * scaled;
  }
  refine_initial_step_from(v, s, i, difference_sq, weighted_rms(k0, y, len, atol_i, rtol_i));
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
    for (int e = 0; e < len; ++e) target[e] = multiply_add(weight, k[e], target[e]);
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

/// One element's part of EEst: err / (atol + max(|y|, |y_new|)·rtol) with err = h·Σ_j (b_j −
/// b̂_j)·K_j already summed in `weighted_stages`.
template <class Real>
GRADFLOW_HD Real scaled_error(Real weighted_stages, Real h, Real y, Real y_new, Real atol,
                              Real rtol) {
  const Real err = weighted_stages * h;
  const Real magnitude = std::fabs(y) > std::fabs(y_new) ? std::fabs(y) : std::fabs(y_new);
  return scaled_by_tolerance(err, magnitude, atol, rtol);
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
      err = multiply_add(s.scheme.error_weights[j], v.work_of(j, i)[e], err);
    const Real scaled = scaled_error(err, h, y[e], y_new[e], atol_i, rtol_i);
    sum += scaled * scaled;
  }
  return std::sqrt(sum / len);
}

/// SER's next step after an accepted step of h: 1.1·h·‖∇f(y)‖/‖∇f(y_new)‖ (`old_norm`,
/// `new_norm`), its growth limited to q_max for explicit methods.
template <class Real>
GRADFLOW_HD Real grown_step(const step_settings<Real>& s, Real h, Real old_norm, Real new_norm) {
  Real growth = new_norm > 0 ? Real(1.1) * old_norm / new_norm : s.q_max;
  if (!s.linearly_implicit && growth > s.q_max) growth = s.q_max;
  return h * growth;
}

/// Element e's term of the trapezoid rule's f(y_new) − f(y), ⟨Δ, (∇f(y) + ∇f(y_new))/2⟩, from
/// y_e, y_new_e, K_0's −∂f(y)/∂u_e and ∂f(y_new)/∂u_e.
template <class Real>
GRADFLOW_HD Real descent_change_term(Real y, Real y_new, Real k0, Real gradient) {
  return (y_new - y) * ((gradient - k0) / 2);
}

/// Element e's term of the rounding scale of that sum, |Δ_e|·(|∂f(y)/∂u_e| + |∂f(y_new)/∂u_e|).
template <class Real>
GRADFLOW_HD Real descent_scale_term(Real y, Real y_new, Real k0, Real gradient) {
  return std::fabs(y_new - y) * (std::fabs(gradient) + std::fabs(k0));
}

/// descent_decision on gradients, from the sums of descent_change_term (`change`) and of
/// descent_scale_term (`scale`) over the elements, and ‖∇f(y)‖, ‖∇f(y_new)‖ (`old_norm`,
/// `new_norm`): values only, so that the CPU's lanes run it as one vector loop.
template <class Real>
GRADFLOW_HD bool trapezoid_decision(const step_settings<Real>& s, Real change, Real scale, Real h,
                                    Real old_norm, Real new_norm, Real& next_dt) {
  if (!(change <= 4 * std::numeric_limits<Real>::epsilon() * scale)) {  // a NaN rejects too
    next_dt = h / 2;
    return false;
  }
  next_dt = grown_step(s, h, old_norm, new_norm);
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
    next_dt = grown_step(s, h, v.gradient_norm[i], v.trial_gradient_norm[i]);
    return true;
  }
  const Real* y = v.state_of(i);
  const Real* y_new = v.stage_input_of(i);
  const Real* k0 = v.work_of(0, i);  // −∇f(y)
  const Real* gradient = v.gradient_of(i);
  Real change = 0, scale = 0;
  for (int e = 0; e < v.len(); ++e) {
    change += descent_change_term(y[e], y_new[e], k0[e], gradient[e]);
    scale += descent_scale_term(y[e], y_new[e], k0[e], gradient[e]);
  }
  return trapezoid_decision(s, change, scale, h, v.gradient_norm[i], v.trial_gradient_norm[i],
                            next_dt);
}

/// PI control (OrdinaryDiffEq's form) after a step of h with error estimate EEst, given its powers
/// EEst^β1 (`error_power`) and EEst_old^β2 (`memory_power`, of the memory before this step), both
/// control_power's: accept when EEst ≤ 1, and propose the next dt. Returns whether the step stands.
/// OrdinaryDiffEq divides h by q = EEst^β1 / EEst_old^β2 / safety; this multiplies h by 1/q, whose
/// one division serves both branches (a division costs as much as a dozen multiplies in the CPU's
/// lanes).
template <class Real>
GRADFLOW_HD bool error_control_from(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                    std::int64_t i, Real estimate, Real error_power,
                                    Real memory_power, Real h, Real& next_dt) {
  if (!std::isfinite(estimate)) {
    next_dt = h * s.q_min;
    return false;
  }
  const Real safe_inverse = s.safety / error_power;  // ∞ at EEst = 0: q_max decides
  if (estimate <= 1) {
    // dt changes by 1/q = safety·EEst_old^β2 / EEst^β1, a factor clamped to [qmin, qmax].
    const Real growth = safe_inverse * memory_power;
    next_dt = h * (growth > s.q_max ? s.q_max : (growth < s.q_min ? s.q_min : growth));
    v.pi_error_memory[i] = estimate > s.pi_memory_initial ? estimate : s.pi_memory_initial;
    return true;
  }
  next_dt = h * (safe_inverse > s.q_min ? safe_inverse : s.q_min);
  return false;
}

template <class Real>
GRADFLOW_HD bool error_control(const lockstep_view<Real>& v, const step_settings<Real>& s,
                               std::int64_t i, Real estimate, Real h, Real& next_dt) {
  return error_control_from(v, s, i, estimate, control_power(estimate, s.pi_exponent_error),
                            control_power(v.pi_error_memory[i], s.pi_exponent_memory), h, next_dt);
}

/// What follows a step's decision for problem i, once an accepted y_new is the state (its
/// velocity's norm `velocity_norm`, second-order dynamics): counters, t, the stopping tests in
/// order of precedence — diverged, converged, diverged by growth, reached_t_end, max_steps,
/// step_underflow — and the next step attempted. `limits`: convergence_limits_of(v, i).
template <class Real>
GRADFLOW_HD void conclude_step_within(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                      std::int64_t i, bool accept, Real next_dt, Real velocity_norm,
                                      convergence_limits<Real> limits) {
  const Real h = v.dt_step[i];
  v.gradient_evaluations[i] += s.scheme.stage_count - 1;
  v.dt[i] = next_dt;
  if (!accept) {
    v.rejected[i] += 1;
  } else {
    const bool reaches_end = h >= s.t_end - v.time[i];
    v.time[i] = reaches_end ? s.t_end : v.time[i] + h;
    v.accepted[i] += 1;
    if (!test_new_point_within(v, s, i, v.trial_gradient_norm[i], velocity_norm, limits)) return;
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

template <class Real>
GRADFLOW_HD void conclude_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                               std::int64_t i, bool accept, Real next_dt, Real velocity_norm) {
  conclude_step_within(v, s, i, accept, next_dt, velocity_norm, convergence_limits_of(v, i));
}

/// After the last stage (Y = y_new, K_last = F(t + h, y_new)): accept or reject (PI control,
/// descent control, or a fixed step), then y ← y_new and K_0 ← K_last (FSAL) for an accepted step,
/// and conclude_step.
template <class Real>
GRADFLOW_HD void finish_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                             std::int64_t i) {
  if (!v.running(i)) return;
  const Real h = v.dt_step[i];
  Real next_dt = v.dt[i];
  const bool accept = s.descent    ? descent_decision(v, s, i, h, next_dt)
                      : s.adaptive ? error_control(v, s, i, error_estimate(v, s, i), h, next_dt)
                                   : true;
  Real velocity_norm = 0;
  if (accept) {
    const int len = v.state_len();
    Real* y = v.state_of(i);
    const Real* y_new = v.stage_input_of(i);
    Real* k0 = v.work_of(0, i);
    const Real* k_last = v.work_of(s.scheme.stage_count - 1, i);
    for (int e = 0; e < len; ++e) {
      y[e] = y_new[e];
      k0[e] = k_last[e];
    }
    if (v.state_factor == 2) velocity_norm = frobenius_norm(y + v.len(), v.len());
  }
  conclude_step(v, s, i, accept, next_dt, velocity_norm);
}

}  // namespace gradflow::detail
