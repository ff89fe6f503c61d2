// Smoke benchmark: the seed example (A 50×5, U 5×2, B = A·U, U0 random) as batches of 10³–10⁶
// problems, Tsit5 with PI control in f64, on each backend that is present; and, on one batch, the
// flows beside the baselines (ratios measured in one run). Reports problems/s and gradient
// evaluations/s from the solve's own wall time (upload, set-up and download included). GPU-only
// regions with CUDA events, roofline figures and peers belong to the performance suite.
#include <benchmark/benchmark.h>

#include "gradflow/gradflow.hpp"

namespace {

/// Tolerances at which every method reaches ‖∇f‖ ≤ 1e-10 on the seed problem.
gradflow::solve_options seed_options(gradflow::backend_kind backend, gradflow::method m,
                                     gradflow::dynamics d) {
  gradflow::solve_options options;
  options.backend = backend;
  options.method = m;
  options.dynamics = d;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  options.gtol = 1e-10;
  return options;
}

void run(benchmark::State& state, std::int64_t batch_size, const gradflow::solve_options& options) {
  if (options.backend == gradflow::backend_kind::cuda && gradflow::cuda_devices().empty()) {
    state.SkipWithError("no CUDA device answers");
    return;
  }
  gradflow::random_spec spec;
  spec.batch_size = batch_size;
  spec.random_initial = true;
  const auto batch = gradflow::random_least_squares<double>(spec);
  gradflow::run_summary summary;
  for (auto _ : state) {
    summary = gradflow::solve(batch, options).summary;
    state.SetIterationTime(summary.wall_seconds);
  }
  state.counters["problems_per_s"] =
      benchmark::Counter(double(batch_size) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["gradient_evals_per_s"] = benchmark::Counter(
      double(summary.gradient_evaluations) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["evals_per_problem"] = double(summary.gradient_evaluations) / double(batch_size);
  state.counters["converged_fraction"] =
      double(summary.count(gradflow::status::converged)) / double(batch_size);
  state.SetLabel(summary.device);
}

void seed_batch(benchmark::State& state, gradflow::backend_kind backend) {
  run(state, state.range(0),
      seed_options(backend, gradflow::method::tsit5, gradflow::dynamics::gradient));
}

/// Flow versus baseline on one batch of 10⁴ seed problems.
void seed_method(benchmark::State& state, gradflow::backend_kind backend, gradflow::method m,
                 gradflow::dynamics d) {
  run(state, 10000, seed_options(backend, m, d));
}

/// Lockstep versus fused execution of the same batch (Tsit5, gradient flow, 10⁴ seed problems).
void seed_path(benchmark::State& state, gradflow::backend_kind backend,
               gradflow::execution_path path) {
  auto options = seed_options(backend, gradflow::method::tsit5, gradflow::dynamics::gradient);
  options.path = path;
  run(state, 10000, options);
}

}  // namespace

BENCHMARK_CAPTURE(seed_batch, cpu, gradflow::backend_kind::cpu)
    ->RangeMultiplier(10)
    ->Range(1000, 100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(seed_batch, cuda, gradflow::backend_kind::cuda)
    ->RangeMultiplier(10)
    ->Range(1000, 1000000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

#define GRADFLOW_SEED_METHOD(backend, m, d)                                            \
  BENCHMARK_CAPTURE(seed_method, backend##_##m##_##d, gradflow::backend_kind::backend, \
                    gradflow::method::m, gradflow::dynamics::d)                        \
      ->UseManualTime()                                                                \
      ->Unit(benchmark::kMillisecond)                                                  \
      ->Iterations(1)
GRADFLOW_SEED_METHOD(cpu, tsit5, gradient);
GRADFLOW_SEED_METHOD(cpu, tsit5, heavy_ball);
GRADFLOW_SEED_METHOD(cpu, tsit5, newton);
GRADFLOW_SEED_METHOD(cpu, gd, gradient);
GRADFLOW_SEED_METHOD(cpu, nag, gradient);
GRADFLOW_SEED_METHOD(cpu, fire, gradient);
GRADFLOW_SEED_METHOD(cpu, cg, gradient);
GRADFLOW_SEED_METHOD(cpu, direct, gradient);
GRADFLOW_SEED_METHOD(cuda, tsit5, gradient);
GRADFLOW_SEED_METHOD(cuda, tsit5, heavy_ball);
GRADFLOW_SEED_METHOD(cuda, cg, gradient);
GRADFLOW_SEED_METHOD(cuda, direct, gradient);

#define GRADFLOW_SEED_PATH(backend, path)                                         \
  BENCHMARK_CAPTURE(seed_path, backend##_##path, gradflow::backend_kind::backend, \
                    gradflow::execution_path::path)                               \
      ->UseManualTime()                                                           \
      ->Unit(benchmark::kMillisecond)                                             \
      ->Iterations(1)
GRADFLOW_SEED_PATH(cpu, lockstep);
GRADFLOW_SEED_PATH(cpu, fused);
GRADFLOW_SEED_PATH(cuda, lockstep);
GRADFLOW_SEED_PATH(cuda, fused);

BENCHMARK_MAIN();
