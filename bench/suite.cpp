// The performance suite (Google Benchmark). Every case times the solve's compute region (CUDA
// events on the GPU, after one untimed warm-up solve) and reports problems/s, gradient evaluations
// per second, achieved FLOP/s and GB/s of the products G·X (bench/work_model.hpp), p50/p99 steps
// and wasted work (the built-in nonlinear objectives: no FLOP/s or GB/s, their cost is the user's
// function); the ceilings they are read against are measured in the same run (ceiling/…).
// Ratios (GPU/CPU, fused/lockstep, with/without compaction, flow/direct, gradflow/BLAS loop) are
// formed from one run's JSON by bench/summarize.py.
//
//   gradflow_suite [--short] [Google Benchmark flags]
// --short: the small configuration CI runs on the CPU (seconds); without it the full axes (meant
// for the GPU machine; bench/gpu_check.sh).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ceilings.hpp"
#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"
#include "work_model.hpp"

#ifdef GRADFLOW_HAVE_OPENBLAS
#include "blas_loop.hpp"
#include "openblas_kernels.hpp"
#endif

namespace {

using namespace gradflow;

bool short_run = false;

std::string name_of(backend_kind backend) { return std::string(to_string(backend)); }

/// The stated accuracy of every timed case: ‖∇f‖ reduced by 1e-6 (f64) or 1e-3 (f32).
template <class Real>
double stated_reduction() {
  return sizeof(Real) == 8 ? 1e-6 : 1e-3;
}

/// A batch of `count` problems of size n×k sharing one A (2n×n, κ(A) = 10, so κ(G) = 100), each
/// with its own random B: per-problem G and state as in any batch, without generating `count`
/// large matrices.
template <class Real>
least_squares_batch<Real> sized_batch(int n, int k, std::int64_t count) {
  random_spec spec;
  spec.rows = 2 * n;
  spec.unknowns = n;
  spec.rhs_count = k;
  spec.condition_number = 10.0;
  auto batch = random_least_squares<Real>(spec);
  batch.batch_size = count;
  batch.rhs.resize(std::size_t(count) * batch.rows * k);
  std::mt19937_64 engine(17);
  std::uniform_real_distribution<double> uniform(-1, 1);
  for (Real& value : batch.rhs) value = Real(uniform(engine));
  return batch;
}

template <class Real>
least_squares_batch<Real> seed_batch(std::int64_t count) {
  random_spec spec;
  spec.batch_size = count;
  spec.random_initial = true;
  return random_least_squares<Real>(spec);
}

/// Device bytes per problem (G, C, state, stage input, Tsit5's 7 stages, product, ~16 scalars):
/// batch sizes are chosen to fill a memory budget.
std::int64_t batch_for_budget(int n, int k, double budget_bytes, int real_bytes) {
  const double per_problem = real_bytes * (double(n) * n + 11.0 * n * k + 16);
  return std::max<std::int64_t>(1, std::min<std::int64_t>(100000, budget_bytes / per_problem));
}

/// Times `run()` (a solve of `batch_size` problems; one untimed warm-up first: module load, cuBLAS,
/// first touch) and sets the counters; FLOP/s and GB/s only where the products are least squares'
/// G·X of n×k (`gram_products`). Returns the last result.
template <class Real, class Run>
solve_result<Real> timed_run(benchmark::State& state, backend_kind backend, std::int64_t batch_size,
                             int n, int k, bool gram_products, Run&& run) {
  if (backend == backend_kind::cuda && cuda_devices().empty()) {
    state.SkipWithError("no CUDA device answers");
    return {};
  }
  solve_result<Real> result = run();
  for (auto _ : state) {
    result = run();
    state.SetIterationTime(result.summary.compute_seconds);
  }
  const double seconds = result.summary.compute_seconds;
  const double products = gram_products ? double(result.summary.products_issued) : 0.0;
  const bool fused = result.summary.path == execution_path::fused;
  const bool gpu_fused = result.summary.backend == backend_kind::cuda && fused;
  state.counters["problems_per_s"] = double(batch_size) / seconds;
  state.counters["gradient_evals_per_s"] = double(result.summary.gradient_evaluations) / seconds;
  state.counters["flops_per_s"] = products * bench::product_flops(n, k) / seconds;
  state.counters["bytes_per_s"] = products * bench::product_bytes(n, k, sizeof(Real)) / seconds;
  state.counters["steps_p50"] = bench::step_quantile(result, 0.5);
  state.counters["steps_p99"] = bench::step_quantile(result, 0.99);
  state.counters["wasted_on_stopped"] = bench::wasted_on_stopped(result, gpu_fused ? 32 : 1);
  state.counters["wasted_on_rejections"] = bench::wasted_on_rejections(result);
  state.counters["converged_fraction"] =
      double(result.summary.count(status::converged)) / double(batch_size);
  state.counters["batch_size"] = double(batch_size);
  state.counters["compactions"] = double(result.summary.compactions);
  state.SetLabel(result.summary.device);
  return result;
}

/// A least-squares case; explicit Runge–Kutta on gradient flow also reports every flop of its
/// steps (bench::runge_kutta_step_flops, the attempted steps the problems report: no masked lane
/// or stopped problem counts).
template <class Real>
solve_result<Real> timed_solve(benchmark::State& state, const least_squares_batch<Real>& batch,
                               const solve_options& options) {
  const bool explicit_flow = info_of(options.method).kind == method_kind::runge_kutta;
  auto result = timed_run<Real>(state, options.backend, batch.batch_size, batch.unknowns,
                                batch.rhs_count, true, [&] { return solve(batch, options); });
  if (explicit_flow && options.dynamics == dynamics::gradient &&
      result.summary.compute_seconds > 0) {
    double steps = 0;
    for (std::size_t i = 0; i < result.accepted_steps.size(); ++i)
      steps += double(result.accepted_steps[i] + result.rejected_steps[i]);
    state.counters["step_flops_per_s"] =
        steps * bench::runge_kutta_step_flops(options.method, batch.unknowns, batch.rhs_count) /
        result.summary.compute_seconds;
  }
  return result;
}

/// The built-in nonlinear objectives on either backend (mgh::solve: one thread per problem):
/// extended Rosenbrock at n = 8, each problem from x0 shifted by its own random offset (±0.2).
void objective_throughput(benchmark::State& state, backend_kind backend, method m,
                          std::int64_t count) {
  const auto info = mgh::sized(mgh::problem::extended_rosenbrock, 8);
  objective_batch<mgh::objective, double> batch;
  batch.unknowns = info.function.unknowns;
  batch.problems.assign(count, info.function);
  std::mt19937_64 engine(23);
  std::uniform_real_distribution<double> offset(-0.2, 0.2);
  for (std::int64_t i = 0; i < count; ++i)
    for (double value : info.start) batch.initial.push_back(value + offset(engine));
  solve_options options;
  options.backend = backend;
  options.method = m;
  if (m != method::tsit5) options.dt = m == method::fire ? 1e-3 : 1e-2;
  options.rtol_grad = stated_reduction<double>();
  options.max_steps = 200000;
  timed_run<double>(state, backend, count, batch.unknowns, 1, false,
                    [&] { return mgh::solve(batch, options); });
}

template <class Real>
solve_options timed_options(backend_kind backend, execution_path path, method m) {
  solve_options options;
  options.backend = backend;
  options.path = path;
  options.method = m;
  options.rtol_grad = stated_reduction<Real>();
  options.max_steps = 200000;
  return options;
}

/// Batch scaling: the seed problem (50×5, k = 2), Tsit5.
template <class Real>
void batch_scaling(benchmark::State& state, backend_kind backend, execution_path path) {
  const auto batch = seed_batch<Real>(state.range(0));
  timed_solve(state, batch, timed_options<Real>(backend, path, method::tsit5));
}

/// Size scaling: n×k problems, a batch that fills the memory budget (on the GPU 0.5 GB, ten times
/// its L2 cache and more: the products stream from device memory).
template <class Real>
void size_scaling(benchmark::State& state, backend_kind backend, execution_path path, method m) {
  const int n = int(state.range(0)), k = int(state.range(1));
  const double budget = backend == backend_kind::cuda ? 5e8 : short_run ? 4e6 : 2e7;
  const auto batch = sized_batch<Real>(n, k, batch_for_budget(n, k, budget, sizeof(Real)));
  timed_solve(state, batch, timed_options<Real>(backend, path, m));
}

/// RKCD with stage counts spread over 4…64 in one batch: the lockstep path masks a problem for the
/// stages beyond its own (wasted_on_stopped counts them), the fused path runs each its own count.
void mixed_stages(benchmark::State& state, backend_kind backend, execution_path path) {
  const auto batch = sized_batch<double>(8, 2, short_run ? 256 : 65536);
  auto options = timed_options<double>(backend, path, method::rkcd);
  std::vector<double> stage_counts(batch.batch_size);
  for (std::size_t i = 0; i < stage_counts.size(); ++i) stage_counts[i] = double(4 * (1 + i % 16));
  options.stages = stage_counts;
  timed_solve(state, batch, options);
}

/// Compaction: every tenth problem needs a 1e-8 reduction of ‖∇f‖, the rest 10^-0.4 (a tenth
/// of the steps); "hard_alone" solves the tenth by itself, the floor compaction aims at.
enum class compaction_case { masked, compacted, hard_alone };

void compaction(benchmark::State& state, backend_kind backend, compaction_case which,
                std::int64_t count) {
  auto batch = seed_batch<double>(count);
  auto options = timed_options<double>(backend, execution_path::lockstep, method::tsit5);
  std::vector<double> reduction(count, std::pow(10.0, -0.4));
  for (std::int64_t i = 0; i < count; i += 10) reduction[i] = 1e-8;
  if (which == compaction_case::hard_alone) {
    std::vector<std::int64_t> hard;
    for (std::int64_t i = 0; i < count; i += 10) hard.push_back(i);
    batch = select_members(batch, hard);
    reduction.assign(batch.batch_size, 1e-8);
  }
  options.rtol_grad = reduction;
  options.rtol = 1e-12;  // tight enough that the hard members' 1e-8 is reached, not stalled at
  options.atol = 1e-14;
  options.compaction_threshold = which == compaction_case::masked ? 0.0 : 0.5;
  timed_solve(state, batch, options);
}

/// A method of the flow-versus-baseline family: its dynamics, and its step control.
struct seed_case {
  method m;
  dynamics d;
  step_control control = step_control::method_default;
};

/// Flow versus baselines on the seed problem, each to ‖∇f‖ ≤ 1e-10 (time to the same accuracy).
void seed_method(benchmark::State& state, backend_kind backend, seed_case c, std::int64_t count) {
  const auto batch = seed_batch<double>(count);
  solve_options options;
  options.backend = backend;
  options.method = c.m;
  options.dynamics = c.d;
  options.control = c.control;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  options.gtol = 1e-10;
  timed_solve(state, batch, options);
}

void ceiling_case(benchmark::State& state, backend_kind backend, bool single) {
  bench::ceiling measured;
  try {
    if (backend == backend_kind::cuda) {
      if (cuda_devices().empty()) {
        state.SkipWithError("no CUDA device answers");
        return;
      }
#ifdef GRADFLOW_BENCH_CUDA
      measured = bench::measure_cuda_ceiling(single);
#endif
    } else {
      measured = bench::measure_cpu_ceiling(single);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) state.SetIterationTime(1);
  state.counters["bytes_per_s"] = measured.bytes_per_s;
  state.counters["flops_per_s"] = measured.flops_per_s;
}

#ifdef GRADFLOW_HAVE_OPENBLAS
/// The CPU backend against a plain OpenMP loop calling OpenBLAS per problem: 200 fixed Euler steps
/// on the seed batch with the gradient test (gtol = 0: every step is taken), both timed over the
/// step loop; the loop's answers are compared with gradflow's.
void blas_baseline(benchmark::State& state, bool use_gradflow, std::int64_t count) {
  constexpr std::int64_t steps = 200;
  constexpr double dt = 1e-3;
  const auto batch = seed_batch<double>(count);
  solve_options options;
  options.backend = backend_kind::cpu;
  options.path = execution_path::fused;
  options.method = method::euler;
  options.dt = dt;
  options.gtol = 0.0;
  options.max_steps = steps;
  if (use_gradflow) {
    timed_solve(state, batch, options);
    return;
  }
  double seconds = 0;
  std::vector<double> solution;
  for (auto _ : state) {
    solution = bench::blas_euler_loop(batch, dt, steps, 0.0, seconds);
    state.SetIterationTime(seconds);
  }
  const auto reference = solve(batch, options);
  double largest = 0;
  for (std::size_t e = 0; e < solution.size(); ++e)
    largest = std::max(largest, std::abs(solution[e] - reference.solution[e]));
  state.counters["max_difference_from_gradflow"] = largest;
  state.counters["problems_per_s"] = double(batch.batch_size) / seconds;
  state.counters["gradient_evals_per_s"] = double(batch.batch_size * steps) / seconds;
}
#endif

template <class Fn>
benchmark::internal::Benchmark* add(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1)
      ->Repetitions(short_run ? 1 : 3);
}

void register_cases() {
  std::vector<backend_kind> backends = {backend_kind::cpu};
  if (!cuda_devices().empty()) backends.push_back(backend_kind::cuda);
  const std::vector<execution_path> paths = {execution_path::fused, execution_path::lockstep};

  for (backend_kind backend : backends) {
    const bool gpu = backend == backend_kind::cuda;
    const std::string on = name_of(backend);
    for (bool single : {false, true}) {
      benchmark::RegisterBenchmark(("ceiling/" + on + (single ? "/f32" : "/f64")).c_str(),
                                   ceiling_case, backend, single)
          ->UseManualTime()
          ->Iterations(1);
    }

    const std::int64_t largest = short_run ? 1000 : gpu ? 10000000 : 100000;
    for (execution_path path : paths) {
      const std::string where = on + "/" + std::string(to_string(path));
      for (std::int64_t count = 100; count <= largest; count *= 10) {
        if (path == execution_path::lockstep && count > largest / 10 && !short_run) continue;
        add("batch/" + where + "/f64", [=](benchmark::State& s) {
          batch_scaling<double>(s, backend, path);
        })->Arg(count);
        add("batch/" + where + "/f32", [=](benchmark::State& s) {
          batch_scaling<float>(s, backend, path);
        })->Arg(count);
      }
    }

    // n = 512 on the CPU would take minutes per case: its sizes stop at 128.
    const std::vector<int> sizes = short_run ? std::vector<int>{5, 32}
                                   : gpu     ? std::vector<int>{5, 32, 128, 512}
                                             : std::vector<int>{5, 32, 128};
    const std::vector<int> rhs_counts =
        short_run ? std::vector<int>{2} : std::vector<int>{1, 2, 16};
    const std::vector<method> methods =
        short_run ? std::vector<method>{method::euler, method::tsit5}
                  : std::vector<method>{method::euler, method::rk4, method::tsit5};
    for (execution_path path : paths) {
      for (method m : methods) {
        const std::string where =
            on + "/" + std::string(to_string(path)) + "/" + std::string(to_string(m));
        for (int n : sizes) {
          // The automatic rule's range of the fused path: n ≤ 32, on the CPU's lanes n ≤ 128.
          if (path == execution_path::fused && n > (gpu ? 32 : 128)) continue;
          for (int k : rhs_counts) {
            add("size/" + where + "/f64", [=](benchmark::State& s) {
              size_scaling<double>(s, backend, path, m);
            })->Args({n, k});
            if (m == method::tsit5) {
              add("size/" + where + "/f32", [=](benchmark::State& s) {
                size_scaling<float>(s, backend, path, m);
              })->Args({n, k});
            }
          }
        }
      }
    }

    for (execution_path path : paths) {
      add("stages/" + on + "/" + std::string(to_string(path)),
          [=](benchmark::State& s) { mixed_stages(s, backend, path); });
    }

    const std::int64_t compaction_batch = short_run ? 1000 : gpu ? 1000000 : 20000;
    for (auto [which, label] : {std::pair{compaction_case::masked, "masked"},
                                std::pair{compaction_case::compacted, "compacted"},
                                std::pair{compaction_case::hard_alone, "hard_alone"}}) {
      add("compaction/" + on + "/" + label,
          [=](benchmark::State& s) { compaction(s, backend, which, compaction_batch); });
    }

    const std::int64_t method_batch = short_run ? 200 : gpu ? 1000000 : 10000;
    const std::vector<seed_case> flows_and_baselines = {
        {method::tsit5, dynamics::gradient},
        {method::tsit5, dynamics::heavy_ball},
        {method::tsit5, dynamics::newton},
        {method::euler, dynamics::gradient, step_control::descent},
        {method::linearly_implicit, dynamics::gradient},
        {method::rkcd, dynamics::gradient},
        {method::gd, dynamics::gradient},
        {method::nag, dynamics::gradient},
        {method::fire, dynamics::gradient},
        {method::lbfgs, dynamics::gradient},
        {method::cg, dynamics::gradient},
        {method::direct, dynamics::gradient}};
    for (const seed_case& c : flows_and_baselines) {
      const std::string control = c.control == step_control::descent ? "_descent" : "";
      add("method/" + on + "/" + std::string(to_string(c.m)) + "_" + std::string(to_string(c.d)) +
              control,
          [=](benchmark::State& s) { seed_method(s, backend, c, method_batch); });
    }

    const std::int64_t objective_batch_size = short_run ? 200 : gpu ? 1000000 : 2000;
    for (method m : {method::tsit5, method::linearly_implicit, method::fire}) {
      add("objective/" + on + "/" + std::string(to_string(m)),
          [=](benchmark::State& s) { objective_throughput(s, backend, m, objective_batch_size); });
    }
  }

#ifdef GRADFLOW_HAVE_OPENBLAS
  const std::int64_t blas_batch = short_run ? 1000 : 100000;
  add("blas_loop/cpu/gradflow", [=](benchmark::State& s) { blas_baseline(s, true, blas_batch); });
  add("blas_loop/cpu/openblas", [=](benchmark::State& s) { blas_baseline(s, false, blas_batch); });
#endif
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> arguments;
  for (int a = 0; a < argc; ++a) {
    if (std::strcmp(argv[a], "--short") == 0) {
      short_run = true;
    } else {
      arguments.push_back(argv[a]);
    }
  }
  int count = int(arguments.size());
  benchmark::Initialize(&count, arguments.data());
  if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) return 1;
#ifdef GRADFLOW_HAVE_OPENBLAS
  benchmark::AddCustomContext("openblas_kernels", gradflow::bench::openblas_kernels());
  if (gradflow::bench::openblas_passes_over_avx512()) {
    std::fprintf(stderr,
                 "gradflow_suite: OpenBLAS runs its %s kernels on a CPU with AVX-512 (is "
                 "OPENBLAS_CORETYPE set?): the CPU GEMM ceiling and the BLAS loop understate this "
                 "machine\n",
                 gradflow::bench::openblas_kernels().c_str());
  }
#endif
  register_cases();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
