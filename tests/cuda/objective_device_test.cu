// Objectives on the GPU (one CUDA thread per problem) against the same batch on the CPU: a user's
// functor compiled here by nvcc, and the MGH set through libgradflow_mgh's nvcc-built mgh::solve
// (compiling it here too would double this file's build, the longest of the tree). Agreement to
// rounding, never bitwise. Skips when no device answers; built on every machine with nvcc, so the
// device path of gradflow/objective.hpp always compiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"
#include "gradflow/objective.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

using testing::rosenbrock_valley;

class ObjectivesOnDevice : public ::testing::Test {
protected:
  void SetUp() override {
    if (cuda_devices().empty()) GTEST_SKIP() << "no CUDA device answers (no driver or no GPU)";
  }
};

/// solve_objectives instantiated in this file, for the functor compiled here.
const auto compiled_here = [](const auto& batch, const solve_options& options) {
  return solve_objectives(batch, options);
};

template <class Objective, class Solve>
void expect_device_matches_cpu(const objective_batch<Objective, double>& batch,
                               solve_options options, const Solve& solve) {
  options.backend = backend_kind::cpu;
  const auto cpu = solve(batch, options);
  options.backend = backend_kind::cuda;
  const auto gpu = solve(batch, options);
  EXPECT_EQ(gpu.summary.backend, backend_kind::cuda);
  if (options.path != execution_path::automatic) EXPECT_EQ(gpu.summary.path, options.path);
  const int n = batch.unknowns;
  for (std::int64_t i = 0; i < batch.batch_size(); ++i) {
    if (cpu.outcome[i] != status::converged) continue;  // chaotic paths may part after many steps
    EXPECT_EQ(gpu.outcome[i], status::converged) << "problem " << i;
    EXPECT_NEAR(gpu.objective[i], cpu.objective[i], 1e-8 * std::max(1.0, cpu.objective[i]))
        << "problem " << i;
    for (int e = 0; e < n; ++e)
      EXPECT_NEAR(gpu.solution[i * n + e], cpu.solution[i * n + e],
                  1e-6 * std::max(1.0, std::fabs(cpu.solution[i * n + e])))
          << "problem " << i << ", unknown " << e;
  }
}

TEST_F(ObjectivesOnDevice, AUserFunctorWithPerProblemParametersMatchesTheCpu) {
  objective_batch<rosenbrock_valley, double> batch;
  batch.unknowns = 2;
  for (int i = 0; i < 1000; ++i) {
    batch.problems.push_back({0.5 + 0.001 * i, 10.0 + i % 90});
    batch.initial.insert(batch.initial.end(), {-1.2, 1.0});
  }
  for (method m : {method::tsit5, method::linearly_implicit, method::fire, method::adam}) {
    solve_options options;
    options.method = m;
    options.dt = m == method::adam ? 1e-2 : 1e-3;
    options.gtol = 1e-8;
    options.max_steps = 100000;
    SCOPED_TRACE(std::string(to_string(m)));
    expect_device_matches_cpu(batch, options, compiled_here);
  }
}

TEST_F(ObjectivesOnDevice, TheLockstepPathWithCompactionAndTracesMatchesTheCpu) {
  objective_batch<rosenbrock_valley, double> batch;
  batch.unknowns = 2;
  for (int i = 0; i < 500; ++i) {
    batch.problems.push_back({0.5 + 0.001 * i, 1.0 + i % 60});
    batch.initial.insert(batch.initial.end(), {-1.2, 1.0});
  }
  for (method m : {method::tsit5, method::linearly_implicit, method::nag}) {
    solve_options options;
    options.method = m;
    options.path = execution_path::lockstep;
    options.dt = m == method::nag ? 1e-4 : 1e-3;
    options.momentum = 0.9;
    options.gtol = 1e-8;
    options.max_steps = 100000;
    options.trace_every = 50;
    options.compaction_threshold = 0.9;  // compaction happens, and later kernels visit a list
    SCOPED_TRACE(std::string(to_string(m)));
    expect_device_matches_cpu(batch, options, compiled_here);
    options.backend = backend_kind::cuda;
    const auto gpu = solve_objectives(batch, options);
    EXPECT_GT(gpu.summary.compactions, 0);
    EXPECT_FALSE(gpu.trace.empty());
  }
}

