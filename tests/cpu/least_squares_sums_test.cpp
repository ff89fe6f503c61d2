// The CPU's vector sums of least squares (G, C and f) against the scalar ones (the same bits) and
// against Eigen's products and residual.
#include "least_squares_sums.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <limits>
#include <random>
#include <vector>

#include "gradflow/detail/dense_math.hpp"

namespace gradflow::detail {
namespace {

template <class Real>
using row_major = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A, B and U uniform in [−1, 1], each exactly its size: a vector read past A's, B's or U's end
/// would leave the allocation (AddressSanitizer).
template <class Real>
struct random_problem {
  random_problem(int rows, int n, int k, std::mt19937& generator)
      : rows(rows),
        n(n),
        k(k),
        matrix(std::size_t(rows) * n),
        rhs(std::size_t(rows) * k),
        point(std::size_t(n) * k) {
    std::uniform_real_distribution<Real> uniform(-1, 1);
    for (auto* values : {&matrix, &rhs, &point})
      for (Real& value : *values) value = uniform(generator);
  }
  row_major<double> in_double(const std::vector<Real>& values, int row_count, int columns) const {
    return Eigen::Map<const row_major<Real>>(values.data(), row_count, columns)
        .template cast<double>();
  }
  int rows, n, k;
  std::vector<Real> matrix, rhs, point;
};

template <class Real>
void expect_normal_equations(const random_problem<Real>& problem) {
  const int rows = problem.rows, n = problem.n, k = problem.k;
  std::vector<Real> gram(std::size_t(n) * n), cross(std::size_t(n) * k);
  std::vector<Real> scalar_gram(gram.size()), scalar_cross(cross.size());
  normal_equations_on_cpu(problem.matrix.data(), problem.rhs.data(), rows, n, k, gram.data(),
                          cross.data());
  normal_equations(problem.matrix.data(), problem.rhs.data(), Real(0), rows, n, k,
                   scalar_gram.data(), scalar_cross.data());
  EXPECT_EQ(gram, scalar_gram);
  EXPECT_EQ(cross, scalar_cross);

  const row_major<double> a = problem.in_double(problem.matrix, rows, n);
  const row_major<double> expected_gram = a.transpose() * a,
                          expected_cross = a.transpose() * problem.in_double(problem.rhs, rows, k);
  // Each element sums m products of numbers in [−1, 1] in the working precision.
  const double bound = 2 * rows * double(std::numeric_limits<Real>::epsilon());
  for (int p = 0; p < n; ++p) {
    for (int q = 0; q < n; ++q)
      ASSERT_NEAR(gram[p * n + q], expected_gram(p, q), bound) << "G(" << p << ", " << q << ")";
    for (int c = 0; c < k; ++c)
      ASSERT_NEAR(cross[p * k + c], expected_cross(p, c), bound) << "C(" << p << ", " << c << ")";
  }
}

template <class Real>
void expect_objective(const random_problem<Real>& problem) {
  const int rows = problem.rows, n = problem.n, k = problem.k;
  const Real lambda = Real(0.25);
  const Real f = least_squares_objective_on_cpu(problem.matrix.data(), problem.rhs.data(), lambda,
                                                problem.point.data(), rows, n, k);
  EXPECT_EQ(f, least_squares_objective(problem.matrix.data(), problem.rhs.data(), lambda,
                                       problem.point.data(), rows, n, k));
  const row_major<double> point = problem.in_double(problem.point, n, k);
  const double expected = 0.5 * (problem.in_double(problem.matrix, rows, n) * point -
                                 problem.in_double(problem.rhs, rows, k))
                                    .squaredNorm() +
                          0.5 * double(lambda) * point.squaredNorm();
  // m·k residuals of n + 1 terms each, every term at most 1 in size.
  const double bound =
      4.0 * rows * k * (n + 1) * (n + 1) * double(std::numeric_limits<Real>::epsilon());
  EXPECT_NEAR(f, expected, bound);
}

template <class Real>
void expect_every_shape() {
  std::mt19937 generator(16);
  // n across one, two and four vector registers' lanes and past them (AVX-512 f32: 16 lanes;
  // SSE2 f64: 2); k within a register and past it, up to and past the 16 columns of C kept in
  // registers; m from a single row.
  for (int rows : {1, 2, 3, 7, 50})
    for (int n : {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 130})
      for (int k : {1, 2, 3, 4, 5, 8, 9, 16, 17}) {
        SCOPED_TRACE(testing::Message() << "m = " << rows << ", n = " << n << ", k = " << k);
        const random_problem<Real> problem(rows, n, k, generator);
        expect_normal_equations(problem);
        expect_objective(problem);
      }
}

TEST(LeastSquaresSums, VectorRowsGiveTheScalarBitsAndEigensValues) {
  expect_every_shape<double>();
  expect_every_shape<float>();
}

}  // namespace
}  // namespace gradflow::detail
