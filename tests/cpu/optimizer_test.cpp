// The classic optimisers: hand-computed iterates, published rates, finite termination, oracles.
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/gradflow.hpp"
#include "oracle.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

using testing::scalar_quadratic;

solve_options cpu(method m) {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = m;
  return options;
}

TEST(Momentum, FirstIteratesMatchHandComputation) {
  const double mu = 2.0, minimum = 1.0, lr = 0.1, beta = 0.5;
  double u = 3.0, v = 0.0;
  auto options = cpu(method::momentum);
  options.dt = lr;
  options.momentum = beta;
  options.gtol = 0.0;
  for (int steps = 1; steps <= 3; ++steps) {
    v = beta * v - lr * mu * (u - minimum);
    u += v;
    options.max_steps = steps;
    const auto result = solve(scalar_quadratic(mu, minimum, 3.0), options);
    EXPECT_NEAR(result.solution[0], u, 1e-14) << "iterate " << steps;
    EXPECT_EQ(result.accepted_steps[0], steps);
  }
}

TEST(Nag, FirstIteratesMatchHandComputation) {
  const double mu = 2.0, lr = 0.1, beta = 0.5;
  double u = 3.0, v = 0.0;
  auto options = cpu(method::nag);
  options.dt = lr;
  options.momentum = beta;
  options.gtol = 0.0;
  for (int steps = 1; steps <= 3; ++steps) {
    v = beta * v - lr * mu * (u + beta * v);
    u += v;
    options.max_steps = steps;
    EXPECT_NEAR(solve(scalar_quadratic(mu, 0.0, 3.0), options).solution[0], u, 1e-14);
  }
}

TEST(Adam, FirstIteratesMatchHandComputation) {
  const double mu = 2.0, lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double u = 3.0, m = 0, s = 0;
  auto options = cpu(method::adam);
  options.dt = lr;
  options.gtol = 0.0;
  for (int steps = 1; steps <= 3; ++steps) {
    const double g = mu * u;
    m = b1 * m + (1 - b1) * g;
    s = b2 * s + (1 - b2) * g * g;
    u -= lr * (m / (1 - std::pow(b1, steps))) / (std::sqrt(s / (1 - std::pow(b2, steps))) + eps);
    options.max_steps = steps;
    EXPECT_NEAR(solve(scalar_quadratic(mu, 0.0, 3.0), options).solution[0], u, 1e-14);
  }
}

TEST(GradientDescent, IsEulerOnTheGradientFlow) {
  random_spec spec;
  spec.batch_size = 3;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  auto gd = cpu(method::gd);
  gd.dt = 0.01;
  gd.max_steps = 7;
  gd.gtol = 0.0;
  auto euler = gd;
  euler.method = method::euler;
  const auto a = solve(batch, gd), b = solve(batch, euler);
  for (std::size_t e = 0; e < a.solution.size(); ++e)
    EXPECT_NEAR(a.solution[e], b.solution[e], 1e-13 * std::abs(b.solution[e]));
}

TEST(Momentum, OptimalHeavyBallAttainsItsRate) {
  // Curvatures spread over [μ, L] = [1, 400]: κ = 400, rate (√κ−1)/(√κ+1) = 19/21.
  least_squares_batch<double> problem;
  problem.batch_size = 1;
  problem.rows = problem.unknowns = 5;
  problem.rhs_count = 1;
  problem.matrix.assign(25, 0.0);
  const double roots[5] = {1, 3, 7, 13, 20};  // singular values: curvatures 1 … 400
  for (int d = 0; d < 5; ++d) problem.matrix[d * 6] = roots[d];
  problem.rhs = {1, 1, 1, 1, 1};
  const double mu = 1, big_l = 400, kappa = big_l / mu;
  auto options = cpu(method::momentum);
  options.dt = 4 / std::pow(std::sqrt(big_l) + std::sqrt(mu), 2);
  options.momentum = std::pow((std::sqrt(kappa) - 1) / (std::sqrt(kappa) + 1), 2);
  options.rtol_grad = 1e-10;
  const auto result = solve(problem, options);
  ASSERT_EQ(result.outcome[0], status::converged);
  const double rate = (std::sqrt(kappa) - 1) / (std::sqrt(kappa) + 1);
  const double predicted = std::log(1e-10) / std::log(rate);  // ≈ 219
  // The Jordan block of the double root adds a polynomial factor: allow 1.6×.
  EXPECT_LT(result.accepted_steps[0], 1.6 * predicted);
  EXPECT_GT(result.accepted_steps[0], 0.8 * predicted);
}

