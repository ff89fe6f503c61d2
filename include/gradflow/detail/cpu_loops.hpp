#pragma once
// The CPU's passes over a batch, written once for the engine's phases and every model's
// evaluations: OpenMP over problems, each problem's work the same detail:: code a CUDA thread runs.
#include <algorithm>
#include <cstdint>
#include <functional>

#include "gradflow/detail/engine.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"

namespace gradflow::detail {

/// The fused path asks whether to stop between blocks of this many problems: often enough for a
/// prompt Ctrl-C, rarely enough that the barrier between blocks costs nothing measurable.
inline constexpr std::int64_t fused_block = 4096;

/// body(i) for every active problem (in parallel when `parallel`); the sum of what it returns.
template <class Body>
std::int64_t sum_over_active(active_set active, bool parallel, Body body) {
  std::int64_t total = 0;
#pragma omp parallel for schedule(static) if (parallel) reduction(+ : total)
  for (std::int64_t position = 0; position < active.count; ++position)
    total += body(active[position]);
  return total;
}

/// ∇f at `source` of the active problems that still run (every active problem at the state: the
/// final evaluation needs them all), by the model's per-problem `evaluator`.
template <class Real, class Evaluator>
std::int64_t evaluate_on_cpu(engine<Real>& engine, const Evaluator& evaluator, operand source) {
  const lockstep_view<Real> v = engine.view();
  return sum_over_active(engine.active(), engine.parallel(), [&](std::int64_t i) -> std::int64_t {
    if (!v.running(i) && source != operand::state) return 0;
    evaluator.gradient(v, source, i);
    return 1;
  });
}

template <class Real, class Evaluator>
std::int64_t curvature_product_on_cpu(engine<Real>& engine, const Evaluator& evaluator,
                                      operand source) {
  const lockstep_view<Real> v = engine.view();
  return sum_over_active(engine.active(), engine.parallel(), [&](std::int64_t i) -> std::int64_t {
    if (!v.running(i)) return 0;
    evaluator.curvature_product(v, source, i);
    return 1;
  });
}

template <class Real, class Evaluator>
void prepare_curvature_on_cpu(engine<Real>& engine, const Evaluator& evaluator,
                              factor_shift shift) {
  const lockstep_view<Real> v = engine.view();
  sum_over_active(engine.active(), engine.parallel(), [&](std::int64_t i) -> std::int64_t {
    prepare_curvature_once_per_point(evaluator, v, shift, i);
    return 0;
  });
}

/// The fused path on the CPU: each problem's whole run in one OpenMP thread, handed out in small
/// dynamic chunks (problems finish at different times), `should_stop` asked between blocks.
template <class Real, class Evaluator>
std::int64_t run_fused_on_cpu(engine<Real>& engine, const Evaluator& evaluator,
                              const step_settings<Real>& settings,
                              const std::function<bool()>& should_stop) {
  const lockstep_view<Real> v = engine.view();
  // The GPU's scoped executors, so that the CPU's tests run the code the fused kernels run.
  return with_method_scope(scope_of(settings), [&](auto scope) {
    std::int64_t evaluations = 0;
    for (std::int64_t first = 0; first < v.batch_size; first += fused_block) {
      if (should_stop && should_stop()) throw interrupted("the solve was interrupted");
      const std::int64_t end = std::min(v.batch_size, first + fused_block);
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : evaluations)
      for (std::int64_t i = first; i < end; ++i) {
        fused_executor<Real, Evaluator, decltype(scope)::value> executor{v, settings, i, evaluator};
        run_sequence(executor, settings);
        evaluations += executor.evaluations;
      }
    }
    return evaluations;
  });
}

}  // namespace gradflow::detail
