// The integrators against the exact solution of the linear flow U(t) = U* + exp(−Gt)(U0 − U*).
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/gradflow.hpp"
#include "oracle.hpp"

namespace gradflow {
namespace {

least_squares_batch<double> small_problems() {
  random_spec spec;
  spec.batch_size = 3;
  spec.rows = 8;
  spec.unknowns = 4;
  spec.rhs_count = 2;
  spec.condition_number = 10.0;  // curvatures of G in [0.01, 1]
  spec.random_initial = true;
  spec.seed = 7;
  return random_least_squares<double>(spec);
}

/// Largest relative error over the batch at t_end, against the exact flow.
double flow_error(const least_squares_batch<double>& batch, solve_options options, double t_end) {
  options.backend = backend_kind::cpu;
  options.t_end = t_end;
  options.gtol = 0.0;  // integrate to t_end: no gradient stop
  const auto result = solve(batch, options);
  double worst = 0;
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_EQ(result.outcome[i], status::reached_t_end) << "problem " << i;
    EXPECT_EQ(result.time[i], t_end);
    const testing::dense exact = testing::exact_flow(batch, i, t_end);
    const testing::dense displacement =
        exact - testing::block_of(batch.initial, i, batch.unknowns, batch.rhs_count);
    worst = std::max(
        worst,
        (testing::block_of(result.solution, i, batch.unknowns, batch.rhs_count) - exact).norm() /
            displacement.norm());
  }
  return worst;
}

TEST(FlowAccuracy, Rk4AtFixedStepMatchesExactFlow) {
  solve_options options;
  options.method = method::rk4;
  options.dt = 0.05;
  EXPECT_LT(flow_error(small_problems(), options, 4.0), 1e-8);
}

TEST(FlowAccuracy, EmbeddedPairsWithErrorControlMatchExactFlowToTolerance) {
  for (method pair : {method::bs3, method::tsit5, method::dp5}) {
    solve_options options;
    options.method = pair;
    for (double tolerance : {1e-6, 1e-10}) {
      options.rtol = tolerance;
      options.atol = tolerance;
      const double error = flow_error(small_problems(), options, 4.0);
      EXPECT_LT(error, 100 * tolerance) << to_string(pair) << " rtol " << tolerance;
      EXPECT_GT(error, 1e-4 * tolerance)
          << to_string(pair) << " suspiciously exact at rtol " << tolerance;
    }
  }
}

struct order_case {
  method integrator;
  double coarse_dt;
  int expected_order;
  double stages = 0;  ///< rkcd, rkc: a fixed stage count
};

class ObservedOrder : public ::testing::TestWithParam<order_case> {};

TEST_P(ObservedOrder, HalvingDtDividesErrorByTwoToTheOrder) {
  const auto [integrator, coarse_dt, expected_order, stages] = GetParam();
  const auto batch = small_problems();
  solve_options options;
  options.method = integrator;
  options.control = step_control::fixed;
  if (stages > 0) options.stages = stages;
  double previous = 0;
  for (int halving = 0; halving < 3; ++halving) {
    options.dt = coarse_dt / std::pow(2.0, halving);
    const double error = flow_error(batch, options, 4.0);
    if (halving > 0) {
      const double observed = std::log2(previous / error);
      // Never below the order; the last (most asymptotic) halving close to it. Tsit5's leading
      // error term is deliberately small, so its ratios approach 5 from above.
      EXPECT_GT(observed, expected_order - 0.25)
          << "dt " << options.dt.at(0, 0) << " error " << error;
      if (halving == 2) EXPECT_NEAR(observed, expected_order, 0.4) << "dt " << options.dt.at(0, 0);
    }
    previous = error;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Methods, ObservedOrder,
    ::testing::Values(order_case{method::euler, 0.1, 1}, order_case{method::rk4, 0.25, 4},
                      order_case{method::bs3, 0.25, 3}, order_case{method::tsit5, 0.25, 5},
                      order_case{method::dp5, 0.25, 5}, order_case{method::rkcd, 0.1, 1, 4},
                      order_case{method::rkc, 0.25, 2, 4}),
    [](const auto& info) { return std::string(to_string(info.param.integrator)); });

}  // namespace
}  // namespace gradflow
