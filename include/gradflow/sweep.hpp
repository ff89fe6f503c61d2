#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gradflow/error.hpp"
#include "gradflow/least_squares.hpp"
#include "gradflow/options.hpp"
#include "gradflow/result.hpp"
#include "gradflow/solver_context.hpp"

namespace gradflow {

/// One axis of a sweep grid: a hyperparameter name and its values.
/// Names: the solver's — lr and the solve_options hyperparameters (hyperparameter_registry) — and
/// the problem family's (problem_axis_names). `lr` is the learning-rate view of the step: dt = lr
/// for first-order dynamics and the optimisers, dt = √lr for heavy ball and Nesterov ODE (discrete
/// momentum with step lr is the ODE sampled at time step √lr; Yang et al. 2018).
struct sweep_axis {
  std::string name;
  std::vector<double> values;
  bool logarithmic = false;  ///< spacing, for tables and pictures
};

/// The axes that set a member's problem rather than its solver, one pair per problem family.
using problem_axis_names = std::array<std::string_view, 2>;
/// Least squares: lambda (the ridge weight) and u0_seed (U0 uniform in [0, 1) from that seed).
inline constexpr problem_axis_names least_squares_axes = {"lambda", "u0_seed"};
/// Objectives: x0 = x0_scale · the problem's start + x0_offset in every coordinate (Moré, Garbow
/// & Hillstrom start their problems at 1, 10 and 100 times x0).
inline constexpr problem_axis_names objective_axes = {"x0_scale", "x0_offset"};

/// "lo:hi:count" or "lo:hi:count:log|lin" (inclusive ends) or "v1,v2,…". Throws invalid_argument
/// naming the axis for unknown names, malformed text, count < 1 and non-positive log ends.
sweep_axis parse_axis(std::string_view name, std::string_view text,
                      problem_axis_names problem_axes = least_squares_axes);
/// parse_axis for an axis of another command (train's seed, weight_decay, rho): no name check.
sweep_axis parse_axis_values(std::string_view name, std::string_view text);
sweep_axis linear_axis(std::string name, double first, double last, int count);
sweep_axis log_axis(std::string name, double first, double last, int count);

/// A grid of hyperparameters over a set of problems. Members are ordered method (slowest),
/// problem, then the grid with the last axis fastest; member indices are deterministic.
struct sweep_spec {
  std::vector<sweep_axis> axes;
  std::vector<gradflow::method> methods;  ///< a method axis; empty: base.method
  solve_options base;                     ///< everything not swept
};

struct sweep_row {
  std::int64_t member = 0;
  std::int64_t problem = 0;  ///< index in the problem set
  gradflow::method method = gradflow::method::tsit5;
  std::vector<double> axis_values;  ///< in the order of sweep_spec::axes
  status outcome = status::running;
  std::int64_t accepted_steps = 0;
  std::int64_t rejected_steps = 0;
  std::int64_t gradient_evaluations = 0;
  std::int64_t surrogate_evaluations = 0;
  double objective = 0;
  double gradient_norm = 0;
  double time = 0;
};

struct sweep_result {
  std::vector<sweep_axis> axes;
  std::vector<sweep_row> rows;
  std::vector<trace_point> trace;  ///< with base.trace_every > 0; `problem` is the member index
  std::vector<run_summary> runs;   ///< one per method, in order
  double wall_seconds = 0;
};

/// One method's members of a sweep before their problems are set up: each member's problem and
/// axis values, and the options with every swept solver hyperparameter per member (the problem
/// axes are the family's to apply).
struct sweep_grid {
  solve_options options;
  std::vector<std::int64_t> problem_of;             ///< per member
  std::vector<std::vector<double>> axis_values_of;  ///< per member, in the order of the axes

  std::int64_t size() const { return std::int64_t(problem_of.size()); }
};

/// Members [first, first + count) of method m's part of a sweep over `problem_count` problems
/// (count −1: to the end). Checks the spec (check_sweep) and that no base option is per member.
sweep_grid expand_grid(const sweep_spec& spec, std::int64_t problem_count,
                       problem_axis_names problem_axes, method m, std::int64_t first = 0,
                       std::int64_t count = -1);

/// One method's least-squares members: each points at its problem in the problem set (nothing
/// copied) and has its own λ, U0 and hyperparameters. Exposed so that a member can be rerun alone.
template <class Real>
struct expanded_sweep : sweep_grid {
  std::vector<Real> lambda;   ///< per member
  std::vector<Real> initial;  ///< n·k per member; empty: U0 = 0

