// Heavy ball, Nesterov ODE and Newton flow against closed forms and published bounds.
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/gradflow.hpp"
#include "oracle.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

using testing::scalar_quadratic;

/// x(t) = u(t) − u* of x'' + 2ζω x' + ω² x = 0, x(0) = x0, x'(0) = 0.
double damped_oscillator(double omega, double zeta, double x0, double t) {
  if (zeta < 1) {
    const double damped = omega * std::sqrt(1 - zeta * zeta);
    return std::exp(-zeta * omega * t) *
           (x0 * std::cos(damped * t) + zeta * omega * x0 / damped * std::sin(damped * t));
  }
  if (zeta == 1) return std::exp(-omega * t) * x0 * (1 + omega * t);
  const double root = std::sqrt(zeta * zeta - 1);
  const double r1 = -omega * (zeta - root), r2 = -omega * (zeta + root);
  return x0 / (r2 - r1) * (r2 * std::exp(r1 * t) - r1 * std::exp(r2 * t));
}

solve_options tight(method m, dynamics d) {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = m;
  options.dynamics = d;
  options.rtol = 1e-11;
  options.atol = 1e-13;
  options.gtol = 0.0;
  return options;
}

TEST(HeavyBall, MatchesTheDampedOscillatorForEveryRegime) {
  const double mu = 4.0, minimum = 0.5, start = 2.0, t_end = 3.0;
  auto options = tight(method::tsit5, dynamics::heavy_ball);
  options.t_end = t_end;
  options.zeta = std::vector<double>{0.3, 1.0, 2.5};  // one member per regime
  const auto result = solve(scalar_quadratic(mu, minimum, start, 3), options);
  for (std::int64_t i = 0; i < 3; ++i) {
    ASSERT_EQ(result.outcome[i], status::reached_t_end);
    const double expected =
        minimum + damped_oscillator(std::sqrt(mu), options.zeta.at(i, 0), start - minimum, t_end);
    EXPECT_NEAR(result.solution[i], expected, 1e-8) << "zeta " << options.zeta.at(i, 0);
  }
  EXPECT_GT(std::abs(result.solution[0] - result.solution[2]), 1e-2) << "regimes must differ";
}

TEST(HeavyBall, MassAndDampingParameterisationMatchesZeta) {
  // m u'' + c u' + μ x = 0: ω = √(μ/m), ζ = c / (2√(m μ)).
  const double mu = 3.0, mass = 2.0, damping = 1.5, t_end = 2.0;
  auto options = tight(method::tsit5, dynamics::heavy_ball);
  options.t_end = t_end;
  options.mass = mass;
  options.damping = damping;
  const auto result = solve(scalar_quadratic(mu, 0.0, 1.0), options);
  const double omega = std::sqrt(mu / mass), zeta = damping / (2 * std::sqrt(mass * mu));
  EXPECT_NEAR(result.solution[0], damped_oscillator(omega, zeta, 1.0, t_end), 1e-8);
}

TEST(HeavyBall, ConvergedOnlyOnceTheVelocityIsSmallToo) {
  auto options = tight(method::tsit5, dynamics::heavy_ball);
  options.zeta = 0.05;  // swings through the minimum many times
  options.gtol = 1e-6;
  const auto result = solve(scalar_quadratic(1.0, 0.0, 1.0), options);
  ASSERT_EQ(result.outcome[0], status::converged);
  // At convergence both |x| ≤ gtol/μ and |v| ≤ gtol: the energy ½v² + ½μx² is tiny.
  EXPECT_LT(std::abs(result.solution[0]), 1e-6);
  EXPECT_GT(result.time[0], 50.0) << "a lightly damped swing takes ~1/(ζω) to settle";
}

