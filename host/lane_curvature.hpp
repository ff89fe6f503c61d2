#pragma once
// dense_math.hpp's Cholesky solve and curvature estimates for W problems at once, their matrices
// element-major as the CPU's lane blocks hold them (element e of lane w at e·W + w). Each lane's
// arithmetic is the per-problem function's, operation for operation, so the bits are the same.
// The estimates iterate each problem until its own test settles, so a lane whose problem has
// settled takes the next problem at once instead of waiting for the slowest of its block (on the
// seed the slowest of 8 takes 2.3× the mean iteration count).
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gradflow/detail/dense_math.hpp"

namespace gradflow::detail {

/// cholesky_solve in every lane: x ← (L Lᵀ)⁻¹x for each column of the n×columns row-major block
/// `vector` and the lanes' factors L (column-major, as cholesky_factor leaves them).
template <class Real, int W>
void cholesky_solve_in_lanes(const Real* factor, int n, int columns, Real* vector) {
  const auto entry = [&](int row, int column) {
    return factor + std::size_t(row + column * n) * W;
  };
  for (int c = 0; c < columns; ++c) {
    const auto x = [&](int row) { return vector + std::size_t(row * columns + c) * W; };
    const auto substitute = [&](int r, int p, const Real* l) {  // x_r −= l·x_p
      Real* value = x(r);
      const Real* known = x(p);
#pragma omp simd
      for (int w = 0; w < W; ++w) value[w] -= l[w] * known[w];
    };
    const auto divide = [&](int r) {
      Real* value = x(r);
      const Real* diagonal = entry(r, r);
#pragma omp simd
      for (int w = 0; w < W; ++w) value[w] /= diagonal[w];
    };
    for (int r = 0; r < n; ++r) {  // L y = x
      for (int p = 0; p < r; ++p) substitute(r, p, entry(r, p));
      divide(r);
    }
    for (int r = n - 1; r >= 0; --r) {  // Lᵀ x = y
      for (int p = r + 1; p < n; ++p) substitute(r, p, entry(p, r));
      divide(r);
    }
  }
}

namespace lane_iteration {

/// Each lane's Euclidean norm of `vector` into `norms`, then `vector` divided by it.
template <class Real, int W>
void normalise(int n, Real* vector, Real (&norms)[W]) {
  for (int w = 0; w < W; ++w) norms[w] = 0;
  for (int r = 0; r < n; ++r) {
    const Real* value = vector + std::size_t(r) * W;
#pragma omp simd
    for (int w = 0; w < W; ++w) norms[w] += value[w] * value[w];
  }
#pragma omp simd
  for (int w = 0; w < W; ++w) norms[w] = std::sqrt(norms[w]);
  for (int r = 0; r < n; ++r) {
    Real* value = vector + std::size_t(r) * W;
#pragma omp simd
    for (int w = 0; w < W; ++w) value[w] /= norms[w];
  }
}

/// Row r of G·x in every lane, each lane's sum over columns in order from 0.
template <class Real, int W>
void row_product(const Real* gram, int n, int r, const Real* vector, Real (&row)[W]) {
  for (int w = 0; w < W; ++w) row[w] = 0;
  for (int c = 0; c < n; ++c) {
    const Real* g = gram + std::size_t(r * n + c) * W;
    const Real* x = vector + std::size_t(c) * W;
#pragma omp simd
    for (int w = 0; w < W; ++w) row[w] += g[w] * x[w];
  }
}

}  // namespace lane_iteration

/// Iterates W lanes until every problem `next()` hands out (−1: none left) has its result:
/// `load(w, j)` puts problem j in lane w (right after next() returned it), `iterate(done)` takes
/// one iteration in every lane and sets done[w] (1 or 0) where lane w's problem has its result,
/// which `finish(w, j)` takes; a problem also ends after `most_iterations`. A lane whose problem
/// ended takes the next at once; the others go on.
template <class Real, int W, class Next, class Load, class Iterate, class Finish>
void iterate_with_refills(int most_iterations, Next next, Load load, Iterate iterate,
                          Finish finish) {
  std::int64_t problem[W];
  int iterations[W];
  bool busy = false;
  const auto refill = [&](int w) {
    problem[w] = next();
    iterations[w] = 0;
    if (problem[w] >= 0) load(w, problem[w]);
  };
  for (int w = 0; w < W; ++w) {
    refill(w);
    busy = busy || problem[w] >= 0;
  }
  while (busy) {
    Real done[W];  // Real, not bool: the lanes' loops that set it vectorise
    iterate(done);
    busy = false;
    for (int w = 0; w < W; ++w) {
      if (problem[w] < 0) continue;
      if (done[w] != 0 || ++iterations[w] == most_iterations) {
        finish(w, problem[w]);
        refill(w);
      }
      busy = busy || problem[w] >= 0;
    }
  }
}

/// largest_curvature of each problem j that `next()` hands out (`gram_of(j)`: its G, row-major
/// n×n), into take(j, L): power iteration, raised 1 % and capped by the Gershgorin bound.
template <class Real, int W, class Next, class GramOf, class Take>
void largest_curvatures(int n, Next next, GramOf gram_of, Take take) {
  const std::size_t square = std::size_t(n) * n;
  std::vector<Real> gram(square * W), scratch(std::size_t(n) * W), product(std::size_t(n) * W);
  Real estimate[W], norms[W], grown[W], row[W];
  const auto load = [&](int w, std::int64_t j) {
    const Real* g = gram_of(j);
    for (std::size_t e = 0; e < square; ++e) gram[e * W + w] = g[e];
    for (int r = 0; r < n; ++r) scratch[std::size_t(r) * W + w] = Real(1) + Real(0.1) * r;
    estimate[w] = 0;
  };
  const auto iterate = [&](Real(&done)[W]) {
    lane_iteration::normalise<Real, W>(n, scratch.data(), norms);
    for (int w = 0; w < W; ++w) grown[w] = 0;
    for (int r = 0; r < n; ++r) {
      lane_iteration::row_product<Real, W>(gram.data(), n, r, scratch.data(), row);
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        product[std::size_t(r) * W + w] = row[w];
        grown[w] += row[w] * row[w];
      }
    }
#pragma omp simd
    for (int w = 0; w < W; ++w) grown[w] = std::sqrt(grown[w]);
#pragma omp simd
    for (int w = 0; w < W; ++w) {
      const bool vanished = !(norms[w] > 0);  // the per-problem loop stops before G·x there
      const bool settled = std::fabs(grown[w] - estimate[w]) <= Real(1e-7) * grown[w];
      estimate[w] = vanished ? estimate[w] : grown[w];
      done[w] = (vanished | settled) ? Real(1) : Real(0);  // |: no branch in the loop
    }
    scratch.swap(product);
  };
  iterate_with_refills<Real, W>(500, next, load, iterate, [&](int w, std::int64_t j) {
    take(j, raised_within_bound(estimate[w], gram_of(j), n));
  });
}

