#pragma once
#include <cmath>
#include <cstdint>

#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/stopping.hpp"

/// Runge–Kutta–Chebyshev steps on gradient flow (README, "Methods"): s stages per step by the
/// three-term recurrence of the Chebyshev polynomials T_j at ω0, so that the step's stability
/// polynomial stretches over z ∈ [−ℓ_s, 0] with ℓ_s ∝ s². rkcd: first order, damped by η (Eftekhari
/// et al., BIT 2021); rkc: second order, damped by ε (van der Houwen & Sommeijer; Verwer et al.
/// 2004). A problem's recurrence state lives in its 8 recurrence values: ω0, ω1, then T, T′, T″ at
/// stages j−2 and j−1.
namespace gradflow::detail {

inline constexpr int max_chebyshev_stages = 10000;

template <class Real>
struct chebyshev_values {
  Real value, first, second;  ///< T_s(x), T_s′(x), T_s″(x)
};

template <class Real>
GRADFLOW_HD chebyshev_values<Real> chebyshev_at(int s, Real x) {
  if (s == 0) return {Real(1), Real(0), Real(0)};
  Real t0 = 1, t1 = x, d0 = 0, d1 = 1, e0 = 0, e1 = 0;
  for (int j = 2; j <= s; ++j) {
    const Real t2 = 2 * x * t1 - t0;
    const Real d2 = 2 * t1 + 2 * x * d1 - d0;
    const Real e2 = 4 * d1 + 2 * x * e1 - e0;
    t0 = t1, t1 = t2, d0 = d1, d1 = d2, e0 = e1, e1 = e2;
  }
  return {t1, d1, e1};
}

/// ω0 = 1 + damping/s², and ω1 = T_s(ω0)/T_s′(ω0) (rkcd) or T_s′(ω0)/T_s″(ω0) (rkc).
template <class Real>
struct chebyshev_shape {
  Real omega0, omega1;
};

template <class Real>
GRADFLOW_HD chebyshev_shape<Real> chebyshev_shape_for(method m, int s, Real damping) {
  const Real omega0 = 1 + damping / (Real(s) * Real(s));
  const auto t = chebyshev_at(s, omega0);
  return {omega0, m == method::rkc ? t.first / t.second : t.value / t.first};
}

/// (1 + ω0)/ω1: where the argument ω0 + ω1·z of T_s reaches −1. Steps with h·L up to it damp
/// every mode (rkcd: by at least 1/T_s(ω0)); rkc's stability ends about there (≈ 0.65 s²).
template <class Real>
GRADFLOW_HD Real damped_length(method m, int s, Real damping) {
  const auto shape = chebyshev_shape_for(m, s, damping);
  return (1 + shape.omega0) / shape.omega1;
}

/// rkcd's stability length 2ω0/ω1 ≈ (2 − 4η/3)s²: |T_s(x)| ≤ T_s(ω0) for |x| ≤ ω0.
template <class Real>
GRADFLOW_HD Real rkcd_stability_length(int s, Real damping) {
  const auto shape = chebyshev_shape_for(method::rkcd, s, damping);
  return 2 * shape.omega0 / shape.omega1;
}

/// RKC's b_j = T_j″/T_j′² for j ≥ 2, and b_0 = b_1 = b_2 = 1/(4ω0²).
template <class Real>
GRADFLOW_HD Real rkc_weight(int j, Real first, Real second, Real omega0) {
  return j >= 2 ? second / (first * first) : 1 / (4 * omega0 * omega0);
}

/// Whether problem i's stage count comes from its condition number (neither the stage count nor
/// dt given): its set-up then needs μ, the smallest curvature.
template <class Real>
GRADFLOW_HD bool chebyshev_stages_from_condition(const lockstep_view<Real>& v, std::int64_t i) {
  return std::isnan(v.parameter_of(i, stages)) && std::isnan(v.parameter_of(i, step));
}

/// The rest of setup_chebyshev once L (`largest`) and, where the stage count comes from the
/// condition number, μ (`smallest`) are known: the damping's default, the stage count (given;
/// else the fewest whose damped length covers dt·L for a given dt; else ⌈√(η(κ−1)/2)⌉ with
/// κ = L/μ), ω0, ω1 and the step h (given dt, else the damped length over L). The CPU's lanes
/// estimate L and μ for several problems at once and call this per problem.
template <class Real>
GRADFLOW_HD void setup_chebyshev_from(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                      std::int64_t i, Real largest, Real smallest) {
  Real* own = v.parameters + i * parameter_count;
  if (std::isnan(own[eta])) own[eta] = s.method == method::rkc ? Real(2) / 13 : Real(5);
  const Real damping = own[eta];
  const int fewest = s.method == method::rkc ? 2 : 1;
  int count = fewest;
  if (!std::isnan(own[stages])) {
    count = int(own[stages]);
  } else if (!std::isnan(own[step])) {
    while (count < max_chebyshev_stages &&
           damped_length(s.method, count, damping) < own[step] * largest)
      ++count;
  } else {
    const Real condition = largest / smallest;
    const Real wanted = std::ceil(std::sqrt(damping * (condition - 1) / 2));
    count = wanted > Real(max_chebyshev_stages) ? max_chebyshev_stages : int(wanted);
    if (count < fewest) count = fewest;
  }
  own[stages] = Real(count);
  const auto shape = chebyshev_shape_for(s.method, count, damping);
  Real* r = v.recurrence_of(i);
  r[0] = shape.omega0;
  r[1] = shape.omega1;
  const Real h = std::isnan(own[step]) ? (1 + shape.omega0) / shape.omega1 / largest : own[step];
  v.dt[i] = h;
  v.dt_step[i] = s.t_end - v.time[i] < h ? s.t_end - v.time[i] : h;
}

/// Per problem, once: L by power iteration on H, μ by inverse iteration with the Cholesky factor
/// where the stage count comes from κ, then setup_chebyshev_from.
template <class Real>
GRADFLOW_HD void setup_chebyshev(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                 std::int64_t i) {
  if (!v.running(i)) return;
  const Real largest =
      largest_curvature(v.curvature_of(i), v.unknowns, v.gradient_of(i), v.stage_input_of(i));
  const Real smallest =
      chebyshev_stages_from_condition(v, i)
          ? smallest_curvature(v.curvature_of(i), v.factor_of(i), v.unknowns, v.gradient_of(i))
          : Real(0);
  setup_chebyshev_from(v, s, i, largest, smallest);
}

/// g_0 = y (kept as the stage before last), g_1 = y + w·h·K_0 (the stage input), with w = ω1/ω0
/// (rkcd) or b_1·ω1 (rkc); the recurrence starts at T_0 = 1, T_1 = ω0.
template <class Real>
GRADFLOW_HD void chebyshev_first_stage(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                       std::int64_t i) {
  if (!v.running(i)) return;
  Real* r = v.recurrence_of(i);
  const Real omega0 = r[0], omega1 = r[1];
  const Real weight =
      s.method == method::rkc ? rkc_weight(1, Real(1), Real(0), omega0) * omega1 : omega1 / omega0;
  const Real h = v.dt_step[i];
  const Real* y = v.state_of(i);
  const Real* k0 = v.work_of(0, i);
  Real* before_last = v.work_of(1, i);
  Real* last = v.stage_input_of(i);
  for (int e = 0; e < v.len(); ++e) {
    before_last[e] = y[e];
    last[e] = y[e] + weight * h * k0[e];
  }
  r[2] = 1, r[3] = omega0;  // T_0, T_1
  r[4] = 0, r[5] = 1;       // T_0′, T_1′
  r[6] = 0, r[7] = 0;       // T_0″, T_1″
}

/// Stage j ≥ 2 of a problem with s ≥ j stages, with ∇f(g_{j−1}) in the gradient slot:
///   rkcd: g_j = μ_j g_{j−1} + ν_j g_{j−2} + κ_j h F(g_{j−1}),
///         μ_j = 2ω0 T_{j−1}/T_j, ν_j = −T_{j−2}/T_j, κ_j = 2ω1 T_{j−1}/T_j;
///   rkc:  g_j = (1 − μ_j − ν_j) y + μ_j g_{j−1} + ν_j g_{j−2} + μ̃_j h F(g_{j−1}) + γ̃_j h F(y),
///         μ_j = 2b_jω0/b_{j−1}, ν_j = −b_j/b_{j−2}, μ̃_j = 2b_jω1/b_{j−1}, γ̃_j = −(1 −
///         b_{j−1}T_{j−1})μ̃_j.
template <class Real>
GRADFLOW_HD void chebyshev_stage(const lockstep_view<Real>& v, const step_settings<Real>& s, int j,
                                 std::int64_t i) {
  if (!v.running(i) || Real(j) > v.parameter_of(i, stages)) return;
  Real* r = v.recurrence_of(i);
  const Real omega0 = r[0], omega1 = r[1];
  const Real t = 2 * omega0 * r[3] - r[2];
  const Real d = 2 * r[3] + 2 * omega0 * r[5] - r[4];
  const Real e2 = 4 * r[5] + 2 * omega0 * r[7] - r[6];
  Real keep_last, keep_before, step_weight, start_weight = 0, flow_weight = 0;
  if (s.method == method::rkc) {
    const Real b = rkc_weight(j, d, e2, omega0);
    const Real b_last = rkc_weight(j - 1, r[5], r[7], omega0);
    const Real b_before = rkc_weight(j - 2, r[4], r[6], omega0);
    keep_last = 2 * b * omega0 / b_last;
    keep_before = -b / b_before;
    step_weight = 2 * b * omega1 / b_last;
    flow_weight = -(1 - b_last * r[3]) * step_weight;
    start_weight = 1 - keep_last - keep_before;
  } else {
    keep_last = 2 * omega0 * r[3] / t;
    keep_before = -r[2] / t;
    step_weight = 2 * omega1 * r[3] / t;
  }
  const Real h = v.dt_step[i];
  const Real* y = v.state_of(i);
  const Real* k0 = v.work_of(0, i);
  const Real* gradient = v.gradient_of(i);
  Real* before_last = v.work_of(1, i);
  Real* last = v.stage_input_of(i);
  for (int e = 0; e < v.len(); ++e) {
    const Real flow = -gradient[e];  // F(g_{j−1}) = −∇f
    const Real next = keep_last * last[e] + keep_before * before_last[e] + step_weight * h * flow +
                      start_weight * y[e] + flow_weight * h * k0[e];
    before_last[e] = last[e];
    last[e] = next;
  }
  r[2] = r[3], r[3] = t;
  r[4] = r[5], r[5] = d;
  r[6] = r[7], r[7] = e2;
  v.gradient_evaluations[i] += 1;
}

}  // namespace gradflow::detail
