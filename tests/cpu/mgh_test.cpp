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

/// ∇²f·v by central differences of the analytic gradient, h = 1e-5·max(1, ‖x‖)/‖v‖.
std::vector<double> gradient_difference(const mgh::objective& f, const std::vector<double>& x,
                                        const std::vector<double>& v) {
  const double h = 1e-5 * std::max(1.0, norm(x)) / norm(v);
  std::vector<double> up = x, down = x, g_up(x.size()), g_down(x.size()), estimate(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) up[j] += h * v[j], down[j] -= h * v[j];
  f.gradient(up.data(), g_up.data());
  f.gradient(down.data(), g_down.data());
  for (std::size_t j = 0; j < x.size(); ++j) estimate[j] = (g_up[j] - g_down[j]) / (2 * h);
  return estimate;
}

TEST(Mgh, HessianVectorProductsMatchDifferencesOfTheGradient) {
  // At x0 and three random points around it, along random directions:
  // ‖∇²f·v − Δ‖ ≤ 1e-5·‖∇²f·v‖ + 1e-8·‖∇f‖·(1 + ‖x‖)/‖v‖ (the second term the differences'
  // rounding, ε‖∇f‖/h).
  std::mt19937_64 engine(9);
  std::uniform_real_distribution<double> uniform(-0.3, 0.3);
  std::normal_distribution<double> normal;
  for (const auto& info : mgh::test_set()) {
    for (int point = 0; point < 4; ++point) {
      std::vector<double> x = info.start, v(x.size()), product(x.size()), g(x.size());
      if (point > 0)
        for (double& value : x) value += uniform(engine) * (1 + std::fabs(value));
      for (double& value : v) value = normal(engine);
      info.function.hessian_times(x.data(), v.data(), product.data());
      info.function.gradient(x.data(), g.data());
      const auto estimate = gradient_difference(info.function, x, v);
      std::vector<double> difference(x.size());
      for (std::size_t j = 0; j < x.size(); ++j) difference[j] = product[j] - estimate[j];
      EXPECT_LE(norm(difference), 1e-5 * norm(product) + 1e-8 * norm(g) * (1 + norm(x)) / norm(v))
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
      {"extended_rosenbrock_8", std::vector<double>(8, 1.0)},
      {"extended_powell_8", std::vector<double>(8, 0.0)},
      {"variably_dimensioned_10", std::vector<double>(10, 1.0)},
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

TEST(Mgh, SizesAreCheckedAndStartAsPublished) {
  EXPECT_THROW(mgh::test_set(6), invalid_argument);
  EXPECT_THROW(mgh::sized(mgh::problem::rosenbrock, 3), invalid_argument);
  EXPECT_THROW(mgh::sized(mgh::problem::extended_rosenbrock, 7), invalid_argument);
  EXPECT_THROW(mgh::sized(mgh::problem::extended_powell, 6), invalid_argument);
  EXPECT_THROW(mgh::sized(mgh::problem::watson, 32), invalid_argument);
  EXPECT_THROW(mgh::sized(mgh::problem::chebyquad, mgh::max_unknowns + 1), invalid_argument);
  EXPECT_TRUE(std::isnan(mgh::sized(mgh::problem::watson, 7).f_min));  // not published
  const auto set = mgh::test_set(12);
  EXPECT_EQ(set.size(), 29u);
  const auto& extended = set[18];
  EXPECT_EQ(extended.name, "extended_rosenbrock_12");
  EXPECT_EQ(extended.function.unknowns, 12);
  EXPECT_EQ(extended.start.size(), 12u);
  // Extended Rosenbrock at x0: 6 copies of f(−1.2, 1) = 24.2.
  EXPECT_NEAR(extended.function.value(extended.start.data()), 6 * 24.2, 1e-9);
  // Penalty I at x0 = (1, …, n), n = 4: a·Σ(j − 1)² + (Σ j² − 1/4)² = 1e-5·14 + 29.75².
  const auto penalty = mgh::sized(mgh::problem::penalty_1, 4);
  EXPECT_NEAR(penalty.function.value(penalty.start.data()), 14e-5 + 29.75 * 29.75, 1e-9);
  // Watson at x0 = 0: 29 residuals of −1, then 0 and −1.
  const auto watson = mgh::sized(mgh::problem::watson, 6);
  EXPECT_NEAR(watson.function.value(watson.start.data()), 30, 1e-12);
}

TEST(Mgh, EveryProblemIsFoundByItsNameAtItsSize) {
  for (const auto& info : mgh::test_set()) {
    const bool fixed_size = int(info.function.id) <= int(mgh::problem::biggs_exp6);  // MGH 1–18
    const std::string name = fixed_size ? info.name : info.name.substr(0, info.name.rfind('_'));
    const auto found = mgh::named(name, info.function.unknowns);
    EXPECT_EQ(found.name, info.name);
    EXPECT_EQ(found.function.id, info.function.id);
    EXPECT_EQ(found.function.residuals, info.function.residuals);
    EXPECT_EQ(found.start, info.start);
  }
  EXPECT_EQ(mgh::named("rosenbrock").function.unknowns, 2);
  EXPECT_EQ(mgh::named("watson").name, "watson_6");  // the set's first size
  EXPECT_EQ(mgh::named("extended_powell", 12).function.unknowns, 12);
  try {
    mgh::named("rosenbrok");
    ADD_FAILURE() << "a misspelt name was accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'rosenbrok': expected one of rosenbrock,"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("chebyquad"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mgh::named("beale", 3), invalid_argument);
  EXPECT_THROW(mgh::named("extended_powell", 6), invalid_argument);
}

}  // namespace
}  // namespace gradflow
