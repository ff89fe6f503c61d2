#pragma once
// User-defined objectives: a batch of functors, each problem's f and ∇f written once as
// host + device code, solved by the same per-problem phases as least squares.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gradflow/detail/run_plan.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"
#include "gradflow/result.hpp"

namespace gradflow {

/// A batch of objectives over `unknowns` values each. An Objective is a trivially copyable functor
/// carrying its own per-problem parameters, with
///   GRADFLOW_HD Real value(const Real* x) const;             // f(x)
///   GRADFLOW_HD void gradient(const Real* x, Real* g) const;  // g = ∇f(x)
/// (GRADFLOW_HD from gradflow/detail/host_device.hpp: __host__ __device__ under nvcc, nothing
/// otherwise), and optionally
///   GRADFLOW_HD void hessian_times(const Real* x, const Real* v, Real* product) const;  // ∇²f·v
/// which gives the linearly implicit step its Hessian (else differences of the gradient) and
/// enables Newton flow and what reads the curvature at the start (ζ, rkcd/rkc, default steps).
/// Problem i minimises problems[i] from initial[i·n …] (empty: from 0).
template <class Objective, class Real>
struct objective_batch {
  int unknowns = 0;
  std::vector<Objective> problems;
  std::vector<Real> initial;
  std::int64_t batch_size() const { return std::int64_t(problems.size()); }
};

namespace detail {

/// Whether Objective offers product = ∇²f(x)·v as hessian_times(x, v, product).
template <class Objective, class Real, class = void>
struct has_hessian_times : std::false_type {};
template <class Objective, class Real>
struct has_hessian_times<
    Objective, Real,
    std::void_t<decltype(std::declval<const Objective&>().hessian_times(
        std::declval<const Real*>(), std::declval<const Real*>(), std::declval<Real*>()))>>
    : std::true_type {};

/// The product slot of an objective's problem holds ∇f at the operand (C = 0, so every phase's
/// g = P − C is ∇f), and its trial value f there. Where a factorisation needs G, the Hessian takes
/// its place: at the start, ∇²f(u0) (what ζ, the Chebyshev methods' bounds and default steps read;
/// an indefinite one stops the problem with invalid_input); before the linearly implicit step's
/// factorisation, at the current point; under Newton flow, at every product's point, factored
/// there (invalid_input where indefinite: the flow is not defined there). It comes column by column
/// from the objective's hessian_times where it has one, else by central differences of the
/// gradient, and is counted as 2n gradient evaluations either way (a difference costs two; a
/// forward-mode product about as much).
template <class Objective, class Real>
struct objective_gradient {
  const Objective* problems = nullptr;
  Real* hessians = nullptr;  ///< the gram storage: n×n per problem
  bool newton_flow = false;

  GRADFLOW_HD void operator()(const lockstep_view<Real>& v, operand source, std::int64_t i) const {
    const Real* x = v.operand_of(source, i);
    if constexpr (has_hessian_times<Objective, Real>::value) {
      if (newton_flow && v.running(i)) {
        hessian_by_products(v, x, v.product_of(i), i);  // the product slot is free until ∇f
        factor_problem(v, i, factor_shift::none);
      }
    }
    problems[i].gradient(x, v.product_of(i));
    v.trial_value[i] = problems[i].value(x);
  }

  GRADFLOW_HD void prepare_factor(const lockstep_view<Real>& v, factor_shift shift,
                                  std::int64_t i) const {
    if (!v.running(i)) return;
    const Real* y = v.state_of(i);
    Real* point = v.stage_input_of(i);  // scratch until the stage input is formed
    if constexpr (has_hessian_times<Objective, Real>::value) {
      hessian_by_products(v, y, point, i);
    } else if (shift == factor_shift::inverse_step) {  // without products, only this step's
      const int n = v.unknowns;
      Real* up = v.product_of(i);    // scratch until the next product
      Real* down = v.work_of(1, i);  // the last stage, free until its evaluation
      Real* hessian = hessians + std::int64_t(i) * n * n;
      for (int j = 0; j < n; ++j) {
        const Real magnitude = std::fabs(y[j]) > 1 ? std::fabs(y[j]) : Real(1);
        const Real h = std::cbrt(std::numeric_limits<Real>::epsilon()) * magnitude;
        for (int e = 0; e < n; ++e) point[e] = y[e];
        point[j] = y[j] + h;
        problems[i].gradient(point, up);
        point[j] = y[j] - h;
        problems[i].gradient(point, down);
        for (int r = 0; r < n; ++r) hessian[r * n + j] = (up[r] - down[r]) / (2 * h);
      }
      symmetrise(hessian, n);
      v.gradient_evaluations[i] += 2 * n;
    }
  }

