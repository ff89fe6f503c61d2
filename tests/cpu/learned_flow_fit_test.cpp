// The learned gradient flow's fits (lgf_target, lgf_order, lgf_degree, lgf_threshold; Newton and
// linearly implicit Euler as bases) against closed forms: on a quadratic, gd's iterates per
// eigen-direction are geometric, e_j = ρ^j·e_0 with ρ = 1 − lr·λ, so every target is exactly linear
// in them and the fitted rate c per direction has a closed form — strong: the difference stencil
// applied to ρ^j; weak: −Σψ'(j)ρ^j / (lr·Σψ(j)ρ^j) — and a jump of J RK4 steps multiplies e by
// R(c·lr)^J; a gradient that is exactly quadratic is learned exactly by the degree-2 library;
// Newton's iterates on least squares contract by 1 − lr in every direction, linearly implicit
// Euler's by 1/(1 + lr·λ); STLSQ against Eigen's least squares on the support it keeps.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "gradflow/detail/surrogate_fit.hpp"
#include "gradflow/gradflow.hpp"
#include "gradflow/objective.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

using testing::diagonal_quadratic;

/// RK4's amplification of ẏ = c·y over one step h, z = c·h.
double rk4_factor(double z) { return 1 + z + z * z / 2 + z * z * z / 6 + z * z * z * z / 24; }

/// K gd steps, a jump of J steps, the guard's evaluation, one more step: the budget K + 2.
solve_options one_jump(int record, int jump, double lr) {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::lgf;
  options.lgf_record = record;
  options.lgf_window = record + jump;
  options.dt = lr;
  options.gtol = 0;
  options.stall_window = 0;
  options.max_steps = record + 2;
  return options;
}

const std::vector<double> curvature{1.0, 0.5, 0.2}, minimum{1.0, -2.0, 0.5}, start{3.0, 1.0, -1.0};

/// The base step's contraction per direction: gd 1 − lr·λ, Newton 1 − lr, linearly implicit Euler
/// 1/(1 + lr·λ).
double contraction(const solve_options& options, double lr, double curvature) {
  if (options.method == method::lgf_implicit) return 1 / (1 + lr * curvature);
  return 1 - lr * (options.dynamics == dynamics::newton ? 1.0 : curvature);
}

/// Runs one jump on the diagonal quadratic and checks each direction's error against
/// ρ^K · R(c·lr)^J · ρ with ρ the base's contraction and c = rate(ρ) from the target's closed form.
template <class Rate>
void expect_geometric_jump(solve_options options, int record, int jump, double lr, Rate rate) {
  const auto result = solve(diagonal_quadratic(curvature, minimum, start), options);
  ASSERT_EQ(result.outcome[0], status::max_steps);
  EXPECT_EQ(result.rejected_steps[0], 0);
  EXPECT_EQ(result.gradient_evaluations[0], record + 1);
  EXPECT_EQ(result.surrogate_evaluations[0], 4 * jump);
  for (int k = 0; k < 3; ++k) {
    const double rho = contraction(options, lr, curvature[k]);
    const double expected = minimum[k] + (start[k] - minimum[k]) * std::pow(rho, record) *
                                             std::pow(rk4_factor(rate(rho) * lr), jump) * rho;
    EXPECT_NEAR(result.solution[k], expected, 1e-9 * (1 + std::fabs(expected)))
        << "direction " << k;
  }
}

TEST(LearnedFlowFit, StrongTargetsLearnTheirDifferenceStencilsRate) {
  const int record = 8, jump = 12;
  const double lr = 0.5;
  solve_options options = one_jump(record, jump, lr);
  options.lgf_target = 1.0;
  options.lgf_order = 1.0;  // forward differences: gd's own rate −λ
  expect_geometric_jump(options, record, jump, lr, [&](double rho) { return (rho - 1) / lr; });
  options.lgf_order = 2.0;
  expect_geometric_jump(options, record, jump, lr,
                        [&](double rho) { return (rho - 1 / rho) / (2 * lr); });
  options.lgf_order = 4.0;
  expect_geometric_jump(options, record, jump, lr, [&](double rho) {
    return (-rho * rho + 8 * rho - 8 / rho + 1 / (rho * rho)) / (12 * lr);
  });
}

TEST(LearnedFlowFit, TheWeakTargetLearnsItsBumpWeightedRate) {
  // K = 12: bumps of half-width w = 2 (ψ(j) = (j(4 − j))^5 / 2^10 at j = 1 … 3).
  const int record = 12, jump = 12, width = 2;
  const double lr = 0.5;
  solve_options options = one_jump(record, jump, lr);
  options.lgf_target = 2.0;
  expect_geometric_jump(options, record, jump, lr, [&](double rho) {
    double value_sum = 0, slope_sum = 0;
    for (int j = 1; j < 2 * width; ++j) {
      const double product = double(j) * (2 * width - j), scale = std::pow(width, 10);
      value_sum += std::pow(product, 5) / scale * std::pow(rho, j);
      slope_sum += 5 * std::pow(product, 4) * (2 * width - 2 * j) / scale * std::pow(rho, j);
    }
    return -slope_sum / (lr * value_sum);
  });
}

