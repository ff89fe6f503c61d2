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

/// A non-owning view of a least-squares batch in host memory: pointers and strides, a stride of 0
/// sharing one block with every member. Member i solves problem problem_of(i) — i itself, or
/// problem_index[i] when an index is given (a sweep's members point at their problem instead of
/// copying its A and B) — with its own λ and U0. The data must outlive the solve.
template <class Real>
struct least_squares_view {
  std::int64_t batch_size = 0;
  int rows = 0;       ///< m
  int unknowns = 0;   ///< n
  int rhs_count = 0;  ///< k
  /// How many problems A and B hold (their blocks at problem·stride), when not shared.
  std::int64_t problem_count = 0;
  const std::int64_t* problem_index = nullptr;  ///< per member; nullptr: member i is problem i
  const Real* matrix = nullptr;                 ///< A, m·n per problem
  std::int64_t matrix_stride = 0;
  const Real* rhs = nullptr;  ///< B, m·k per problem
  std::int64_t rhs_stride = 0;
  const Real* lambda = nullptr;  ///< per member at i·lambda_stride; nullptr: λ = 0
  std::int64_t lambda_stride = 0;
  const Real* initial = nullptr;  ///< U0, n·k per member back to back; nullptr: U0 = 0

  std::int64_t problem_of(std::int64_t i) const { return problem_index ? problem_index[i] : i; }
  const Real* matrix_of(std::int64_t i) const { return matrix + problem_of(i) * matrix_stride; }
  const Real* rhs_of(std::int64_t i) const { return rhs + problem_of(i) * rhs_stride; }
  Real lambda_of(std::int64_t i) const { return lambda ? lambda[i * lambda_stride] : Real(0); }
  const Real* initial_of(std::int64_t i) const { return initial + i * unknowns_per_problem(); }
  std::int64_t unknowns_per_problem() const { return std::int64_t(unknowns) * rhs_count; }
  /// Values A holds (one block when shared).
  std::int64_t matrix_values() const {
    return (matrix_stride == 0 ? 1 : problem_count) * std::int64_t(rows) * unknowns;
  }
  std::int64_t rhs_values() const {
    return (rhs_stride == 0 ? 1 : problem_count) * std::int64_t(rows) * rhs_count;
  }
};

/// The view of a whole batch (which must outlive it).
template <class Real>
least_squares_view<Real> view_of(const least_squares_batch<Real>& batch);

/// An owning copy of what a view shows, member by member.
template <class Real>
least_squares_batch<Real> copy_of(const least_squares_view<Real>& view);

/// The checks of validate, member by member: the first NaN/Inf in a member's A, B or U0, or a λ
/// that is negative or not finite, throws invalid_argument naming the member and its problem.
template <class Real>
void validate(const least_squares_view<Real>& view);

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
/// A finite float64 value past float's range throws here in single precision (see values_as).
template <class Real>
least_squares_batch<Real> least_squares_from_npy(const std::string& matrix_path,
                                                 const std::string& rhs_path);

}  // namespace gradflow