  /// ∇²f(x) row by row (row j = ∇²f·e_j, the Hessian being symmetric); `unit` holds e_j.
  GRADFLOW_HD void hessian_by_products(const lockstep_view<Real>& v, const Real* x, Real* unit,
                                       std::int64_t i) const {
    const int n = v.unknowns;
    Real* hessian = hessians + std::int64_t(i) * n * n;
    for (int j = 0; j < n; ++j) {
      for (int e = 0; e < n; ++e) unit[e] = e == j ? Real(1) : Real(0);
      problems[i].hessian_times(x, unit, hessian + std::int64_t(j) * n);
    }
    symmetrise(hessian, n);
    v.gradient_evaluations[i] += 2 * n;
  }

  GRADFLOW_HD static void symmetrise(Real* matrix, int n) {
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < r; ++c)
        matrix[r * n + c] = matrix[c * n + r] = (matrix[r * n + c] + matrix[c * n + r]) / 2;
  }
};

/// Whether a run reads G's curvature once, at the start: ζ's smallest curvature, the Chebyshev
/// methods' spectral bounds, or a default step without error control. For an objective with
/// hessian_times, G is then ∇²f(u0), factored first (so it must be positive definite there).
inline bool needs_start_curvature(const solve_options& options, bool adaptive) {
  return (options.dynamics == dynamics::heavy_ball && !options.damping.is_set()) ||
         is_chebyshev(options.method) || (!adaptive && !options.dt.is_set());
}

/// What a functor cannot give: a fixed G (direct and CG solves of G·u = C) and, without
/// hessian_times, any curvature (Newton flow; ζ, the Chebyshev methods and default steps, which
/// read ∇²f(u0) in its place; the linearly implicit step has no such start and needs dt). Throws
/// invalid_argument naming the option.
inline void check_objective_options(const solve_options& options, bool adaptive,
                                    bool has_hessian_times) {
  const std::string method_name(to_string(options.method));
  if (options.method == method::cg || options.method == method::direct)
    throw invalid_argument("invalid method = " + method_name +
                           " for an objective: it solves the linear system of least squares");
  if (options.dynamics == dynamics::newton && !has_hessian_times)
    throw invalid_argument(
        "invalid dynamics = newton for this objective: Newton flow needs its hessian_times");
  const bool start_curvature_available =
      has_hessian_times && options.method != method::linearly_implicit;
  if (needs_start_curvature(options, adaptive) && !start_curvature_available) {
    if (options.dynamics == dynamics::heavy_ball && !options.damping.is_set())
      throw invalid_argument(
          "invalid zeta for this objective: give the heavy ball's damping (ζ needs the smallest "
          "curvature: an objective with hessian_times)");
    if (is_chebyshev(options.method))
      throw invalid_argument("invalid method = " + method_name +
                             " for this objective: its stage count needs the curvature (an "
                             "objective with hessian_times)");
    throw invalid_argument("dt is required for method = " + method_name +
                           " on this objective (no curvature bound to default it from)");
  }
  if (options.trace_every > 0)
    throw invalid_argument("invalid trace_every for an objective: objectives run fused");
}

/// A validated batch's plan and its per-problem storage on the host, parameters and initial state
/// filled in.
template <class Real>
struct objective_run {
  run_plan<Real> plan;
  lockstep_arrays<host_array, Real> arrays;
  lockstep_view<Real> view;
};

template <class Real, class Objective>
objective_run<Real> prepare_objectives(const objective_batch<Objective, Real>& batch,
                                       const solve_options& options) {
  const std::int64_t count = batch.batch_size();
  const int n = batch.unknowns;
  if (count < 1) throw invalid_argument("invalid batch: no objectives");
  if (n < 1) throw invalid_argument("invalid unknowns = " + std::to_string(n) + ": must be >= 1");
  if (!batch.initial.empty() && std::int64_t(batch.initial.size()) != count * n)
    throw dimension_mismatch(
        "initial has " + std::to_string(batch.initial.size()) +
        " values; expected batch_size·unknowns = " + std::to_string(count * n));
  for (std::size_t e = 0; e < batch.initial.size(); ++e)
    if (!std::isfinite(batch.initial[e]))
      throw invalid_argument("non-finite value in initial of problem " + std::to_string(e / n));
  solve_options fused_options = options;
  fused_options.path = execution_path::fused;
  if (!fused_options.stall_window) fused_options.stall_window = 0;  // see solve_options
  objective_run<Real> run{plan_run<Real>(fused_options, count, n), {}, {}};
  check_objective_options(options, run.plan.settings.adaptive,
                          has_hessian_times<Objective, Real>::value);
  if (has_hessian_times<Objective, Real>::value &&
      needs_start_curvature(options, run.plan.settings.adaptive))
    run.plan.settings.needs_factor = run.plan.layout.needs_factor = true;  // ∇²f(u0), factored
  run.arrays.size_for(count, n, 1, run.plan.layout);
  run.arrays.parameters = run.plan.parameters;
  run.view = run.arrays.view(count, n, 1, run.plan.layout.state_factor);
  if (!batch.initial.empty())
    for (std::int64_t i = 0; i < count; ++i)
      for (int e = 0; e < n; ++e) run.view.state_of(i)[e] = batch.initial[i * n + e];
  return run;
}

/// Each problem's whole run in one OpenMP thread. Returns the products computed.
template <class Real, class Objective>
std::int64_t run_objectives_on_cpu(const objective_batch<Objective, Real>& batch,
                                   objective_run<Real>& run) {
  const std::int64_t count = batch.batch_size();
  std::vector<Real> trial_values(count);
  lockstep_view<Real> view = run.view;
  view.trial_value = trial_values.data();
  std::int64_t products = 0;
  using product = objective_gradient<Objective, Real>;
  const product gradient{batch.problems.data(), run.arrays.gram.data(),
                         run.plan.settings.dynamics == dynamics::newton};
  const step_settings<Real>& settings = run.plan.settings;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : products)
  for (std::int64_t i = 0; i < count; ++i) {
    fused_executor<Real, product> executor{view, settings, i, gradient};
    run_sequence(executor, settings);
    products += executor.products;
  }
  return products;
}

