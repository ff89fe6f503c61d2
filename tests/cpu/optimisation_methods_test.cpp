// Methods made for optimisation: descent (SER) step control, the linearly implicit Euler step, and
// what they change against error-controlled explicit Runge–Kutta on ill-conditioned problems.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "gradflow/detail/chebyshev_step.hpp"
#include "gradflow/gradflow.hpp"
#include "oracle.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

/// `count` random 40×8 problems with κ(G) = κ(A)² = `condition`, U0 uniform in [0, 1).
least_squares_batch<double> conditioned_problems(double condition, std::int64_t count = 8) {
  random_spec spec;
  spec.batch_size = count;
  spec.rows = 40;
  spec.unknowns = 8;
  spec.rhs_count = 1;
  spec.condition_number = std::sqrt(condition);
  spec.random_initial = true;
  spec.seed = 21;
  return random_least_squares<double>(spec);
}

/// f(u) = ½(u₁² + u₂²/κ): G = diag(1, 1/κ), minimum 0 at the origin, starting mostly along the
/// slow direction (u0 = (1e-3, 1)), so that reducing ‖∇f‖ means resolving the slow mode.
least_squares_batch<double> diagonal_quadratic(double condition) {
  least_squares_batch<double> batch;
  batch.batch_size = 1;
  batch.rows = batch.unknowns = 2;
  batch.rhs_count = 1;
  batch.matrix = {1, 0, 0, 1 / std::sqrt(condition)};
  batch.rhs = {0, 0};
  batch.initial = {1e-3, 1};
  return batch;
}

solve_options cpu_options(method m, step_control control = step_control::method_default) {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = m;
  options.control = control;
  options.rtol_grad = 1e-8;
  return options;
}

double mean_evaluations(const solve_result<double>& result) {
  return double(std::accumulate(result.gradient_evaluations.begin(),
                                result.gradient_evaluations.end(), std::int64_t(0))) /
         double(result.gradient_evaluations.size());
}

void expect_all_converged_to_the_minimiser(const least_squares_batch<double>& batch,
                                           const solve_result<double>& result, double tolerance) {
  ASSERT_EQ(result.summary.count(status::converged), batch.batch_size) << describe(result.summary);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, batch.unknowns, 1),
                                      testing::least_squares_solution(batch, i)),
              tolerance)
        << "problem " << i;
  }
}

TEST(LinearlyImplicitEuler, AnInfiniteStepIsOneNewtonStep) {
  const auto batch = conditioned_problems(1e4);
  auto options = cpu_options(method::linearly_implicit, step_control::fixed);
  options.dt = 1e15;  // (I/h + G)⁻¹ → G⁻¹: the exact minimiser of a quadratic in one step
  const auto result = solve(batch, options);
  expect_all_converged_to_the_minimiser(batch, result, 1e-8);
  for (std::int64_t steps : result.accepted_steps) EXPECT_EQ(steps, 1);
}

TEST(LinearlyImplicitEuler, DescentControlConvergesQuadraticallyAtTheEnd) {
  // SER grows h as ‖∇f‖ falls, so the step tends to Newton's: ‖∇f‖ squares (in relative terms)
  // from one step to the next near the end.
  const auto batch = conditioned_problems(1e4, 1);
  auto options = cpu_options(method::linearly_implicit);
  options.rtol_grad = hyperparameter();
  options.gtol = 1e-13;
  options.path = execution_path::lockstep;
  options.trace_every = 1;
  const auto result = solve(batch, options);
  expect_all_converged_to_the_minimiser(batch, result, 1e-8);
  EXPECT_LE(result.accepted_steps[0], 30);
  std::vector<double> relative;  // ‖∇f_n‖ / ‖∇f_0‖ at each accepted step
  for (const auto& point : result.trace) relative.push_back(point.gradient_norm);
  for (double& value : relative) value /= result.trace.front().gradient_norm;
  // The observed order p_n = ln(g_{n+1}/g_n) / ln(g_n/g_{n−1}): 1 for linear convergence, 2 for
  // quadratic. Looked at while g is well above rounding.
  bool quadratic = false;
  for (std::size_t n = 1; n + 1 < relative.size(); ++n) {
    if (relative[n + 1] < 1e-13 || relative[n] >= relative[n - 1]) continue;
    const double order =
        std::log(relative[n + 1] / relative[n]) / std::log(relative[n] / relative[n - 1]);
    if (order > 1.8) quadratic = true;
  }
  EXPECT_TRUE(quadratic) << "no step squared the relative gradient norm";
}

TEST(DescentControl, RejectsUphillStepsThatFixedStepsWouldTake) {
  const auto batch = conditioned_problems(1e2);
  auto options = cpu_options(method::euler, step_control::fixed);
  options.dt = 50.0;  // far beyond Euler's stability limit 2/L = 2
  EXPECT_EQ(solve(batch, options).summary.count(status::diverged), batch.batch_size);
  options.control = step_control::descent;
  const auto result = solve(batch, options);
  expect_all_converged_to_the_minimiser(batch, result, 1e-6);
  for (std::int64_t rejected : result.rejected_steps) EXPECT_GE(rejected, 4);  // 50 → below 2
}

