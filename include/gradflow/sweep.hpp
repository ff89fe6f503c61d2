#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gradflow/least_squares.hpp"
#include "gradflow/options.hpp"
#include "gradflow/result.hpp"
#include "gradflow/solver_context.hpp"

namespace gradflow {

/// One axis of a sweep grid: a hyperparameter name and its values.
/// Names: lr, dt, zeta, damping, mass, momentum, beta1, beta2, epsilon, rtol, atol, gtol,
/// rtol_grad, vtol (the solve_options hyperparameters), lambda (the ridge weight) and u0_seed
/// (U0 uniform in [0, 1) drawn from that seed). `lr` is the learning-rate view of the step: dt = lr
/// for first-order dynamics and the optimisers, dt = √lr for heavy ball and Nesterov ODE (discrete
/// momentum with step lr is the ODE sampled at time step √lr; Yang et al. 2018).
struct sweep_axis {
  std::string name;
  std::vector<double> values;
  bool logarithmic = false;  ///< spacing, for tables and pictures
};

/// "lo:hi:count" or "lo:hi:count:log|lin" (inclusive ends) or "v1,v2,…". Throws invalid_argument
/// naming the axis for unknown names, malformed text, count < 1 and non-positive log ends.
sweep_axis parse_axis(std::string_view name, std::string_view text);
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

/// One method's members: each points at its problem in the problem set (nothing copied) and has
/// its own λ, U0 and hyperparameters. Exposed so that a member can be rerun alone.
template <class Real>
struct expanded_sweep {
  solve_options options;
  std::vector<std::int64_t> problem_of;             ///< per member
  std::vector<std::vector<double>> axis_values_of;  ///< per member
  std::vector<Real> lambda;                         ///< per member
  std::vector<Real> initial;                        ///< n·k per member; empty: U0 = 0

  std::int64_t size() const { return std::int64_t(problem_of.size()); }
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
void check_sweep(const sweep_spec& spec);

/// The most members a sweep may have, so that member indices and their sums stay in int64.
inline constexpr std::int64_t max_sweep_members = std::int64_t(1) << 62;

/// Number of members of a sweep: methods × problems × grid points. Throws invalid_argument when
/// that exceeds max_sweep_members.
std::int64_t sweep_size(const sweep_spec& spec, std::int64_t problem_count);

}  // namespace gradflow
