// Learned gradient flow (method::lgf) against closed forms and direct solves: on a quadratic the
// affine surrogate is the true flow, so a jump is RK4 on the true linear ODE (a closed form per
// eigen-direction); on least squares two windows land on the direct solution; on a nonconvex
// valley the guard rejects jumps and every run ends in a status with finite numbers.
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/gradflow.hpp"
#include "gradflow/objective.hpp"
#include "oracle.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

using testing::diagonal_quadratic;

solve_options learned_flow(double record, double window) {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::lgf;
  options.lgf_record = record;
  options.lgf_window = window;
  return options;
}

TEST(LearnedFlow, AJumpIsRk4OnTheTrueFlowOfAQuadratic) {
  // K = 5 gd steps, a jump of J = 10 RK4 steps of lr on the fitted surrogate (exact here: three
  // distinct curvatures, four differences), the guard's true evaluation at the landing, one more gd
  // step: per direction e ← (1 − x)^K · R(−x)^J · (1 − x) · e with x = lr·λ and R RK4's
  // amplification 1 + z + z²/2 + z³/6 + z⁴/24.
  const std::vector<double> curvature{1.0, 0.5, 0.2}, minimum{1.0, -2.0, 0.5},
      start{3.0, 1.0, -1.0};
  const double lr = 0.5;
  const int record = 5, jump = 10;
  solve_options options = learned_flow(record, record + jump);
  options.dt = lr;
  options.gtol = 0;
  options.stall_window = 0;
  options.max_steps = record + 2;  // K steps, the jump, the step after its guard
  const auto result = solve(diagonal_quadratic(curvature, minimum, start), options);
  EXPECT_EQ(result.outcome[0], status::max_steps);
  EXPECT_EQ(result.accepted_steps[0], record + 2);
  EXPECT_NEAR(result.time[0], (record + jump + 1) * lr, 1e-12);  // pseudo-time: the jump's J steps
  EXPECT_EQ(result.gradient_evaluations[0], record + 1);         // the jump took no true gradient
  EXPECT_EQ(result.surrogate_evaluations[0], 4 * jump);  // but four of the learned field a step
  EXPECT_EQ(result.rejected_steps[0], 0);
  for (int k = 0; k < 3; ++k) {
    const double z = -lr * curvature[k];
    const double rk4 = 1 + z + z * z / 2 + z * z * z / 6 + z * z * z * z / 24;
    const double expected = minimum[k] + (start[k] - minimum[k]) * std::pow(1 + z, record) *
                                             std::pow(rk4, jump) * (1 + z);
    EXPECT_NEAR(result.solution[k], expected, 1e-12 * (1 + std::fabs(expected)))
        << "direction " << k;
  }
}

/// The continuous Adam system's right-hand side (η = lr, n iterations) with the true gradient of
/// f = ½ Σ λ_k (u_k − m_k)², written out independently of the library.
void continuous_adam(const std::vector<double>& curvature, const std::vector<double>& minimum,
                     double lr, double n, const std::vector<double>& y,
                     std::vector<double>& slope) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const std::size_t d = curvature.size();
  slope.assign(3 * d, 0.0);
  for (std::size_t k = 0; k < d; ++k) {
    const double g = curvature[k] * (y[k] - minimum[k]), m = y[d + k], s = y[2 * d + k];
    slope[d + k] = (1 - b1) * (g - m) / lr;
    slope[2 * d + k] = (1 - b2) * (g * g - s) / lr;
    slope[k] = -(m / (1 - std::pow(b1, n))) / (std::sqrt(s / (1 - std::pow(b2, n))) + eps);
  }
}