TEST_F(ObjectivesOnDevice, TheMghSetMatchesTheCpuFromEachStart) {
  // A batch per problem: a batch shares n.
  for (const auto& info : mgh::test_set()) {
    objective_batch<mgh::objective, double> one;
    one.unknowns = info.function.unknowns;
    for (double scale : {1.0, 10.0, 100.0}) {
      one.problems.push_back(info.function);
      for (double value : info.start) one.initial.push_back(scale * value);
    }
    solve_options options;  // the two users of the Hessian products
    options.method = method::linearly_implicit;
    options.dt = 1e-2;
    options.rtol_grad = 1e-10;
    options.max_steps = 5000;
    SCOPED_TRACE(info.name);
    expect_device_matches_cpu(one, options, mgh::solve);
    options.method = method::tsit5;
    options.dynamics = dynamics::newton;
    SCOPED_TRACE("newton flow");
    expect_device_matches_cpu(one, options, mgh::solve);
  }
}

/// Asks nvcc for the integrators' fused kernel alone (README, "Your own objective").
struct valley_integrated_on_the_gpu : rosenbrock_valley {
  static constexpr unsigned gpu_fused_kernels = fused_kernels::integrators;
};

TEST_F(ObjectivesOnDevice, AMethodWithoutItsFusedKernelRunsLockstepOnTheGpu) {
  objective_batch<valley_integrated_on_the_gpu, double> batch;
  batch.unknowns = 2;
  for (int i = 0; i < 300; ++i) {
    batch.problems.push_back({{0.5 + 0.001 * i, 10.0 + i % 90}});
    batch.initial.insert(batch.initial.end(), {-1.2, 1.0});
  }
  solve_options options;
  options.dt = 1e-2;
  options.gtol = 1e-8;
  options.max_steps = 100000;
  options.backend = backend_kind::cuda;
  EXPECT_EQ(solve_objectives(batch, options).summary.path, execution_path::fused);  // tsit5
  options.method = method::adam;
  EXPECT_EQ(solve_objectives(batch, options).summary.path, execution_path::lockstep);
  expect_device_matches_cpu(batch, options, compiled_here);
  options.path = execution_path::fused;  // the copy above ran on the CPU too; this one on the GPU
  EXPECT_THROW(solve_objectives(batch, options), invalid_argument);
}

TEST_F(ObjectivesOnDevice, AutomaticPicksTheDevice) {
  objective_batch<rosenbrock_valley, double> batch;
  batch.unknowns = 2;
  batch.problems = {rosenbrock_valley{}};
  solve_options options;
  options.method = method::tsit5;
  EXPECT_EQ(solve_objectives(batch, options).summary.backend, backend_kind::cuda);
}

TEST(ObjectivesWithoutDevice, AutomaticRunsOnTheCpuAndCudaIsAClearError) {
  if (!cuda_devices().empty()) GTEST_SKIP() << "a CUDA device answers";
  objective_batch<rosenbrock_valley, double> batch;
  batch.unknowns = 2;
  batch.problems = {rosenbrock_valley{}};
  solve_options options;
  options.method = method::tsit5;
  options.gtol = 1e-4;
  const auto result = solve_objectives(batch, options);
  EXPECT_EQ(result.summary.backend, backend_kind::cpu);
  EXPECT_EQ(result.outcome[0], status::converged);
  options.backend = backend_kind::cuda;
  EXPECT_THROW(solve_objectives(batch, options), no_device);
}

}  // namespace
}  // namespace gradflow
