#pragma once
// User-defined objectives: a batch of functors, each problem's f and ∇f written once as
// host + device code, solved as a problem model (gradflow/model.hpp) by the one driver.
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gradflow/detail/cpu_loops.hpp"
#include "gradflow/detail/run_plan.hpp"
#include "gradflow/error.hpp"
#include "gradflow/model.hpp"
#include "gradflow/result.hpp"
#include "gradflow/solver_context.hpp"

namespace gradflow {

/// A batch of objectives over `unknowns` values each. An Objective is a trivially copyable functor
/// carrying its own per-problem parameters, with
///   GRADFLOW_HD Real value(const Real* x) const;             // f(x)
///   GRADFLOW_HD void gradient(const Real* x, Real* g) const;  // g = ∇f(x)
/// (GRADFLOW_HD from gradflow/detail/host_device.hpp: __host__ __device__ under nvcc, nothing
/// otherwise), and optionally
///   GRADFLOW_HD void hessian_times(const Real* x, const Real* v, Real* product) const;  // ∇²f·v
/// which gives the linearly implicit step its Hessian (else differences of the gradient) and
/// enables Newton flow and what reads the curvature at the start (ζ, rkcd/rkc, default steps),
/// and optionally
///   GRADFLOW_HD Real evaluate(const Real* x, Real* g) const;  // g = ∇f(x), returns f(x)
/// which an evaluation then calls once instead of gradient and value (one pass where they share
/// their work, e.g. a forward solve and its sensitivities).
/// Problem i minimises problems[i] from initial[i·n …] (empty: from 0).
template <class Objective, class Real>
struct objective_batch {
  int unknowns = 0;
  std::vector<Objective> problems;
  std::vector<Real> initial;
  std::int64_t batch_size() const { return std::int64_t(problems.size()); }
};

namespace detail {

/// Whether Objective offers f and ∇f in one call as f = evaluate(x, g).
template <class Objective, class Real, class = void>
struct has_evaluate : std::false_type {};
template <class Objective, class Real>
struct has_evaluate<Objective, Real,
                    std::void_t<decltype(Real(std::declval<const Objective&>().evaluate(
                        std::declval<const Real*>(), std::declval<Real*>())))>> : std::true_type {};

/// Whether Objective offers product = ∇²f(x)·v as hessian_times(x, v, product).
template <class Objective, class Real, class = void>
struct has_hessian_times : std::false_type {};
template <class Objective, class Real>
struct has_hessian_times<
    Objective, Real,
    std::void_t<decltype(std::declval<const Objective&>().hessian_times(
        std::declval<const Real*>(), std::declval<const Real*>(), std::declval<Real*>()))>>
    : std::true_type {};

/// The fused GPU kernels nvcc compiles for Objective: its `static constexpr unsigned
/// gpu_fused_kernels` (a set of gradflow::fused_kernels), or all of them.
template <class Objective, class = void>
struct gpu_fused_kernels_of : std::integral_constant<unsigned, fused_kernels::all> {};
template <class Objective>
struct gpu_fused_kernels_of<Objective, std::void_t<decltype(Objective::gpu_fused_kernels)>> {
  // A member of each functor would be a value per problem, which no kernel set can follow.
  static constexpr bool is_static =
      !std::is_member_object_pointer_v<decltype(&Objective::gpu_fused_kernels)>;
  static_assert(is_static,
                "gpu_fused_kernels must be static constexpr: static constexpr unsigned "
                "gpu_fused_kernels = gradflow::fused_kernels::...;");
  static constexpr unsigned declared() {
    if constexpr (is_static)
      return Objective::gpu_fused_kernels;
    else
      return fused_kernels::all;  // after the message above, no second error
  }
  static constexpr unsigned value = declared();
  static_assert((value & ~fused_kernels::all) == 0,
                "gpu_fused_kernels is a set of gradflow::fused_kernels");
};

/// The per-problem math of an objective: ∇f and f at the operand from the user's functor. Where a
/// factorisation needs H, the view's curvature holds ∇²f: at the start, ∇²f(u0) (what ζ, the
/// Chebyshev methods' bounds and default steps read; an indefinite one stops the problem with
/// invalid_input); before the linearly implicit step's factorisation, at the current point (once
/// per point: a step retried after a rejection keeps it); under Newton flow, at every evaluation's
/// point, factored there (invalid_input where indefinite: the flow is not defined there; at an lgf
/// jump's landing the guard rejects the jump instead). It
/// comes column by column from the objective's hessian_times where it has one, else by central
/// differences of the gradient, and is counted as 2n gradient evaluations either way (a difference
/// costs two; a forward-mode product about as much).
template <class Objective, class Real>
struct objective_evaluator {
  const Objective* problems = nullptr;
  bool newton_flow = false;

