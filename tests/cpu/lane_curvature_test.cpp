// The lanes' Cholesky solve and curvature estimates (host/lane_curvature.hpp) against the
// per-problem ones (the same bits, whichever lane a problem lands in and whenever) and against
// Eigen's eigenvalues.
#include "lane_curvature.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <vector>

#include "gradflow/detail/dense_math.hpp"

namespace gradflow::detail {
namespace {

template <class Real>
constexpr int lanes = 64 / int(sizeof(Real));  // host/lane_problems.hpp's lane_count

/// Symmetric positive definite n×n matrices, row-major, with their Cholesky factors: AᵀA of random
/// 2n×n A; every fifth diagonal (its Gershgorin bound, which equals L, caps 1.01·L); every seventh
/// Q·D·Qᵀ (Q a random rotation) whose two largest and two smallest eigenvalues lie 0.3 % apart: the
/// iterations converge so slowly that they stop at their limits (500 and 200), unsettled.
template <class Real>
struct random_matrices {
  random_matrices(int n, int count, std::mt19937& generator) : n(n) {
    std::uniform_real_distribution<double> uniform(-1, 1);
    const auto random = [&](int rows, int columns) {
      return Eigen::MatrixXd(
          Eigen::MatrixXd::NullaryExpr(rows, columns, [&] { return uniform(generator); }));
    };
    for (int j = 0; j < count; ++j) {
      std::vector<Real> g(std::size_t(n) * n, Real(0));
      if (diagonal(j)) {
        for (int d = 0; d < n; ++d) g[d * n + d] = Real(1 + d + uniform(generator) / 2);
      } else if (near_degenerate(j, n)) {
        Eigen::VectorXd eigenvalues = Eigen::VectorXd::LinSpaced(n, 1, n);
        eigenvalues(1) = 1.003;
        eigenvalues(n - 2) = n * 0.997;
        const Eigen::MatrixXd q = random(n, n).householderQr().householderQ();
        const Eigen::MatrixXd product = q * eigenvalues.asDiagonal() * q.transpose();
        for (int r = 0; r < n; ++r)
          for (int c = 0; c < n; ++c) g[r * n + c] = Real((product(r, c) + product(c, r)) / 2);
      } else {
        const Eigen::MatrixXd a = random(2 * n, n);
        const Eigen::MatrixXd product = a.transpose() * a;
        for (int r = 0; r < n; ++r)
          for (int c = 0; c < n; ++c) g[r * n + c] = Real(product(r, c));
      }
      std::vector<Real> factor = g;
      EXPECT_TRUE(cholesky_factor(factor.data(), n));
      gram.push_back(g);
      factors.push_back(factor);
    }
  }
  static bool diagonal(int j) { return j % 5 == 3; }
  static bool near_degenerate(int j, int n) { return j % 7 == 5 && n >= 4; }
  /// The first `lanes` matrices element-major (element e of lane w at e·lanes + w).
  static std::vector<Real> interleaved(const std::vector<std::vector<Real>>& per_lane, int lanes) {
    std::vector<Real> out(per_lane[0].size() * lanes);
    for (int w = 0; w < lanes; ++w)
      for (std::size_t e = 0; e < per_lane[w].size(); ++e) out[e * lanes + w] = per_lane[w][e];
    return out;
  }
  int n;
  std::vector<std::vector<Real>> gram, factors;
};

template <class Real>
class LaneCurvature : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(LaneCurvature, Precisions);

// 3W + 3 problems, every third skipped (next() never hands it out), through W lanes that refill
// as each problem settles: each result is its problem's own, bit for bit.
TYPED_TEST(LaneCurvature, EstimatesKeepEachProblemsBitsAndMatchEigen) {
  using Real = TypeParam;
  constexpr int W = lanes<Real>;
  constexpr int count = 3 * W + 3;
  std::mt19937 generator(7);
  for (int n : {1, 2, 5, 8}) {
    SCOPED_TRACE(n);
    const random_matrices<Real> m(n, count, generator);
    const auto handing_out = [](std::int64_t& next) {
      return [&next]() -> std::int64_t {
        while (next < count && next % 3 == 1) ++next;
        return next < count ? next++ : -1;
      };
    };
    const auto gram_of = [&](std::int64_t j) { return m.gram[j].data(); };
    std::vector<Real> largest(count, Real(-1)), smallest(count, Real(-1));
    std::int64_t next_largest = 0, next_smallest = 0;
    largest_curvatures<Real, W>(n, handing_out(next_largest), gram_of,
                                [&](std::int64_t j, Real l) { largest[j] = l; });
    smallest_curvatures<Real, W>(
        n, handing_out(next_smallest), gram_of, [&](std::int64_t j) { return m.factors[j].data(); },
        [&](std::int64_t j, Real mu) { smallest[j] = mu; });
    for (int j = 0; j < count; ++j) {
      SCOPED_TRACE(j);
      if (j % 3 == 1) {  // never handed out: never taken
        EXPECT_EQ(largest[j], Real(-1));
        EXPECT_EQ(smallest[j], Real(-1));
        continue;
      }
      std::vector<Real> scratch(n), next(n);
      EXPECT_EQ(largest[j], largest_curvature(m.gram[j].data(), n, scratch.data(), next.data()));
      EXPECT_EQ(smallest[j],
                smallest_curvature(m.gram[j].data(), m.factors[j].data(), n, scratch.data()));
      Eigen::MatrixXd g(n, n);
      for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) g(r, c) = m.gram[j][r * n + c];
      const Eigen::VectorXd eigenvalues =
          Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(g).eigenvalues();
      const double tolerance = sizeof(Real) == 8 ? 1e-6 : 1e-4;
      const double l = eigenvalues(n - 1), mu = eigenvalues(0);
      if (random_matrices<Real>::diagonal(j)) {
        EXPECT_EQ(double(largest[j]), l);  // the bound caps it: exactly the largest diagonal
      } else if (random_matrices<Real>::near_degenerate(j, n)) {
        // Unsettled: somewhere between the two nearly equal eigenvalues.
        EXPECT_GE(largest[j], eigenvalues(n - 2) * (1 - tolerance));
        EXPECT_LE(largest[j], 1.01 * l * (1 + tolerance));
        EXPECT_GE(smallest[j], mu * (1 - tolerance));
        EXPECT_LE(smallest[j], eigenvalues(1) * (1 + tolerance));
      } else {
        EXPECT_GE(largest[j], l * (1 - tolerance));
        EXPECT_LE(largest[j], 1.01 * l * (1 + tolerance));
        EXPECT_NEAR(smallest[j], mu, 10 * tolerance * mu);
      }
    }
  }
}

TYPED_TEST(LaneCurvature, CholeskySolveKeepsEachProblemsBits) {
  using Real = TypeParam;
  constexpr int W = lanes<Real>;
  constexpr int columns = 3;
  std::mt19937 generator(11);
  std::uniform_real_distribution<double> uniform(-1, 1);
  for (int n : {1, 4, 7}) {
    SCOPED_TRACE(n);
    const random_matrices<Real> m(n, W, generator);
    std::vector<std::vector<Real>> vectors(W, std::vector<Real>(std::size_t(n) * columns));
    for (auto& vector : vectors)
      for (Real& value : vector) value = Real(uniform(generator));
    auto solved = random_matrices<Real>::interleaved(vectors, W);
    const auto factors = random_matrices<Real>::interleaved(m.factors, W);
    cholesky_solve_in_lanes<Real, W>(factors.data(), n, columns, solved.data());
    for (int w = 0; w < W; ++w) {
      for (int c = 0; c < columns; ++c)
        cholesky_solve(m.factors[w].data(), n, vectors[w].data() + c, columns);
      for (std::size_t e = 0; e < vectors[w].size(); ++e)
        EXPECT_EQ(solved[e * W + w], vectors[w][e]) << "lane " << w << ", element " << e;
    }
  }
}

}  // namespace
}  // namespace gradflow::detail
