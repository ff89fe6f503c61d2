// gradflow/detail/dense_math.hpp: add_terms and the symmetric product against the textbook loops
// at widths across add_terms' entry chunks (16, 8, 4, one); the Cholesky factor, its solve and the
// inverse from it against Eigen, the factor and the inverse at sizes that cross those chunks and
// the factor's panels (32).
#include "gradflow/detail/dense_math.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <vector>

namespace gradflow::detail {
namespace {

/// AᵀA of a random 2n×n A: symmetric positive definite.
Eigen::MatrixXd random_gram(int n, std::mt19937& generator) {
  std::uniform_real_distribution<double> uniform(-1, 1);
  const Eigen::MatrixXd a =
      Eigen::MatrixXd::NullaryExpr(2 * n, n, [&] { return uniform(generator); });
  return a.transpose() * a;
}

TEST(AddTerms, EachEntryGetsTheTextbookLoopsBitsAtWidthsAcrossItsChunks) {
  constexpr int terms = 5;
  std::mt19937 generator(5);
  std::uniform_real_distribution<double> uniform(-1, 1);
  for (int width : {1, 3, 4, 7, 8, 12, 15, 16, 17, 29, 31, 45}) {
    std::vector<double> coefficients(terms), sources(std::size_t(terms) * width), target(width);
    for (auto* values : {&coefficients, &sources, &target})
      for (double& x : *values) x = uniform(generator);
    std::vector<double> expected = target;
    for (int k = 0; k < terms; ++k)  // one pass over the entries per term
      for (int c = 0; c < width; ++c) expected[c] += coefficients[k] * sources[k * width + c];
    add_terms(
        target.data(), width, terms, [&](int k) { return coefficients[k]; },
        [&](int k) { return sources.data() + std::size_t(k) * width; });
    for (int c = 0; c < width; ++c)
      EXPECT_EQ(target[c], expected[c]) << "width " << width << ", entry " << c;
  }
}

TEST(CholeskyFactor, MatchesEigensLltAtSizesAcrossItsRowChunksAndPanels) {
  std::mt19937 generator(11);
  for (int n : {1, 3, 4, 7, 8, 13, 16, 17, 29, 32, 33, 47, 70}) {
    const Eigen::MatrixXd gram = random_gram(n, generator);
    std::vector<double> factor(gram.data(), gram.data() + std::size_t(n) * n);  // symmetric
    ASSERT_TRUE(cholesky_factor(factor.data(), n)) << "n = " << n;
    const Eigen::MatrixXd expected = gram.llt().matrixL();
    for (int c = 0; c < n; ++c)
      for (int r = c; r < n; ++r)  // the lower triangle, column-major
        EXPECT_NEAR(factor[r + std::size_t(c) * n], expected(r, c), 1e-12 * expected.norm())
            << "n = " << n << ", (" << r << ", " << c << ")";
  }
}

TEST(CholeskySolve, MatchesEigensSolveAndLeavesTheStridesGapsAlone) {
  constexpr int n = 9, stride = 2;
  std::mt19937 generator(7);
  std::uniform_real_distribution<double> uniform(-1, 1);
  const Eigen::MatrixXd gram = random_gram(n, generator);
  std::vector<double> factor(gram.data(), gram.data() + n * n);
  ASSERT_TRUE(cholesky_factor(factor.data(), n));
  std::vector<double> x(n * stride);
  for (double& value : x) value = uniform(generator);
  const std::vector<double> before = x;
  Eigen::VectorXd rhs(n);
  for (int r = 0; r < n; ++r) rhs(r) = x[r * stride];
  cholesky_solve(factor.data(), n, x.data(), stride);
  const Eigen::VectorXd expected = gram.llt().solve(rhs);
  for (int r = 0; r < n; ++r) {
    EXPECT_NEAR(x[r * stride], expected(r), 1e-10 * expected.norm()) << "row " << r;
    EXPECT_EQ(x[r * stride + 1], before[r * stride + 1]) << "the gap after row " << r;
  }
}

TEST(CholeskyInverse, MatchesEigensInverseAsBothTrianglesAtSizesAcrossThePanels) {
  std::mt19937 generator(13);
  for (int n : {1, 2, 3, 8, 17, 30, 33, 47}) {
    const Eigen::MatrixXd gram = random_gram(n, generator);
    std::vector<double> inverse(gram.data(), gram.data() + std::size_t(n) * n);
    ASSERT_TRUE(cholesky_factor(inverse.data(), n));
    cholesky_inverse(inverse.data(), n);
    const Eigen::MatrixXd expected = gram.inverse();
    // The inverse's error is about κ·ε relative to its norm (κ(AᵀA) of a random 2n×n A: < 10³).
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c)
        EXPECT_NEAR(inverse[r + std::size_t(c) * n], expected(r, c), 1e-11 * expected.norm())
            << "n = " << n << ", (" << r << ", " << c << ")";
  }
}

TEST(SymmetricProduct, EachEntryGetsTheTextbookRowSumsBits) {
  std::mt19937 generator(17);
  std::uniform_real_distribution<double> uniform(-1, 1);
  for (int n : {1, 5, 16, 30, 45}) {
    std::vector<double> symmetric(std::size_t(n) * n), x(n), y(n);
    for (int r = 0; r < n; ++r)
      for (int c = 0; c <= r; ++c) symmetric[r * n + c] = symmetric[c * n + r] = uniform(generator);
    for (double& value : x) value = uniform(generator);
    symmetric_product(symmetric.data(), n, x.data(), y.data());
    for (int r = 0; r < n; ++r) {
      double expected = 0;
      for (int c = 0; c < n; ++c) expected += symmetric[r * n + c] * x[c];
      EXPECT_EQ(y[r], expected) << "n = " << n << ", row " << r;
    }
  }
}

}  // namespace
}  // namespace gradflow::detail