  GRADFLOW_HD void gradient(const lockstep_view<Real>& v, operand source, std::int64_t i) const {
    const Real* x = v.operand_of(source, i);
    if constexpr (has_hessian_times<Objective, Real>::value) {
      if (newton_flow && v.running(i)) {
        hessian_by_products(v, x, v.gradient_of(i), i);  // the gradient slot is free until ∇f
        factor_problem(v, i, factor_shift::none);
      }
    }
    if constexpr (has_evaluate<Objective, Real>::value) {
      v.value[i] = problems[i].evaluate(x, v.gradient_of(i));
    } else {
      problems[i].gradient(x, v.gradient_of(i));
      v.value[i] = problems[i].value(x);
    }
  }

  /// Never called: cg, the one method that asks for H·p, needs a quadratic model.
  GRADFLOW_HD void curvature_product(const lockstep_view<Real>&, operand, std::int64_t) const {}

  GRADFLOW_HD void prepare_curvature(const lockstep_view<Real>& v, factor_shift shift,
                                     std::int64_t i) const {
    if (!v.running(i)) return;
    const Real* y = v.state_of(i);
    Real* point = v.stage_input_of(i);  // scratch until the stage input is formed
    if constexpr (has_hessian_times<Objective, Real>::value) {
      hessian_by_products(v, y, point, i);
    } else if (shift == factor_shift::inverse_step) {  // without products, only this step's
      const int n = v.unknowns;
      Real* up = v.gradient_of(i);   // scratch until the next evaluation
      Real* down = v.work_of(1, i);  // the last stage, free until its evaluation
      Real* hessian = v.curvature_of(i);
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
    Real* hessian = v.curvature_of(i);
    for (int j = 0; j < n; ++j) {
      for (int e = 0; e < n; ++e) unit[e] = e == j ? Real(1) : Real(0);
      problems[i].hessian_times(x, unit, hessian + std::int64_t(j) * n);
    }
    symmetrise(hessian, n);
    v.gradient_evaluations[i] += 2 * n;
  }

  /// The evaluator of problem i copied into a resident_problem (the copy's problem 0): its
  /// functor is still the batch's i-th.
  GRADFLOW_HD objective_evaluator resident_at(std::int64_t i) const {
    return {problems + i, newton_flow};
  }

  GRADFLOW_HD static void symmetrise(Real* matrix, int n) {
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < r; ++c)
        matrix[r * n + c] = matrix[c * n + r] = (matrix[r * n + c] + matrix[c * n + r]) / 2;
  }
};

template <class Objective, class Real>
model_traits objective_traits() {
  model_traits traits;
  traits.quadratic = false;
  traits.curvature = has_hessian_times<Objective, Real>::value;
  traits.evaluates_value = true;
  // An objective's ‖∇f‖ can stay flat for thousands of steps while f falls (a valley, a
  // plateau): never stalled unless asked (solve_options::stall_window).
  traits.stall_window = 0;
  traits.gpu_fused_kernels = gpu_fused_kernels_of<Objective>::value;
  traits.name = "this objective";
  traits.curvature_source = "an objective with hessian_times";
  return traits;
}

/// Throws dimension_mismatch / invalid_argument naming the field for a batch that cannot be
/// solved: no problems, no unknowns, a start of the wrong size or not finite.
template <class Objective, class Real>
void validate_objectives(const objective_batch<Objective, Real>& batch) {
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
}

}  // namespace detail
}  // namespace gradflow

#if defined(__CUDACC__)
#include "gradflow/detail/objective_device.cuh"
#endif

