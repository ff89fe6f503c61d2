// Per-problem statuses, and independence: a problem's answer does not depend on its neighbours.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "gradflow/gradflow.hpp"
#include "gradflow/methods.hpp"

namespace gradflow {
namespace {

least_squares_batch<double> seed_problems(std::int64_t count, std::uint64_t seed) {
  random_spec spec;
  spec.batch_size = count;
  spec.seed = seed;
  return random_least_squares<double>(spec);
}

/// `first` followed by `second`, problem by problem (per-problem A and B).
least_squares_batch<double> concatenate(const least_squares_batch<double>& first,
                                        const least_squares_batch<double>& second) {
  auto joined = first;
  joined.batch_size += second.batch_size;
  joined.matrix.insert(joined.matrix.end(), second.matrix.begin(), second.matrix.end());
  joined.rhs.insert(joined.rhs.end(), second.rhs.begin(), second.rhs.end());
  return joined;
}

least_squares_batch<double> scaled(least_squares_batch<double> batch, double factor) {
  for (double& value : batch.matrix) value *= factor;
  return batch;
}

solve_options cpu_options(method m) {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = m;
  return options;
}

void expect_same_problem(const solve_result<double>& alone, std::int64_t i,
                         const solve_result<double>& batch, std::int64_t j) {
  const std::int64_t len = alone.unknowns * alone.rhs_count;
  for (std::int64_t e = 0; e < len; ++e)
    EXPECT_EQ(alone.solution[i * len + e], batch.solution[j * len + e]);
  EXPECT_EQ(alone.outcome[i], batch.outcome[j]);
  EXPECT_EQ(alone.time[i], batch.time[j]);
  EXPECT_EQ(alone.objective[i], batch.objective[j]);
  EXPECT_EQ(alone.accepted_steps[i], batch.accepted_steps[j]);
  EXPECT_EQ(alone.rejected_steps[i], batch.rejected_steps[j]);
  EXPECT_EQ(alone.gradient_evaluations[i], batch.gradient_evaluations[j]);
}

TEST(Independence, DivergingNeighbourDoesNotChangeTheAnswer) {
  const auto good = seed_problems(1, 11);
  const auto bad = scaled(seed_problems(1, 12), 30.0);  // curvature ×900: dt = 0.01 is unstable
  auto options = cpu_options(method::euler);
  options.dt = 0.01;
  const auto alone = solve(good, options);
  const auto together = solve(concatenate(bad, concatenate(good, bad)), options);
  ASSERT_EQ(alone.outcome[0], status::converged);
  EXPECT_EQ(together.outcome[0], status::diverged);
  EXPECT_EQ(together.outcome[2], status::diverged);
  expect_same_problem(alone, 0, together, 1);
}

TEST(Independence, StiffNeighbourRunningLongerDoesNotChangeTheAnswer) {
  const auto good = seed_problems(1, 21);
  const auto stiff = scaled(seed_problems(1, 22), 1e3);
  auto options = cpu_options(method::tsit5);
  options.max_steps = 2000;
  const auto alone = solve(good, options);
  const auto together = solve(concatenate(stiff, good), options);
  ASSERT_EQ(alone.outcome[0], status::converged);
  EXPECT_EQ(together.outcome[0], status::max_steps);
  expect_same_problem(alone, 0, together, 1);
}

TEST(Outcome, MaxStepsCountsAcceptedAndRejected) {
  auto options = cpu_options(method::tsit5);
  options.max_steps = 5;
  const auto result = solve(seed_problems(3, 1), options);
  for (std::int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result.outcome[i], status::max_steps);
    EXPECT_EQ(result.accepted_steps[i] + result.rejected_steps[i], 5);
  }
}

TEST(Outcome, ReachedTEndLandsExactlyOnIt) {
  auto options = cpu_options(method::rk4);
  options.t_end = 0.3;
  options.dt = 0.007;  // 0.3 is not a multiple: the last step is clipped
  options.gtol = 0.0;
  const auto result = solve(seed_problems(2, 1), options);
  for (std::int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(result.outcome[i], status::reached_t_end);
    EXPECT_EQ(result.time[i], 0.3);
    EXPECT_EQ(result.accepted_steps[i], 43);
  }
}

TEST(Outcome, GradientDescentStopsAtTheStepNearestTEnd) {
  // An optimiser's step is not clipped (its rate is the method): it stops where the next would
  // end nearer t_end than this one, as a learned flow's epochs. gd ran on past t_end.
  auto options = cpu_options(method::gd);
  options.t_end = 0.3;
  options.dt = 0.007;  // 42.86 steps: the 43rd ends at 0.301
  options.gtol = 0.0;
  const auto result = solve(seed_problems(2, 1), options);
  for (std::int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(result.outcome[i], status::reached_t_end);
    EXPECT_EQ(result.accepted_steps[i], 43);
    EXPECT_NEAR(result.time[i], 0.301, 1e-12);
  }
}

TEST(Outcome, StepUnderflowBelowTheFloor) {
  auto options = cpu_options(method::tsit5);
  options.dt_min = 1e3;
  const auto result = solve(seed_problems(2, 1), options);
  EXPECT_EQ(result.summary.count(status::step_underflow), 2);
}

TEST(Outcome, AlreadyConvergedAtTheStartTakesNoStep) {
  auto options = cpu_options(method::tsit5);
  options.gtol = 1e9;
  const auto result = solve(seed_problems(2, 1), options);
  for (std::int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(result.outcome[i], status::converged);
    EXPECT_EQ(result.accepted_steps[i], 0);
    EXPECT_EQ(result.gradient_evaluations[i], 1);
  }
}

// A zero member (A = 0, B = 0: a batch padded to a size) is at its minimum from the start, ∇f = 0.
// Every method ends it converged there without a step — except where the run needs G's Cholesky
// factor (Newton flow, ζ's smallest curvature, the Chebyshev methods' μ, direct, and lgf_implicit's
// default lr = 1/‖G‖_∞, infinite here): invalid_input, as the README's Statuses say. It had ended
// lgf_implicit diverged after 65 rejected steps. Its neighbours' answers are their answers alone.
TEST(Outcome, AZeroMemberIsConvergedAtItsStartOrInvalidWhereTheRunFactorsG) {
  const auto neighbours = seed_problems(2, 61);
  auto zero = seed_problems(1, 62);
  std::fill(zero.matrix.begin(), zero.matrix.end(), 0.0);
  std::fill(zero.rhs.begin(), zero.rhs.end(), 0.0);
  const auto batch = concatenate(neighbours, zero);
  int runs = 0;
  for (const auto& m : method_table) {
    for (const auto& d : dynamics_table) {
      auto options = cpu_options(m.id);
      options.dynamics = d.id;
      options.max_steps = 500;
      solve_result<double> result;
      try {
        result = solve(batch, options);
      } catch (const invalid_argument&) {
        continue;  // a pairing the method does not take (an optimiser's dynamics)
      }
      ++runs;
      const std::string pairing = std::string(m.name) + " on " + std::string(d.name);
      const bool factors_g = d.id == dynamics::newton || d.id == dynamics::heavy_ball ||
                             m.id == method::rkcd || m.id == method::rkc ||
                             m.id == method::direct || m.id == method::lgf_implicit;
      EXPECT_EQ(result.outcome[2], factors_g ? status::invalid_input : status::converged)
          << pairing;
      EXPECT_EQ(result.accepted_steps[2], 0) << pairing;
      EXPECT_EQ(result.rejected_steps[2], 0) << pairing;
      if (!factors_g) {
        EXPECT_EQ(result.objective[2], 0.0) << pairing;
        for (std::int64_t e = 0; e < 10; ++e) EXPECT_EQ(result.solution[20 + e], 0.0) << pairing;
      }
      const auto alone = solve(neighbours, options);
      for (std::int64_t i = 0; i < 2; ++i) expect_same_problem(alone, i, result, i);
    }
  }
  EXPECT_GE(runs, 30);
}

TEST(Outcome, StalledWhenTheGradientStopsFallingOnBothPaths) {
  // κ(A) = 100: Tsit5 at the default rtol settles on its stability boundary with ‖∇f‖ above this
  // gtol. Each member must stop stalled long before max_steps, on both paths alike, while a tight
  // rtol (the cure the summary names) converges, and stall_window = 0 keeps the old budget burn.
  random_spec spec;
  spec.batch_size = 4;
  spec.rows = 40;
  spec.unknowns = 20;
  spec.rhs_count = 1;
  spec.condition_number = 100;
  const auto batch = random_least_squares<double>(spec);
  auto options = cpu_options(method::tsit5);
  options.gtol = 1e-9;
  options.max_steps = 400000;
  for (execution_path path : {execution_path::fused, execution_path::lockstep}) {
    options.path = path;
    const auto result = solve(batch, options);
    EXPECT_EQ(result.summary.count(status::stalled) + result.summary.count(status::converged), 4);
    EXPECT_GE(result.summary.count(status::stalled), 3);
    for (std::int64_t i = 0; i < 4; ++i) EXPECT_LT(result.accepted_steps[i], 100000) << i;
    EXPECT_NE(describe(result.summary).find("stalled: ‖∇f‖ stopped falling"), std::string::npos);
  }
  options.path = execution_path::automatic;
  options.max_steps = 60000;
  options.stall_window = 0;
  EXPECT_GE(solve(batch, options).summary.count(status::max_steps), 3);
  options.stall_window.reset();
  options.rtol = 1e-12;
  options.atol = 1e-14;
  EXPECT_EQ(solve(batch, options).summary.count(status::converged), 4);
}

TEST(Outcome, EveryMethodPassesTheSameFinalTestBeforeConverged) {
  // f overflows at the answer (B near the largest double): a direct solve reported converged with
  // f = Inf; now every method calls it diverged. Where C = AᵀB itself overflows the problem is
  // invalid_input, for every method, and its neighbour is untouched.
  auto batch = seed_problems(2, 3);
  const std::int64_t rhs_size = std::int64_t(batch.rows) * batch.rhs_count;
  for (std::int64_t e = 0; e < rhs_size; ++e) batch.rhs[e] = 1e300;
  for (method m : {method::direct, method::cg, method::tsit5, method::gd}) {
    const auto result = solve(batch, cpu_options(m));
    EXPECT_EQ(result.outcome[0], status::diverged) << to_string(m);
    EXPECT_EQ(result.outcome[1], status::converged) << to_string(m);
  }
  for (std::int64_t e = 0; e < rhs_size; ++e) batch.rhs[e] = 1.5e308;
  for (method m : {method::direct, method::cg, method::tsit5, method::adam}) {
    const auto result = solve(batch, cpu_options(m));
    EXPECT_EQ(result.outcome[0], status::invalid_input) << to_string(m);
    EXPECT_EQ(result.outcome[1], status::converged) << to_string(m);
  }
  // A direct solve is judged against the gradient test like the rest: far tighter than its
  // rounding floor, it is not converged.
  auto options = cpu_options(method::direct);
  options.gtol = 1e-300;
  EXPECT_EQ(solve(seed_problems(1, 4), options).outcome[0], status::stalled);
}

TEST(Outcome, SummaryCountsEveryStatusAndNamesTheBackend) {
  const auto good = seed_problems(3, 31);
  const auto bad = scaled(seed_problems(2, 32), 30.0);
  auto options = cpu_options(method::euler);
  options.dt = 0.01;
  const auto result = solve(concatenate(good, bad), options);
  EXPECT_EQ(result.summary.count(status::converged), 3);
  EXPECT_EQ(result.summary.count(status::diverged), 2);
  EXPECT_EQ(result.summary.batch_size, 5);
  EXPECT_EQ(result.summary.backend, backend_kind::cpu);
  const std::string text = describe(result.summary);
  EXPECT_NE(text.find("converged 3"), std::string::npos) << text;
  EXPECT_NE(text.find("diverged 2"), std::string::npos) << text;
}

TEST(Outcome, SkipInvalidSolvesTheRestAndMarksTheBad) {
  auto batch = seed_problems(5, 41);
  batch.matrix[1 * 250 + 3] = std::numeric_limits<double>::quiet_NaN();
  batch.lambda = {0.0, 0.0, 0.0, -1.0, 0.0};
  auto options = cpu_options(method::tsit5);
  options.zeta = std::vector<double>{1, 2, 3, 4, 5};  // per-member values follow their members
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options.skip_invalid = true;
  const auto result = solve(batch, options);
  EXPECT_EQ(result.summary.count(status::invalid_input), 2);
  EXPECT_EQ(result.summary.count(status::converged), 3);
  for (std::int64_t i : {1, 3}) {
    EXPECT_EQ(result.outcome[i], status::invalid_input);
    EXPECT_TRUE(std::isnan(result.solution[i * 10]));
  }
  options.skip_invalid = false;
  for (std::int64_t i : {0, 2, 4}) {
    const auto alone = solve(seed_problems(5, 41), options);
    expect_same_problem(alone, i, result, i);
  }
}

struct path_case {
  method m;
  dynamics d;
};

class ExecutionPaths : public ::testing::TestWithParam<path_case> {};

TEST_P(ExecutionPaths, FusedEqualsLockstepBitForBit) {
  // The same per-problem code in a different order of problems: identical results on the CPU.
  auto batch = seed_problems(40, 51);
  batch.lambda = {0.05};
  batch.matrix[7 * 250] *= 40;  // one stiff member that runs longer than the rest
  auto options = cpu_options(GetParam().m);
  options.dynamics = GetParam().d;
  options.max_steps = 3000;
  options.path = execution_path::lockstep;
  const auto lockstep = solve(batch, options);
  options.path = execution_path::fused;
  const auto fused = solve(batch, options);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) expect_same_problem(lockstep, i, fused, i);
  // Nesterov's ODE converges sublinearly: within 3000 steps its members end at max_steps.
  if (GetParam().d != dynamics::nesterov) EXPECT_GT(lockstep.summary.count(status::converged), 30);
}

