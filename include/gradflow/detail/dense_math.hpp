#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/host_device.hpp"
#include "gradflow/detail/multiply_add.hpp"

/// Per-problem dense algebra on one problem's row-major arrays. The CPU backend runs all of it; the
/// CUDA backend does the products with cuBLAS and the Cholesky factorisation with cuSOLVER, and
/// uses the rest.
namespace gradflow::detail {

/// G += λI.
template <class Real>
GRADFLOW_HD void add_ridge(Real* gram, Real lambda, int unknowns) {
  for (int p = 0; p < unknowns; ++p) gram[p * unknowns + p] += lambda;
}

/// G = AᵀA + λI (n×n) and C = AᵀB (n×k) for A m×n, B m×k. Row by row of A, every sum at once:
/// each sum still runs over r in order, but the sums are independent chains instead of one
/// dependent chain at a time (half the time at n = 5, m = 50); G's lower triangle is its upper
/// one's mirror, bit for bit (each product commutes). The CPU backend forms the same bits in vector
/// registers (host/least_squares_sums.hpp), and falls back on this above the widths it unrolls for.
template <class Real>
GRADFLOW_HD void normal_equations(const Real* matrix, const Real* rhs, Real lambda, int rows,
                                  int unknowns, int rhs_count, Real* gram, Real* cross) {
  for (int p = 0; p < unknowns; ++p) {
    for (int q = p; q < unknowns; ++q) gram[p * unknowns + q] = 0;
    for (int c = 0; c < rhs_count; ++c) cross[p * rhs_count + c] = 0;
  }
  for (int r = 0; r < rows; ++r) {
    const Real* row = matrix + r * unknowns;
    const Real* row_rhs = rhs + r * rhs_count;
    for (int p = 0; p < unknowns; ++p) {
      const Real a = row[p];
      for (int q = p; q < unknowns; ++q) gram[p * unknowns + q] += a * row[q];
      for (int c = 0; c < rhs_count; ++c) cross[p * rhs_count + c] += a * row_rhs[c];
    }
  }
  for (int p = 0; p < unknowns; ++p)
    for (int q = p + 1; q < unknowns; ++q) gram[q * unknowns + p] = gram[p * unknowns + q];
  add_ridge(gram, lambda, unknowns);
}

/// out = H·X − c for X n×k: the gradient of the quadratic ½⟨X, HX⟩ − ⟨c, X⟩.
template <class Real>
GRADFLOW_HD void quadratic_gradient(const Real* hessian, const Real* point, const Real* linear_term,
                                    int unknowns, int rhs_count, Real* out) {
  for (int r = 0; r < unknowns; ++r) {
    for (int c = 0; c < rhs_count; ++c) {
      Real sum = 0;
      for (int j = 0; j < unknowns; ++j)
        sum = multiply_add(hessian[r * unknowns + j], point[j * rhs_count + c], sum);
      out[r * rhs_count + c] = sum - linear_term[r * rhs_count + c];
    }
  }
}

/// out = G·X for X n×k.
template <class Real>
GRADFLOW_HD void gram_product(const Real* gram, const Real* point, int unknowns, int rhs_count,
                              Real* out) {
  for (int r = 0; r < unknowns; ++r) {
    for (int c = 0; c < rhs_count; ++c) {
      Real sum = 0;
      for (int j = 0; j < unknowns; ++j)
        sum = multiply_add(gram[r * unknowns + j], point[j * rhs_count + c], sum);
      out[r * rhs_count + c] = sum;
    }
  }
}

/// In-place Cholesky G = L Lᵀ of a symmetric matrix, L left in the lower triangle in column-major
/// order (element (r, c) at r + c·n), as cuSOLVER's potrf leaves it. False if G is not positive
/// definite to working precision.
/// Left-looking in panels of cholesky_panel columns: a panel takes the earlier columns'
/// contributions a block at a time while it stays in cache, each entry subtracting them in the same
/// order as the textbook inner products (so the same bits at every n), at cache speed for the n of
/// a neural-ODE batch's Gauss–Newton matrices.
inline constexpr int cholesky_panel = 32;

/// target[c] += Σ_{k < terms} coefficient(k)·source(k)[c] for c in [offset, offset + Width):
/// each entry adds its terms in order of k with its running value in a register, the Width
/// entries' chains side by side (one chain alone would run at an addition's latency).
template <int Width, class Real, class Coefficient, class Source>
GRADFLOW_HD void add_terms_to_entries(Real* target, int terms, const Coefficient& coefficient,
                                      const Source& source, int offset) {
  Real value[Width];
  for (int c = 0; c < Width; ++c) value[c] = target[offset + c];
  for (int k = 0; k < terms; ++k) {
    const Real scale = coefficient(k);
    const Real* row = source(k);
    // Along c, one vector load per term: left to itself, GCC 12 multiplied across terms with
    // gathers (the Gauss–Newton matrix 3× slower, the factor 1.2× on an Intel Xeon; README).
    GRADFLOW_VECTOR_LOOP
    for (int c = 0; c < Width; ++c) value[c] += scale * row[offset + c];
  }
  for (int c = 0; c < Width; ++c) target[offset + c] = value[c];
}

/// target[c] += Σ_{k < terms} coefficient(k)·source(k)[c] for c < width, 16 entries at a time,
/// then 8, 4 and one: each entry is read and written once, not once a term, and takes its terms in
/// order of k (so the same bits as the textbook loop over k outside).
template <class Real, class Coefficient, class Source>
GRADFLOW_HD void add_terms(Real* target, int width, int terms, const Coefficient& coefficient,
                           const Source& source) {
  int c = 0;
  for (; c + 16 <= width; c += 16) add_terms_to_entries<16>(target, terms, coefficient, source, c);
  if (c + 8 <= width) {
    add_terms_to_entries<8>(target, terms, coefficient, source, c);
    c += 8;
  }
  if (c + 4 <= width) {
    add_terms_to_entries<4>(target, terms, coefficient, source, c);
    c += 4;
  }
  for (; c < width; ++c) add_terms_to_entries<1>(target, terms, coefficient, source, c);
}

/// Column `column_index` of the factor, from row column_index down, less
/// Σ_{first ≤ p < end} L_{·p} L_{column_index,p}, subtracting the columns in order of p
/// (x + (−a)·b is x − a·b to the bit).
template <class Real>
GRADFLOW_HD void subtract_columns(Real* factor, int n, int first, int end, int column_index) {
  const auto earlier_rows = [=](int k) {  // column first + k from row column_index down
    return static_cast<const Real*>(factor) + std::int64_t(first + k) * n + column_index;
  };
  add_terms(
      factor + std::int64_t(column_index) * n + column_index, n - column_index, end - first,
      [=](int k) { return -earlier_rows(k)[0]; }, earlier_rows);
}

template <class Real>
GRADFLOW_HD bool cholesky_factor(Real* factor, int n) {
  for (int j0 = 0; j0 < n; j0 += cholesky_panel) {
    const int j1 = j0 + cholesky_panel < n ? j0 + cholesky_panel : n;
    Real original[cholesky_panel];
    for (int j = j0; j < j1; ++j) original[j - j0] = factor[j + std::int64_t(j) * n];
    for (int p0 = 0; p0 < j0; p0 += cholesky_panel)
      for (int j = j0; j < j1; ++j) subtract_columns(factor, n, p0, p0 + cholesky_panel, j);
    for (int j = j0; j < j1; ++j) {
      subtract_columns(factor, n, j0, j, j);
      Real* column = factor + std::int64_t(j) * n;
      const Real diagonal = column[j];
      // A pivot that is rounding noise of the original diagonal means G is singular.
      if (!(diagonal > 16 * n * std::numeric_limits<Real>::epsilon() * original[j - j0]))
        return false;
      const Real root = std::sqrt(diagonal);
      column[j] = root;
      for (int i = j + 1; i < n; ++i) column[i] /= root;
    }
  }
  return true;
}

/// G⁻¹ in place of its Cholesky factor L (cholesky_factor's lower triangle, column-major), as both
/// triangles of a symmetric matrix (so row- and column-major alike): L⁻¹ in place column by column
/// from the last (column j is −L⁻¹_{trailing}·L_{·j}/L_jj, the trailing block already inverted),
/// then G⁻¹ = L⁻ᵀL⁻¹, entry (i, j ≤ i) the sum over k ≥ i of L⁻¹_ki·L⁻¹_kj, in an order that
/// reads no entry after overwriting it (LAPACK's potri, unblocked). For a matrix applied to many
/// vectors: a product's rows are independent sums, where a solve's rows wait on each other.
template <class Real>
GRADFLOW_HD void cholesky_inverse(Real* factor, int n) {
  for (int j = n - 1; j >= 0; --j) {
    Real* column = factor + std::int64_t(j) * n;
    column[j] = Real(1) / column[j];
    const Real scale = -column[j];
    for (int i = n - 1; i > j; --i) {  // bottom up: row i reads rows k ≤ i of the old column
      Real sum = 0;
      for (int k = j + 1; k <= i; ++k) sum += factor[i + std::int64_t(k) * n] * column[k];
      column[i] = sum * scale;
    }
  }
  for (int j = 0; j < n; ++j)
    for (int i = j; i < n; ++i) {
      Real sum = 0;
      for (int k = i; k < n; ++k)
        sum += factor[k + std::int64_t(i) * n] * factor[k + std::int64_t(j) * n];
      factor[i + std::int64_t(j) * n] = sum;
    }
  for (int j = 0; j < n; ++j)
    for (int i = j + 1; i < n; ++i)
      factor[j + std::int64_t(i) * n] = factor[i + std::int64_t(j) * n];
}

/// y = S·x for a symmetric n×n matrix S (both triangles): row i's sum reads S's column i, so the
/// rows' sums go side by side in registers (add_terms), each taking x's terms in order.
template <class Real>
GRADFLOW_HD void symmetric_product(const Real* symmetric, int n, const Real* x, Real* y) {
  for (int i = 0; i < n; ++i) y[i] = 0;
  add_terms(
      y, n, n, [=](int j) { return x[j]; }, [=](int j) { return symmetric + std::int64_t(j) * n; });
}

/// x ← (L Lᵀ)⁻¹ x in place, for a vector with element stride `stride` (a column of a row-major
/// n×k block has stride k).
template <class Real>
GRADFLOW_HD void cholesky_solve(const Real* factor, int n, Real* x, int stride) {
  for (int r = 0; r < n; ++r) {  // L y = x
    Real value = x[r * stride];
    for (int p = 0; p < r; ++p) value -= factor[r + p * n] * x[p * stride];
    x[r * stride] = value / factor[r + r * n];
  }
  for (int r = n - 1; r >= 0; --r) {  // Lᵀ x = y
    Real value = x[r * stride];
    for (int p = r + 1; p < n; ++p) value -= factor[p + r * n] * x[p * stride];
    x[r * stride] = value / factor[r + r * n];
  }
}

/// Smallest eigenvalue of G = L Lᵀ by inverse iteration with the Cholesky factor (to about 1e-6
/// relative, at most 200 iterations), using `scratch` (n values).
template <class Real>
GRADFLOW_HD Real smallest_curvature(const Real* gram, const Real* factor, int n, Real* scratch) {
  for (int r = 0; r < n; ++r) scratch[r] = Real(1) + Real(0.1) * r;  // deterministic start
  Real estimate = 0;
  for (int iteration = 0; iteration < 200; ++iteration) {
    Real norm = 0;
    for (int r = 0; r < n; ++r) norm += scratch[r] * scratch[r];
    norm = std::sqrt(norm);
    for (int r = 0; r < n; ++r) scratch[r] /= norm;
    // Rayleigh quotient xᵀ G x of the unit vector.
    Real quotient = 0;
    for (int r = 0; r < n; ++r) {
      Real row = 0;
      for (int c = 0; c < n; ++c) row += gram[r * n + c] * scratch[c];
      quotient += scratch[r] * row;
    }
    const bool settled = iteration > 0 && std::fabs(quotient - estimate) <= Real(1e-6) * quotient;
    estimate = quotient;
    if (settled) break;
    cholesky_solve(factor, n, scratch, 1);
  }
  return estimate;
}

/// ½‖AU − B‖² + ½λ‖U‖² from the residual's sum of squares and U (n·k elements).
template <class Real>
GRADFLOW_HD Real ridge_objective(Real residual_sq, Real lambda, const Real* point, int elements) {
  Real point_sq = 0;
  for (int e = 0; e < elements; ++e) point_sq += point[e] * point[e];
  return Real(0.5) * residual_sq + Real(0.5) * lambda * point_sq;
}

/// f(U) = ½‖AU − B‖² + ½λ‖U‖², from the residual itself (not from G and C, which would lose the
/// small f of a nearly consistent problem to cancellation against ½‖B‖²). The CPU backend computes
/// the same bits in vector registers (host/least_squares_sums.hpp).
template <class Real>
GRADFLOW_HD Real least_squares_objective(const Real* matrix, const Real* rhs, Real lambda,
                                         const Real* point, int rows, int unknowns, int rhs_count) {
  Real residual_sq = 0;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < rhs_count; ++c) {
      Real residual = -rhs[r * rhs_count + c];
      for (int j = 0; j < unknowns; ++j)
        residual += matrix[r * unknowns + j] * point[j * rhs_count + c];
      residual_sq += residual * residual;
    }
  }
  return ridge_objective(residual_sq, lambda, point, unknowns * rhs_count);
}