TEST(LearnedFlow, AJumpOverAdamIsRk4OnTheContinuousAdamSystem) {
  // On a quadratic the recorded gradients are exactly affine, so the learned g is ∇f and a jump is
  // RK4 on the continuous Adam system with the true gradient: K = 5 Adam steps, J = 10 RK4 steps
  // of Δt = lr from n = 5 (m, s carried over), the guard's evaluation at the landing, one more
  // Adam step with n = K + J + 1 — all replayed here from the definitions.
  const std::vector<double> curvature{1.0, 0.5, 0.2}, minimum{1.0, -2.0, 0.5},
      start{3.0, 1.0, -1.0};
  const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const int record = 5, jump = 10, d = 3;
  solve_options options = learned_flow(record, record + jump);
  options.method = method::lgf_adam;
  options.dt = lr;
  options.gtol = 0;
  options.stall_window = 0;
  options.max_steps = record + 2;
  const auto result = solve(diagonal_quadratic(curvature, minimum, start), options);

  std::vector<double> y(3 * d, 0.0);  // θ, m, s
  std::copy(start.begin(), start.end(), y.begin());
  const auto adam_step = [&](double n) {
    for (int k = 0; k < d; ++k) {
      const double g = curvature[k] * (y[k] - minimum[k]);
      y[d + k] = b1 * y[d + k] + (1 - b1) * g;
      y[2 * d + k] = b2 * y[2 * d + k] + (1 - b2) * g * g;
      y[k] -= lr * (y[d + k] / (1 - std::pow(b1, n))) /
              (std::sqrt(y[2 * d + k] / (1 - std::pow(b2, n))) + eps);
    }
  };
  for (int n = 1; n <= record; ++n) adam_step(n);
  std::vector<double> k1, k2, k3, k4, stage(3 * d);
  for (int q = 0; q < jump; ++q) {
    const double n = record + q;
    continuous_adam(curvature, minimum, lr, n, y, k1);
    for (int e = 0; e < 3 * d; ++e) stage[e] = y[e] + lr / 2 * k1[e];
    continuous_adam(curvature, minimum, lr, n + 0.5, stage, k2);
    for (int e = 0; e < 3 * d; ++e) stage[e] = y[e] + lr / 2 * k2[e];
    continuous_adam(curvature, minimum, lr, n + 0.5, stage, k3);
    for (int e = 0; e < 3 * d; ++e) stage[e] = y[e] + lr * k3[e];
    continuous_adam(curvature, minimum, lr, n + 1, stage, k4);
    for (int e = 0; e < 3 * d; ++e) y[e] += lr / 6 * (k1[e] + 2 * k2[e] + 2 * k3[e] + k4[e]);
  }
  adam_step(record + jump + 1);

  EXPECT_EQ(result.outcome[0], status::max_steps);
  EXPECT_EQ(result.rejected_steps[0], 0);
  EXPECT_EQ(result.gradient_evaluations[0], record + 1);
  EXPECT_EQ(result.surrogate_evaluations[0], 4 * jump);
  EXPECT_NEAR(result.time[0], (record + jump + 1) * lr, 1e-12);
  for (int k = 0; k < d; ++k) {
    EXPECT_NE(result.solution[k], start[k]);
    EXPECT_NEAR(result.solution[k], y[k], 1e-10 * (1 + std::fabs(y[k]))) << "direction " << k;
  }
}

