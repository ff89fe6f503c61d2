// The heat inverse problem (gradflow/heat_inverse.hpp) against a transcription of its authors'
// setup with explicit grids (Eigen): F and F' on the midpoint grid, κ per point, the solution
// u = Fθ on every time and the data at a* = (2, 1); its gradient against central differences.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "gradflow/heat_inverse.hpp"

namespace gradflow {
namespace {

constexpr int n = 30, points = 250;
constexpr double pi = 3.14159265358979323846, dx = 1.0 / points;

/// The modes on the midpoint grid: x, F (points × n, sin(iπx)) and F' (iπ cos(iπx)).
struct modes_on_the_grid {
  Eigen::VectorXd x = Eigen::VectorXd(points);
  Eigen::MatrixXd f = Eigen::MatrixXd(points, n), slope = Eigen::MatrixXd(points, n);
  modes_on_the_grid() {
    for (int p = 0; p < points; ++p) {
      x[p] = (p + 0.5) * dx;
      for (int i = 0; i < n; ++i) {
        f(p, i) = std::sin((i + 1) * pi * x[p]);
        slope(p, i) = (i + 1) * pi * std::cos((i + 1) * pi * x[p]);
      }
    }
  }
};

/// log(Δx Δt Σ_{t,x} (u_a − u_{a*})²) computed on the grid, as the paper's code does.
double loss_on_the_grid(double a1, double a2) {
  const int times = 500;
  const double dt = 2.0 / (times - 1);
  const modes_on_the_grid grid;
  const Eigen::VectorXd& x = grid.x;
  const Eigen::MatrixXd &f = grid.f, &slope = grid.slope;
  const Eigen::MatrixXd mass = dx * f.transpose() * f;
  const auto trajectory = [&](double left, double right) {
    Eigen::VectorXd kappa(points);
    for (int p = 0; p < points; ++p) kappa[p] = x[p] > 0.5 ? right : left;
    const Eigen::MatrixXd stiffness = slope.transpose() * kappa.asDiagonal() * slope;
    const Eigen::MatrixXd step = (mass / dt + stiffness).inverse();
    Eigen::MatrixXd theta = Eigen::MatrixXd::Zero(n, times);
    for (int t = 0; t + 1 < times; ++t) {
      Eigen::VectorXd force = Eigen::VectorXd::Zero(n);
      force[1] = 1000 * std::sin(2 * pi * (t + 1) * dt);
      theta.col(t + 1) = step * (force + mass / dt * theta.col(t));
    }
    return Eigen::MatrixXd(f * theta);  // u on the grid, points × times
  };
  const Eigen::MatrixXd difference = trajectory(a1, a2) - trajectory(2, 1);
  return std::log(dx * dt * difference.squaredNorm());
}

TEST(HeatInverse, ClosedFormMatricesMatchTheSumsOverTheGrid) {
  // The evaluator's M = I/2, K₁ and diag(K) in closed form against Δx·FᵀF and Σ_x κ F'ᵢF'ⱼ summed
  // over the midpoint grid, κ the indicator of each half.
  const modes_on_the_grid grid;
  const Eigen::MatrixXd &f = grid.f, &slope = grid.slope;
  Eigen::VectorXd left_half(points), right_half(points);
  for (int p = 0; p < points; ++p) {
    left_half[p] = grid.x[p] > 0.5 ? 0 : 1;
    right_half[p] = 1 - left_half[p];
  }
  const Eigen::MatrixXd mass = dx * f.transpose() * f;
  EXPECT_LT((mass - 0.5 * Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-14);
  const Eigen::MatrixXd left = slope.transpose() * left_half.asDiagonal() * slope;
  const Eigen::MatrixXd right = slope.transpose() * right_half.asDiagonal() * slope;
  Eigen::MatrixXd closed_left(n, n);
  Eigen::VectorXd whole(n);
  heat_inverse<double>::stiffness_halves(closed_left.data(), whole.data());  // symmetric
  const double scale = left.cwiseAbs().maxCoeff();                           // 1.1e6
  EXPECT_LT((closed_left - left).cwiseAbs().maxCoeff(), 1e-13 * scale);
  const Eigen::MatrixXd sum = left + right;
  EXPECT_LT((Eigen::MatrixXd(whole.asDiagonal()) - sum).cwiseAbs().maxCoeff(), 1e-13 * scale);
}

TEST(HeatInverse, LossMatchesTheGridComputationOfItsAuthorsSetup) {
  const heat_inverse<double> problem;
  for (const auto& a : {std::array<double, 2>{0.5, 4.05}, std::array<double, 2>{1.7, 1.3},
                        std::array<double, 2>{3.0, 0.4}}) {
    const double expected = loss_on_the_grid(a[0], a[1]);
    EXPECT_NEAR(problem.value(a.data()), expected, 1e-10 * std::fabs(expected))
        << a[0] << ", " << a[1];
  }
  const double truth[2] = {2, 1};
  EXPECT_EQ(problem.value(truth), -std::numeric_limits<double>::infinity());  // the data's own a
}

TEST(HeatInverse, GradientMatchesCentralDifferences) {
  const heat_inverse<double> problem;
  for (const auto& a : {std::array<double, 2>{0.5, 4.05}, std::array<double, 2>{2.2, 0.8}}) {
    double g[2];
    problem.gradient(a.data(), g);
    for (int k = 0; k < 2; ++k) {
      const double h = 1e-6;
      std::array<double, 2> up = a, down = a;
      up[k] += h;
      down[k] -= h;
      const double expected = (problem.value(up.data()) - problem.value(down.data())) / (2 * h);
      EXPECT_NEAR(g[k], expected, 1e-6 * (1 + std::fabs(expected)))
          << "a = " << a[0] << ", " << a[1] << ", k = " << k;
    }
  }
}

TEST(HeatInverse, LbfgsFindsTheTrueConductivitiesAndIsNotCalledDiverged) {
  // The data are exact, so the log loss falls without bound towards a* = (2, 1) and ‖∇f‖ = ‖∇r‖/r
  // grows past divergence_ratio·‖∇f(a0)‖ there: L-BFGS, which accepts only points where f fell,
  // was called diverged at a = a* to eight digits.
  objective_batch<heat_inverse<double>, double> paper;
  paper.unknowns = 2;
  paper.problems.resize(1);
  paper.initial = {heat_inverse<double>::start_left, heat_inverse<double>::start_right};
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::lbfgs;
  options.dt = 1e-2;
  const auto result = solve(paper, options);
  EXPECT_EQ(result.outcome[0], status::step_underflow);  // f falls no further at this precision
  EXPECT_NEAR(result.solution[0], 2, 1e-8);
  EXPECT_NEAR(result.solution[1], 1, 1e-8);
  EXPECT_LT(result.objective[0], -40);  // log of a squared misfit below 1e-17
}

}  // namespace
}  // namespace gradflow
