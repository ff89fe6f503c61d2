#pragma once
#include <cmath>

#include "gradflow/detail/host_device.hpp"

/// Per-problem least-squares algebra on one problem's row-major arrays. The CPU backend runs these
/// directly; the CUDA backend does the products with cuBLAS and uses the rest.
namespace gradflow::detail {

/// G = AᵀA + λI (n×n) and C = AᵀB (n×k) for A m×n, B m×k.
template <class Real>
GRADFLOW_HD void normal_equations(const Real* matrix, const Real* rhs, Real lambda, int rows,
                                  int unknowns, int rhs_count, Real* gram, Real* cross) {
  for (int p = 0; p < unknowns; ++p) {
    for (int q = 0; q < unknowns; ++q) {
      Real sum = 0;
      for (int r = 0; r < rows; ++r) sum += matrix[r * unknowns + p] * matrix[r * unknowns + q];
      gram[p * unknowns + q] = sum + (p == q ? lambda : Real(0));
    }
    for (int c = 0; c < rhs_count; ++c) {
      Real sum = 0;
      for (int r = 0; r < rows; ++r) sum += matrix[r * unknowns + p] * rhs[r * rhs_count + c];
      cross[p * rhs_count + c] = sum;
    }
  }
}

/// G += λI.
template <class Real>
GRADFLOW_HD void add_ridge(Real* gram, Real lambda, int unknowns) {
  for (int p = 0; p < unknowns; ++p) gram[p * unknowns + p] += lambda;
}

/// out = −∇f(X) = C − G X: the right-hand side of the gradient flow.
template <class Real>
GRADFLOW_HD void negative_gradient(const Real* gram, const Real* cross, const Real* point,
                                   int unknowns, int rhs_count, Real* out) {
  for (int r = 0; r < unknowns; ++r) {
    for (int c = 0; c < rhs_count; ++c) {
      Real sum = cross[r * rhs_count + c];
      for (int j = 0; j < unknowns; ++j) sum -= gram[r * unknowns + j] * point[j * rhs_count + c];
      out[r * rhs_count + c] = sum;
    }
  }
}

/// f(U) = ½‖AU − B‖² + ½λ‖U‖², from the residual itself (not from G and C, which would lose the
/// small f of a nearly consistent problem to cancellation against ½‖B‖²).
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
  Real point_sq = 0;
  for (int e = 0; e < unknowns * rhs_count; ++e) point_sq += point[e] * point[e];
  return Real(0.5) * residual_sq + Real(0.5) * lambda * point_sq;
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

}  // namespace gradflow::detail
