#include "gradflow/detail/control_power.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gradflow::detail {
namespace {

/// The oracle: x87's 64-bit-mantissa powl, 11 bits beyond double.
long double reference_power(double x, double p) {
  return std::pow(static_cast<long double>(x), static_cast<long double>(p));
}

// PI control's exponents (7/(10·order), 2/(5·order) for orders 1…5) and beyond.
constexpr double exponents[] = {0.04, 0.08, 0.1, 0.14, 0.175, 0.2, 0.35, 0.4, 0.5, 0.7, 1.0};

TEST(ControlPower, MatchesPowlOverTheWholeRangeOfDouble) {
  double worst_in_domain = 0, worst_beyond = 0;
  for (double p : exponents) {
    // x from the smallest subnormals to near the largest double, 40 points a decade.
    for (double decade = -323; decade <= 307.9; decade += 0.025) {
      const double x = std::pow(10.0, decade);
      if (x == 0) continue;
      const long double expected = reference_power(x, p);
      const double got = control_power(x, p);
      ASSERT_TRUE(std::isfinite(got)) << "x " << x << " p " << p;
      if (expected < 1e-290L) {  // a subnormal or nearly subnormal result: absolute error
        EXPECT_LE(std::fabs(got - double(expected)), 1e-300) << "x " << x << " p " << p;
        continue;
      }
      const double relative = double(std::fabs((got - expected) / expected));
      if (std::fabs(p * std::log(x)) <= 40)
        worst_in_domain = std::max(worst_in_domain, relative);
      else
        worst_beyond = std::max(worst_beyond, relative);
    }
  }
  EXPECT_LE(worst_in_domain, 1e-14);
  EXPECT_LE(worst_beyond, 1e-13);
  EXPECT_GT(worst_in_domain, 0);  // the oracle is finer than double: it sees the rounding
}

TEST(ControlPower, MantissasAroundTheSplitAndPowersOfTwo) {
  for (double p : exponents) {
    for (int exponent = -1074; exponent <= 1023; exponent += 7) {
      for (double mantissa :
           {1.0, std::sqrt(2.0) * (1 - 1e-16), std::sqrt(2.0) * (1 + 1e-16), 1.9999999999999998}) {
        const double x = std::ldexp(mantissa, exponent);
        if (x == 0 || !std::isfinite(x)) continue;
        const long double expected = reference_power(x, p);
        const double got = control_power(x, p);
        if (expected < 1e-290L) {
          EXPECT_LE(std::fabs(got - double(expected)), 1e-300);
        } else {
          EXPECT_LE(double(std::fabs((got - expected) / expected)), 1e-13)
              << "x " << x << " p " << p;
        }
      }
    }
  }
}

TEST(ControlPower, ExactWhereThePowerIsExact) {
  for (double p : exponents) {
    EXPECT_EQ(control_power(1.0, p), 1.0);
    EXPECT_EQ(control_power(0.0, p), 0.0);  // EEst = 0: the largest growth q_max then decides
    EXPECT_EQ(control_power(1.0f, float(p)), 1.0f);
    EXPECT_EQ(control_power(0.0f, float(p)), 0.0f);
  }
  for (double x : {0.0, 1e-310, 1e-4, 0.5, 3.0, 1e300}) EXPECT_EQ(control_power(x, 0.0), 1.0);
  EXPECT_EQ(control_power(16.0, 0.5), 4.0);
  EXPECT_EQ(control_power(0.25, 0.5), 0.5);
}

TEST(ControlPower, FloatIsPowWithinItsOwnArithmetic) {
  // float computes in float: the bound is p·ln x rounded in float (|y|·2⁻²⁴) and a few roundings
  // of the series and the scaling. Over the whole range of float, subnormals included.
  double worst = 0, worst_beyond_bound = 0;
  for (double p : exponents) {
    for (double decade = -45.8; decade <= 38.5; decade += 0.01) {
      const float x = float(std::pow(10.0, decade));
      if (x == 0 || !std::isfinite(x)) continue;
      const long double expected = reference_power(double(x), double(float(p)));
      if (expected < std::numeric_limits<float>::min()) continue;
      const float got = control_power(x, float(p));
      ASSERT_TRUE(std::isfinite(got)) << "x " << x << " p " << p;
      const double relative = double(std::fabs((got - expected) / expected));
      const double y = std::fabs(double(float(p)) * std::log(double(x)));
      const double bound = (8 + y) * std::ldexp(1.0, -24);
      EXPECT_LE(relative, bound) << "x " << x << " p " << p;
      worst = std::max(worst, relative);
      worst_beyond_bound = std::max(worst_beyond_bound, relative / bound);
    }
  }
  EXPECT_GT(worst, 0);  // the oracle is finer than float: it sees the rounding
  std::printf("float control_power: worst relative error %.3g, %.2f of the bound\n", worst,
              worst_beyond_bound);
}

TEST(ControlPower, FloatMantissasAroundTheSplitAndPowersOfTwo) {
  for (double p : exponents) {
    for (int exponent = -149; exponent <= 127; ++exponent) {
      for (float mantissa : {1.0f, std::nextafter(std::sqrt(2.0f), 0.0f),
                             std::nextafter(std::sqrt(2.0f), 2.0f), std::nextafter(2.0f, 0.0f)}) {
        const float x = std::ldexp(mantissa, exponent);
        if (x == 0 || !std::isfinite(x)) continue;
        const long double expected = reference_power(double(x), double(float(p)));
        if (expected < std::numeric_limits<float>::min()) continue;
        const double y = std::fabs(double(float(p)) * std::log(double(x)));
        EXPECT_LE(double(std::fabs((control_power(x, float(p)) - expected) / expected)),
                  (8 + y) * std::ldexp(1.0, -24))
            << "x " << x << " p " << p;
      }
    }
  }
}

}  // namespace
}  // namespace gradflow::detail
