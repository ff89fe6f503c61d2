#pragma once
#include <cstdint>
#include <optional>
#include <type_traits>

#include "gradflow/detail/phases.hpp"
#include "gradflow/fused_kernels.hpp"

namespace gradflow::detail {

/// The order of a run's phases and evaluations, written once for both execution paths and every
/// model. An Executor provides: factorize(factor_shift) (the model prepares H, then its Cholesky
/// factor), evaluate(operand) (the model's ∇f there into the gradient slot), curvature_product
/// (operand) (the model's H·X, cg), phase(lockstep_phase, stage), keep_going(iteration) (false
/// once nothing it advances still runs), after_step(iteration), end_iterations() (before the final
/// evaluation, which covers every problem again), stage_limit() (rkcd, rkc: the most stages any
/// problem it advances takes).
/// lockstep: the executor applies each call to the whole batch (host/driver.cpp); fused: to one
/// problem, whose whole run happens in one thread (fused_executor below).
/// Integrators, per step: for each stage s ≥ 1 form Y_s, evaluate ∇f(Y_s), K_s = F(Y_s); then
/// accept/reject and control. Optimisers, per iteration: [look-ahead,] [lgf_implicit: factor
/// ∇²f + I/lr at the iterate,] evaluate, update.
template <class Real, class Executor>
GRADFLOW_HD void run_sequence(Executor& x, const step_settings<Real>& s) {
  if (s.needs_factor && !s.linearly_implicit)
    x.factorize(s.factor_at_start ? factor_shift::none : factor_shift::curvature_only);
  x.phase(lockstep_phase::resolve_parameters, 0);
  if (s.integrates()) {
    x.evaluate(operand::state);
    x.phase(lockstep_phase::ode_rhs, 0);
    x.phase(lockstep_phase::ode_start, 0);
    if (s.adaptive) {
      x.evaluate(operand::stage_input);
      x.phase(lockstep_phase::ode_probe_rhs, 0);
      x.phase(lockstep_phase::ode_refine_initial_step, 0);
    }
    int stage_limit = 0;
    if (s.chebyshev) {
      x.phase(lockstep_phase::chebyshev_setup, 0);
      stage_limit = x.stage_limit();
    }
    // Every running problem attempts one step per iteration and stops itself at max_steps.
    for (std::int64_t iteration = 0; iteration < s.max_steps && x.keep_going(iteration);
         ++iteration) {
      if (s.chebyshev) {
        x.phase(lockstep_phase::chebyshev_first_stage, 1);
        for (int stage = 2; stage <= stage_limit; ++stage) {
          x.evaluate(operand::stage_input);
          x.phase(lockstep_phase::chebyshev_stage, stage);
        }
        x.evaluate(operand::stage_input);
        x.phase(lockstep_phase::ode_rhs, 1);  // F at the step's result, as the Euler tableau's
      }
      for (int stage = 1; !s.chebyshev && stage < s.scheme.stage_count; ++stage) {
        if (s.linearly_implicit) {
          x.factorize(factor_shift::inverse_step);
          x.phase(lockstep_phase::implicit_stage_input, stage);
        } else {
          x.phase(lockstep_phase::ode_stage_input, stage);
        }
        x.evaluate(operand::stage_input);
        x.phase(lockstep_phase::ode_rhs, stage);
      }
      x.phase(lockstep_phase::ode_finish, 0);
      x.after_step(iteration);
    }
  } else if (s.kind == method_kind::direct) {
    x.evaluate(operand::state);  // ‖∇f(u0)‖, which a relative gradient test measures against
    x.phase(lockstep_phase::direct_solve, 0);
  } else {
    const bool by_curvature = s.evaluates_at == evaluation_point::search_direction;
    if (s.starts_from_gradient()) x.evaluate(operand::state);
    x.phase(lockstep_phase::optimizer_start, 0);
    const operand source = s.optimizer_operand();
    for (std::int64_t iteration = 0; iteration < s.max_steps && x.keep_going(iteration);
         ++iteration) {
      if (source == operand::stage_input) x.phase(lockstep_phase::optimizer_prepare, 0);
      if (s.method == method::lgf_implicit) x.factorize(factor_shift::inverse_step);
      if (by_curvature)
        x.curvature_product(source);
      else
        x.evaluate(source);
      x.phase(is_learned_flow(s.method) ? lockstep_phase::learned_flow_update
                                        : lockstep_phase::optimizer_update,
              0);
      x.after_step(iteration);
    }
  }
  x.end_iterations();
  x.evaluate(operand::state);
  x.phase(lockstep_phase::final_gradient, 0);
}

/// The methods one compiled fused run serves. A GPU kernel holds the registers and the local
/// memory of every phase its code can reach, whether a problem runs that phase or not, and the
/// driver reserves a kernel's local memory for every thread the device can hold at once: learned
/// flow's surrogate fit alone takes 52 KB a thread in f64 (an H200: 14 GB). So each fused kernel
/// is compiled for one scope, and serves only the phases the sequence issues for its methods. The
/// Cholesky factorisation, inlined where a scope factors, took the seed's resident fused kernel
/// (explicit Runge–Kutta on gradient flow, which factors nothing) from 96 to 168 registers a thread
/// at sm_90 (README, "Design"): the explicit tableaus have a scope without it.
enum class method_scope {
  explicit_runge_kutta,  ///< explicit Runge–Kutta tableaus on dynamics and steps that factor
                         ///< nothing: gradient flow, the heavy ball with its damping given,
                         ///< Nesterov
  factored_runge_kutta,  ///< explicit Runge–Kutta tableaus, any dynamics and step control (Newton
                         ///< flow and ζ factor ∇²f at the start)
  all_but_learned_flow,  ///< optimisers, direct, linearly implicit, Chebyshev and the above
  all,                   ///< lgf, lgf_adam, lgf_implicit and the above
};

/// The bit of `scope`'s kernel in a set of gradflow::fused_kernels.
constexpr unsigned kernel_bit(method_scope scope) { return 1u << int(scope); }

static_assert(fused_kernels::integrators == kernel_bit(method_scope::explicit_runge_kutta) &&
                  fused_kernels::factoring_integrators ==
                      kernel_bit(method_scope::factored_runge_kutta) &&
                  fused_kernels::optimizers == kernel_bit(method_scope::all_but_learned_flow) &&
                  fused_kernels::learned_flows == kernel_bit(method_scope::all),
              "fused_kernels' bits are the method scopes'");

/// The narrowest scope of the set `compiled` (gradflow/fused_kernels.hpp) that holds the methods
/// of `needed` (each scope holds those of the scopes before it), or none.
constexpr std::optional<method_scope> covering_scope(method_scope needed, unsigned compiled) {
  for (int scope = int(needed); scope <= int(method_scope::all); ++scope)
    if (compiled & kernel_bit(method_scope(scope))) return method_scope(scope);
  return std::nullopt;
}

/// The narrowest scope that serves the methods `s` runs.
template <class Real>
GRADFLOW_HD method_scope scope_of(const step_settings<Real>& s) {
  if (s.integrates() && !s.linearly_implicit && !s.chebyshev)
    return s.needs_factor ? method_scope::factored_runge_kutta : method_scope::explicit_runge_kutta;
  return is_learned_flow(s.method) ? method_scope::all : method_scope::all_but_learned_flow;
}

/// Whether a run compiled for `scope` holds `phase`'s code.
constexpr bool serves(method_scope scope, lockstep_phase phase) {
  using p = lockstep_phase;
  switch (scope) {
    case method_scope::explicit_runge_kutta:
    case method_scope::factored_runge_kutta:
      return phase == p::resolve_parameters || phase == p::ode_rhs || phase == p::ode_probe_rhs ||
             phase == p::ode_start || phase == p::ode_refine_initial_step ||
             phase == p::ode_stage_input || phase == p::ode_finish || phase == p::final_gradient;
    case method_scope::all_but_learned_flow:
      return phase != p::learned_flow_update;
    case method_scope::all:
      break;
  }
  return true;
}

/// Whether a run compiled for `scope` holds the factorisation (the model's prepare_curvature and
/// factor_problem), which the sequence issues where the settings' needs_factor says so.
constexpr bool factors(method_scope scope) { return scope != method_scope::explicit_runge_kutta; }

/// Calls run(std::integral_constant<method_scope, scope>{}) for the scope known at run time.
template <class Run>
decltype(auto) with_method_scope(method_scope scope, Run&& run) {
  switch (scope) {
    case method_scope::explicit_runge_kutta:
      return run(std::integral_constant<method_scope, method_scope::explicit_runge_kutta>{});
    case method_scope::factored_runge_kutta:
      return run(std::integral_constant<method_scope, method_scope::factored_runge_kutta>{});
    case method_scope::all_but_learned_flow:
      return run(std::integral_constant<method_scope, method_scope::all_but_learned_flow>{});
    case method_scope::all:
      break;
  }
  return run(std::integral_constant<method_scope, method_scope::all>{});
}

/// Runs one problem's whole sequence in the calling thread (the fused path): evaluations by the
/// model's per-problem `Evaluator` (gradflow/model.hpp), phases by run_phase, no synchronisation
/// with any other problem. Compiled for the phases of `Scope` only, and for its factorisation
/// where it factors (scope_of the settings: the sequence issues no other).
template <class Real, class Evaluator, method_scope Scope>
struct fused_executor {
  lockstep_view<Real> view;
  const step_settings<Real>& settings;
  std::int64_t problem;
  Evaluator evaluator;
  std::int64_t evaluations = 0;  ///< model evaluations (gradients and curvature products)

  GRADFLOW_HD void factorize(factor_shift shift) {
    if constexpr (factors(Scope)) {
      prepare_curvature_once_per_point(evaluator, view, shift, problem);
      factor_problem(view, problem, shift);
    }
  }
  GRADFLOW_HD void evaluate(operand source) {
    ++evaluations;
    evaluator.gradient(view, source, problem);
  }
  GRADFLOW_HD void curvature_product(operand source) {
    ++evaluations;
    evaluator.curvature_product(view, source, problem);
  }
  GRADFLOW_HD void phase(lockstep_phase p, int stage) {
    visit_phase(p, [&](auto constant) {
      constexpr lockstep_phase phase = decltype(constant)::value;
      if constexpr (serves(Scope, phase)) run_phase<phase>(view, settings, stage, problem);
    });
  }
  GRADFLOW_HD bool keep_going(std::int64_t) const { return view.running(problem); }
  GRADFLOW_HD void after_step(std::int64_t) const {}
  GRADFLOW_HD void end_iterations() const {}
  GRADFLOW_HD int stage_limit() const { return int(view.parameter_of(problem, stages)); }
};

}  // namespace gradflow::detail
