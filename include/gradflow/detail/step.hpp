#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/least_squares_math.hpp"
#include "gradflow/detail/lockstep_state.hpp"

/// One problem's part of each lockstep phase. Every function touches problem i only and returns at
/// once for a problem that is no longer running, so finished and diverged problems never influence
/// the others and cost nothing but their share of the batched products.
namespace gradflow::detail {

template <class Real>
GRADFLOW_HD Real frobenius_norm(const Real* values, int len) {
  Real sum = 0;
  for (int e = 0; e < len; ++e) sum += values[e] * values[e];
  return std::sqrt(sum);
}

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
GRADFLOW_HD void set_outcome(const lockstep_view<Real>& v, std::int64_t i, status s) {
  v.outcome[i] = static_cast<std::int32_t>(s);
}

template <class Real>
GRADFLOW_HD Real clipped_step(const step_settings<Real>& s, Real dt, Real time) {
  const Real remaining = s.t_end - time;
  return dt < remaining ? dt : remaining;
}

/// CPU-side flow evaluation of one problem: K = C − G·X. (The CUDA backend uses cuBLAS instead.)
template <class Real>
GRADFLOW_HD void evaluate_flow(const lockstep_view<Real>& v, const Real* point, Real* out,
                               std::int64_t i) {
  if (!v.running(i)) return;
  const std::int64_t n = v.unknowns;
  negative_gradient(v.gram + i * n * n, v.cross + i * n * v.rhs_count, point + i * v.len(),
                    v.unknowns, v.rhs_count, out + i * v.len());
}

/// After K_0 = −∇f(U0): initialise problem i's state and first step. Without a given dt, a fixed
/// method takes 1/‖G‖_∞ and an adaptive one the first guess h0 of Hairer–Nørsett–Wanner (Solving
/// ODEs I, II.4), writing the probe point Y = U0 + h0·K_0 for `refine_initial_step`.
template <class Real>
GRADFLOW_HD void start_problem(const lockstep_view<Real>& v, const step_settings<Real>& s,
                               std::int64_t i) {
  const int len = v.len();
  const Real* u = v.solution + i * len;
  const Real* k0 = v.stage(0, i);
  const Real norm = frobenius_norm(k0, len);
  v.gradient_norm[i] = v.gradient_norm_initial[i] = norm;
  v.time[i] = 0;
  v.accepted[i] = v.rejected[i] = 0;
  v.gradient_evaluations[i] = 1;
  v.error_previous[i] = s.error_previous_initial;
  set_outcome(v, i, status::running);
  if (!std::isfinite(norm)) {
    set_outcome(v, i, status::diverged);
  } else if (norm <= s.gtol) {
    set_outcome(v, i, status::converged);
  }
  Real dt = s.initial_dt;
  if (dt <= 0 && !s.adaptive) {
    const std::int64_t n = v.unknowns;
    dt = Real(1) / curvature_bound(v.gram + i * n * n, v.unknowns);
  } else if (dt <= 0) {
    const Real d0 = weighted_rms(u, u, len, s.atol, s.rtol);
    const Real d1 = weighted_rms(k0, u, len, s.atol, s.rtol);
    dt = (d0 < Real(1e-5) || d1 < Real(1e-5)) ? Real(1e-6) : Real(0.01) * d0 / d1;
    dt = clipped_step(s, dt, Real(0));
    Real* probe = v.stage_input + i * len;
    for (int e = 0; e < len; ++e) probe[e] = u[e] + dt * k0[e];
  }
  v.dt[i] = dt;
  v.dt_step[i] = clipped_step(s, dt, Real(0));
}

/// With K_1 = −∇f(U0 + h0·K_0): h = min(100·h0, (0.01 / max(d1, d2))^(1/(p+1))) where
/// d2 = ‖K_1 − K_0‖/h0 estimates the second derivative.
template <class Real>
GRADFLOW_HD void refine_initial_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                     std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.len();
  const Real* u = v.solution + i * len;
  const Real* k0 = v.stage(0, i);
  const Real* k1 = v.stage(1, i);
  const Real h0 = v.dt[i];
  Real difference_sq = 0;
  for (int e = 0; e < len; ++e) {
    const Real scaled = (k1[e] - k0[e]) / (s.atol + std::fabs(u[e]) * s.rtol);
    difference_sq += scaled * scaled;
  }
  const Real d1 = weighted_rms(k0, u, len, s.atol, s.rtol);
  const Real d2 = std::sqrt(difference_sq / len) / h0;
  const Real larger = d1 > d2 ? d1 : d2;
  Real h1 = larger <= Real(1e-15)
                ? (Real(1e-6) > h0 * Real(1e-3) ? Real(1e-6) : h0 * Real(1e-3))
                : std::pow(Real(0.01) / larger, Real(1) / Real(s.method.order + 1));
  const Real dt = h1 < 100 * h0 ? h1 : 100 * h0;
  v.gradient_evaluations[i] += 1;
  v.dt[i] = dt;
  v.dt_step[i] = clipped_step(s, dt, v.time[i]);
}

/// Y = U + h·Σ_{j<stage} a_{stage,j}·K_j.
template <class Real>
GRADFLOW_HD void form_stage_input(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  int stage, std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.len();
  const Real h = v.dt_step[i];
  const Real* u = v.solution + i * len;
  Real* y = v.stage_input + i * len;
  for (int e = 0; e < len; ++e) y[e] = u[e];
  for (int j = 0; j < stage; ++j) {
    const Real weight = h * s.method.a[stage][j];
    if (weight == Real(0)) continue;
    const Real* k = v.stage(j, i);
    for (int e = 0; e < len; ++e) y[e] += weight * k[e];
  }
}

