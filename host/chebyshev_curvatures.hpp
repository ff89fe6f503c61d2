#pragma once
// The Chebyshev methods' curvature estimates for the CPU's lane blocks, made for a whole chunk
// before its steps.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "gradflow/detail/chebyshev_step.hpp"
#include "gradflow/detail/cpu_loops.hpp"
#include "gradflow/detail/dense_math.hpp"
#include "lane_curvature.hpp"
#include "lane_problems.hpp"

namespace gradflow::detail {

/// setup_chebyshev's estimates — L, and μ where the stage count comes from κ — of a chunk's running
/// problems, made before the chunk's steps by every thread's lanes, each lane taking the next
/// problem as soon as its own has settled (lane_curvature.hpp), for the lane blocks' set-up to
/// read (run_lane_blocks' preparation). A block that estimated only the problems it opens would
/// wait for the slowest of them each time.
template <class Real>
class chebyshev_curvatures {
public:
  explicit chebyshev_curvatures(const lockstep_view<Real>& v)
      : v_(v), largest_(fused_block), smallest_(fused_block) {}

  /// Estimates for the problems [first, end).
  void prepare(std::int64_t first, std::int64_t end) {
    constexpr int W = lane_count<Real>;
    first_ = first;
    std::fill(smallest_.begin(), smallest_.end(), std::numeric_limits<Real>::quiet_NaN());
    problem_queue for_largest(first, end), for_smallest(first, end);
    const int n = v_.unknowns;
#pragma omp parallel
    {
      const auto gram_of = [&](std::int64_t i) { return v_.curvature_of(i); };
      largest_curvatures<Real, W>(
          n, [&] { return next_running(for_largest); }, gram_of,
          [&](std::int64_t i, Real largest) { largest_[i - first] = largest; });
      // The factor of the problem next_needing_smallest returned last: admission's own (of G,
      // factor_problem), which fails where this one does and marks the problem invalid_input.
      std::vector<Real> factor(std::size_t(n) * n);
      const auto next_needing_smallest = [&]() -> std::int64_t {
        for (;;) {
          const std::int64_t i = next_running(for_smallest);
          if (i < 0) return i;
          if (!chebyshev_stages_from_condition(v_, i)) continue;
          std::copy(v_.curvature_of(i), v_.curvature_of(i) + factor.size(), factor.begin());
          if (cholesky_factor(factor.data(), n)) return i;
        }
      };
      smallest_curvatures<Real, W>(
          n, next_needing_smallest, gram_of, [&](std::int64_t) { return factor.data(); },
          [&](std::int64_t i, Real smallest) { smallest_[i - first] = smallest; });
    }
  }

  Real largest(std::int64_t i) const { return largest_[i - first_]; }
  Real smallest(std::int64_t i) const { return smallest_[i - first_]; }

private:
  std::int64_t next_running(problem_queue& queue) const {
    for (;;) {
      const auto [i, end] = queue.take(1);
      if (i == end) return -1;  // the chunk's problems are all taken
      if (v_.running(i)) return i;
    }
  }

  const lockstep_view<Real> v_;
  std::int64_t first_ = 0;
  std::vector<Real> largest_, smallest_;
};

}  // namespace gradflow::detail
