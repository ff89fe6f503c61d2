// The CUDA backend against the CPU backend on the same batches. Results agree to rounding, never
// bitwise (FMA contraction and cuBLAS summation order differ). Skips when no device answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "gradflow/devices.hpp"
#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"

namespace gradflow {
namespace {

class CudaBackend : public ::testing::Test {
protected:
  void SetUp() override {
    if (!cuda_compiled()) GTEST_SKIP() << "libgradflow was built without CUDA";
    if (cuda_devices().empty()) GTEST_SKIP() << "no CUDA device answers (no driver or no GPU)";
  }
};

/// A mixed batch: the seed example with random U0, per-problem λ, one shared-nothing neighbour
/// scaled so that it cannot converge with the others.
template <class Real>
least_squares_batch<Real> mixed_batch(std::int64_t count) {
  random_spec spec;
  spec.batch_size = count;
  spec.random_initial = true;
  spec.seed = 99;
  auto batch = random_least_squares<Real>(spec);
  batch.lambda.resize(count);
  for (std::int64_t i = 0; i < count; ++i) batch.lambda[i] = Real(i % 4 == 0 ? 0.0 : 0.01 * i);
  const std::int64_t stiff = count / 2;
  for (int e = 0; e < batch.rows * batch.unknowns; ++e)
    batch.matrix[stiff * batch.rows * batch.unknowns + e] *= Real(30);
  return batch;
}

template <class Real>
void expect_backends_agree(const least_squares_batch<Real>& batch, solve_options options,
                           double solution_tolerance) {
  options.backend = backend_kind::cpu;
  const auto cpu = solve(batch, options);
  options.backend = backend_kind::cuda;
  const auto gpu = solve(batch, options);
  EXPECT_EQ(gpu.summary.backend, backend_kind::cuda);
  const std::int64_t len = std::int64_t(batch.unknowns) * batch.rhs_count;
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_EQ(gpu.outcome[i], cpu.outcome[i]) << "problem " << i;
    if (cpu.outcome[i] != status::converged) continue;
    double difference = 0, size = 0;
    for (std::int64_t e = 0; e < len; ++e) {
      difference +=
          std::pow(double(gpu.solution[i * len + e]) - double(cpu.solution[i * len + e]), 2);
      size += std::pow(double(cpu.solution[i * len + e]), 2);
    }
    EXPECT_LT(std::sqrt(difference / size), solution_tolerance) << "problem " << i;
    EXPECT_NEAR(double(gpu.objective[i]), double(cpu.objective[i]),
                1e-6 * std::max(1.0, double(cpu.objective[i])));
    // Step counts may differ by a rounding-sensitive accept/reject near EEst = 1.
    EXPECT_NEAR(double(gpu.accepted_steps[i]), double(cpu.accepted_steps[i]),
                2 + 0.02 * double(cpu.accepted_steps[i]))
        << "problem " << i;
  }
}

TEST_F(CudaBackend, Tsit5MatchesCpuInDoublePrecision) {
  solve_options options;
  options.max_steps = 3000;
  expect_backends_agree(mixed_batch<double>(257), options, 1e-7);
}

TEST_F(CudaBackend, Tsit5MatchesCpuInSinglePrecision) {
  solve_options options;
  options.max_steps = 3000;
  expect_backends_agree(mixed_batch<float>(257), options, 1e-3);
}

TEST_F(CudaBackend, FixedStepMethodsMatchCpu) {
  for (method integrator : {method::euler, method::rk4}) {
    solve_options options;
    options.method = integrator;
    options.max_steps = 20000;
    expect_backends_agree(mixed_batch<double>(130), options, 1e-7);
  }
}

TEST_F(CudaBackend, DivergingNeighboursStayIsolated) {
  auto batch = mixed_batch<double>(64);
  solve_options options;
  options.method = method::euler;
  options.dt = 0.01;  // unstable for the scaled neighbour only
  expect_backends_agree(batch, options, 1e-9);
  options.backend = backend_kind::cuda;
  EXPECT_EQ(solve(batch, options).outcome[32], status::diverged);
}

TEST_F(CudaBackend, OneContextServesLargerSmallerAndLargerBatches) {
  // A solver_context keeps its CUDA engine's buffers; a smaller batch after a larger one must
  // find them reset, and a lockstep run with factorisations and compaction must still match.
  solver_context context;
  for (std::int64_t count : {300, 37, 300}) {
    const auto batch = mixed_batch<double>(count);
    for (method m : {method::tsit5, method::linearly_implicit, method::cg}) {
      solve_options options;
      options.method = m;
      options.path = execution_path::lockstep;
      options.backend = backend_kind::cpu;
      const auto cpu = solve(batch, options);
      options.backend = backend_kind::cuda;
      const auto gpu = solve(batch, options, context);
      ASSERT_EQ(gpu.summary.backend, backend_kind::cuda);
      for (std::int64_t i = 0; i < count; ++i) {
        EXPECT_EQ(gpu.outcome[i], cpu.outcome[i]) << to_string(m) << ", problem " << i;
        EXPECT_NEAR(gpu.objective[i], cpu.objective[i], 1e-6 * std::max(1.0, cpu.objective[i]));
      }
    }
  }
}

TEST_F(CudaBackend, SharedMatrixAndTEnd) {
  random_spec spec;
  spec.batch_size = 33;
  auto batch = random_least_squares<double>(spec);
  batch.matrix.resize(std::size_t(batch.rows) * batch.unknowns);
  solve_options options;
  options.t_end = 0.5;
  options.gtol = 0.0;
  expect_backends_agree(batch, options, 1e-7);
}

struct method_case {
  method m;
  dynamics d;
};

class CudaMethods : public CudaBackend, public ::testing::WithParamInterface<method_case> {};

TEST_P(CudaMethods, MatchCpu) {
  const auto [m, d] = GetParam();
  auto batch = mixed_batch<double>(97);
  for (auto& lambda : batch.lambda) lambda += 0.05;  // Newton and direct need G positive definite
  solve_options options;
  options.method = m;
  options.dynamics = d;
  options.max_steps = 20000;
  if (d == dynamics::heavy_ball) options.zeta = 1.0;
  options.path = execution_path::lockstep;
  expect_backends_agree(batch, options, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    Everything, CudaMethods,
    ::testing::Values(
        method_case{method::bs3, dynamics::gradient}, method_case{method::dp5, dynamics::gradient},
        method_case{method::linearly_implicit, dynamics::gradient},
        method_case{method::tsit5, dynamics::heavy_ball},
        method_case{method::rk4, dynamics::nesterov}, method_case{method::tsit5, dynamics::newton},
        method_case{method::gd, dynamics::gradient},
        method_case{method::momentum, dynamics::gradient},
        method_case{method::nag, dynamics::gradient}, method_case{method::adam, dynamics::gradient},
        method_case{method::fire, dynamics::gradient},
        method_case{method::fire2, dynamics::gradient},
        method_case{method::lbfgs, dynamics::gradient},
        method_case{method::lgf, dynamics::gradient}, method_case{method::lgf, dynamics::newton},
        method_case{method::lgf_adam, dynamics::gradient},
        method_case{method::lgf_implicit, dynamics::gradient},
        method_case{method::cg, dynamics::gradient},
        method_case{method::direct, dynamics::gradient}),
    [](const auto& info) {
      return std::string(to_string(info.param.m)) + "_" + std::string(to_string(info.param.d));
    });

TEST_P(CudaMethods, FusedPathMatchesCpu) {
  const auto [m, d] = GetParam();
  auto batch = mixed_batch<double>(97);
  for (auto& lambda : batch.lambda) lambda += 0.05;
  solve_options options;
  options.method = m;
  options.dynamics = d;
  options.max_steps = 20000;
  options.path = execution_path::fused;
  if (d == dynamics::heavy_ball) options.zeta = 1.0;
  expect_backends_agree(batch, options, 1e-6);
}

TEST_F(CudaBackend, FusedProblemsBeyondTheResidentCapacityMatchCpu) {
  // n = 12 (n² > 64): the fused kernel runs these in place in the batch's arrays, not resident.
  random_spec spec;
  spec.batch_size = 65;
  spec.rows = 40;
  spec.unknowns = 12;
  spec.random_initial = true;
  spec.lambda = 0.05;
  solve_options options;
  options.path = execution_path::fused;
  options.max_steps = 5000;
  expect_backends_agree(random_least_squares<double>(spec), options, 1e-7);
}

TEST_F(CudaBackend, CompactionKeepsAnswersAndSkipsStoppedProblems) {
  // Every tenth problem needs a 1e-9 reduction of ‖∇f‖, the rest 1e-1: most stop early.
  const auto batch = mixed_batch<double>(300);
  std::vector<double> reduction(batch.batch_size, 1e-1);
  for (std::size_t i = 0; i < reduction.size(); i += 10) reduction[i] = 1e-9;
  solve_options options;
  options.path = execution_path::lockstep;
  options.rtol_grad = reduction;
  options.rtol = 1e-11;
  options.atol = 1e-13;
  options.max_steps = 3000;
  options.check_interval = 2;
  options.compaction_threshold = 1;
  expect_backends_agree(batch, options, 1e-7);
  options.backend = backend_kind::cuda;
  const auto compacted = solve(batch, options);
  options.compaction_threshold = 0;
  const auto masked = solve(batch, options);
  EXPECT_GE(compacted.summary.compactions, 2);
  EXPECT_EQ(masked.summary.compactions, 0);
  EXPECT_LT(compacted.summary.products_issued, masked.summary.products_issued);
  EXPECT_GE(compacted.summary.products_issued, compacted.summary.gradient_evaluations);
  EXPECT_EQ(compacted.outcome, masked.outcome);
}

TEST_F(CudaBackend, SweepRowsMatchTheCpuSweep) {
  random_spec problems_spec;
  problems_spec.batch_size = 2;
  problems_spec.random_initial = true;
  const auto problems = random_least_squares<double>(problems_spec);
  sweep_spec spec;
  spec.axes = {parse_axis("lr", "1e-3:1e-1:4:log"), parse_axis("zeta", "0.25,1,4")};
  spec.methods = {method::rk4};
  spec.base.dynamics = dynamics::heavy_ball;
  spec.base.max_steps = 5000;
  spec.base.backend = backend_kind::cpu;
  const auto cpu = run_sweep(problems, spec);
  spec.base.backend = backend_kind::cuda;
  const auto gpu = run_sweep(problems, spec);
  ASSERT_EQ(gpu.rows.size(), cpu.rows.size());
  for (std::size_t r = 0; r < cpu.rows.size(); ++r) {
    EXPECT_EQ(gpu.rows[r].outcome, cpu.rows[r].outcome) << "member " << r;
    EXPECT_EQ(gpu.rows[r].axis_values, cpu.rows[r].axis_values);
    EXPECT_NEAR(double(gpu.rows[r].accepted_steps), double(cpu.rows[r].accepted_steps), 2.0);
  }
}

TEST_F(CudaBackend, SweepSplitOverDevicesMatchesOneContext) {
  // Every device that answers, and device 0 twice (two contexts, two streams on one GPU).
  random_spec problems_spec;
  problems_spec.batch_size = 3;
  problems_spec.random_initial = true;
  const auto problems = random_least_squares<double>(problems_spec);
  sweep_spec spec;
  spec.axes = {parse_axis("lr", "1e-3:1e-1:5:log"), parse_axis("zeta", "0.25,1,4")};
  spec.methods = {method::rk4};
  spec.base.dynamics = dynamics::heavy_ball;
  spec.base.max_steps = 5000;
  spec.base.backend = backend_kind::cuda;
  const auto whole = run_sweep(problems, spec);
  std::vector<int> every = {0, 0};
  for (int d = 1; d < cuda_device_count(); ++d) every.push_back(d);
  device_set devices(every, true);
  const auto joined =
      devices.split(0, std::int64_t(whole.rows.size()),
                    [&](std::int64_t first, std::int64_t count, solver_context& context) {
                      return run_sweep(problems, spec, first, count, context);
                    });
  ASSERT_EQ(joined.rows.size(), whole.rows.size());
  for (std::size_t r = 0; r < whole.rows.size(); ++r) {
    EXPECT_EQ(joined.rows[r].member, whole.rows[r].member);
    EXPECT_EQ(joined.rows[r].outcome, whole.rows[r].outcome) << "member " << r;
    EXPECT_NEAR(double(joined.rows[r].accepted_steps), double(whole.rows[r].accepted_steps), 2.0);
    if (whole.rows[r].outcome == status::converged)
      EXPECT_NEAR(joined.rows[r].objective, whole.rows[r].objective,
                  1e-9 * std::max(1.0, std::abs(whole.rows[r].objective)));
  }
  for (const auto& run : joined.runs) EXPECT_EQ(run.backend, backend_kind::cuda);
  EXPECT_THROW(use_cuda_device(cuda_device_count()), no_device);
}

TEST_F(CudaBackend, BuiltInObjectivesRunOnTheDeviceFromPlainCpp) {
  // mgh::solve's GPU path is compiled into libgradflow: this file is g++'s.
  const auto info = mgh::sized(mgh::problem::extended_rosenbrock, 8);
  objective_batch<mgh::objective, double> batch;
  batch.unknowns = 8;
  for (int i = 0; i < 500; ++i) {
    batch.problems.push_back(info.function);
    for (double value : info.start) batch.initial.push_back(value + 0.001 * (i % 100));
  }
  solve_options options;
  options.method = method::linearly_implicit;
  options.dt = 1e-2;
  options.backend = backend_kind::cpu;
  const auto cpu = mgh::solve(batch, options);
  options.backend = backend_kind::cuda;
  const auto gpu = mgh::solve(batch, options);
  EXPECT_EQ(gpu.summary.backend, backend_kind::cuda);
  for (std::int64_t i = 0; i < batch.batch_size(); ++i) {
    ASSERT_EQ(cpu.outcome[i], status::converged) << "problem " << i;
    EXPECT_EQ(gpu.outcome[i], status::converged) << "problem " << i;
    for (int e = 0; e < 8; ++e) EXPECT_NEAR(gpu.solution[i * 8 + e], 1.0, 1e-6);
  }
}

}  // namespace
}  // namespace gradflow
