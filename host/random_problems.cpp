#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gradflow/error.hpp"
#include "gradflow/least_squares.hpp"
#include "number_text.hpp"
#include "random_stream.hpp"

namespace gradflow {
namespace {

using detail::problem_stream;

/// `cols` orthonormal columns of length `rows` (row-major rows×cols): Gram–Schmidt, applied twice
/// for orthogonality to working precision, on a Gaussian matrix.
std::vector<double> orthonormal_columns(problem_stream& stream, int rows, int cols) {
  std::vector<double> q(std::size_t(rows) * cols);
  for (double& value : q) value = stream.normal();
  for (int c = 0; c < cols; ++c) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int p = 0; p < c; ++p) {
        double dot = 0;
        for (int r = 0; r < rows; ++r) dot += q[r * cols + p] * q[r * cols + c];
        for (int r = 0; r < rows; ++r) q[r * cols + c] -= dot * q[r * cols + p];
      }
    }
    double norm = 0;
    for (int r = 0; r < rows; ++r) norm += q[r * cols + c] * q[r * cols + c];
    norm = std::sqrt(norm);
    for (int r = 0; r < rows; ++r) q[r * cols + c] /= norm;
  }
  return q;
}

}  // namespace

template <class Real>
least_squares_batch<Real> random_least_squares(const random_spec& spec) {
  const std::string extents = std::to_string(spec.batch_size) + "," + std::to_string(spec.rows) +
                              "," + std::to_string(spec.unknowns) + "," +
                              std::to_string(spec.rhs_count);
  if (spec.batch_size < 1 || spec.rows < 1 || spec.unknowns < 1 || spec.rhs_count < 1)
    throw invalid_argument("invalid random batch " + extents + ": every extent must be >= 1");
  // The largest array's length, counted in double so that it cannot overflow.
  const double blocks[] = {double(spec.rows) * spec.unknowns, double(spec.rows) * spec.rhs_count,
                           double(spec.unknowns) * spec.rhs_count};
  const double values = double(spec.batch_size) * *std::max_element(blocks, blocks + 3);
  if (values > double(std::numeric_limits<std::ptrdiff_t>::max() / sizeof(Real)))
    throw invalid_argument("invalid random batch " + extents + ": an array of " +
                           detail::number_text(values) + " values is more than memory can address");
  if (spec.condition_number) {
    if (!(*spec.condition_number >= 1) || !std::isfinite(*spec.condition_number))
      throw invalid_argument(
          "invalid condition_number = " + detail::number_text(*spec.condition_number) +
          ": must be finite and >= 1");
    if (spec.rows < spec.unknowns)
      throw invalid_argument("condition_number needs rows (m = " + std::to_string(spec.rows) +
                             ") >= unknowns (n = " + std::to_string(spec.unknowns) + ")");
  }
  if (!(spec.lambda >= 0) || !std::isfinite(spec.lambda))
    throw invalid_argument("invalid lambda = " + detail::number_text(spec.lambda) +
                           ": must be finite and >= 0");

  const int m = spec.rows, n = spec.unknowns, k = spec.rhs_count;
  least_squares_batch<Real> batch;
  batch.batch_size = spec.batch_size;
  batch.rows = m;
  batch.unknowns = n;
  batch.rhs_count = k;
  batch.matrix.resize(spec.batch_size * m * n);
  batch.rhs.resize(spec.batch_size * m * k);
  batch.lambda = {Real(spec.lambda)};
  if (spec.random_initial) batch.initial.resize(spec.batch_size * n * k);

#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < spec.batch_size; ++i) {
    problem_stream stream(spec.seed, i);
    Real* a = batch.matrix.data() + i * m * n;
    if (spec.condition_number) {
      // A = Q_m diag(σ) Q_nᵀ with σ_j = κ^(−j/(n−1)): singular values from 1 down to 1/κ.
      const std::vector<double> left = orthonormal_columns(stream, m, n);
      const std::vector<double> right = orthonormal_columns(stream, n, n);
      for (int r = 0; r < m; ++r) {
        for (int c = 0; c < n; ++c) {
          double sum = 0;
          for (int j = 0; j < n; ++j) {
            const double sigma =
                n == 1 ? 1.0 : std::pow(*spec.condition_number, -double(j) / (n - 1));
            sum += left[r * n + j] * sigma * right[c * n + j];
          }
          a[r * n + c] = Real(sum);
        }
      }
    } else {
      for (int e = 0; e < m * n; ++e) a[e] = Real(stream.uniform());
    }
    std::vector<double> truth(std::size_t(n) * k);
    for (double& value : truth) value = stream.uniform();
    Real* b = batch.rhs.data() + i * m * k;
    for (int r = 0; r < m; ++r) {
      for (int c = 0; c < k; ++c) {
        double sum = 0;
        for (int j = 0; j < n; ++j) sum += double(a[r * n + j]) * truth[j * k + c];
        b[r * k + c] = Real(sum);
      }
    }
    if (spec.random_initial) {
      Real* u0 = batch.initial.data() + i * n * k;
      for (int e = 0; e < n * k; ++e) u0[e] = Real(stream.uniform());
    }
  }
  return batch;
}

std::vector<double> random_initial_point(std::uint64_t seed, std::int64_t index, int count) {
  // A stream apart from the problems' (problem_stream(seed, i) draws A, U_true, U0 of problem i).
  problem_stream stream(seed ^ 0x5eed5eed5eed5eedull, index);
  std::vector<double> values(count);
  for (double& value : values) value = stream.uniform();
  return values;
}

template least_squares_batch<float> random_least_squares(const random_spec&);
template least_squares_batch<double> random_least_squares(const random_spec&);

}  // namespace gradflow