/// smallest_curvature of each problem j that `next()` hands out (`gram_of(j)` and `factor_of(j)`:
/// its G, row-major n×n, and G's Cholesky factor, read right after next() returned j), into
/// take(j, μ): inverse iteration with the factor.
template <class Real, int W, class Next, class GramOf, class FactorOf, class Take>
void smallest_curvatures(int n, Next next, GramOf gram_of, FactorOf factor_of, Take take) {
  const std::size_t square = std::size_t(n) * n;
  std::vector<Real> gram(square * W), factor(square * W), scratch(std::size_t(n) * W);
  Real estimate[W], norms[W], quotient[W], row[W];
  const auto load = [&](int w, std::int64_t j) {
    const Real* g = gram_of(j);
    const Real* l = factor_of(j);
    for (std::size_t e = 0; e < square; ++e) {
      gram[e * W + w] = g[e];
      factor[e * W + w] = l[e];
    }
    for (int r = 0; r < n; ++r) scratch[std::size_t(r) * W + w] = Real(1) + Real(0.1) * r;
    // NaN: no comparison with it holds, so no problem settles at its first iteration.
    estimate[w] = std::numeric_limits<Real>::quiet_NaN();
  };
  const auto iterate = [&](Real(&done)[W]) {
    lane_iteration::normalise<Real, W>(n, scratch.data(), norms);
    for (int w = 0; w < W; ++w) quotient[w] = 0;
    for (int r = 0; r < n; ++r) {  // the Rayleigh quotient xᵀ G x of the unit vector
      lane_iteration::row_product<Real, W>(gram.data(), n, r, scratch.data(), row);
      const Real* x = scratch.data() + std::size_t(r) * W;
#pragma omp simd
      for (int w = 0; w < W; ++w) quotient[w] += x[w] * row[w];
    }
#pragma omp simd
    for (int w = 0; w < W; ++w) {
      done[w] =
          std::fabs(quotient[w] - estimate[w]) <= Real(1e-6) * quotient[w] ? Real(1) : Real(0);
      estimate[w] = quotient[w];
    }
    cholesky_solve_in_lanes<Real, W>(factor.data(), n, 1, scratch.data());
  };
  iterate_with_refills<Real, W>(200, next, load, iterate,
                                [&](int w, std::int64_t j) { take(j, estimate[w]); });
}

}  // namespace gradflow::detail
