// The CPU's vector normal equations against the scalar ones (the same bits) and Eigen's AᵀA, AᵀB.
#include "normal_equations.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <limits>
#include <random>
#include <vector>

#include "gradflow/detail/dense_math.hpp"

namespace gradflow::detail {
namespace {

template <class Real>
void expect_scalar_bits_and_eigen(int rows, int n, int k, std::mt19937& generator) {
  std::uniform_real_distribution<Real> uniform(-1, 1);
  // Exactly A's and B's sizes: a vector read past A's end would leave the allocation (ASan).
  std::vector<Real> matrix(std::size_t(rows) * n), rhs(std::size_t(rows) * k);
  for (Real& a : matrix) a = uniform(generator);
  for (Real& b : rhs) b = uniform(generator);
  std::vector<Real> gram(std::size_t(n) * n), cross(std::size_t(n) * k);
  std::vector<Real> scalar_gram(gram.size()), scalar_cross(cross.size());
  normal_equations_on_cpu(matrix.data(), rhs.data(), rows, n, k, gram.data(), cross.data());
  normal_equations(matrix.data(), rhs.data(), Real(0), rows, n, k, scalar_gram.data(),
                   scalar_cross.data());
  SCOPED_TRACE(testing::Message() << "m = " << rows << ", n = " << n << ", k = " << k);
  EXPECT_EQ(gram, scalar_gram);
  EXPECT_EQ(cross, scalar_cross);

  using matrix_type = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const matrix_type a =
      Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          matrix.data(), rows, n)
          .template cast<double>();
  const matrix_type b =
      Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          rhs.data(), rows, k)
          .template cast<double>();
  const matrix_type expected_gram = a.transpose() * a, expected_cross = a.transpose() * b;
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
void expect_every_shape() {
  std::mt19937 generator(16);
  // n across one, two and four vector registers' lanes and past them (AVX-512 f32: 16 lanes;
  // SSE2 f64: 2), k up to and past the 16 columns of C kept in registers, m from a single row.
  for (int rows : {1, 2, 3, 7, 50})
    for (int n : {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 130})
      for (int k : {1, 2, 3, 16, 17}) expect_scalar_bits_and_eigen<Real>(rows, n, k, generator);
}

TEST(NormalEquations, VectorRowsGiveTheScalarBitsAndEigensProducts) {
  expect_every_shape<double>();
  expect_every_shape<float>();
}

}  // namespace
}  // namespace gradflow::detail