TEST(HeavyBall, FewestStepsNearCriticalDampingOfTheSlowestMode) {
  // Curvatures 1, 4, 25, 100 (κ = 100); ζ measured against μ_min = 1.
  least_squares_batch<double> problem;
  problem.batch_size = 1;
  problem.rows = problem.unknowns = 4;
  problem.rhs_count = 1;
  problem.matrix = {1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 5, 0, 0, 0, 0, 10};
  problem.rhs = {1, 1, 1, 1};
  std::vector<double> zetas;
  for (int j = 0; j < 21; ++j) zetas.push_back(0.1 * std::pow(40.0, j / 20.0));  // 0.1 … 4
  auto batch = problem;
  batch.batch_size = std::int64_t(zetas.size());
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::rk4;
  options.dynamics = dynamics::heavy_ball;
  options.dt = 0.02;  // fixed: steps ∝ time to converge
  options.gtol = 1e-8;
  options.zeta = zetas;
  const auto result = solve(batch, options);
  std::size_t best = 0;
  for (std::size_t j = 0; j < zetas.size(); ++j) {
    ASSERT_EQ(result.outcome[j], status::converged) << "zeta " << zetas[j];
    if (result.accepted_steps[j] < result.accepted_steps[best]) best = j;
  }
  EXPECT_GT(zetas[best], 0.5);
  EXPECT_LT(zetas[best], 2.0);
  EXPECT_GT(result.accepted_steps.front(), 2 * result.accepted_steps[best]);
  EXPECT_GT(result.accepted_steps.back(), 2 * result.accepted_steps[best]);
}

TEST(NesterovOde, GapStaysUnderTwoDistanceSquaredOverTSquared) {
  random_spec spec;
  spec.batch_size = 4;
  spec.rows = 20;
  spec.unknowns = 6;
  spec.condition_number = 30;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  for (double t_end : {0.5, 1.0, 2.0, 5.0, 10.0, 20.0}) {
    auto options = tight(method::tsit5, dynamics::nesterov);
    options.t_end = t_end;
    const auto result = solve(batch, options);
    for (std::int64_t i = 0; i < batch.batch_size; ++i) {
      ASSERT_EQ(result.outcome[i], status::reached_t_end);
      const auto distance =
          (testing::block_of(batch.initial, i, 6, 2) - testing::least_squares_solution(batch, i))
              .squaredNorm();
      EXPECT_LE(result.objective[i], 2 * distance / (t_end * t_end)) << "t " << t_end;  // f* = 0
    }
  }
}

TEST(NewtonFlow, GradientDecaysAsExpMinusT) {
  random_spec spec;
  spec.batch_size = 3;
  spec.condition_number = 1e3;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  auto options = tight(method::tsit5, dynamics::newton);
  options.t_end = 3.0;
  const auto result = solve(batch, options);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    const auto a = testing::matrix_of(batch, i);
    const testing::dense initial_gradient =
        a.transpose() * (a * testing::block_of(batch.initial, i, 5, 2) - testing::rhs_of(batch, i));
    EXPECT_NEAR(result.gradient_norm[i] / initial_gradient.norm(), std::exp(-3.0), 1e-7);
  }
}

TEST(NewtonFlow, OneEulerStepOfLengthOneIsNewtonsMethod) {
  random_spec spec;
  spec.batch_size = 3;
  spec.condition_number = 1e3;  // Cholesky of G = AᵀA: error ~ κ(A)²·ε ≈ 1e-10
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::euler;
  options.dynamics = dynamics::newton;
  options.dt = 1.0;
  options.max_steps = 1;
  const auto result = solve(batch, options);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, 5, 2),
                                      testing::least_squares_solution(batch, i)),
              1e-9);
    EXPECT_EQ(result.accepted_steps[i], 1);
  }
}

TEST(NewtonFlow, SingularGramMatrixIsInvalidInputNotACrash) {
  least_squares_batch<double> batch;
  batch.batch_size = 1;
  batch.rows = 2;
  batch.unknowns = 2;
  batch.rhs_count = 1;
  batch.matrix = {1, 1, 1, 1};  // rank 1
  batch.rhs = {1, 1};
  auto options = tight(method::tsit5, dynamics::newton);
  EXPECT_EQ(solve(batch, options).outcome[0], status::invalid_input);
  batch.lambda = {0.5};  // ridge makes G positive definite
  options.gtol = 1e-9;
  EXPECT_EQ(solve(batch, options).outcome[0], status::converged);
}

}  // namespace
}  // namespace gradflow
