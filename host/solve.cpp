#include "gradflow/solve.hpp"

#include <algorithm>
#include <limits>

#include "gradflow/detail/run_plan.hpp"
#include "gradflow/error.hpp"
#include "least_squares_model.hpp"

namespace gradflow {
namespace {

/// skip_invalid: solves the valid members alone and reports the others as invalid_input with a NaN
/// solution, in place.
template <class Real>
solve_result<Real> solve_valid_members(const least_squares_batch<Real>& batch,
                                       const solve_options& options,
                                       const std::vector<std::int64_t>& invalid,
                                       solver_context& context) {
  std::vector<std::int64_t> keep;
  for (std::int64_t i = 0, next_invalid = 0; i < batch.batch_size; ++i) {
    if (next_invalid < std::int64_t(invalid.size()) && invalid[next_invalid] == i) {
      ++next_invalid;
    } else {
      keep.push_back(i);
    }
  }
  solve_options part_options = options;
  part_options.skip_invalid = false;
  for (std::string_view name : hyperparameter_names()) {
    const hyperparameter& given = *hyperparameter_named(options, name);
    if (!given.is_per_member()) continue;
    if (std::int64_t(given.size()) != batch.batch_size)
      throw dimension_mismatch(
          std::string(name) + " has " + std::to_string(given.size()) +
          " values; expected 1 or batch_size = " + std::to_string(batch.batch_size));
    std::vector<double> values;
    for (std::int64_t i : keep) values.push_back(given.values()[i]);
    *hyperparameter_named(part_options, name) =
        values.size() == 1 ? hyperparameter(values[0]) : hyperparameter(values);
  }
  solve_result<Real> part;
  if (!keep.empty()) part = solve(select_members(batch, keep), part_options, context);

  const std::int64_t count = batch.batch_size, len = batch.unknowns_per_problem();
  const Real nan = std::numeric_limits<Real>::quiet_NaN();
  solve_result<Real> result;
  result.batch_size = count;
  result.unknowns = batch.unknowns;
  result.rhs_count = batch.rhs_count;
  result.solution.assign(count * len, nan);
  result.outcome.assign(count, status::invalid_input);
  result.objective.assign(count, nan);
  result.gradient_norm.assign(count, nan);
  result.time.assign(count, Real(0));
  result.accepted_steps.assign(count, 0);
  result.rejected_steps.assign(count, 0);
  result.gradient_evaluations.assign(count, 0);
  result.surrogate_evaluations.assign(count, 0);
  for (std::size_t j = 0; j < keep.size(); ++j) {
    const std::int64_t i = keep[j];
    std::copy_n(part.solution.begin() + j * len, len, result.solution.begin() + i * len);
    result.outcome[i] = part.outcome[j];
    result.objective[i] = part.objective[j];
    result.gradient_norm[i] = part.gradient_norm[j];
    result.time[i] = part.time[j];
    result.accepted_steps[i] = part.accepted_steps[j];
    result.rejected_steps[i] = part.rejected_steps[j];
    result.gradient_evaluations[i] = part.gradient_evaluations[j];
    result.surrogate_evaluations[i] = part.surrogate_evaluations[j];
  }
  for (trace_point point : part.trace) {
    point.problem = keep[point.problem];
    result.trace.push_back(point);
  }
  result.summary = part.summary;
  if (keep.empty()) result.summary.device = "none (every problem was invalid)";
  result.summary.batch_size = count;
  result.summary.status_counts[static_cast<int>(status::invalid_input)] +=
      std::int64_t(invalid.size());
  return result;
}

}  // namespace

namespace {

template <class Real>
solve_result<Real> solve_checked(const least_squares_view<Real>& batch,
                                 const solve_options& options, solver_context& context) {
  auto& engine = context.engine_for<Real>(options.backend, true, "");
  const auto model = detail::make_least_squares_model(batch, engine.kind());
  return detail::solve_model(*model, engine, options);
}

}  // namespace

template <class Real>
solve_result<Real> solve(const least_squares_batch<Real>& batch, const solve_options& options,
                         solver_context& context) {
  if (options.skip_invalid) {  // invalid_problems checks what validate would
    const auto invalid = invalid_problems(batch);
    if (!invalid.empty()) return solve_valid_members(batch, options, invalid, context);
  } else {
    validate(batch);
  }
  return solve_checked(view_of(batch), options, context);
}

template <class Real>
solve_result<Real> solve(const least_squares_view<Real>& batch, const solve_options& options,
                         solver_context& context) {
  if (options.skip_invalid) return solve(copy_of(batch), options, context);
  validate(batch);
  return solve_checked(batch, options, context);
}

template <class Real>
solve_result<Real> solve(const least_squares_batch<Real>& batch, const solve_options& options) {
  solver_context context;
  return solve(batch, options, context);
}

template <class Real>
solve_result<Real> solve(const least_squares_view<Real>& batch, const solve_options& options) {
  solver_context context;
  return solve(batch, options, context);
}

template solve_result<float> solve(const least_squares_batch<float>&, const solve_options&);
template solve_result<double> solve(const least_squares_batch<double>&, const solve_options&);
template solve_result<float> solve(const least_squares_view<float>&, const solve_options&);
template solve_result<float> solve(const least_squares_view<float>&, const solve_options&,
                                   solver_context&);
template solve_result<float> solve(const least_squares_batch<float>&, const solve_options&,
                                   solver_context&);
template solve_result<double> solve(const least_squares_view<double>&, const solve_options&);
template solve_result<double> solve(const least_squares_view<double>&, const solve_options&,
                                    solver_context&);
template solve_result<double> solve(const least_squares_batch<double>&, const solve_options&,
                                    solver_context&);

bool cuda_compiled() {
#ifdef GRADFLOW_WITH_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace gradflow
