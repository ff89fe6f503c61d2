#include "least_squares_sums.hpp"

#include <algorithm>
#include <cstdint>

#include "gradflow/detail/dense_math.hpp"
#include "vector_register.hpp"

namespace gradflow::detail {
namespace {

constexpr int most_rhs_in_registers = 16;
constexpr int most_unknowns_in_registers = 64;

/// G_pq = Σ_r A_rp·A_rq and C_pc = Σ_r A_rp·B_rc with A's row r as `Parts` vectors over q (or p):
/// row p of G adds A_rp times them, column c of C adds B_rc times them, r in order — each element
/// the scalar sum, term for term (a product commutes, so G's two triangles agree as the mirrored
/// one does). A row's vectors read past its end while that stays inside this problem's A; the
/// lanes past n hold products of the next row's numbers and are never stored. The last rows,
/// whose vectors would leave A, are copied into a zero-padded row first.
template <class Real, int Parts>
void normal_equations_by_rows(const Real* matrix, const Real* rhs, int rows, int n, int k,
                              Real* gram, Real* cross) {
  using reg = vector_register<Real>;
  using vector = typename reg::type;
  constexpr int width = Parts * reg::lanes;
  vector gram_rows[width][Parts] = {};
  vector cross_columns[most_rhs_in_registers][Parts] = {};
  const std::int64_t elements = std::int64_t(rows) * n;
  Real padded[width] = {};
  for (int r = 0; r < rows; ++r) {
    const Real* row = matrix + std::int64_t(r) * n;
    if (std::int64_t(r) * n + width > elements) {
      std::copy_n(row, n, padded);
      row = padded;
    }
    vector a[Parts];
    for (int part = 0; part < Parts; ++part) a[part] = reg::load(row + part * reg::lanes);
    for (int p = 0; p < n; ++p) {
      const Real a_p = row[p];
      for (int part = 0; part < Parts; ++part) gram_rows[p][part] += a_p * a[part];
    }
    const Real* row_rhs = rhs + std::int64_t(r) * k;
    for (int c = 0; c < k; ++c) {
      const Real b_c = row_rhs[c];
      for (int part = 0; part < Parts; ++part) cross_columns[c][part] += b_c * a[part];
    }
  }
  Real lanes[width];
  for (int p = 0; p < n; ++p) {
    for (int part = 0; part < Parts; ++part)
      reg::store(gram_rows[p][part], lanes + part * reg::lanes);
    std::copy_n(lanes, n, gram + p * n);
  }
  for (int c = 0; c < k; ++c) {
    for (int part = 0; part < Parts; ++part)
      reg::store(cross_columns[c][part], lanes + part * reg::lanes);
    for (int p = 0; p < n; ++p) cross[p * k + c] = lanes[p];
  }
}

/// The first `count` values (at most a register's lanes) as a vector, 0 in the lanes after.
template <class Real>
typename vector_register<Real>::type load_first(const Real* values, int count) {
  Real padded[vector_register<Real>::lanes] = {};
  std::copy_n(values, count, padded);
  return vector_register<Real>::load(padded);
}

}  // namespace

template <class Real>
Real least_squares_objective_on_cpu(const Real* matrix, const Real* rhs, Real lambda,
                                    const Real* point, int rows, int unknowns, int rhs_count) {
  using reg = vector_register<Real>;
  using vector = typename reg::type;
  const int n = unknowns, k = rhs_count;
  if (k > reg::lanes || n > most_unknowns_in_registers)
    return least_squares_objective(matrix, rhs, lambda, point, rows, n, k);
  vector point_rows[most_unknowns_in_registers];
  for (int j = 0; j < n; ++j) point_rows[j] = load_first(point + j * k, k);  // U's row j
  // Residual r_c = −B_rc + Σ_j A_rj·U_jc, j in order, for every c at once; B's row read as a
  // whole vector while that stays inside this problem's B (the lanes past k are never read).
  const std::int64_t elements = std::int64_t(rows) * k;
  Real residual_sq = 0;
  for (int r = 0; r < rows; ++r) {
    const Real* row_rhs = rhs + std::int64_t(r) * k;
    vector residual = -(std::int64_t(r) * k + reg::lanes > elements ? load_first(row_rhs, k)
                                                                    : reg::load(row_rhs));
    const Real* row = matrix + std::int64_t(r) * n;
    for (int j = 0; j < n; ++j) residual += row[j] * point_rows[j];
    for (int c = 0; c < k; ++c) residual_sq += residual[c] * residual[c];
  }
  return ridge_objective(residual_sq, lambda, point, n * k);
}

template <class Real>
void normal_equations_on_cpu(const Real* matrix, const Real* rhs, int rows, int unknowns,
                             int rhs_count, Real* gram, Real* cross) {
  constexpr int lanes = vector_register<Real>::lanes;
  if (rhs_count <= most_rhs_in_registers) {
    if (unknowns <= lanes)
      return normal_equations_by_rows<Real, 1>(matrix, rhs, rows, unknowns, rhs_count, gram, cross);
    if (unknowns <= 2 * lanes)
      return normal_equations_by_rows<Real, 2>(matrix, rhs, rows, unknowns, rhs_count, gram, cross);
    if (unknowns <= 4 * lanes)
      return normal_equations_by_rows<Real, 4>(matrix, rhs, rows, unknowns, rhs_count, gram, cross);
  }
  normal_equations(matrix, rhs, Real(0), rows, unknowns, rhs_count, gram, cross);
}

template void normal_equations_on_cpu(const float*, const float*, int, int, int, float*, float*);
template float least_squares_objective_on_cpu(const float*, const float*, float, const float*, int,
                                              int, int);
template double least_squares_objective_on_cpu(const double*, const double*, double, const double*,
                                               int, int, int);
template void normal_equations_on_cpu(const double*, const double*, int, int, int, double*,
                                      double*);

}  // namespace gradflow::detail
