#pragma once
#include <cstdint>
#include <vector>

#include "gradflow/detail/lockstep_arrays.hpp"
#include "gradflow/options.hpp"

namespace gradflow::detail {

/// What a solve's options resolve to, shared by every problem family: the batch-wide settings, the
/// per-problem hyperparameter table, the execution path and the per-problem storage.
template <class Real>
struct run_plan {
  step_settings<Real> settings;
  std::vector<Real> parameters;  ///< parameter_count per problem
  bool fused = false;
  lockstep_layout layout;
};

/// Validates `options` for `count` problems of `unknowns` unknowns and resolves them; throws
/// invalid_argument / dimension_mismatch naming the field (and member) before any work.
template <class Real>
run_plan<Real> plan_run(const solve_options& options, std::int64_t count, int unknowns);

extern template run_plan<float> plan_run(const solve_options&, std::int64_t, int);
extern template run_plan<double> plan_run(const solve_options&, std::int64_t, int);

}  // namespace gradflow::detail