/// EEst = RMS_e(err_e / (atol + max(|u_e|, |u_new,e|)·rtol)), err = h·Σ_j (b_j − b̂_j)·K_j.
template <class Real>
GRADFLOW_HD Real error_estimate(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                std::int64_t i) {
  const int len = v.len();
  const Real h = v.dt_step[i];
  const Real* u = v.solution + i * len;
  const Real* u_new = v.stage_input + i * len;
  Real sum = 0;
  for (int e = 0; e < len; ++e) {
    Real err = 0;
    for (int j = 0; j < s.method.stage_count; ++j)
      err += s.method.error_weights[j] * v.stage(j, i)[e];
    err *= h;
    const Real magnitude =
        std::fabs(u[e]) > std::fabs(u_new[e]) ? std::fabs(u[e]) : std::fabs(u_new[e]);
    const Real scaled = err / (s.atol + magnitude * s.rtol);
    sum += scaled * scaled;
  }
  return std::sqrt(sum / len);
}

/// After the last stage (Y = U_new, K_last = −∇f(U_new)): accept or reject, propose the next dt
/// (PI controller, OrdinaryDiffEq form), and apply the stopping tests in order of precedence:
/// converged, diverged, reached_t_end, max_steps, step_underflow.
template <class Real>
GRADFLOW_HD void finish_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                             std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.len();
  const int last = s.method.stage_count - 1;
  const Real h = v.dt_step[i];
  v.gradient_evaluations[i] += last;

  bool accept = true;
  Real next_dt = v.dt[i];
  if (s.adaptive) {
    const Real estimate = error_estimate(v, s, i);
    if (!std::isfinite(estimate)) {
      accept = false;
      next_dt = h * s.q_min;
    } else if (estimate <= 1) {
      // q = EEst^β1 / EEst_old^β2, clamped so that dt changes by a factor in [qmin, qmax].
      Real q = std::pow(estimate, s.beta1) / std::pow(v.error_previous[i], s.beta2) / s.safety;
      q = q < 1 / s.q_max ? 1 / s.q_max : (q > 1 / s.q_min ? 1 / s.q_min : q);
      next_dt = h / q;
      v.error_previous[i] =
          estimate > s.error_previous_initial ? estimate : s.error_previous_initial;
    } else {
      accept = false;
      const Real shrink = std::pow(estimate, s.beta1) / s.safety;
      next_dt = h / (shrink < 1 / s.q_min ? shrink : 1 / s.q_min);
    }
  }

  if (accept) {
    const bool reaches_end = h >= s.t_end - v.time[i];
    v.time[i] = reaches_end ? s.t_end : v.time[i] + h;
    v.accepted[i] += 1;
    Real* u = v.solution + i * len;
    const Real* u_new = v.stage_input + i * len;
    Real* k0 = v.stage(0, i);
    const Real* k_last = v.stage(last, i);
    for (int e = 0; e < len; ++e) {
      u[e] = u_new[e];
      k0[e] = k_last[e];
    }
    const Real norm = frobenius_norm(k0, len);
    v.gradient_norm[i] = norm;
    if (!std::isfinite(norm)) {
      set_outcome(v, i, status::diverged);
    } else if (norm <= s.gtol || norm <= s.rtol_grad * v.gradient_norm_initial[i]) {
      set_outcome(v, i, status::converged);
    } else if (norm > s.divergence_ratio * v.gradient_norm_initial[i]) {
      set_outcome(v, i, status::diverged);
    } else if (reaches_end) {
      set_outcome(v, i, status::reached_t_end);
    }
  } else {
    v.rejected[i] += 1;
  }

  v.dt[i] = next_dt;
  if (!v.running(i)) return;
  const Real t = v.time[i];
  const Real floor =
      s.dt_min > 0 ? s.dt_min : 16 * std::numeric_limits<Real>::epsilon() * (t > 1 ? t : Real(1));
  if (v.accepted[i] + v.rejected[i] >= s.max_steps) {
    set_outcome(v, i, status::max_steps);
  } else if (s.adaptive && next_dt < floor) {
    set_outcome(v, i, status::step_underflow);
  }
  v.dt_step[i] = clipped_step(s, next_dt, t);
}

}  // namespace gradflow::detail

namespace gradflow::detail {

/// The per-problem phases of a lockstep run, in the order the driver issues them.
enum class lockstep_phase { start, refine_initial_step, stage_input, finish };

/// One entry point per problem for every phase, so each backend needs one loop (one kernel).
template <class Real>
GRADFLOW_HD void run_phase(const lockstep_view<Real>& v, const step_settings<Real>& s,
                           lockstep_phase phase, int stage, std::int64_t i) {
  switch (phase) {
    case lockstep_phase::start:
      start_problem(v, s, i);
      break;
    case lockstep_phase::refine_initial_step:
      refine_initial_step(v, s, i);
      break;
    case lockstep_phase::stage_input:
      form_stage_input(v, s, stage, i);
      break;
    case lockstep_phase::finish:
      finish_step(v, s, i);
      break;
  }
}

}  // namespace gradflow::detail