TEST(ConjugateGradient, SolvesInAtMostNIterations) {
  // Finite termination holds in exact arithmetic; rounding (loss of conjugacy) delays it in
  // proportion to κ(G), so the check uses a moderately conditioned G (κ(G) = 100).
  random_spec spec;
  spec.batch_size = 8;
  spec.condition_number = 10;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  auto options = cpu(method::cg);
  options.gtol = 0.0;
  options.max_steps = batch.unknowns;  // n steps: exact in exact arithmetic
  const auto result = solve(batch, options);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_EQ(result.accepted_steps[i], batch.unknowns);
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, 5, 2),
                                      testing::least_squares_solution(batch, i)),
              1e-10);
  }
  options.max_steps = 2;  // and not before: the oracle can tell
  const auto early = solve(batch, options);
  EXPECT_GT(testing::relative_error(testing::block_of(early.solution, 0, 5, 2),
                                    testing::least_squares_solution(batch, 0)),
            1e-6);
}

TEST(Lbfgs, OnAScalarQuadraticTheSecondStepIsNewtons) {
  // f = μ/2 (u − 1)²: the first step −lr·∇f is accepted; its pair gives H₀ = sᵀy/yᵀy = 1/μ, so the
  // second direction is the Newton step and lands on the minimum.
  auto options = cpu(method::lbfgs);
  options.dt = 0.1;
  options.gtol = 1e-12;
  const auto result = solve(scalar_quadratic(4.0, 1.0, 3.0), options);
  EXPECT_EQ(result.outcome[0], status::converged);
  EXPECT_EQ(result.accepted_steps[0], 2);
  EXPECT_EQ(result.rejected_steps[0], 0);
  EXPECT_NEAR(result.solution[0], 1.0, 1e-14);
  options.dt = 10.0;  // a first step far too long: halved until f falls
  const auto backtracked = solve(scalar_quadratic(4.0, 1.0, 3.0), options);
  EXPECT_EQ(backtracked.outcome[0], status::converged);
  EXPECT_GT(backtracked.rejected_steps[0], 0);
  EXPECT_NEAR(backtracked.solution[0], 1.0, 1e-12);
}

TEST(Lbfgs, ReachesTheLeastSquaresSolutionInFewIterations) {
  random_spec spec;
  spec.batch_size = 8;
  spec.condition_number = 100;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  auto options = cpu(method::lbfgs);
  options.rtol_grad = 1e-12;
  const auto result = solve(batch, options);
  auto gd = cpu(method::gd);
  gd.rtol_grad = 1e-12;
  const auto descent = solve(batch, gd);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_EQ(result.outcome[i], status::converged) << i;
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, 5, 2),
                                      testing::least_squares_solution(batch, i)),
              1e-9);
    EXPECT_LT(5 * result.gradient_evaluations[i], descent.gradient_evaluations[i]) << i;
  }
}

TEST(DirectSolve, AgreesWithQrAndTakesNoStep) {
  random_spec spec;
  spec.batch_size = 6;
  spec.condition_number = 1e3;  // Cholesky of G = AᵀA: error ~ κ(A)²·ε ≈ 1e-10
  auto batch = random_least_squares<double>(spec);
  batch.lambda = {0.0, 0.0, 0.1, 0.0, 1.0, 0.0};
  const auto result = solve(batch, cpu(method::direct));
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_EQ(result.outcome[i], status::converged);
    EXPECT_EQ(result.accepted_steps[i], 0);
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, 5, 2),
                                      testing::least_squares_solution(batch, i)),
              1e-9);
  }
}

class Fire : public ::testing::TestWithParam<method> {};

TEST_P(Fire, ReachesTheMinimumOfAQuadraticAndOfANarrowValley) {
  random_spec spec;
  spec.batch_size = 4;
  spec.random_initial = true;
  const auto quadratic = random_least_squares<double>(spec);
  // A narrow rotated valley: curvatures 1 and 1e4 along the diagonals.
  least_squares_batch<double> valley;
  valley.batch_size = 1;
  valley.rows = valley.unknowns = 2;
  valley.rhs_count = 1;
  const double c = std::sqrt(0.5);
  valley.matrix = {c * 1, c * 1, -c * 100, c * 100};
  valley.rhs = {0, 0};
  valley.initial = {-1.5, 2.0};
  for (const least_squares_batch<double>* batch :
       {&quadratic, const_cast<const least_squares_batch<double>*>(&valley)}) {
    auto options = cpu(GetParam());
    options.gtol = 1e-10;  // ‖x − x*‖ ≤ ‖g‖/μ_min with μ_min ≥ 1 here
    const auto result = solve(*batch, options);
    for (std::int64_t i = 0; i < batch->batch_size; ++i) {
      ASSERT_EQ(result.outcome[i], status::converged) << "problem " << i;
      const int n = batch->unknowns, k = batch->rhs_count;
      const testing::dense reference = testing::least_squares_solution(*batch, i);
      const double scale =
          std::max(reference.norm(), testing::block_of(batch->initial, i, n, k).norm());
      EXPECT_LT((testing::block_of(result.solution, i, n, k) - reference).norm() / scale, 1e-8);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, Fire, ::testing::Values(method::fire, method::fire2),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace gradflow
