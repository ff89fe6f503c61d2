#pragma once
// Small problems with known answers, shared by the tests.
#include <cmath>
#include <cstdint>

#include "gradflow/least_squares.hpp"

namespace gradflow::testing {

/// f(u) = ½ μ (u − u*)² as least squares — A = √μ, B = √μ·u*, one unknown, one right-hand side —
/// `copies` times, each starting at `start`.
inline least_squares_batch<double> scalar_quadratic(double curvature, double minimum, double start,
                                                    std::int64_t copies = 1) {
  least_squares_batch<double> batch;
  batch.batch_size = copies;
  batch.rows = batch.unknowns = batch.rhs_count = 1;
  batch.matrix = {std::sqrt(curvature)};
  batch.rhs = {std::sqrt(curvature) * minimum};
  batch.initial.assign(copies, start);
  return batch;
}

}  // namespace gradflow::testing
