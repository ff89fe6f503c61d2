#pragma once
// Two runs that must not differ in one bit (compaction, the two execution paths).
#include <gtest/gtest.h>

#include "gradflow/result.hpp"

namespace gradflow::testing {

/// Every per-problem result (solution, f, ‖∇f‖, t, statuses, step and evaluation counts).
template <class Real>
void expect_same_bits(const solve_result<Real>& a, const solve_result<Real>& b) {
  EXPECT_EQ(a.solution, b.solution);
  EXPECT_EQ(a.objective, b.objective);
  EXPECT_EQ(a.gradient_norm, b.gradient_norm);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.accepted_steps, b.accepted_steps);
  EXPECT_EQ(a.rejected_steps, b.rejected_steps);
  EXPECT_EQ(a.gradient_evaluations, b.gradient_evaluations);
  EXPECT_EQ(a.surrogate_evaluations, b.surrogate_evaluations);
}

}  // namespace gradflow::testing
