// gradflow/detail/dense_math.hpp: add_terms against the textbook loop at widths across its entry
// chunks (16, 8, 4, one); the Cholesky factor and solves against Eigen's LLT, the factor at sizes
// that cross those chunks and its panels (32); several vectors solved row by row together get the
// bits that each gets solved alone.
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

TEST(CholeskySolveTogether, EachVectorGetsItsAloneSolveBitsAndEigensSolution) {
  constexpr int n = 9, stride = 2, columns = 4;
  std::mt19937 generator(7);
  std::uniform_real_distribution<double> uniform(-1, 1);
  // Two SPD matrices, row-major; vectors 0, 2 and 3 use the first.
  std::vector<Eigen::MatrixXd> grams;
  std::vector<std::vector<double>> factors;
  for (int m = 0; m < 2; ++m) {
    grams.push_back(random_gram(n, generator));
    std::vector<double> factor(std::size_t(n) * n);
    Eigen::Map<Eigen::Matrix<double, n, n, Eigen::RowMajor>>(factor.data()) = grams.back();
    ASSERT_TRUE(cholesky_factor(factor.data(), n));
    factors.push_back(factor);
  }
  const int factor_of[columns] = {0, 1, 0, 0};
  // Each vector's elements `stride` apart, the gaps holding values the solve must not touch.
  std::vector<std::vector<double>> together(columns, std::vector<double>(n * stride));
  for (auto& vector : together)
    for (double& x : vector) x = uniform(generator);
  std::vector<std::vector<double>> alone = together;
  cholesky_solve_together<columns, double>(
      {factors[0].data(), factors[1].data(), factors[0].data(), factors[0].data()}, n,
      {together[0].data(), together[1].data(), together[2].data(), together[3].data()}, stride);
  for (int c = 0; c < columns; ++c) {
    Eigen::VectorXd rhs(n);
    for (int r = 0; r < n; ++r) rhs(r) = alone[c][r * stride];
    cholesky_solve(factors[factor_of[c]].data(), n, alone[c].data(), stride);
    const Eigen::VectorXd expected = grams[factor_of[c]].llt().solve(rhs);
    for (int e = 0; e < n * stride; ++e) {
      EXPECT_EQ(together[c][e], alone[c][e]) << "vector " << c << ", element " << e;
      if (e % stride == 0)
        EXPECT_NEAR(together[c][e], expected(e / stride), 1e-10 * expected.norm())
            << "vector " << c << ", row " << e / stride;
    }
  }
}

}  // namespace
}  // namespace gradflow::detail