/// f = x³/3 − x + y³/3 − 4y: ∇f = (x² − 1, y² − 4) is quadratic, ∇²f = diag(2x, 2y); minimum
/// (1, 2).
struct cubic_bowl {
  GRADFLOW_HD double value(const double* u) const {
    return u[0] * u[0] * u[0] / 3 - u[0] + u[1] * u[1] * u[1] / 3 - 4 * u[1];
  }
  GRADFLOW_HD void gradient(const double* u, double* g) const {
    g[0] = u[0] * u[0] - 1;
    g[1] = u[1] * u[1] - 4;
  }
  GRADFLOW_HD void hessian_times(const double* u, const double* v, double* product) const {
    product[0] = 2 * u[0] * v[0];
    product[1] = 2 * u[1] * v[1];
  }
};

TEST(LearnedFlowFit, TheQuadraticLibraryLearnsAQuadraticGradientExactly) {
  // gd's tracked target −∇f(θ_j) is a degree-2 polynomial of the window's two coordinates, so with
  // p = 2 the surrogate is the gradient flow itself and the jump is RK4 on u̇ = −∇f(u), replayed
  // here; with p = 1 it is not.
  const int record = 10, jump = 20;
  const double lr = 0.05;
  objective_batch<cubic_bowl, double> batch;
  batch.unknowns = 2;
  batch.problems = {cubic_bowl{}};
  batch.initial = {0.2, 0.5};
  solve_options options = one_jump(record, jump, lr);
  options.lgf_degree = 2.0;
  const auto quadratic = solve_objectives(batch, options);
  options.lgf_degree = 1.0;
  const auto affine = solve_objectives(batch, options);

  const auto field = [](const std::array<double, 2>& u) {
    return std::array<double, 2>{1 - u[0] * u[0], 4 - u[1] * u[1]};
  };
  std::array<double, 2> u{0.2, 0.5};
  for (int j = 0; j < record; ++j) u = {u[0] + lr * field(u)[0], u[1] + lr * field(u)[1]};
  for (int q = 0; q < jump; ++q) {
    const auto k1 = field(u);
    const auto k2 = field({u[0] + lr / 2 * k1[0], u[1] + lr / 2 * k1[1]});
    const auto k3 = field({u[0] + lr / 2 * k2[0], u[1] + lr / 2 * k2[1]});
    const auto k4 = field({u[0] + lr * k3[0], u[1] + lr * k3[1]});
    for (int e = 0; e < 2; ++e) u[e] += lr / 6 * (k1[e] + 2 * k2[e] + 2 * k3[e] + k4[e]);
  }
  u = {u[0] + lr * field(u)[0], u[1] + lr * field(u)[1]};
  ASSERT_EQ(quadratic.outcome[0], status::max_steps);
  EXPECT_EQ(quadratic.rejected_steps[0], 0);
  double affine_gap = 0;
  for (int e = 0; e < 2; ++e) {
    EXPECT_NEAR(quadratic.solution[e], u[e], 1e-10) << e;
    affine_gap = std::max(affine_gap, std::fabs(affine.solution[e] - u[e]));
  }
  EXPECT_GT(affine_gap, 1e-3) << "the affine surrogate matched too: the test cannot tell p apart";
}

TEST(LearnedFlowFit, OverNewtonOnLeastSquaresEveryDirectionContractsAlike) {
  // Newton's step on a quadratic is lr·(u − u*): its iterates lie on one line and the surrogate
  // is ė = −e, so e ← (1 − lr)^K · R(−lr)^J · (1 − lr) · e in every direction, whatever λ.
  const int record = 5, jump = 10;
  const double lr = 0.3;
  solve_options options = one_jump(record, jump, lr);
  options.dynamics = dynamics::newton;
  expect_geometric_jump(options, record, jump, lr, [](double) { return -1.0; });
}

TEST(LearnedFlowFit, OverLinearlyImplicitEulerTheTrackedRateIsItsVelocity) {
  // u ← u − (I/lr + G)⁻¹∇f: e ← e/(1 + lr·λ), velocity −λ/(1 + lr·λ)·e, which the tracked target
  // fits exactly; and the strong target of order 1 gives the same rate, (ρ − 1)/lr.
  const int record = 6, jump = 10;
  const double lr = 0.8;
  solve_options options = one_jump(record, jump, lr);
  options.method = method::lgf_implicit;
  expect_geometric_jump(options, record, jump, lr, [&](double rho) { return (rho - 1) / lr; });
  options.lgf_target = 1.0;
  options.lgf_order = 1.0;
  expect_geometric_jump(options, record, jump, lr, [&](double rho) { return (rho - 1) / lr; });
}

