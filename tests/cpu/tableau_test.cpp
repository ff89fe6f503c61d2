#include <gtest/gtest.h>

#include <vector>

#include "gradflow/detail/tableau.hpp"

namespace gradflow::detail {
namespace {

/// The propagated weights b are the FSAL stage's row of a; the embedded ones are b̂ = b − (b − b̂).
struct weights {
  std::vector<double> b, b_hat;
};

weights weights_of(const tableau<double>& t) {
  const int last = t.stage_count - 1;
  weights w;
  for (int j = 0; j < t.stage_count; ++j) {
    w.b.push_back(j < last ? t.a[last][j] : 0.0);
    w.b_hat.push_back(w.b.back() - t.error_weights[j]);
  }
  return w;
}

/// Residuals of the order conditions up to `order` (Butcher trees; Hairer–Nørsett–Wanner I, II.2).
std::vector<double> order_residuals(const tableau<double>& t, const std::vector<double>& b,
                                    int order) {
  const int s = t.stage_count;
  auto apply_a = [&](const std::vector<double>& v) {
    std::vector<double> out(s, 0.0);
    for (int i = 0; i < s; ++i)
      for (int j = 0; j < i; ++j) out[i] += t.a[i][j] * v[j];
    return out;
  };
  auto times = [&](std::vector<double> x, const std::vector<double>& y) {
    for (int i = 0; i < s; ++i) x[i] *= y[i];
    return x;
  };
  auto dot = [&](const std::vector<double>& v) {
    double sum = 0;
    for (int i = 0; i < s; ++i) sum += b[i] * v[i];
    return sum;
  };
  const std::vector<double> one(s, 1.0);
  std::vector<double> c(t.c, t.c + s);
  const auto c2 = times(c, c), c3 = times(c2, c), ac = apply_a(c), ac2 = apply_a(c2);
  const auto aac = apply_a(ac);
  std::vector<double> r = {dot(one) - 1.0};
  if (order >= 2) r.push_back(dot(c) - 1.0 / 2);
  if (order >= 3) r.insert(r.end(), {dot(c2) - 1.0 / 3, dot(ac) - 1.0 / 6});
  if (order >= 4)
    r.insert(r.end(), {dot(c3) - 1.0 / 4, dot(times(c, ac)) - 1.0 / 8, dot(ac2) - 1.0 / 12,
                       dot(aac) - 1.0 / 24});
  if (order >= 5)
    r.insert(r.end(), {dot(times(c3, c)) - 1.0 / 5, dot(times(c2, ac)) - 1.0 / 10,
                       dot(times(c, ac2)) - 1.0 / 15, dot(times(c, aac)) - 1.0 / 30,
                       dot(times(ac, ac)) - 1.0 / 20, dot(apply_a(c3)) - 1.0 / 20,
                       dot(apply_a(times(c, ac))) - 1.0 / 40, dot(apply_a(ac2)) - 1.0 / 60,
                       dot(apply_a(aac)) - 1.0 / 120});
  return r;
}

void expect_row_sums_equal_c(const tableau<double>& t) {
  for (int i = 0; i < t.stage_count; ++i) {
    double sum = 0;
    for (int j = 0; j < i; ++j) sum += t.a[i][j];
    EXPECT_NEAR(sum, t.c[i], 1e-14) << "stage " << i;
  }
}

void expect_order(const tableau<double>& t, const std::vector<double>& b, int order,
                  double tolerance) {
  const auto residuals = order_residuals(t, b, order);
  for (std::size_t r = 0; r < residuals.size(); ++r)
    EXPECT_NEAR(residuals[r], 0.0, tolerance) << "condition " << r << " of order " << order;
  // The next order must fail somewhere, or the test could not tell orders apart.
  const auto next = order_residuals(t, b, order + 1);
  double worst = 0;
  for (std::size_t r = residuals.size(); r < next.size(); ++r)
    worst = std::max(worst, std::abs(next[r]));
  if (order < 5) EXPECT_GT(worst, 1e-6) << "order " << order + 1 << " conditions unexpectedly hold";
}

/// An embedded pair: rows sum to c, b has `order`, b̂ has order − 1.
void expect_embedded_pair(const tableau<double>& t, int order, double tolerance) {
  expect_row_sums_equal_c(t);
  const auto w = weights_of(t);
  expect_order(t, w.b, order, tolerance);
  expect_order(t, w.b_hat, order - 1, tolerance);
}

TEST(Tableau, Tsit5IsFifthOrderWithFourthOrderEmbeddedPair) {
  expect_embedded_pair(tsit5_tableau<double>(), 5, 1e-12);
}

TEST(Tableau, Dp5IsFifthOrderWithFourthOrderEmbeddedPair) {
  expect_embedded_pair(dp5_tableau<double>(), 5, 1e-13);
}

TEST(Tableau, Bs3IsThirdOrderWithSecondOrderEmbeddedPair) {
  expect_embedded_pair(bs3_tableau<double>(), 3, 1e-15);
}

TEST(Tableau, Rk4IsFourthOrder) {
  const auto t = rk4_tableau<double>();
  expect_row_sums_equal_c(t);
  expect_order(t, weights_of(t).b, 4, 1e-15);
}

TEST(Tableau, EulerIsFirstOrder) {
  const auto t = euler_tableau<double>();
  expect_row_sums_equal_c(t);
  expect_order(t, weights_of(t).b, 1, 1e-15);
}

}  // namespace
}  // namespace gradflow::detail
