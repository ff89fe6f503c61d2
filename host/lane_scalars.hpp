#pragma once
// The step-control scalars of the W problems in a lane block, one array of W per field, seen as a
// lockstep_view of W problems: the lanes run the per-problem step control (detail/ode_step.hpp,
// detail/optimizer_step.hpp) on it for every lane at once, and the compiler vectorises it across
// the lanes.
#include <cstdint>
#include <iterator>

#include "gradflow/detail/lockstep_state.hpp"

namespace gradflow::detail {

template <class Real, int W>
class lane_scalars {
public:
  /// A view of the lanes as problems 0 … W − 1: the step-control arrays only (the vectors, the
  /// parameter table and the arrays of other methods stay null).
  lockstep_view<Real> view() {
    lockstep_view<Real> lanes;
    lanes.batch_size = W;
    for (std::size_t f = 0; f < std::size(real_fields); ++f) lanes.*real_fields[f] = reals_[f];
    for (std::size_t f = 0; f < std::size(count_fields); ++f) lanes.*count_fields[f] = counts_[f];
    lanes.outcome = outcome_;
    return lanes;
  }

  /// Lane w takes problem i's scalars from `v`.
  void load(const lockstep_view<Real>& v, std::int64_t i, int w) {
    each_field(v, i, w, [](auto& lane, auto& problem) { lane = problem; });
  }

  /// Problem i in `v` takes lane w's scalars.
  void store(const lockstep_view<Real>& v, std::int64_t i, int w) {
    each_field(v, i, w, [](auto& lane, auto& problem) { problem = lane; });
  }

private:
  /// `copy(lane w's value, problem i's value)` for every field.
  template <class Copy>
  void each_field(const lockstep_view<Real>& v, std::int64_t i, int w, Copy copy) {
    for (std::size_t f = 0; f < std::size(real_fields); ++f)
      copy(reals_[f][w], (v.*real_fields[f])[i]);
    for (std::size_t f = 0; f < std::size(count_fields); ++f)
      copy(counts_[f][w], (v.*count_fields[f])[i]);
    copy(outcome_[w], v.outcome[i]);
  }

  // What an explicit Runge–Kutta step with PI or fixed control, or an iteration of gd, momentum,
  // nag, adam, FIRE or cg, reads and writes.
  static constexpr Real* lockstep_view<Real>::*real_fields[] = {
      &lockstep_view<Real>::time,
      &lockstep_view<Real>::dt,
      &lockstep_view<Real>::dt_step,
      &lockstep_view<Real>::pi_error_memory,
      &lockstep_view<Real>::trial_gradient_norm,
      &lockstep_view<Real>::gradient_norm,
      &lockstep_view<Real>::gradient_norm_initial,
      &lockstep_view<Real>::window_largest_gradient_norm,
      &lockstep_view<Real>::stall_reference,
      &lockstep_view<Real>::fire_mixing,
      &lockstep_view<Real>::residual_norm_sq};
  static constexpr std::int64_t* lockstep_view<Real>::*count_fields[] = {
      &lockstep_view<Real>::accepted, &lockstep_view<Real>::rejected,
      &lockstep_view<Real>::gradient_evaluations, &lockstep_view<Real>::stall_window_start,
      &lockstep_view<Real>::downhill_steps};

  // Zero before a lane's first problem: an idle lane's step control computes on these harmlessly.
  // Each field's lanes start on a cache line, so that no vector access of them straddles two.
  alignas(64) Real reals_[std::size(real_fields)][W] = {};
  alignas(64) std::int64_t counts_[std::size(count_fields)][W] = {};
  std::int32_t outcome_[W] = {};
};

}  // namespace gradflow::detail
