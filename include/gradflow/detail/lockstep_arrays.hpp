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
  bool keeps_curvature = false;    ///< the linearly implicit step: record where H was formed
};

/// An array's data, or nullptr where this solve sized it empty: a view's nullptr says the run has
/// no such array, and an array that a solve before sized keeps its allocation (resize_array).
template <class Array>
auto data_or_null(Array& array) -> decltype(array.data()) {
  return array.size() == 0 ? nullptr : array.data();
}

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
  Array<std::int64_t> curvature_formed_at;

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
    resize_array(curvature_formed_at, layout.keeps_curvature ? count : 0,
                 "where each curvature was formed");
  }

  detail::lockstep_view<Real> view(std::int64_t count, int unknowns, int rhs_count,
                                   int state_factor) {
    detail::lockstep_view<Real> v;
    v.batch_size = count;
    v.unknowns = unknowns;
    v.rhs_count = rhs_count;
    v.state_factor = state_factor;
    v.gradient = data_or_null(gradient);
    v.value = data_or_null(value);
    v.curvature_product = data_or_null(curvature_product);
    v.factor = data_or_null(factor);
    v.parameters = data_or_null(parameters);
    v.state = data_or_null(state);
    v.stage_input = data_or_null(stage_input);
    v.work = data_or_null(work);
    v.outcome = data_or_null(outcome);
    v.time = data_or_null(time);
    v.dt = data_or_null(dt);
    v.dt_step = data_or_null(dt_step);
    v.pi_error_memory = data_or_null(pi_error_memory);
    v.accepted_value = data_or_null(accepted_value);
    v.fire_mixing = data_or_null(fire_mixing);
    v.residual_norm_sq = data_or_null(residual_norm_sq);
    v.trial_gradient_norm = data_or_null(trial_gradient_norm);
    v.gradient_norm = data_or_null(gradient_norm);
    v.gradient_norm_initial = data_or_null(gradient_norm_initial);
    v.accepted = data_or_null(accepted);
    v.rejected = data_or_null(rejected);
    v.gradient_evaluations = data_or_null(gradient_evaluations);
    v.surrogate_evaluations = data_or_null(surrogate_evaluations);
    v.downhill_steps = data_or_null(downhill_steps);
    v.window_position = data_or_null(window_position);
    v.jump_steps = data_or_null(jump_steps);
    v.window_largest_gradient_norm = data_or_null(window_largest_gradient_norm);
    v.stall_reference = data_or_null(stall_reference);
    v.stall_window_start = data_or_null(stall_window_start);
    v.recurrence = data_or_null(recurrence);
    v.curvature_formed_at = data_or_null(curvature_formed_at);
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
