// Smoke benchmark: the seed example (A 50×5, U 5×2, B = A·U, U0 random) as batches of 10³–10⁶
// problems, Tsit5 with PI control in f64, on each backend that is present. Reports problems/s and
// gradient evaluations/s from the solve's own wall time (upload, set-up and download included).
// GPU-only regions with CUDA events, roofline figures and peers belong to the performance suite.
#include <benchmark/benchmark.h>

#include "gradflow/gradflow.hpp"

namespace {

void seed_batch(benchmark::State& state, gradflow::backend_kind backend) {
  if (backend == gradflow::backend_kind::cuda && gradflow::cuda_devices().empty()) {
    state.SkipWithError("no CUDA device answers");
    return;
  }
  gradflow::random_spec spec;
  spec.batch_size = state.range(0);
  spec.random_initial = true;
  const auto batch = gradflow::random_least_squares<double>(spec);
  gradflow::solve_options options;
  options.backend = backend;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  options.gtol = 1e-10;
  gradflow::run_summary summary;
  for (auto _ : state) {
    summary = gradflow::solve(batch, options).summary;
    state.SetIterationTime(summary.wall_seconds);
  }
  state.counters["problems_per_s"] =
      benchmark::Counter(double(spec.batch_size) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["gradient_evals_per_s"] = benchmark::Counter(
      double(summary.gradient_evaluations) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["converged_fraction"] =
      double(summary.count(gradflow::status::converged)) / double(spec.batch_size);
  state.SetLabel(summary.device);
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

BENCHMARK_MAIN();
