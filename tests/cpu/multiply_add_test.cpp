#include "gradflow/detail/multiply_add.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace gradflow::detail {
namespace {

// (1 + 2⁻³⁰)(1 − 2⁻³⁰) − 1 = −2⁻⁶⁰ exactly; the product alone rounds to 1 (its distance from 1 is
// below half an ulp), so two roundings give 0 and one gives −2⁻⁶⁰. float: 2⁻¹⁴ and −2⁻²⁸.
template <class Real>
void expect_rounding_as_built(int half_exponent) {
  const Real tiny = std::ldexp(Real(1), -half_exponent);
  const Real a = 1 + tiny, b = 1 - tiny, fused = -tiny * tiny;
  // volatile: the operands unknown to the compiler, so that nothing is folded at compile time.
  volatile Real a_at_run_time = a, b_at_run_time = b, minus_one = -1;
  const Real got = multiply_add<Real>(a_at_run_time, b_at_run_time, minus_one);
  if (GRADFLOW_FUSED_MULTIPLY_ADD)
    EXPECT_EQ(got, fused) << "the build fuses multiply–adds; this one rounded twice";
  else
    EXPECT_EQ(got, Real(0)) << "the build does not fuse multiply–adds; this one rounded once";
}

TEST(MultiplyAdd, RoundsOnceExactlyWhereTheBuildSaysItFuses) {
  expect_rounding_as_built<double>(30);
  expect_rounding_as_built<float>(14);
}

}  // namespace
}  // namespace gradflow::detail
