#pragma once
// The learned gradient flow's regression (Norman, Rowan, Maute & Doostan, "Learning Gradient
// Flow", CMAME 460, 2026), one problem per call, written once for the CPU and CUDA threads: the
// polynomial library φ(a) of a window's reduced coordinates, the targets its coefficients Ξ are
// fitted to (θ̇ ≈ Ξᵀφ), and the fits themselves — least squares (optional ridge) or sequentially
// thresholded least squares (STLSQ).
#include <cmath>
#include <limits>

#include "gradflow/detail/host_device.hpp"

namespace gradflow::detail {

/// The most iterations a window records (it sizes per-thread arrays of about 3K² values).
inline constexpr int lgf_max_record = 32;

/// What the surrogate's coefficients are fitted to (the lgf_target hyperparameter's values).
enum class surrogate_target : int {
  tracked = 0,  ///< the base method's own step directions at θ_j (gd: −∇f(θ_j))
  strong = 1,   ///< θ̇ by finite differences of the iterates, of order lgf_order (1, 2 or 4)
  weak = 2,  ///< ∫ψθ̇ = −∫ψ'θ against bumps ψ = (t − a)^5 (b − t)^5 inside the window
};

/// STLSQ's threshold-and-refit rounds (the paper's 3), before its unbiased refit.
inline constexpr int stlsq_rounds = 3;

/// The columns of the degree-p library of `rank` coordinates: 1, a_c, and for p = 2 a_c·a_k
/// (c ≤ k).
GRADFLOW_HD int library_size(int rank, int degree) {
  return 1 + rank + (degree >= 2 ? rank * (rank + 1) / 2 : 0);
}

/// The largest rank whose library has at most `rows` columns (the fit needs columns ≤ rows).
GRADFLOW_HD int largest_fitted_rank(int rows, int degree) {
  int rank = 0;
  while (rank < lgf_max_record && library_size(rank + 1, degree) <= rows) ++rank;
  return rank;
}

/// φ(a) into row[0 … library_size − 1].
template <class Real>
GRADFLOW_HD void library_row(const Real* a, int rank, int degree, Real* row) {
  row[0] = 1;
  for (int c = 0; c < rank; ++c) row[1 + c] = a[c];
  if (degree < 2) return;
  int column = 1 + rank;
  for (int c = 0; c < rank; ++c)
    for (int k = c; k < rank; ++k) row[column++] = a[c] * a[k];
}

/// Rows 0 … count − 1 of a fit's matrix, each 1 and a window point's reduced coordinates (the
/// affine library), widened in place to the library of degree `degree`.
template <class Real>
GRADFLOW_HD void expand_to_library(Real (*rows)[lgf_max_record + 1], int count, int rank,
                                   int degree) {
  Real a[lgf_max_record];
  for (int j = 0; degree > 1 && j < count; ++j) {
    for (int c = 0; c < rank; ++c) a[c] = rows[j][1 + c];
    library_row(a, rank, degree, rows[j]);
  }
}

/// The weak target's bump half-width in steps: the authors' max(1, ⌊K/25⌋/2) leaves, for K < 100,
/// a bump nonzero at its centre only, where its derivative vanishes (an all-zero target), so two
/// steps at least, and K/6 to keep about two thirds of the window as test functions.
GRADFLOW_HD int weak_half_width(int record) { return record / 6 > 2 ? record / 6 : 2; }

/// The bump ψ(s) = ((s − α)(α + 2w − s))^5 / w^10 (1 at its centre) and dψ/ds at the step
/// index s, for the test function starting at α.
template <class Real>
GRADFLOW_HD void bump(int s, int alpha, int half_width, Real& value, Real& slope) {
  const Real left = Real(s - alpha), right = Real(alpha + 2 * half_width - s);
  if (!(left > 0 && right > 0)) {
    value = slope = 0;
    return;
  }
  const Real scale = std::pow(Real(half_width), Real(10));
  const Real product = left * right;
  const Real square = product * product;
  value = square * square * product / scale;
  slope = 5 * square * square * (right - left) / scale;
}

/// Least squares min ‖F X − B‖² + α‖X‖² by Householder QR of F (rows × columns, columns ≤ rows)
/// and, for α > 0, Givens rotations of the rows √α·I into R; X (columns × outputs) is left in B's
/// first rows. B's rows hold `Width` ≥ outputs values (a one-output fit's B is a column: every
/// array here is a GPU thread's local memory). False when R is singular (the fit is not
/// determined).
template <class Real, int Width>
GRADFLOW_HD bool small_least_squares(Real (*f)[lgf_max_record + 1], Real (*b)[Width], int rows,
                                     int columns, int outputs, Real ridge) {
  Real column_norm[lgf_max_record + 1];  // a column is dependent when R leaves rounding of it
  for (int c = 0; c < columns; ++c) {
    Real norm_sq = 0;
    for (int r = 0; r < rows; ++r) norm_sq += f[r][c] * f[r][c];
    column_norm[c] = std::sqrt(norm_sq);
  }
  for (int c = 0; c < columns; ++c) {
    Real norm_sq = 0;
    for (int r = c; r < rows; ++r) norm_sq += f[r][c] * f[r][c];
    const Real norm = std::sqrt(norm_sq);
    if (norm == 0) continue;
    const Real alpha = f[c][c] > 0 ? -norm : norm;  // the reflection's image, away from f[c][c]
    f[c][c] -= alpha;                               // v = x − αe₁ in column c, rows c…
    const Real v_norm_sq = norm_sq - 2 * alpha * (f[c][c] + alpha) + alpha * alpha;
    for (int k = c + 1; k < columns; ++k) {
      Real dot_v = 0;
      for (int r = c; r < rows; ++r) dot_v += f[r][c] * f[r][k];
      const Real scale = 2 * dot_v / v_norm_sq;
      for (int r = c; r < rows; ++r) f[r][k] -= scale * f[r][c];
    }
    for (int k = 0; k < outputs; ++k) {
      Real dot_v = 0;
      for (int r = c; r < rows; ++r) dot_v += f[r][c] * b[r][k];
      const Real scale = 2 * dot_v / v_norm_sq;
      for (int r = c; r < rows; ++r) b[r][k] -= scale * f[r][c];
    }
    f[c][c] = alpha;
  }
  if (ridge > 0) {
    const Real root = std::sqrt(ridge);
    for (int extra = 0; extra < columns; ++extra) {  // the row √α·e_extra, right-hand side 0
      Real row[lgf_max_record + 1];
      Real rhs[Width];
      for (int c = 0; c < columns; ++c) row[c] = c == extra ? root : Real(0);
      for (int k = 0; k < outputs; ++k) rhs[k] = 0;
      for (int c = extra; c < columns; ++c) {
        if (row[c] == 0) continue;
        const Real radius = std::hypot(f[c][c], row[c]);
        const Real cosine = f[c][c] / radius, sine = row[c] / radius;
        for (int k = c; k < columns; ++k) {
          const Real top = f[c][k];
          f[c][k] = cosine * top + sine * row[k];
          row[k] = -sine * top + cosine * row[k];
        }
        for (int k = 0; k < outputs; ++k) {
          const Real top = b[c][k];
          b[c][k] = cosine * top + sine * rhs[k];
          rhs[k] = -sine * top + cosine * rhs[k];
        }
      }
    }
  }
  for (int c = columns - 1; c >= 0; --c) {
    if (!(std::fabs(f[c][c]) > 64 * std::numeric_limits<Real>::epsilon() * column_norm[c]))
      return false;
    for (int k = 0; k < outputs; ++k) {
      Real sum = b[c][k];
      for (int l = c + 1; l < columns; ++l) sum -= f[c][l] * b[l][k];
      b[c][k] = sum / f[c][c];
    }
  }
  return true;
}

/// One output's fit on the columns `in_support` marks of the column-normalised F (f[r][c] /
/// norm[c]); the coefficients of the normalised columns go to coefficient[c], zero off the
/// support. False when that fit is not determined. Called, not inlined (see differenced_window).
template <class Real>
[[gnu::noinline]] GRADFLOW_HD bool fit_on_support(const Real (*f)[lgf_max_record + 1],
                                                  const Real* norm, const Real (*b)[lgf_max_record],
                                                  int rows, int columns, int output,
                                                  const bool* in_support, Real ridge,
                                                  Real* coefficient) {
  Real reduced[lgf_max_record][lgf_max_record + 1];
  Real target[lgf_max_record][1];
  int kept = 0;
  for (int c = 0; c < columns; ++c) {
    if (!in_support[c]) continue;
    for (int r = 0; r < rows; ++r) reduced[r][kept] = f[r][c] / norm[c];
    ++kept;
  }
  for (int c = 0; c < columns; ++c) coefficient[c] = 0;
  if (kept == 0) return true;
  for (int r = 0; r < rows; ++r) target[r][0] = b[r][output];
  if (!small_least_squares(reduced, target, rows, kept, 1, ridge)) return false;
  kept = 0;
  for (int c = 0; c < columns; ++c)
    if (in_support[c]) coefficient[c] = target[kept++][0];
  return true;
}

/// Sequentially thresholded least squares (Brunton, Proctor & Kutz, PNAS 2016, as the paper uses
/// it): on F with unit columns, per output, a ridge fit on the support, coefficients below
/// `threshold` zeroed, refitted until the support settles or stlsq_rounds, then an unbiased
/// (plain) refit on the final support; the coefficients of F's own columns are left in B's first
/// `columns` rows, each output's as soon as it is fitted (no later fit reads its column). False
/// when a fit is not determined.
template <class Real>
GRADFLOW_HD bool thresholded_least_squares(Real (*f)[lgf_max_record + 1], Real (*b)[lgf_max_record],
                                           int rows, int columns, int outputs, Real ridge,
                                           Real threshold) {
  Real norm[lgf_max_record + 1];
  for (int c = 0; c < columns; ++c) {
    Real norm_sq = 0;
    for (int r = 0; r < rows; ++r) norm_sq += f[r][c] * f[r][c];
    norm[c] = norm_sq > 0 ? std::sqrt(norm_sq) : Real(1);
  }
  for (int k = 0; k < outputs; ++k) {
    Real xi[lgf_max_record + 1];  // the coefficients of the normalised columns
    bool support[lgf_max_record + 1];
    for (int c = 0; c < columns; ++c) support[c] = true;
    for (int round = 0; round < stlsq_rounds; ++round) {
      if (!fit_on_support(f, norm, b, rows, columns, k, support, ridge, xi)) return false;
      bool settled = true;
      for (int c = 0; c < columns; ++c) {
        const bool kept = std::fabs(xi[c]) >= threshold;
        settled = settled && kept == support[c];
        support[c] = kept;
      }
      if (settled) break;
    }
    if (!fit_on_support(f, norm, b, rows, columns, k, support, Real(0), xi)) return false;
    for (int c = 0; c < columns; ++c) b[c][k] = xi[c] / norm[c];
  }
  return true;
}

}  // namespace gradflow::detail