  /// The members as a batch over `problems` (the set this was expanded from), which must outlive
  /// the view, as must this.
  least_squares_view<Real> view(const least_squares_batch<Real>& problems) const {
    least_squares_view<Real> members = view_of(problems);
    members.batch_size = size();
    members.problem_index = problem_of.data();
    members.lambda = lambda.data();
    members.lambda_stride = 1;
    members.initial = initial.empty() ? nullptr : initial.data();
    return members;
  }
};

/// Members [first, first + count) of method m's expansion (count −1: to the end).
template <class Real>
expanded_sweep<Real> expand_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                                  method m, std::int64_t first = 0, std::int64_t count = -1);

/// Solves the sweep's members [first, first + count) (global indices, methods slowest; count −1: to
/// the end), one batch per method met, and returns one row per member. A member's row does not
/// depend on the range it was run in, so chunks and shards concatenate to the whole sweep.
template <class Real>
sweep_result run_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                       std::int64_t first = 0, std::int64_t count = -1);
/// The same in `context` (one engine for every method and every chunk).
template <class Real>
sweep_result run_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                       std::int64_t first, std::int64_t count, solver_context& context);

/// Refuses, with invalid_argument naming the axis, what would make a sweep wrong: unknown, empty or
/// repeated axes, lr and dt together (one step, two names), and an axis one of the sweep's methods
/// does not read (uses_hyperparameter: its members would repeat each other).
void check_sweep(const sweep_spec& spec, problem_axis_names problem_axes = least_squares_axes);

/// `base` with each hyperparameter axis's values set as per-member values: what uses_hyperparameter
/// asks about a grid, where whether one axis is read can hang on another's values (lgf_order on
/// lgf_target).
solve_options with_axis_values(solve_options base, const std::vector<sweep_axis>& axes);

/// The most members a sweep may have, so that member indices and their sums stay in int64.
inline constexpr std::int64_t max_sweep_members = std::int64_t(1) << 62;

/// Number of members of a sweep: methods × problems × grid points. Throws invalid_argument when
/// that exceeds max_sweep_members.
std::int64_t sweep_size(const sweep_spec& spec, std::int64_t problem_count);

namespace detail {

/// The rows of members [begin, begin + grid.size()) of method m, solved as `solved`.
template <class Real>
void append_rows(sweep_result& result, const sweep_grid& grid, std::int64_t begin, method m,
                 const solve_result<Real>& solved) {
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    sweep_row row;
    row.member = begin + i;
    row.problem = grid.problem_of[i];
    row.method = m;
    row.axis_values = grid.axis_values_of[i];
    row.outcome = solved.outcome[i];
    row.accepted_steps = solved.accepted_steps[i];
    row.rejected_steps = solved.rejected_steps[i];
    row.gradient_evaluations = solved.gradient_evaluations[i];
    row.surrogate_evaluations = solved.surrogate_evaluations[i];
    row.objective = double(solved.objective[i]);
    row.gradient_norm = double(solved.gradient_norm[i]);
    row.time = double(solved.time[i]);
    result.rows.push_back(std::move(row));
  }
  for (trace_point point : solved.trace) {
    point.problem += begin;
    result.trace.push_back(point);
  }
  result.runs.push_back(solved.summary);
  result.wall_seconds += solved.summary.wall_seconds;
}

/// The members [first, first + count) of a sweep over `problem_count` problems of one family,
/// one batch per method met: `solve_members(grid)` sets up the grid's problems (the family's axes)
/// and solves them. A member's row does not depend on the range it was run in.
template <class SolveMembers>
sweep_result run_sweep_members(const sweep_spec& spec, std::int64_t problem_count,
                               problem_axis_names problem_axes, std::int64_t first,
                               std::int64_t count, SolveMembers&& solve_members) {
  const std::int64_t total = sweep_size(spec, problem_count);
  if (count < 0) count = total - first;
  if (first < 0 || count < 0 || first + count > total)
    throw invalid_argument("sweep members [" + std::to_string(first) + ", " +
                           std::to_string(first + count) + ") outside [0, " +
                           std::to_string(total) + ")");
  sweep_result result;
  result.axes = spec.axes;
  const std::vector<method> methods =
      spec.methods.empty() ? std::vector<method>{spec.base.method} : spec.methods;
  const std::int64_t per_method = total / std::int64_t(methods.size());
  for (std::size_t mi = 0; mi < methods.size(); ++mi) {
    // This method's members [mi·per_method, (mi+1)·per_method) meet the requested range here:
    const std::int64_t method_first = std::int64_t(mi) * per_method;
    const std::int64_t begin = std::max(first, method_first);
    const std::int64_t end = std::min(first + count, method_first + per_method);
    if (begin >= end) continue;
    const sweep_grid grid = expand_grid(spec, problem_count, problem_axes, methods[mi],
                                        begin - method_first, end - begin);
    append_rows(result, grid, begin, methods[mi], solve_members(grid));
  }
  return result;
}

}  // namespace detail
}  // namespace gradflow