INSTANTIATE_TEST_SUITE_P(
    Methods, ExecutionPaths,
    ::testing::Values(
        path_case{method::tsit5, dynamics::gradient}, path_case{method::rk4, dynamics::heavy_ball},
        path_case{method::euler, dynamics::nesterov}, path_case{method::tsit5, dynamics::newton},
        path_case{method::gd, dynamics::gradient}, path_case{method::momentum, dynamics::gradient},
        path_case{method::nag, dynamics::gradient}, path_case{method::adam, dynamics::gradient},
        path_case{method::fire, dynamics::gradient}, path_case{method::fire2, dynamics::gradient},
        path_case{method::cg, dynamics::gradient}, path_case{method::direct, dynamics::gradient}),
    [](const auto& info) {
      return std::string(to_string(info.param.m)) + "_" + std::string(to_string(info.param.d));
    });

TEST(ExecutionPath, TraceNeedsLockstep) {
  auto options = cpu_options(method::tsit5);
  options.trace_every = 5;
  options.path = execution_path::fused;
  EXPECT_THROW(solve(seed_problems(2, 1), options), invalid_argument);
  options.path = execution_path::automatic;  // chooses lockstep for the trace
  EXPECT_FALSE(solve(seed_problems(2, 1), options).trace.empty());
}

TEST(Backend, CudaRequestWithoutDeviceOrBuildIsAClearError) {
  if (!cuda_devices().empty()) GTEST_SKIP() << "a CUDA device answers here";
  solve_options options;
  options.backend = backend_kind::cuda;
  try {
    solve(seed_problems(1, 1), options);
    FAIL() << "cuda backend ran without a device";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
  options.backend = backend_kind::automatic;
  EXPECT_EQ(solve(seed_problems(1, 1), options).summary.backend, backend_kind::cpu);
}

}  // namespace
}  // namespace gradflow
