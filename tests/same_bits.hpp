#pragma once
// Two runs that must not differ in one bit (compaction, the two execution paths).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "gradflow/result.hpp"

namespace gradflow::testing {

/// Whether two arrays hold the same bits (a diverged member's NaN f is the same answer in both
/// runs, which == would deny); if not, the first element that differs.
template <class Real>
::testing::AssertionResult same_bits(const std::vector<Real>& a, const std::vector<Real>& b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "sizes " << a.size() << " and " << b.size();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(Real)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " and " << b[i];
  return ::testing::AssertionSuccess();
}

/// Every per-problem result (solution, f, ‖∇f‖, t, statuses, step and evaluation counts).
template <class Real>
void expect_same_bits(const solve_result<Real>& a, const solve_result<Real>& b) {
  EXPECT_TRUE(same_bits(a.solution, b.solution)) << "the solutions differ";
  EXPECT_TRUE(same_bits(a.objective, b.objective)) << "f differs";
  EXPECT_TRUE(same_bits(a.gradient_norm, b.gradient_norm)) << "‖∇f‖ differs";
  EXPECT_TRUE(same_bits(a.time, b.time)) << "t differs";
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.accepted_steps, b.accepted_steps);
  EXPECT_EQ(a.rejected_steps, b.rejected_steps);
  EXPECT_EQ(a.gradient_evaluations, b.gradient_evaluations);
  EXPECT_EQ(a.surrogate_evaluations, b.surrogate_evaluations);
}

}  // namespace gradflow::testing