namespace gradflow {

// The objective model and solve_objectives differ between nvcc (with the GPU path) and a host
// compiler (without): an inline namespace per kind gives the two instantiations different names,
// so a program that links both (a .cpp and libgradflow's nvcc-built mgh::solve) keeps each (no
// ODR clash).
#if defined(__CUDACC__)
inline namespace with_gpu_path {
#else
inline namespace without_gpu_path {
#endif

/// A batch of objectives as a problem model: the functors and, where the method needs it, room
/// for each problem's Hessian, in the engine's memory; every evaluation by objective_evaluator.
template <class Objective, class Real>
class objective_model final : public problem_model<Real> {
public:
  objective_model(const objective_batch<Objective, Real>& batch, bool newton_flow)
      : batch_(batch), newton_flow_(newton_flow) {}

  model_traits traits() const override { return detail::objective_traits<Objective, Real>(); }
  std::int64_t batch_size() const override { return batch_.batch_size(); }
  int unknowns() const override { return batch_.unknowns; }
  int rhs_count() const override { return 1; }
  /// A functor's cost is unknown: count it as n² multiply-adds, like a small dense gradient.
  std::int64_t evaluation_work() const override {
    return std::int64_t(batch_.unknowns) * batch_.unknowns;
  }

  void load(detail::engine<Real>& engine, bool needs_curvature) override {
    const std::size_t hessian_values =
        needs_curvature ? std::size_t(batch_.batch_size()) * batch_.unknowns * batch_.unknowns : 0;
    detail::lockstep_view<Real>& v = engine.view();
    if (on_device(engine)) {
#if defined(__CUDACC__)
      device_.load(batch_, hessian_values, engine);
#endif
    } else {
      hessians_.assign(hessian_values, Real(0));
      v.curvature = hessians_.data();
    }
    if (!batch_.initial.empty()) engine.upload_initial(batch_.initial.data());
  }

  std::int64_t evaluate(detail::engine<Real>& engine, detail::operand source) override {
#if defined(__CUDACC__)
    if (on_device(engine)) return detail::evaluate_on_cuda(engine, evaluator(engine), source);
#endif
    return detail::evaluate_on_cpu(engine, evaluator(engine), source);
  }

  std::int64_t curvature_product(detail::engine<Real>&, detail::operand) override {
    throw invalid_argument("an objective has no fixed curvature to multiply by");
  }

  void prepare_curvature(detail::engine<Real>& engine, detail::factor_shift shift) override {
#if defined(__CUDACC__)
    if (on_device(engine))
      return detail::prepare_curvature_on_cuda(engine, evaluator(engine), shift);
#endif
    detail::prepare_curvature_on_cpu(engine, evaluator(engine), shift);
  }

  std::int64_t run_fused(detail::engine<Real>& engine, const detail::step_settings<Real>& settings,
                         const std::function<bool()>& should_stop) override {
#if defined(__CUDACC__)
    if (on_device(engine))
      return detail::run_fused_on_cuda<detail::fused_storage::thread,
                                       detail::gpu_fused_kernels_of<Objective>::value>(
          engine, evaluator(engine), settings, should_stop);
#endif
    return detail::run_fused_on_cpu(engine, evaluator(engine), settings, should_stop);
  }

  void objective(detail::engine<Real>& engine, std::vector<Real>& values) override {
#if defined(__CUDACC__)
    if (on_device(engine)) return device_.objective(engine, values);
#endif
    const detail::lockstep_view<Real> v = engine.view();
    values.resize(batch_.batch_size());
    detail::sum_over_active({nullptr, batch_.batch_size()}, true,
                            [&](std::int64_t i) -> std::int64_t {
                              values[i] = batch_.problems[i].value(v.state_of(i));
                              return 0;
                            });
  }

private:
  static bool on_device(const detail::engine<Real>& engine) {
    return engine.kind() == backend_kind::cuda;
  }

  detail::objective_evaluator<Objective, Real> evaluator(const detail::engine<Real>& engine) const {
#if defined(__CUDACC__)
    if (on_device(engine)) return {device_.problems(), newton_flow_};
#endif
    (void)engine;
    return {batch_.problems.data(), newton_flow_};
  }

  const objective_batch<Objective, Real>& batch_;
  bool newton_flow_;
  std::vector<Real> hessians_;
#if defined(__CUDACC__)
  detail::objective_device_data<Objective, Real> device_;
#endif
};

/// Solves every objective of the batch with the one driver: on the CPU, or on the GPU when this
/// header is compiled by nvcc and `backend` is cuda, or automatic with a device present. Both
/// paths (fused: each problem's whole run in one thread; lockstep: with traces, progress and
/// compaction), every dynamics and method but cg and direct: the integrators on gradient,
/// heavy-ball and Nesterov dynamics, linearly_implicit (the Hessian from hessian_times or
/// differences of the gradient), and the optimisers; with hessian_times also Newton flow, ζ,
/// rkcd/rkc and default steps (from ∇²f(u0)). Per-problem hyperparameters, statuses, step control
/// and results as for least squares; `objective` holds f at the returned point. Throws
/// invalid_argument naming the field for bad input or options, not_compiled for backend = cuda
/// without nvcc, no_device when no CUDA device answers.
template <class Real, class Objective>
solve_result<Real> solve_objectives(const objective_batch<Objective, Real>& batch,
                                    const solve_options& options, solver_context& context) {
  detail::validate_objectives(batch);
#if defined(__CUDACC__)
  constexpr bool compiled_for_cuda = true;
#else
  constexpr bool compiled_for_cuda = false;
#endif
  auto& engine = context.engine_for<Real>(
      options.backend, compiled_for_cuda,
      "backend = cuda for an objective needs its functor compiled by nvcc: include "
      "gradflow/objective.hpp from a .cu file");
  objective_model<Objective, Real> model(batch, options.dynamics == dynamics::newton);
  return detail::solve_model(model, engine, options);
}

template <class Real, class Objective>
solve_result<Real> solve_objectives(const objective_batch<Objective, Real>& batch,
                                    const solve_options& options) {
  solver_context context;
  return solve_objectives(batch, options, context);
}

}  // inline namespace
}  // namespace gradflow