TEST(LearnedFlow, OverAdamTheJumpsSaveTrueGradientsAndTheGuardKeepsDescent) {
  // Adam alone and lgf_adam at K/M = 25/50 on the same least-squares batch, same epochs: lgf_adam
  // takes about half the true gradients (501 of 1000 here) and ends as near the direct solve as
  // Adam (within 2 % on each member here).
  random_spec spec;
  spec.batch_size = 4;
  spec.rows = 30;
  spec.unknowns = 6;
  spec.rhs_count = 1;
  const auto batch = random_least_squares<double>(spec);
  solve_options adam;
  adam.backend = backend_kind::cpu;
  adam.method = method::adam;
  adam.dt = 1e-2;
  adam.gtol = 0;
  adam.stall_window = 0;
  adam.max_steps = 1000;
  const auto alone = solve(batch, adam);
  solve_options learned = learned_flow(25, 50);
  learned.method = method::lgf_adam;
  learned.dt = 1e-2;
  learned.gtol = 0;
  learned.stall_window = 0;
  learned.t_end = 1000 * 1e-2;
  learned.max_steps = 100000;
  const auto jumped = solve(batch, learned);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(jumped.outcome[i], status::reached_t_end) << i;
    EXPECT_LT(double(jumped.gradient_evaluations[i]), 0.7 * 1000) << i;
    EXPECT_GT(jumped.surrogate_evaluations[i], 0) << i;
    const auto exact = testing::least_squares_solution(batch, i);
    const double adam_error =
        testing::relative_error(testing::block_of(alone.solution, i, 6, 1), exact);
    const double learned_error =
        testing::relative_error(testing::block_of(jumped.solution, i, 6, 1), exact);
    EXPECT_LE(learned_error, 1.1 * adam_error) << i;
  }
}

TEST(LearnedFlow, TwoWindowsReachTheLeastSquaresSolution) {
  // κ(G) = 100, 10 unknowns per member, K = 25: the window's iterates span the unknowns, the
  // affine surrogate is the gradient flow itself, and a long jump (J = 2·10⁵ steps of lr) lands on
  // the minimiser. The budget ends the run after two windows and the second landing's guard.
  random_spec spec;
  spec.batch_size = 4;
  spec.condition_number = 10;  // of A
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  const int record = 25, jump = 200000;
  solve_options options = learned_flow(record, record + jump);  // lr: the default 1/‖G‖_∞
  options.rtol_grad = 1e-14;
  options.max_steps = 2 * (record + 1) + 1;
  const auto result = solve(batch, options);
  auto gd = options;
  gd.method = method::gd;
  gd.rtol_grad = 1e-10;
  gd.max_steps = 1000000;
  const auto descent = solve(batch, gd);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_LE(result.gradient_evaluations[i], 2 * record + 2) << i;
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, 5, 2),
                                      testing::least_squares_solution(batch, i)),
              1e-8)
        << i;
    EXPECT_EQ(descent.outcome[i], status::converged) << i;
    EXPECT_GT(descent.gradient_evaluations[i], 20 * result.gradient_evaluations[i]) << i;
  }
}

TEST(LearnedFlow, OverLinearlyImplicitEulerTwoWindowsReachTheSolutionAtKappa1e4) {
  // κ(G) = 10⁴ (‖G‖ = 1), 10 unknowns: over gd a window's iterates cannot tell the slow modes apart
  // (README, "Measured limit"), but linearly implicit Euler with h = 1000 contracts each mode by
  // its own 1/(1 + hλ) — from 1/1.1 to 1/1001 — so two windows of K = 10 and jumps of 2·10⁵ steps
  // land within 1e-8 of the direct solve, where the base alone after the same 21 true steps is >
  // 1e-3 away.
  random_spec spec;
  spec.batch_size = 8;
  spec.unknowns = 10;
  spec.condition_number = 100;  // of A
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  const int record = 10;
  solve_options options = learned_flow(record, record + 200000);
  options.method = method::lgf_implicit;
  options.dt = 1000.0;
  options.rtol_grad = 1e-14;
  options.max_steps = 2 * (record + 1) + 1;
  const auto result = solve(batch, options);
  auto base = options;
  base.method = method::linearly_implicit;
  base.control = step_control::fixed;
  base.max_steps = 2 * record + 1;
  const auto alone = solve(batch, base);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    const auto exact = testing::least_squares_solution(batch, i);
    EXPECT_LE(result.gradient_evaluations[i], 2 * record + 1) << i;
    EXPECT_LT(testing::relative_error(testing::block_of(result.solution, i, 10, 2), exact), 1e-8)
        << i;
    EXPECT_GT(testing::relative_error(testing::block_of(alone.solution, i, 10, 2), exact), 1e-3)
        << i;
  }
}

