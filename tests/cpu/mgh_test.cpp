// The Moré–Garbow–Hillstrom problems: analytic gradients against central differences, and the
// published minima against the functions at the published minimisers.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "gradflow/error.hpp"
#include "gradflow/mgh.hpp"

namespace gradflow {
namespace {

double norm(const std::vector<double>& v) {
  double sum = 0;
  for (double value : v) sum += value * value;
  return std::sqrt(sum);
}

/// Central differences with h_j = 1e-6·max(1, |x_j|): truncation O(h²), rounding O(ε|f|/h).
std::vector<double> central_difference(const mgh::objective& f, std::vector<double> x) {
  std::vector<double> g(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double h = 1e-6 * std::max(1.0, std::fabs(x[j]));
    const double saved = x[j];
    x[j] = saved + h;
    const double up = f.value(x.data());
    x[j] = saved - h;
    const double down = f.value(x.data());
    x[j] = saved;
    g[j] = (up - down) / (2 * h);
  }
  return g;
}

TEST(Mgh, GradientsMatchCentralDifferences) {
  // At x0 and three random points around it: ‖∇f − ∇_h f‖ ≤ 1e-6·‖∇f‖ + 1e-9·|f|·(1 + ‖x‖)
  // (the second term is the differences' own rounding, ε|f|/h).
  std::mt19937_64 engine(8);
  std::uniform_real_distribution<double> uniform(-0.3, 0.3);
  for (const auto& info : mgh::test_set()) {
    for (int point = 0; point < 4; ++point) {
      std::vector<double> x = info.start;
      if (point > 0)
        for (double& value : x) value += uniform(engine) * (1 + std::fabs(value));
      std::vector<double> g(x.size());
      info.function.gradient(x.data(), g.data());
      const auto estimate = central_difference(info.function, x);
      std::vector<double> difference(x.size());
      for (std::size_t j = 0; j < x.size(); ++j) difference[j] = g[j] - estimate[j];
      const double f = info.function.value(x.data());
      EXPECT_LE(norm(difference), 1e-6 * norm(g) + 1e-9 * std::fabs(f) * (1 + norm(x)))
          << info.name << " at point " << point;
    }
  }
}

TEST(Mgh, PublishedMinimaAreTheValuesAtThePublishedMinimisers) {
  struct known {
    const char* name;
    std::vector<double> minimiser;
  };
  // Minimisers from the paper and the literature that reproduces it (to the digits printed).
  const std::vector<known> minimisers = {
      {"rosenbrock", {1, 1}},
      {"freudenstein_roth", {5, 4}},
      {"brown_badly_scaled", {1e6, 2e-6}},
      {"beale", {3, 0.5}},
      {"jennrich_sampson", {0.2578252, 0.2578252}},
      {"helical_valley", {1, 0, 0}},
      {"bard", {0.08241056, 1.133036, 2.343695}},
      {"gaussian", {0.3989561, 1.0000191, 0}},
      {"meyer", {0.0056096365, 6181.3463, 345.22363}},
      {"gulf", {50, 25, 1.5}},
      {"box_3d", {1, 10, 1}},
      {"powell_singular", {0, 0, 0, 0}},
      {"wood", {1, 1, 1, 1}},
      {"kowalik_osborne", {0.1928069, 0.1912823, 0.1230565, 0.1360623}},
      {"brown_dennis", {-11.594440, 13.203630, -0.4034394, 0.2367787}},
      {"osborne_1", {0.3754101, 1.9358469, -1.4646871, 0.01286753, 0.02212270}},
      {"biggs_exp6", {1, 10, 1, 5, 4, 3}},  // f = 0 there; the paper's 5.65565e-3 is a local one
  };
  for (const auto& info : mgh::test_set()) {
    for (const auto& entry : minimisers) {
      if (info.name != entry.name) continue;
      const double f = info.function.value(entry.minimiser.data());
      const double expected = info.name == "biggs_exp6" ? 0.0 : info.f_min;
      EXPECT_NEAR(f, expected, 1e-5 * expected + 1e-12) << info.name;
    }
  }
}

TEST(Mgh, ExtendedSizesAreCheckedAndStartAsPublished) {
  EXPECT_THROW(mgh::test_set(6), invalid_argument);
  const auto set = mgh::test_set(12);
  EXPECT_EQ(set.size(), 20u);
  const auto& extended = set[18];
  EXPECT_EQ(extended.function.unknowns, 12);
  EXPECT_EQ(extended.start.size(), 12u);
  // Extended Rosenbrock at x0: 6 copies of f(−1.2, 1) = 24.2.
  EXPECT_NEAR(extended.function.value(extended.start.data()), 6 * 24.2, 1e-9);
}

}  // namespace
}  // namespace gradflow