TEST(DescentControl, NeedsGradientDynamicsAndAnIntegrator) {
  const auto batch = conditioned_problems(1e2, 1);
  auto options = cpu_options(method::rk4, step_control::descent);
  options.dynamics = dynamics::heavy_ball;
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options = cpu_options(method::gd, step_control::descent);
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options = cpu_options(method::tsit5, step_control::descent);
  options.dynamics = dynamics::newton;
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options = cpu_options(method::linearly_implicit);
  options.dynamics = dynamics::newton;
  EXPECT_THROW(solve(batch, options), invalid_argument);
}

TEST(IllConditioning, ErrorControlPlateausWhereTheLinearlyImplicitStepDoesNot) {
  // Tsit5 under error control settles with dt on its stability boundary (~3.3/L), so its work
  // grows like κ (κ ×100 here); descent control with an explicit method is held at
  // that boundary too; the linearly implicit step's work grows like log κ (h must grow to 1/μ);
  // RKCD's like √κ.
  std::vector<double> tsit5, tsit5_descent, implicit, chebyshev;
  for (double condition : {1e2, 1e4}) {
    const auto batch = diagonal_quadratic(condition);
    auto options = cpu_options(method::tsit5);
    options.rtol_grad = 1e-6;
    options.max_steps = 1000000;
    tsit5.push_back(mean_evaluations(solve(batch, options)));
    options.control = step_control::descent;
    tsit5_descent.push_back(mean_evaluations(solve(batch, options)));
    options = cpu_options(method::linearly_implicit);
    options.rtol_grad = 1e-6;
    implicit.push_back(mean_evaluations(solve(batch, options)));
    options = cpu_options(method::rkcd);
    options.rtol_grad = 1e-6;
    chebyshev.push_back(mean_evaluations(solve(batch, options)));
  }
  EXPECT_GT(tsit5[1] / tsit5[0], 30.0) << tsit5[0] << " → " << tsit5[1];
  EXPECT_GT(tsit5_descent[1] / tsit5_descent[0], 30.0)
      << tsit5_descent[0] << " → " << tsit5_descent[1];
  EXPECT_LT(implicit[1] / implicit[0], 2.5) << implicit[0] << " → " << implicit[1];
  // RKCD takes s ∝ √κ stages per step of length ∝ s²/L: its work grows like √κ (×10 here).
  EXPECT_GT(chebyshev[1] / chebyshev[0], 4.0) << chebyshev[0] << " → " << chebyshev[1];
  EXPECT_LT(chebyshev[1] / chebyshev[0], 25.0) << chebyshev[0] << " → " << chebyshev[1];
}

TEST(Rkcd, StabilityLengthIsTwoMinusFourEtaThirdsTimesSSquared) {
  // The asymptotic length (Eftekhari et al.) for light damping, against the exact 2ω0/ω1.
  for (int s : {10, 40}) {
    const double exact = detail::rkcd_stability_length(s, 0.05);
    EXPECT_NEAR(exact / ((2 - 4 * 0.05 / 3) * s * s), 1.0, 0.01) << "s = " << s;
  }
}

TEST(Rkcd, BoundedUpToTheStabilityLengthAndBlowsUpBeyond) {
  // f = ½u² (L = 1): with h = 0.98ℓ_s the iterates stay bounded, with 1.05ℓ_s they grow.
  for (double eta : {0.05, 1.0}) {
    const int s = 10;
    const double length = detail::rkcd_stability_length(s, eta);
    auto options = cpu_options(method::rkcd, step_control::fixed);
    options.stages = double(s);
    options.eta = eta;
    options.rtol_grad = hyperparameter();
    options.gtol = 0.0;
    options.max_steps = 400;
    options.dt = 0.98 * length;
    const auto stable = solve(testing::scalar_quadratic(1.0, 0.0, 1.0), options);
    EXPECT_NE(stable.outcome[0], status::diverged) << "eta " << eta;
    EXPECT_LT(std::fabs(stable.solution[0]), 1.0) << "eta " << eta;
    options.dt = 1.05 * length;
    EXPECT_EQ(solve(testing::scalar_quadratic(1.0, 0.0, 1.0), options).outcome[0], status::diverged)
        << "eta " << eta;
  }
}

TEST(Chebyshev, StagesAndDampingAreValidated) {
  const auto batch = conditioned_problems(1e2, 1);
  auto options = cpu_options(method::rkc);
  options.stages = 1.0;  // rkc needs two
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options = cpu_options(method::rkcd);
  options.stages = 2.5;
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options.stages = hyperparameter();
  options.eta = -1.0;
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options.eta = hyperparameter();
  options.dynamics = dynamics::heavy_ball;
  EXPECT_THROW(solve(batch, options), invalid_argument);
}

}  // namespace
}  // namespace gradflow