TEST(LearnedFlow, SavesTheJumpsShareOfTrueGradientsAtThePapersWindow) {
  // K/M = 25/50 (the heat problem's setting) on a quadratic whose four curvatures the window
  // resolves: every jump is accepted, so about half of the epochs (t/lr) took no true gradient.
  const double lr = 0.1;
  solve_options options = learned_flow(25, 50);
  options.dt = lr;
  options.rtol_grad = 1e-10;
  const auto result =
      solve(diagonal_quadratic({1.0, 0.7, 0.5, 0.3}, {1, 2, 3, 4}, {0, 0, 0, 0}), options);
  EXPECT_EQ(result.outcome[0], status::converged);
  EXPECT_EQ(result.rejected_steps[0], 0);
  const double epochs = result.time[0] / lr;
  EXPECT_GT(epochs, 150);  // several windows
  EXPECT_NEAR(double(result.gradient_evaluations[0]) / epochs, 0.5, 0.05);
}

TEST(LearnedFlow, TEndBoundsTheEpochsAndShortensTheLastJump) {
  // lr 0.1, t_end 3: 30 epochs. K = 5 steps (t = 0.5), a jump cut from M − K = 45 to the 24 steps
  // that leave room for the step after its guard (t = 2.9), that step (t = 3), reached_t_end.
  solve_options options = learned_flow(5, 50);
  options.dt = 0.1;
  options.t_end = 3;
  options.gtol = 0;
  const auto result = solve(diagonal_quadratic({1.0, 0.5, 0.2}, {1, 2, 3}, {0, 0, 0}), options);
  EXPECT_EQ(result.outcome[0], status::reached_t_end);
  EXPECT_NEAR(result.time[0], 3.0, 1e-12);
  EXPECT_EQ(result.gradient_evaluations[0], 6);
  EXPECT_EQ(result.surrogate_evaluations[0], 4 * 24);
  EXPECT_EQ(result.accepted_steps[0], 7);
}

struct double_well {  // f = (u² − 1)², minima at ±1
  GRADFLOW_HD double value(const double* x) const { return (x[0] * x[0] - 1) * (x[0] * x[0] - 1); }
  GRADFLOW_HD void gradient(const double* x, double* g) const {
    g[0] = 4 * x[0] * (x[0] * x[0] - 1);
  }
};

TEST(LearnedFlow, TheGuardRejectsJumpsThatRaiseFAndTheRunStillConverges) {
  // From u = 0.05 the flow leaves the maximum at 0 exponentially; an affine surrogate fitted there
  // extrapolates that growth far past the minimum at 1, so long jumps raise f, are rejected and
  // halved until one lands downhill.
  objective_batch<double_well, double> batch;
  batch.unknowns = 1;
  batch.problems.assign(3, double_well{});
  batch.initial = {0.05, -0.05, 0.3};
  solve_options options = learned_flow(5, 5 + 4000);
  options.dt = 0.01;
  options.gtol = 1e-9;
  options.max_steps = 200000;
  const auto result = solve_objectives(batch, options);
  std::int64_t rejected = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(result.outcome[i], status::converged) << i;
    EXPECT_NEAR(std::fabs(result.solution[i]), 1.0, 1e-9) << i;
    EXPECT_EQ(std::signbit(result.solution[i]), std::signbit(batch.initial[i])) << i;
    rejected += result.rejected_steps[i];
  }
  EXPECT_GT(rejected, 0) << "no jump was rejected: the guard went untested";
}

