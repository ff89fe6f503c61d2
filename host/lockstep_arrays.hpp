#pragma once
#include <cstdint>
#include <vector>

#include "gradflow/detail/lockstep_state.hpp"

namespace gradflow {

/// (Re)sizes a host array; the device overload lives beside device_buffer.
template <class T>
void resize_array(std::vector<T>& array, std::size_t count, const char* /*purpose*/) {
  array.assign(count, T{});
}

/// The arrays behind a lockstep_view, owned by a backend in its kind of memory (`Array` is
/// std::vector on the CPU, device_buffer on the GPU). Sized once per solve.
template <template <class> class Array, class Real>
struct lockstep_arrays {
  Array<Real> gram, cross, solution, stage_input, stages;
  Array<std::int32_t> outcome;
  Array<Real> time, dt, dt_step, error_previous, gradient_norm, gradient_norm_initial;
  Array<std::int64_t> accepted, rejected, gradient_evaluations;

  void size_for(std::int64_t count, int unknowns, int rhs_count, int stage_count) {
    const std::int64_t len = std::int64_t(unknowns) * rhs_count;
    resize_array(gram, count * unknowns * unknowns, "G = AᵀA + λI");
    resize_array(cross, count * len, "C = AᵀB");
    resize_array(solution, count * len, "U");
    resize_array(stage_input, count * len, "the stage input");
    resize_array(stages, count * len * stage_count, "the Runge–Kutta stages");
    resize_array(outcome, count, "status");
    for (auto* per_problem :
         {&time, &dt, &dt_step, &error_previous, &gradient_norm, &gradient_norm_initial})
      resize_array(*per_problem, count, "per-problem step control");
    for (auto* counter : {&accepted, &rejected, &gradient_evaluations})
      resize_array(*counter, count, "per-problem counters");
  }

  detail::lockstep_view<Real> view(std::int64_t count, int unknowns, int rhs_count) {
    detail::lockstep_view<Real> v;
    v.batch_size = count;
    v.unknowns = unknowns;
    v.rhs_count = rhs_count;
    v.gram = gram.data();
    v.cross = cross.data();
    v.solution = solution.data();
    v.stage_input = stage_input.data();
    v.stages = stages.data();
    v.outcome = outcome.data();
    v.time = time.data();
    v.dt = dt.data();
    v.dt_step = dt_step.data();
    v.error_previous = error_previous.data();
    v.gradient_norm = gradient_norm.data();
    v.gradient_norm_initial = gradient_norm_initial.data();
    v.accepted = accepted.data();
    v.rejected = rejected.data();
    v.gradient_evaluations = gradient_evaluations.data();
    return v;
  }
};

template <class T>
using host_array = std::vector<T>;

}  // namespace gradflow
