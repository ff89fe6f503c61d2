#pragma once
// Sweeps over batches of objectives: the grid of gradflow/sweep.hpp over a set of objectives, with
// the start point as the problem axes (x0_scale, x0_offset).
#include <cmath>
#include <cstdint>

#include "gradflow/objective.hpp"
#include "gradflow/sweep.hpp"

namespace gradflow {

// As solve_objectives: an nvcc build and a host build are different functions (objective.hpp).
#if defined(__CUDACC__)
inline namespace with_gpu_path {
#else
inline namespace without_gpu_path {
#endif

/// Solves the sweep's members [first, first + count) over `problems` (count −1: to the end), one
/// batch per method met, as run_sweep does for least squares: members are ordered method, problem,
/// then the grid with the last axis fastest, and a member's row does not depend on the range it
/// was run in. A member starts at x0_scale · its problem's start (0 when `problems.initial` is
/// empty) + x0_offset in every coordinate; both default to the unswept 1 and 0.
template <class Real, class Objective>
sweep_result sweep_objectives(const objective_batch<Objective, Real>& problems,
                              const sweep_spec& spec, std::int64_t first, std::int64_t count,
                              solver_context& context) {
  detail::validate_objectives(problems);
  const int n = problems.unknowns;
  int scale_axis = -1, offset_axis = -1;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    if (spec.axes[a].name == objective_axes[0]) scale_axis = int(a);
    if (spec.axes[a].name == objective_axes[1]) offset_axis = int(a);
  }
  return detail::run_sweep_members(
      spec, problems.batch_size(), objective_axes, first, count, [&](const sweep_grid& grid) {
        objective_batch<Objective, Real> members;
        members.unknowns = n;
        members.problems.reserve(std::size_t(grid.size()));
        members.initial.resize(std::size_t(grid.size()) * n);
        for (std::int64_t j = 0; j < grid.size(); ++j) {
          const std::int64_t p = grid.problem_of[j];
          members.problems.push_back(problems.problems[p]);
          const auto& values = grid.axis_values_of[j];
          const double scale = scale_axis < 0 ? 1.0 : values[scale_axis];
          const double offset = offset_axis < 0 ? 0.0 : values[offset_axis];
          for (int e = 0; e < n; ++e) {
            const double start =
                problems.initial.empty() ? 0.0 : double(problems.initial[p * n + e]);
            members.initial[j * n + e] = Real(scale * start + offset);
          }
        }
        return solve_objectives(members, grid.options, context);
      });
}

}  // inline namespace
}  // namespace gradflow
