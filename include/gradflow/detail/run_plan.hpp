#pragma once
#include <cstdint>
#include <vector>

#include "gradflow/detail/lockstep_arrays.hpp"
#include "gradflow/model.hpp"
#include "gradflow/options.hpp"

namespace gradflow::detail {

/// What a solve's options resolve to for one model: the batch-wide settings, the per-problem
/// hyperparameter table, the execution path and the per-problem storage.
template <class Real>
struct run_plan {
  step_settings<Real> settings;
  std::vector<Real> parameters;  ///< parameter_count per problem
  bool fused = false;
  lockstep_layout layout;
};

/// Validates `options` for `count` problems of `unknowns` unknowns of a model with `traits` on a
/// `backend` engine and resolves them; throws invalid_argument / dimension_mismatch naming the
/// field (and member) before any work.
template <class Real>
run_plan<Real> plan_run(const solve_options& options, std::int64_t count, int unknowns,
                        const model_traits& traits, backend_kind backend);

extern template run_plan<float> plan_run(const solve_options&, std::int64_t, int,
                                         const model_traits&, backend_kind);
extern template run_plan<double> plan_run(const solve_options&, std::int64_t, int,
                                          const model_traits&, backend_kind);

/// The one driver: plan → load → fused or lockstep → collect → summary, for any model on any
/// engine (README, "Design").
template <class Real>
solve_result<Real> solve_model(problem_model<Real>& model, engine<Real>& engine,
                               const solve_options& options);

extern template solve_result<float> solve_model(problem_model<float>&, engine<float>&,
                                                const solve_options&);
extern template solve_result<double> solve_model(problem_model<double>&, engine<double>&,
                                                 const solve_options&);

}  // namespace gradflow::detail