TEST(LearnedFlow, AJumpThatOutrunsGradientFlowIsRefusedWithoutATrueGradient) {
  // Near the double well's maximum the fitted flow grows like e^{4t}: a jump of τ = 40 would go
  // ~e^{160} away, far past 2·τ·max|f'|. It is refused before any evaluation (a landing the guard
  // rejects would cost one), and the member goes on with gd from θ_K: 6 gd steps in all.
  objective_batch<double_well, double> batch;
  batch.unknowns = 1;
  batch.problems = {double_well{}};
  batch.initial = {0.05};
  solve_options options = learned_flow(5, 5 + 4000);
  options.dt = 0.01;
  options.gtol = 0;
  options.max_steps = 7;  // 5 steps, the refused jump, one more step
  const auto result = solve_objectives(batch, options);
  EXPECT_EQ(result.rejected_steps[0], 1);
  EXPECT_EQ(result.accepted_steps[0], 6);
  EXPECT_EQ(result.gradient_evaluations[0], 6);
  EXPECT_EQ(result.surrogate_evaluations[0], 4 * 4000);  // the refused jump was integrated
  double u = 0.05;
  for (int step = 0; step < 6; ++step) u -= 0.01 * 4 * u * (u * u - 1);
  EXPECT_NEAR(result.solution[0], u, 1e-15);
}

TEST(LearnedFlow, BadWindowsAndFitsAreRejectedNamingTheField) {
  const auto batch = diagonal_quadratic({1.0}, {0.0}, {1.0});
  auto expect_invalid = [&](solve_options options, const std::string& words) {
    try {
      solve(batch, options);
      ADD_FAILURE() << "accepted: " << words;
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_invalid(learned_flow(1, 50), "invalid lgf_record = 1: must be an integer in [2, 32]");
  expect_invalid(learned_flow(33, 50), "invalid lgf_record = 33: must be an integer in [2, 32]");
  // Out of any whole range, or not whole: the same range is named.
  expect_invalid(learned_flow(1e300, 50),
                 "invalid lgf_record = 1e+300: must be an integer in [2, 32]");
  expect_invalid(learned_flow(2.5, 50), "invalid lgf_record = 2.5: must be an integer in [2, 32]");
  expect_invalid(learned_flow(25, 25), "invalid lgf_window = 25");
  solve_options per_member = learned_flow(5, 50);
  per_member.lgf_window = std::vector<double>{50.0};
  per_member.lgf_rank = -1.0;
  expect_invalid(per_member, "invalid lgf_rank = -1");
  per_member.lgf_rank = 5.0;  // K = 5 snapshots span 4 modes
  expect_invalid(per_member, "invalid lgf_rank = 5: must be at most lgf_record − 1 = 4");
  per_member.lgf_rank = 4.0;
  EXPECT_NO_THROW(solve(batch, per_member));
  const solve_options base = learned_flow(8, 18);
  auto options = base;
  options.lgf_degree = 3.0;
  expect_invalid(options, "invalid lgf_degree = 3: must be 1 or 2");
  options.lgf_degree = 1.5;  // the choices are named, not a whole range they lie in
  expect_invalid(options, "invalid lgf_degree = 1.5: must be 1 or 2");
  options = base;
  options.lgf_target = 3.0;
  expect_invalid(options, "invalid lgf_target = 3: must be 0 (tracked), 1 (strong) or 2 (weak)");
  options = base;
  options.lgf_target = 1.0;
  options.lgf_order = 3.0;
  expect_invalid(options, "invalid lgf_order = 3: must be 1, 2 or 4");
  options = base;
  options.lgf_record = 4.0;  // weak: bumps of half-width 2 leave one row
  options.lgf_target = 2.0;
  expect_invalid(options, "leaves rows = 1 for the fit");
  options = base;
  options.method = method::lgf_adam;
  options.lgf_target = 1.0;
  expect_invalid(options, "for method = lgf_adam");
  options = base;
  options.method = method::lgf_adam;
  options.lgf_threshold = 0.1;
  expect_invalid(options, "invalid lgf_threshold for method = lgf_adam");
  options = base;
  options.method = method::lgf_adam;
  options.dynamics = dynamics::newton;
  expect_invalid(options, "invalid dynamics = newton for method = lgf_adam");
}

}  // namespace
}  // namespace gradflow
