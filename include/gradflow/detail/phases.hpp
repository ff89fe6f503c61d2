#pragma once
#include <cmath>
#include <cstdint>

#include "gradflow/detail/chebyshev_step.hpp"
#include "gradflow/detail/ode_step.hpp"
#include "gradflow/detail/optimizer_step.hpp"

namespace gradflow::detail {

/// The per-problem phases a lockstep run issues, between batched products.
enum class lockstep_phase {
  resolve_parameters,  ///< ζ → c/m from the smallest curvature; optimisers' default steps
  ode_rhs,             ///< K_stage = F(t + c_stage·h, ·)
  ode_probe_rhs,       ///< K_1 = F(h0, probe point) for the first-step heuristic
  ode_start,
  ode_refine_initial_step,
  ode_stage_input,
  implicit_stage_input,  ///< Y = y + (I/h + G)⁻¹K_0 with the factor of G + I/h
  chebyshev_setup,       ///< rkcd, rkc: L, s and h per problem
  chebyshev_first_stage,
  chebyshev_stage,
  ode_finish,
  optimizer_start,
  optimizer_prepare,
  optimizer_update,
  direct_solve,
  final_gradient,  ///< ‖∇f‖ at the returned U, for every problem, and the final test
};

/// Heavy ball with ζ: c/m = 2ζ√(μ_min/m), μ_min by inverse iteration with the Cholesky factor
/// (the gradient slot is scratch). Optimisers without a learning rate get 1/‖H‖_∞ (gd, momentum,
/// nag), 1e-2 (adam) or FIRE's dt0 = 0.2/√‖H‖_∞ (so that dt_max = 10·dt0 stays near the
/// semi-implicit Euler stability limit 2/√L).
template <class Real>
GRADFLOW_HD void resolve_parameters(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                    std::int64_t i) {
  if (!v.running(i)) return;
  Real* own = v.parameters + i * parameter_count;
  if (s.dynamics == dynamics::heavy_ball && !std::isnan(own[zeta])) {
    const Real mu_min =
        smallest_curvature(v.curvature_of(i), v.factor_of(i), v.unknowns, v.gradient_of(i));
    own[damping] = 2 * own[zeta] * std::sqrt(mu_min * own[inverse_mass]);
  }
  if (s.rate == default_rate::none || !std::isnan(own[step])) return;
  const Real bound = curvature_bound(v.curvature_of(i), v.unknowns);
  switch (s.rate) {
    case default_rate::adam:
      own[step] = Real(1e-2);
      break;
    case default_rate::fire:
      own[step] = Real(0.2) / std::sqrt(bound);
      break;
    case default_rate::inverse_curvature:
    case default_rate::none:
      own[step] = Real(1) / bound;
      break;
  }
}

template <class Real>
GRADFLOW_HD void run_phase(const lockstep_view<Real>& v, const step_settings<Real>& s,
                           lockstep_phase phase, int stage, std::int64_t i) {
  switch (phase) {
    case lockstep_phase::resolve_parameters:
      resolve_parameters(v, s, i);
      break;
    case lockstep_phase::ode_rhs:
      evaluate_dynamics(v, s, stage, v.time[i] + s.scheme.c[stage] * v.dt_step[i], i);
      break;
    case lockstep_phase::ode_probe_rhs:
      evaluate_dynamics(v, s, 1, v.time[i] + v.dt[i], i);
      break;
    case lockstep_phase::ode_start:
      start_integration(v, s, i);
      break;
    case lockstep_phase::ode_refine_initial_step:
      refine_initial_step(v, s, i);
      break;
    case lockstep_phase::ode_stage_input:
      form_stage_input(v, s, stage, i);
      break;
    case lockstep_phase::implicit_stage_input:
      form_implicit_stage_input(v, i);
      break;
    case lockstep_phase::chebyshev_setup:
      setup_chebyshev(v, s, i);
      break;
    case lockstep_phase::chebyshev_first_stage:
      chebyshev_first_stage(v, s, i);
      break;
    case lockstep_phase::chebyshev_stage:
      chebyshev_stage(v, s, stage, i);
      break;
    case lockstep_phase::ode_finish:
      finish_step(v, s, i);
      break;
    case lockstep_phase::optimizer_start:
      start_optimizer(v, s, i);
      break;
    case lockstep_phase::optimizer_prepare:
      prepare_operand(v, s, i);
      break;
    case lockstep_phase::optimizer_update:
      update_optimizer(v, s, i);
      break;
    case lockstep_phase::direct_solve:
      direct_solve(v, i);
      break;
    case lockstep_phase::final_gradient:
      judge_answer(v, i);
      break;
  }
}

}  // namespace gradflow::detail
