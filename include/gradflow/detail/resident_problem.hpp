#pragma once
// One problem of a batch held in the running thread's own arrays for a whole fused run. On the GPU
// those arrays live in registers or in local memory, which CUDA interleaves across a warp's threads
// word by word (CUDA C++ Programming Guide, "Device Memory Accesses: Local Memory"): when the
// warp's threads touch element e of their problems at once, the access is coalesced, where the
// batch's problem-major arrays put the 32 threads' element e a whole problem apart. The problem's
// data cross that layout twice per solve (in, and its result out) instead of at every stage.
#include <cstdint>

#include "gradflow/detail/lockstep_state.hpp"

namespace gradflow::detail {

/// The largest problem a resident_problem holds (the fused kernels of least squares and
/// objectives).
struct resident_capacity {
  static constexpr int state = 32;     ///< d·n·k: the seed problem's 10, 20 with a velocity
  static constexpr int square = 64;    ///< n²: G and its Cholesky factor, n ≤ 8
  static constexpr int work = 7 * 32;  ///< work vectors · d·n·k: seven Runge–Kutta stages
};

/// A copy of problem i of a batch and a one-problem view (problem 0) of it, run by the evaluator's
/// resident_at(i): what it reads through the view comes from the copy (least squares' G and C),
/// what it reads elsewhere stays problem i's (an objective's functor). Scratch (the gradient, the
/// stage input, the work vectors, the factor) starts at zero, as the engine's allocate leaves it;
/// store() returns what a result reads: the state and the per-problem fields of
/// copy_per_problem_fields.
template <class Real>
class resident_problem {
public:
  GRADFLOW_HD static bool fits(const lockstep_view<Real>& batch, int work_count) {
    const int unknowns = batch.unknowns;
    return batch.state_len() <= resident_capacity::state &&
           unknowns * unknowns <= resident_capacity::square &&
           work_count * batch.state_len() <= resident_capacity::work;
  }

  /// Copies problem i of `batch` in; the returned view's problem 0 is this copy (it points into
  /// this object, which must stay where it is).
  GRADFLOW_HD lockstep_view<Real> load(const lockstep_view<Real>& batch, std::int64_t i,
                                       int work_count) {
    static_assert(
        sizeof(lockstep_view<Real>) == sizeof(std::int64_t) + 4 * sizeof(int) + 33 * sizeof(void*),
        "a field added to lockstep_view needs its place in resident_problem");
    const int len = batch.len(), state_len = batch.state_len();
    const int square = batch.unknowns * batch.unknowns;
    lockstep_view<Real> v = batch;
    v.batch_size = 1;
    v.state = copy_in(batch.state_of(i), state_len, state_);
    v.parameters = copy_in(batch.parameters + i * parameter_count, parameter_count, parameters_);
    v.curvature = batch.curvature ? copy_in(batch.curvature_of(i), square, curvature_) : nullptr;
    v.linear_term =
        batch.linear_term ? copy_in(batch.linear_term_of(i), len, linear_term_) : nullptr;
    v.gradient = zeroed(len, gradient_);
    v.stage_input = zeroed(state_len, stage_input_);
    v.work = zeroed(work_count * state_len, work_);
    v.factor = batch.factor ? zeroed(square, factor_) : nullptr;
    v.curvature_product = batch.curvature_product ? zeroed(len, curvature_product_) : nullptr;
    v.recurrence = batch.recurrence ? zeroed(8, recurrence_) : nullptr;
    v.value = hold(batch.value, i, value_);
    v.outcome = hold(batch.outcome, i, outcome_);
    v.time = hold(batch.time, i, time_);
    v.dt = hold(batch.dt, i, dt_);
    v.dt_step = hold(batch.dt_step, i, dt_step_);
    v.pi_error_memory = hold(batch.pi_error_memory, i, pi_error_memory_);
    v.accepted_value = hold(batch.accepted_value, i, accepted_value_);
    v.fire_mixing = hold(batch.fire_mixing, i, fire_mixing_);
    v.residual_norm_sq = hold(batch.residual_norm_sq, i, residual_norm_sq_);
    v.trial_gradient_norm = hold(batch.trial_gradient_norm, i, trial_gradient_norm_);
    v.gradient_norm = hold(batch.gradient_norm, i, gradient_norm_);
    v.gradient_norm_initial = hold(batch.gradient_norm_initial, i, gradient_norm_initial_);
    v.window_largest_gradient_norm =
        hold(batch.window_largest_gradient_norm, i, window_largest_gradient_norm_);
    v.stall_reference = hold(batch.stall_reference, i, stall_reference_);
    v.accepted = hold(batch.accepted, i, accepted_);
    v.rejected = hold(batch.rejected, i, rejected_);
    v.gradient_evaluations = hold(batch.gradient_evaluations, i, gradient_evaluations_);
    v.surrogate_evaluations = hold(batch.surrogate_evaluations, i, surrogate_evaluations_);
    v.downhill_steps = hold(batch.downhill_steps, i, downhill_steps_);
    v.window_position = hold(batch.window_position, i, window_position_);
    v.jump_steps = hold(batch.jump_steps, i, jump_steps_);
    v.stall_window_start = hold(batch.stall_window_start, i, stall_window_start_);
    v.curvature_formed_at = hold(batch.curvature_formed_at, i, curvature_formed_at_);
    return v;
  }

  /// The state and the result's per-problem fields back into problem i of `batch`.
  GRADFLOW_HD void store(const lockstep_view<Real>& batch, std::int64_t i) const {
    Real* state = batch.state_of(i);
    for (int e = 0; e < batch.state_len(); ++e) state[e] = state_[e];
    batch.outcome[i] = outcome_;
    batch.gradient_norm[i] = gradient_norm_;
    batch.time[i] = time_;
    batch.accepted[i] = accepted_;
    batch.rejected[i] = rejected_;
    batch.gradient_evaluations[i] = gradient_evaluations_;
    batch.surrogate_evaluations[i] = surrogate_evaluations_;
  }

private:
  template <class T>
  GRADFLOW_HD static T* copy_in(const T* from, int count, T* to) {
    for (int e = 0; e < count; ++e) to[e] = from[e];
    return to;
  }
  template <class T>
  GRADFLOW_HD static T* zeroed(int count, T* to) {
    for (int e = 0; e < count; ++e) to[e] = T(0);
    return to;
  }
  /// A per-problem scalar: its value, or nullptr where the batch has no such array.
  template <class T>
  GRADFLOW_HD static T* hold(const T* from, std::int64_t i, T& own) {
    if (!from) return nullptr;
    own = from[i];
    return &own;
  }

  Real state_[resident_capacity::state];
  Real stage_input_[resident_capacity::state];
  Real gradient_[resident_capacity::state];
  Real linear_term_[resident_capacity::state];
  Real curvature_product_[resident_capacity::state];
  Real work_[resident_capacity::work];
  Real curvature_[resident_capacity::square];
  Real factor_[resident_capacity::square];
  Real parameters_[parameter_count];
  Real recurrence_[8];
  Real value_, time_, dt_, dt_step_, pi_error_memory_, accepted_value_, fire_mixing_,
      residual_norm_sq_, trial_gradient_norm_, gradient_norm_, gradient_norm_initial_,
      window_largest_gradient_norm_, stall_reference_;
  std::int32_t outcome_;
  std::int64_t accepted_, rejected_, gradient_evaluations_, surrogate_evaluations_, downhill_steps_,
      window_position_, jump_steps_, stall_window_start_, curvature_formed_at_;
};

}  // namespace gradflow::detail
