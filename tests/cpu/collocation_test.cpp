// The collocation discretisation against closed forms: Chebyshev points, and derivatives of
// polynomials (exact below degree N) and of exp (spectral accuracy).
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/collocation.hpp"
#include "gradflow/error.hpp"

namespace gradflow {
namespace {

/// (D y)_i for y_j = f(t_j).
template <class Function>
std::vector<double> differentiate(const std::vector<double>& t, Function f) {
  const auto d = differentiation_matrix(t);
  const std::size_t n = t.size();
  std::vector<double> out(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) out[i] += d[i * n + j] * f(t[j]);
  return out;
}

TEST(Collocation, ChebyshevPointsOfTheSecondKindSpanTheInterval) {
  const auto t = chebyshev_points(200, 0.0, 15.0);  // the seed study's 200 samples on [0, 15]
  ASSERT_EQ(t.size(), 200u);
  EXPECT_EQ(t.front(), 0.0);
  EXPECT_EQ(t.back(), 15.0);
  for (std::size_t j = 1; j < t.size(); ++j) EXPECT_LT(t[j - 1], t[j]);
  // Symmetric about the middle, clustered at the ends: t_1 = 7.5(1 − cos(π/199)).
  EXPECT_NEAR(t[1], 7.5 * (1 - std::cos(std::acos(-1.0) / 199)), 1e-14);
  EXPECT_NEAR(t[50] + t[149], 15.0, 1e-12);
  EXPECT_THROW(chebyshev_points(1, 0, 1), invalid_argument);
  EXPECT_THROW(chebyshev_points(5, 1, 1), invalid_argument);
}

TEST(Collocation, DifferentiatesPolynomialsBelowItsDegreeExactly) {
  const int n = 12;
  const auto t = chebyshev_points(n, 0.0, 15.0);
  for (int degree = 0; degree < n; ++degree) {
    // p(t) = ((t − 7.5)/7.5)^degree, p'(t) = degree/7.5 · ((t − 7.5)/7.5)^(degree − 1).
    const auto p = [degree](double x) { return std::pow((x - 7.5) / 7.5, degree); };
    const auto derivative = differentiate(t, p);
    for (int i = 0; i < n; ++i) {
      const double exact =
          degree == 0 ? 0.0 : degree / 7.5 * std::pow((t[i] - 7.5) / 7.5, degree - 1);
      EXPECT_NEAR(derivative[i], exact, 1e-11 * std::max(1.0, std::fabs(exact)))
          << "degree " << degree << ", node " << i;
    }
  }
}

TEST(Collocation, DifferentiatesSmoothFunctionsSpectrally) {
  // exp on [0, 1]: the error falls faster than any power of N.
  double previous = 1;
  for (int n : {6, 10, 16}) {
    const auto t = chebyshev_points(n, 0.0, 1.0);
    const auto derivative = differentiate(t, [](double x) { return std::exp(x); });
    double largest = 0;
    for (int i = 0; i < n; ++i)
      largest = std::max(largest, std::fabs(derivative[i] - std::exp(t[i])));
    EXPECT_LT(largest, previous / 100) << n << " nodes";
    previous = largest;
  }
  EXPECT_LT(previous, 1e-11);
  EXPECT_THROW(differentiation_matrix({1.0}), invalid_argument);
  EXPECT_THROW(differentiation_matrix({0.0, 1.0, 1.0}), invalid_argument);
}

}  // namespace
}  // namespace gradflow
