#pragma once
#include <cstdint>
#include <vector>

#include "gradflow/detail/lockstep_state.hpp"
#include "gradflow/result.hpp"

namespace gradflow {

/// (Re)sizes a host array to `count` zeros; the device overload lives beside device_buffer.
template <class T>
void resize_array(std::vector<T>& array, std::size_t count, const char* /*purpose*/) {
  array.assign(count, T{});
}

/// The shape of a run's per-problem storage.
struct lockstep_layout {
  int state_factor = 1;     ///< d: 2 for second-order dynamics
  int work_count = 0;       ///< Runge–Kutta stages, or the optimiser's work vectors
  bool stage_input = true;  ///< Y, where a stage is evaluated (a run in lanes keeps its own)
  bool needs_factor = false;
  bool curvature_product = false;  ///< cg: H·p per problem
  bool values = false;             ///< the model evaluates f at each operand
  bool compaction = false;         ///< size the active lists and pointer arrays of compaction
  bool chebyshev = false;          ///< size the Chebyshev recurrences (rkcd, rkc)
};

/// The engine's arrays behind a lockstep_view, in its kind of memory (`Array` is std::vector on the
/// CPU, device_buffer on the GPU). Sized, and zeroed, once per solve. A model's own data (its
/// curvature, its linear term) live in the model.
template <template <class> class Array, class Real>
struct lockstep_arrays {
  Array<Real> gradient, value, curvature_product, factor, parameters, state, stage_input, work;
  Array<std::int32_t> outcome;
  Array<Real> time, dt, dt_step, pi_error_memory, accepted_value, fire_mixing, residual_norm_sq,
      trial_gradient_norm, gradient_norm, gradient_norm_initial;
  Array<std::int64_t> accepted, rejected, gradient_evaluations, surrogate_evaluations,
      downhill_steps, window_position, jump_steps;
  Array<Real> window_largest_gradient_norm, stall_reference;
  Array<std::int64_t> stall_window_start;
  Array<Real> recurrence;

  void size_for(std::int64_t count, int unknowns, int rhs_count, const lockstep_layout& layout) {
    const std::int64_t len = std::int64_t(unknowns) * rhs_count;
    const std::int64_t state_len = layout.state_factor * len;
    resize_array(gradient, count * len, "the gradients");
    resize_array(value, layout.values ? count : 0, "the values of f");
    resize_array(curvature_product, layout.curvature_product ? count * len : 0,
                 "the curvature products");
    resize_array(factor, layout.needs_factor ? count * unknowns * unknowns : 0, "Cholesky factors");
    resize_array(parameters, count * detail::parameter_count, "hyperparameters");
    resize_array(state, count * state_len, "the state");
    resize_array(stage_input, layout.stage_input ? count * state_len : 0, "the stage input");
    resize_array(work, count * state_len * layout.work_count, "the stages / work vectors");
    resize_array(outcome, count, "status");
    for (auto* per_problem :
         {&time, &dt, &dt_step, &pi_error_memory, &accepted_value, &fire_mixing, &residual_norm_sq,
          &trial_gradient_norm, &gradient_norm, &gradient_norm_initial,
          &window_largest_gradient_norm, &stall_reference})
      resize_array(*per_problem, count, "per-problem step control");
    for (auto* counter : {&accepted, &rejected, &gradient_evaluations, &surrogate_evaluations,
                          &downhill_steps, &window_position, &jump_steps, &stall_window_start})
      resize_array(*counter, count, "per-problem counters");
    resize_array(recurrence, layout.chebyshev ? count * 8 : 0, "Chebyshev recurrences");
  }

  detail::lockstep_view<Real> view(std::int64_t count, int unknowns, int rhs_count,
                                   int state_factor) {
    detail::lockstep_view<Real> v;
    v.batch_size = count;
    v.unknowns = unknowns;
    v.rhs_count = rhs_count;
    v.state_factor = state_factor;
    v.gradient = gradient.data();
    v.value = value.data();
    v.curvature_product = curvature_product.data();
    v.factor = factor.data();
    v.parameters = parameters.data();
    v.state = state.data();
    v.stage_input = stage_input.data();
    v.work = work.data();
    v.outcome = outcome.data();
    v.time = time.data();
    v.dt = dt.data();
    v.dt_step = dt_step.data();
    v.pi_error_memory = pi_error_memory.data();
    v.accepted_value = accepted_value.data();
    v.fire_mixing = fire_mixing.data();
    v.residual_norm_sq = residual_norm_sq.data();
    v.trial_gradient_norm = trial_gradient_norm.data();
    v.gradient_norm = gradient_norm.data();
    v.gradient_norm_initial = gradient_norm_initial.data();
    v.accepted = accepted.data();
    v.rejected = rejected.data();
    v.gradient_evaluations = gradient_evaluations.data();
    v.surrogate_evaluations = surrogate_evaluations.data();
    v.downhill_steps = downhill_steps.data();
    v.window_position = window_position.data();
    v.jump_steps = jump_steps.data();
    v.window_largest_gradient_norm = window_largest_gradient_norm.data();
    v.stall_reference = stall_reference.data();
    v.stall_window_start = stall_window_start.data();
    v.recurrence = recurrence.data();
    return v;
  }
};

template <class T>
using host_array = std::vector<T>;

/// The per-problem fields every result reports (status, ‖∇f‖, t, step and evaluation counts), from
/// host arrays.
template <class Real>
void copy_per_problem_fields(const lockstep_arrays<host_array, Real>& arrays,
                             solve_result<Real>& result) {
  result.outcome.resize(arrays.outcome.size());
  for (std::size_t i = 0; i < arrays.outcome.size(); ++i)
    result.outcome[i] = static_cast<status>(arrays.outcome[i]);
  result.gradient_norm = arrays.gradient_norm;
  result.time = arrays.time;
  result.accepted_steps = arrays.accepted;
  result.rejected_steps = arrays.rejected;
  result.gradient_evaluations = arrays.gradient_evaluations;
  result.surrogate_evaluations = arrays.surrogate_evaluations;
}

}  // namespace gradflow
