#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// A batch of independent least-squares problems
///   f_i(U) = ½‖A_i U − B_i‖² + ½λ_i‖U‖²,  A_i m×n, B_i m×k, U n×k,
/// whose gradient flow U' = −(G_i U − C_i), G_i = A_iᵀA_i + λ_i I, C_i = A_iᵀB_i.
/// Arrays are row-major per problem, problems back to back — the layout of NumPy arrays of shape
/// (batch, m, n), (batch, m, k) and (batch, n, k). A matrix, right-hand side or λ given once is
/// shared by the whole batch.
template <class Real>
struct least_squares_batch {
  std::int64_t batch_size = 0;
  int rows = 0;               ///< m
  int unknowns = 0;           ///< n
  int rhs_count = 0;          ///< k
  std::vector<Real> matrix;   ///< A: m·n values (shared) or batch_size·m·n
  std::vector<Real> rhs;      ///< B: m·k values (shared) or batch_size·m·k
  std::vector<Real> lambda;   ///< λ ≥ 0: empty (all zero), one value, or batch_size values
  std::vector<Real> initial;  ///< U0: empty (all zero) or batch_size·n·k values

  bool shares_matrix() const { return matrix.size() == std::size_t(rows) * unknowns; }
  bool shares_rhs() const { return rhs.size() == std::size_t(rows) * rhs_count; }
  std::int64_t unknowns_per_problem() const { return std::int64_t(unknowns) * rhs_count; }
  /// Distance between consecutive problems' A (0 when shared) and B.
  std::int64_t matrix_stride() const { return shares_matrix() ? 0 : std::int64_t(rows) * unknowns; }
  std::int64_t rhs_stride() const { return shares_rhs() ? 0 : std::int64_t(rows) * rhs_count; }
  Real lambda_of(std::int64_t i) const {
    if (lambda.empty()) return Real(0);
    return lambda.size() == 1 ? lambda[0] : lambda[i];
  }
};

/// Throws dimension_mismatch or invalid_argument naming the field, the problem index and the value
/// when sizes disagree, a value is NaN/Inf or λ < 0.
template <class Real>
void validate(const least_squares_batch<Real>& batch);

/// The size checks of validate alone (dimension_mismatch / invalid_argument).
template <class Real>
void validate_shape(const least_squares_batch<Real>& batch);

/// Indices of the problems whose data validate would reject (NaN/Inf in their A, B or U0, or a
/// λ that is negative or not finite); a defect in shared data makes every problem invalid.
template <class Real>
std::vector<std::int64_t> invalid_problems(const least_squares_batch<Real>& batch);

/// The members `keep` (indices into `batch`) as a batch of their own, with their own λ and U0;
/// shared A or B stays shared.
template <class Real>
least_squares_batch<Real> select_members(const least_squares_batch<Real>& batch,
                                         const std::vector<std::int64_t>& keep);

/// Parameters of the seeded random generator. With `condition_number` unset the matrix entries are
/// uniform in [0, 1) as in the seed example; with it set A_i = Q_m diag(σ) Q_nᵀ with singular
/// values spaced geometrically from 1 down to 1/condition_number. The true solution is uniform in
/// [0, 1) and B_i = A_i U_true, so every problem is consistent (f* = 0 when λ = 0). Problem i
/// depends only on (seed, i), not on the batch size.
struct random_spec {
  std::int64_t batch_size = 1;
  int rows = 50;
  int unknowns = 5;
  int rhs_count = 2;
  std::optional<double> condition_number;
  double lambda = 0.0;
  std::uint64_t seed = 1;
  bool random_initial = false;  ///< U0 uniform in [0, 1) (seed example) instead of zeros
};

template <class Real>
least_squares_batch<Real> random_least_squares(const random_spec& spec);

/// `count` values uniform in [0, 1) that depend only on (seed, index): a reproducible random
/// initial point for member `index` of a sweep.
std::vector<double> random_initial_point(std::uint64_t seed, std::int64_t index, int count);

/// Builds a batch from `.npy` files: A of shape (batch, m, n) or (m, n); B of shape (batch, m, k),
/// (batch, m) (k = 1) or (m, k); float64 or float32 (converted to Real). The batch size comes from
/// whichever array has one; both sharing is a batch of one. Shapes are checked here (io_error,
/// dimension_mismatch naming both files); values (NaN/Inf) by solve, which may skip bad members.
template <class Real>
least_squares_batch<Real> least_squares_from_npy(const std::string& matrix_path,
                                                 const std::string& rhs_path);

}  // namespace gradflow