/// max_p Σ_q |G_pq| ≥ the largest eigenvalue of G (Gershgorin): dt = 1/bound keeps explicit Euler
/// (stable for dt < 2/L) and RK4 (dt < 2.78/L) stable.
template <class Real>
GRADFLOW_HD Real curvature_bound(const Real* gram, int unknowns) {
  Real bound = 0;
  for (int p = 0; p < unknowns; ++p) {
    Real row = 0;
    for (int q = 0; q < unknowns; ++q) row += std::fabs(gram[p * unknowns + q]);
    bound = row > bound ? row : bound;
  }
  return bound;
}

/// A power iteration's estimate of G's largest eigenvalue raised 1 % (it approaches L from below),
/// capped by the Gershgorin bound (never below L).
template <class Real>
GRADFLOW_HD Real raised_within_bound(Real estimate, const Real* gram, int n) {
  const Real bound = curvature_bound(gram, n);
  const Real raised = Real(1.01) * estimate;
  return raised < bound ? raised : bound;
}

/// Largest eigenvalue L of the symmetric positive semidefinite G by power iteration (to about 1e-7
/// relative, at most 500 iterations), raised 1% since the iteration approaches L from below and
/// capped by the Gershgorin bound (which is never below L): a stability length divided by it is a
/// safe step. `scratch` and `next` hold n values each.
template <class Real>
GRADFLOW_HD Real largest_curvature(const Real* gram, int n, Real* scratch, Real* next) {
  for (int r = 0; r < n; ++r) scratch[r] = Real(1) + Real(0.1) * r;  // deterministic start
  Real estimate = 0;
  for (int iteration = 0; iteration < 500; ++iteration) {
    Real norm = 0;
    for (int r = 0; r < n; ++r) norm += scratch[r] * scratch[r];
    norm = std::sqrt(norm);
    if (!(norm > 0)) break;
    for (int r = 0; r < n; ++r) scratch[r] /= norm;
    Real grown = 0;  // ‖G x‖ of the unit vector x: at most L, tending to it
    for (int r = 0; r < n; ++r) {
      Real row = 0;
      for (int c = 0; c < n; ++c) row += gram[r * n + c] * scratch[c];
      next[r] = row;
      grown += row * row;
    }
    grown = std::sqrt(grown);
    const bool settled = std::fabs(grown - estimate) <= Real(1e-7) * grown;
    estimate = grown;
    for (int r = 0; r < n; ++r) scratch[r] = next[r];
    if (settled) break;
  }
  return raised_within_bound(estimate, gram, n);
}

}  // namespace gradflow::detail
