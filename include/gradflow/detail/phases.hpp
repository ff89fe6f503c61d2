#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "gradflow/detail/chebyshev_step.hpp"
#include "gradflow/detail/learned_flow.hpp"
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
  learned_flow_update,  ///< lgf, lgf_adam, lgf_implicit: their own phase, so that no other
                        ///< method's compiled code holds the surrogate fit's arrays
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

/// One phase's per-problem work, the phase known at compile time: a kernel or an executor built
/// for one phase, or for a few, holds the code (and on a GPU the registers and local memory) of
/// those alone.
template <lockstep_phase Phase, class Real>
GRADFLOW_HD void run_phase(const lockstep_view<Real>& v, const step_settings<Real>& s, int stage,
                           std::int64_t i) {
  using p = lockstep_phase;
  if constexpr (Phase == p::resolve_parameters) resolve_parameters(v, s, i);
  if constexpr (Phase == p::ode_rhs)
    evaluate_dynamics(v, s, stage, v.time[i] + s.scheme.c[stage] * v.dt_step[i], i);
  if constexpr (Phase == p::ode_probe_rhs) evaluate_dynamics(v, s, 1, v.time[i] + v.dt[i], i);
  if constexpr (Phase == p::ode_start) start_integration(v, s, i);
  if constexpr (Phase == p::ode_refine_initial_step) refine_initial_step(v, s, i);
  if constexpr (Phase == p::ode_stage_input) form_stage_input(v, s, stage, i);
  if constexpr (Phase == p::implicit_stage_input) form_implicit_stage_input(v, i);
  if constexpr (Phase == p::chebyshev_setup) setup_chebyshev(v, s, i);
  if constexpr (Phase == p::chebyshev_first_stage) chebyshev_first_stage(v, s, i);
  if constexpr (Phase == p::chebyshev_stage) chebyshev_stage(v, s, stage, i);
  if constexpr (Phase == p::ode_finish) finish_step(v, s, i);
  if constexpr (Phase == p::optimizer_start) start_optimizer(v, s, i);
  if constexpr (Phase == p::optimizer_prepare) prepare_operand(v, s, i);
  if constexpr (Phase == p::optimizer_update) update_optimizer(v, s, i);
  if constexpr (Phase == p::learned_flow_update)
    if (v.running(i)) learned_flow_step(v, s, i);
  if constexpr (Phase == p::direct_solve) direct_solve(v, i);
  if constexpr (Phase == p::final_gradient) judge_answer(v, i);
}

template <lockstep_phase Phase>
using phase_constant = std::integral_constant<lockstep_phase, Phase>;

/// Calls visit(phase_constant<p>{}) for the phase p known at run time: the one switch from a
/// run-time phase to a compile-time one (the CPU's lockstep phases, the GPU's phase kernels, a
/// fused run's executor).
#ifdef __CUDACC__
#pragma nv_exec_check_disable  // instantiated from host code with a host visitor, too
#endif
template <class Visitor>
GRADFLOW_HD void visit_phase(lockstep_phase phase, Visitor&& visit) {
  using p = lockstep_phase;
  switch (phase) {
    case p::resolve_parameters:
      return visit(phase_constant<p::resolve_parameters>{});
    case p::ode_rhs:
      return visit(phase_constant<p::ode_rhs>{});
    case p::ode_probe_rhs:
      return visit(phase_constant<p::ode_probe_rhs>{});
    case p::ode_start:
      return visit(phase_constant<p::ode_start>{});
    case p::ode_refine_initial_step:
      return visit(phase_constant<p::ode_refine_initial_step>{});
    case p::ode_stage_input:
      return visit(phase_constant<p::ode_stage_input>{});
    case p::implicit_stage_input:
      return visit(phase_constant<p::implicit_stage_input>{});
    case p::chebyshev_setup:
      return visit(phase_constant<p::chebyshev_setup>{});
    case p::chebyshev_first_stage:
      return visit(phase_constant<p::chebyshev_first_stage>{});
    case p::chebyshev_stage:
      return visit(phase_constant<p::chebyshev_stage>{});
    case p::ode_finish:
      return visit(phase_constant<p::ode_finish>{});
    case p::optimizer_start:
      return visit(phase_constant<p::optimizer_start>{});
    case p::optimizer_prepare:
      return visit(phase_constant<p::optimizer_prepare>{});
    case p::optimizer_update:
      return visit(phase_constant<p::optimizer_update>{});
    case p::learned_flow_update:
      return visit(phase_constant<p::learned_flow_update>{});
    case p::direct_solve:
      return visit(phase_constant<p::direct_solve>{});
    case p::final_gradient:
      return visit(phase_constant<p::final_gradient>{});
  }
}

/// run_phase for a phase known at run time.
template <class Real>
GRADFLOW_HD void run_phase(const lockstep_view<Real>& v, const step_settings<Real>& s,
                           lockstep_phase phase, int stage, std::int64_t i) {
  visit_phase(phase, [&](auto constant) { run_phase<decltype(constant)::value>(v, s, stage, i); });
}

}  // namespace gradflow::detail
