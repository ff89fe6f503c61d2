#pragma once
// Independent oracles for the tests: dense linear algebra from Eigen, never gradflow's own code.
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>

#include "gradflow/least_squares.hpp"

namespace gradflow::testing {

using dense = Eigen::MatrixXd;
using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class Real>
dense matrix_of(const least_squares_batch<Real>& batch, std::int64_t i) {
  const Real* a = batch.matrix.data() + i * batch.matrix_stride();
  return Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
             a, batch.rows, batch.unknowns)
      .template cast<double>();
}

template <class Real>
dense rhs_of(const least_squares_batch<Real>& batch, std::int64_t i) {
  const Real* b = batch.rhs.data() + i * batch.rhs_stride();
  return Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
             b, batch.rows, batch.rhs_count)
      .template cast<double>();
}

/// Problem i's block of a per-problem row-major n×k array (a solution or U0).
template <class Real>
dense block_of(const std::vector<Real>& values, std::int64_t i, int rows, int cols) {
  if (values.empty()) return dense::Zero(rows, cols);
  return Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
             values.data() + i * rows * cols, rows, cols)
      .template cast<double>();
}

/// argmin ½‖AU − B‖² + ½λ‖U‖², by column-pivoted Householder QR of the stacked [A; √λ I].
template <class Real>
dense least_squares_solution(const least_squares_batch<Real>& batch, std::int64_t i) {
  const int m = batch.rows, n = batch.unknowns;
  const double lambda = batch.lambda_of(i);
  dense stacked = dense::Zero(m + n, n);
  dense rhs = dense::Zero(m + n, batch.rhs_count);
  stacked.topRows(m) = matrix_of(batch, i);
  stacked.bottomRows(n) = std::sqrt(lambda) * dense::Identity(n, n);
  rhs.topRows(m) = rhs_of(batch, i);
  return stacked.colPivHouseholderQr().solve(rhs);
}

/// The exact gradient flow of problem i at time t: U(t) = U* + V exp(−Λt) Vᵀ (U0 − U*), with
/// G = AᵀA + λI = V Λ Vᵀ from a symmetric eigensolver.
template <class Real>
dense exact_flow(const least_squares_batch<Real>& batch, std::int64_t i, double t) {
  const dense a = matrix_of(batch, i);
  const int n = batch.unknowns;
  const dense gram = a.transpose() * a + double(batch.lambda_of(i)) * dense::Identity(n, n);
  const Eigen::SelfAdjointEigenSolver<dense> eigen(gram);
  const dense solution = least_squares_solution(batch, i);
  const dense start = block_of(batch.initial, i, n, batch.rhs_count);
  const dense decay = (-eigen.eigenvalues().array() * t).exp().matrix().asDiagonal();
  return solution +
         eigen.eigenvectors() * decay * eigen.eigenvectors().transpose() * (start - solution);
}

/// Relative Frobenius distance ‖x − reference‖ / ‖reference‖.
inline double relative_error(const dense& x, const dense& reference) {
  return (x - reference).norm() / reference.norm();
}

}  // namespace gradflow::testing