/// The result from the host arrays of a finished run: solution, f there, per-problem fields.
template <class Real, class Objective>
solve_result<Real> objective_result(const objective_batch<Objective, Real>& batch,
                                    const objective_run<Real>& run) {
  const std::int64_t count = batch.batch_size();
  const int n = batch.unknowns;
  solve_result<Real> result;
  result.batch_size = count;
  result.unknowns = n;
  result.rhs_count = 1;
  result.solution.resize(count * n);
  result.objective.resize(count);
  for (std::int64_t i = 0; i < count; ++i) {
    for (int e = 0; e < n; ++e) result.solution[i * n + e] = run.view.state_of(i)[e];
    result.objective[i] = batch.problems[i].value(run.view.state_of(i));
  }
  copy_per_problem_fields(run.arrays, result);
  return result;
}

}  // namespace detail
}  // namespace gradflow

#if defined(__CUDACC__)
#include "gradflow/detail/objective_device.cuh"
#endif

namespace gradflow {

// solve_objectives' body differs between nvcc (with the GPU path) and a host compiler (without):
// an inline namespace per kind gives the two instantiations different names, so a program that
// links both (a .cpp and libgradflow's nvcc-built mgh::solve) keeps each (no ODR clash).
#if defined(__CUDACC__)
inline namespace with_gpu_path {
#else
inline namespace without_gpu_path {
#endif

/// Solves every objective of the batch, each problem's whole run in one thread (the fused path):
/// on the CPU (OpenMP), or on the GPU — one CUDA thread per problem — when this header is compiled
/// by nvcc and `backend` is cuda, or automatic with a device present. Every dynamics and method but
/// cg and direct: the integrators on gradient, heavy-ball and Nesterov dynamics, linearly_implicit
/// (the Hessian from hessian_times or differences of the gradient), and the optimisers; with
/// hessian_times also Newton flow, ζ, rkcd/rkc and default steps (from ∇²f(u0)). Per-problem
/// hyperparameters, statuses, step control and results as for least squares; `objective` holds f at
/// the returned point. Throws invalid_argument naming the field for bad input or options (see
/// check_objective_options), not_compiled for backend = cuda without nvcc, no_device when no CUDA
/// device answers.
template <class Real, class Objective>
solve_result<Real> solve_objectives(const objective_batch<Objective, Real>& batch,
                                    const solve_options& options) {
  const auto start = std::chrono::steady_clock::now();
  auto run = detail::prepare_objectives(batch, options);
  run_summary summary;
  summary.batch_size = batch.batch_size();
  summary.path = execution_path::fused;
#if defined(__CUDACC__)
  const bool on_device = options.backend == backend_kind::cuda ||
                         (options.backend == backend_kind::automatic && detail::device_present());
#else
  if (options.backend == backend_kind::cuda)
    throw not_compiled(
        "backend = cuda for an objective needs its functor compiled by nvcc: include "
        "gradflow/objective.hpp from a .cu file");
  const bool on_device = false;
#endif
  if (on_device) {
#if defined(__CUDACC__)
    detail::run_objectives_on_device(batch, run, summary);
#endif
  } else {
    summary.products_issued = detail::run_objectives_on_cpu(batch, run);
    summary.backend = backend_kind::cpu;
    summary.device = "cpu (" + std::to_string(omp_get_max_threads()) + " threads)";
  }
  solve_result<Real> result = detail::objective_result(batch, run);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  summary.wall_seconds = elapsed.count();
  if (!on_device) summary.compute_seconds = summary.wall_seconds;
  result.summary = summary;
  finish_outcomes(result);
  return result;
}

}  // inline namespace
}  // namespace gradflow