/// Three cubic bowls solved by a learned flow (`learned`, K/M = 15/20 — the paper's Newton window)
/// and by its base alone (`base`, the same fixed step): both reach (1, 2), the learned flow with
/// fewer gradient evaluations.
void expect_fewer_gradients_than_the_base(solve_options learned, solve_options base) {
  objective_batch<cubic_bowl, double> batch;
  batch.unknowns = 2;
  batch.problems.assign(3, cubic_bowl{});
  batch.initial = {0.2, 0.5, 3.0, 0.7, 0.6, 5.0};
  learned.backend = base.backend = backend_kind::cpu;
  learned.lgf_record = 15;
  learned.lgf_window = 20;
  base.control = step_control::fixed;
  base.dt = learned.dt;
  learned.gtol = base.gtol = 1e-10;
  const auto jumped = solve_objectives(batch, learned);
  const auto alone = solve_objectives(batch, base);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(jumped.outcome[i], status::converged) << i;
    EXPECT_NEAR(jumped.solution[2 * i], 1.0, 1e-9) << i;
    EXPECT_NEAR(jumped.solution[2 * i + 1], 2.0, 1e-9) << i;
    EXPECT_EQ(alone.outcome[i], status::converged) << i;
    EXPECT_GT(jumped.surrogate_evaluations[i], 0) << i;
    EXPECT_LT(jumped.gradient_evaluations[i], alone.gradient_evaluations[i]) << i;
  }
}

TEST(LearnedFlowFit, OverLinearlyImplicitEulerAnObjectiveSavesTrueSteps) {
  solve_options learned, base;
  learned.method = method::lgf_implicit;
  learned.dt = 0.3;
  base.method = method::linearly_implicit;
  expect_fewer_gradients_than_the_base(learned, base);
}

TEST(LearnedFlowFit, OverNewtonAnObjectiveConvergesWithFewerTrueGradients) {
  solve_options learned, base;  // damped Newton: Euler on Newton flow, dt = lr
  learned.method = method::lgf;
  learned.dynamics = base.dynamics = dynamics::newton;
  learned.lgf_degree = 2.0;
  learned.dt = 0.15;
  base.method = method::euler;
  expect_fewer_gradients_than_the_base(learned, base);
}

using rows_of = double (*)[detail::lgf_max_record + 1];
using targets_of = double (*)[detail::lgf_max_record];

TEST(LearnedFlowFit, StlsqKeepsTheLargeCoefficientsAndRefitsThemUnbiased) {
  // B = F·Ξ with one small coefficient per output: least squares recovers Ξ exactly; STLSQ, with a
  // threshold between the small and the large coefficients of unit columns, drops the small ones
  // and its coefficients are the least squares of B on the columns it keeps (Eigen).
  const int rows = 12, columns = 4, outputs = 2;
  Eigen::MatrixXd f(rows, columns);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < columns; ++c) f(r, c) = std::sin(1.0 + 3 * r + 7 * c * c + r * c);
  Eigen::MatrixXd xi(columns, outputs);
  xi << 1.0, 0.0, 0.5, 3.0, 0.003, 1.0, -2.0, 0.001;
  const Eigen::MatrixXd b = f * xi;
  double f_rows[detail::lgf_max_record][detail::lgf_max_record + 1];
  double b_rows[detail::lgf_max_record][detail::lgf_max_record];
  const auto load = [&] {
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < columns; ++c) f_rows[r][c] = f(r, c);
      for (int k = 0; k < outputs; ++k) b_rows[r][k] = b(r, k);
    }
  };
  load();
  ASSERT_TRUE(detail::small_least_squares(rows_of(f_rows), targets_of(b_rows), rows, columns,
                                          outputs, 0.0));
  for (int c = 0; c < columns; ++c)
    for (int k = 0; k < outputs; ++k) EXPECT_NEAR(b_rows[c][k], xi(c, k), 1e-12) << c << k;

  const Eigen::VectorXd norm = f.colwise().norm();
  const double threshold = 0.05;  // the small coefficients' unit-column size is below 0.02
  for (int c = 0; c < columns; ++c)
    for (int k = 0; k < outputs; ++k)
      EXPECT_NE(std::fabs(xi(c, k)) * norm(c) < threshold, std::fabs(xi(c, k)) > 0.1) << c << k;
  for (const double ridge : {0.0, 1e-6}) {
    load();
    ASSERT_TRUE(detail::thresholded_least_squares(rows_of(f_rows), targets_of(b_rows), rows,
                                                  columns, outputs, ridge, threshold));
    for (int k = 0; k < outputs; ++k) {
      std::vector<int> kept;
      for (int c = 0; c < columns; ++c)
        if (std::fabs(xi(c, k)) > 0.1) kept.push_back(c);
      Eigen::MatrixXd on_support(rows, Eigen::Index(kept.size()));
      for (std::size_t c = 0; c < kept.size(); ++c)
        on_support.col(Eigen::Index(c)) = f.col(kept[c]);
      const Eigen::VectorXd refit = on_support.colPivHouseholderQr().solve(b.col(k));
      std::size_t next = 0;
      for (int c = 0; c < columns; ++c) {
        const bool in_support = next < kept.size() && kept[next] == c;
        const double expected = in_support ? refit(Eigen::Index(next++)) : 0.0;
        EXPECT_NEAR(b_rows[c][k], expected, 1e-12)
            << "ridge " << ridge << " column " << c << " output " << k;
      }
    }
  }
}

}  // namespace
}  // namespace gradflow
