#include "gradflow/least_squares.hpp"

#include <cmath>
#include <sstream>
#include <vector>

#include "finite_values.hpp"
#include "gradflow/error.hpp"
#include "gradflow/npy.hpp"
#include "number_text.hpp"
#include "shape_text.hpp"

namespace gradflow {
namespace {

void require_size(bool ok, const char* field, std::size_t actual, const std::string& expected) {
  if (ok) return;
  throw dimension_mismatch(std::string(field) + " holds " + std::to_string(actual) +
                           " values; expected " + expected);
}

/// Throws naming the field, the problem and the position of the first NaN/Inf in a per-problem
/// row-major array of `rows`×`cols` blocks.
template <class Real>
void require_finite(const std::vector<Real>& values, const char* field, std::int64_t rows,
                    std::int64_t cols) {
  const std::size_t e = detail::first_non_finite(values.data(), values.size());
  if (e == values.size()) return;
  const std::int64_t block = rows * cols;
  const std::int64_t problem = std::int64_t(e) / block, within = std::int64_t(e) % block;
  std::ostringstream message;
  message << "non-finite value " << detail::number_text(values[e]) << " in " << field
          << " of problem " << problem << " at (" << within / cols << ", " << within % cols << ")";
  throw invalid_argument(message.str());
}

}  // namespace

template <class Real>
void validate_shape(const least_squares_batch<Real>& batch) {
  auto positive = [](std::int64_t value, const char* field) {
    if (value < 1)
      throw invalid_argument(std::string("invalid ") + field + " = " + std::to_string(value) +
                             ": must be >= 1");
  };
  positive(batch.batch_size, "batch_size");
  positive(batch.rows, "rows (m)");
  positive(batch.unknowns, "unknowns (n)");
  positive(batch.rhs_count, "rhs_count (k)");
  const std::size_t count = batch.batch_size;
  const std::size_t matrix = std::size_t(batch.rows) * batch.unknowns;
  const std::size_t rhs = std::size_t(batch.rows) * batch.rhs_count;
  const std::size_t solution = std::size_t(batch.unknowns) * batch.rhs_count;
  require_size(batch.matrix.size() == matrix || batch.matrix.size() == count * matrix, "A (matrix)",
               batch.matrix.size(),
               std::to_string(matrix) + " (shared) or " + std::to_string(count * matrix));
  require_size(batch.rhs.size() == rhs || batch.rhs.size() == count * rhs, "B (rhs)",
               batch.rhs.size(),
               std::to_string(rhs) + " (shared) or " + std::to_string(count * rhs));
  require_size(batch.lambda.size() <= 1 || batch.lambda.size() == count, "lambda",
               batch.lambda.size(), "0, 1 or " + std::to_string(count));
  require_size(batch.initial.empty() || batch.initial.size() == count * solution, "U0 (initial)",
               batch.initial.size(), "0 or " + std::to_string(count * solution));
}

template <class Real>
void validate(const least_squares_batch<Real>& batch) {
  validate_shape(batch);
  require_finite(batch.matrix, "A", batch.rows, batch.unknowns);
  require_finite(batch.rhs, "B", batch.rows, batch.rhs_count);
  require_finite(batch.initial, "U0", batch.unknowns, batch.rhs_count);
  for (std::size_t i = 0; i < batch.lambda.size(); ++i) {
    if (std::isfinite(batch.lambda[i]) && batch.lambda[i] >= 0) continue;
    std::ostringstream message;
    message << "invalid lambda = " << detail::number_text(batch.lambda[i]) << " of problem " << i
            << ": must be finite and >= 0";
    throw invalid_argument(message.str());
  }
}

template <class Real>
std::vector<std::int64_t> invalid_problems(const least_squares_batch<Real>& batch) {
  validate_shape(batch);
  const auto finite_block = [](const std::vector<Real>& values, std::int64_t block,
                               std::int64_t index) {
    if (values.empty()) return true;
    const std::int64_t start = values.size() == std::size_t(block) ? 0 : index * block;
    return detail::all_finite(values.data() + start, block);
  };
  std::vector<std::int64_t> invalid;
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    const Real lambda = batch.lambda_of(i);
    const bool valid = finite_block(batch.matrix, std::int64_t(batch.rows) * batch.unknowns, i) &&
                       finite_block(batch.rhs, std::int64_t(batch.rows) * batch.rhs_count, i) &&
                       finite_block(batch.initial, batch.unknowns_per_problem(), i) &&
                       std::isfinite(lambda) && lambda >= 0;
    if (!valid) invalid.push_back(i);
  }
  return invalid;
}

template <class Real>
least_squares_view<Real> view_of(const least_squares_batch<Real>& batch) {
  least_squares_view<Real> view;
  view.batch_size = batch.batch_size;
  view.rows = batch.rows;
  view.unknowns = batch.unknowns;
  view.rhs_count = batch.rhs_count;
  view.problem_count = batch.batch_size;
  view.matrix = batch.matrix.data();
  view.matrix_stride = batch.matrix_stride();
  view.rhs = batch.rhs.data();
  view.rhs_stride = batch.rhs_stride();
  view.lambda = batch.lambda.empty() ? nullptr : batch.lambda.data();
  view.lambda_stride = batch.lambda.size() == 1 ? 0 : 1;
  view.initial = batch.initial.empty() ? nullptr : batch.initial.data();
  return view;
}

template <class Real>
void validate(const least_squares_view<Real>& view) {
  if (view.batch_size < 1 || view.rows < 1 || view.unknowns < 1 || view.rhs_count < 1)
    throw invalid_argument("invalid view: batch_size, rows, unknowns and rhs_count must be >= 1");
  const auto finite = [&](const Real* values, std::int64_t count, const char* field,
                          std::int64_t i) {
    const std::size_t e = detail::first_non_finite(values, std::size_t(count));
    if (e == std::size_t(count)) return;
    std::ostringstream message;
    message << "non-finite value " << detail::number_text(values[e]) << " in " << field
            << " of member " << i << " (problem " << view.problem_of(i) << ") at position " << e;
    throw invalid_argument(message.str());
  };
  // A problem's A and B are checked at its first member only (a sweep's members share problems).
  std::vector<bool> matrix_seen(view.matrix_stride == 0 ? 1 : view.problem_count),
      rhs_seen(view.rhs_stride == 0 ? 1 : view.problem_count);
  const auto first_reader = [&](std::vector<bool>& seen, std::int64_t stride, std::int64_t i) {
    const std::int64_t slot = stride == 0 ? 0 : view.problem_of(i);
    if (seen[slot]) return false;
    seen[slot] = true;
    return true;
  };
  for (std::int64_t i = 0; i < view.batch_size; ++i) {
    if (first_reader(matrix_seen, view.matrix_stride, i))
      finite(view.matrix_of(i), std::int64_t(view.rows) * view.unknowns, "A", i);
    if (first_reader(rhs_seen, view.rhs_stride, i))
      finite(view.rhs_of(i), std::int64_t(view.rows) * view.rhs_count, "B", i);
    if (view.initial) finite(view.initial_of(i), view.unknowns_per_problem(), "U0", i);
    const Real lambda = view.lambda_of(i);
    if (!(std::isfinite(lambda) && lambda >= 0)) {
      std::ostringstream message;
      message << "invalid lambda = " << detail::number_text(lambda) << " of member " << i
              << ": must be finite and >= 0";
      throw invalid_argument(message.str());
    }
  }
}

template <class Real>
least_squares_batch<Real> copy_of(const least_squares_view<Real>& view) {
  least_squares_batch<Real> batch;
  batch.batch_size = view.batch_size;
  batch.rows = view.rows;
  batch.unknowns = view.unknowns;
  batch.rhs_count = view.rhs_count;
  const std::int64_t matrix = std::int64_t(view.rows) * view.unknowns;
  const std::int64_t rhs = std::int64_t(view.rows) * view.rhs_count;
  const std::int64_t len = view.unknowns_per_problem();
  const bool shared_matrix = view.matrix_stride == 0, shared_rhs = view.rhs_stride == 0;
  if (shared_matrix) batch.matrix.assign(view.matrix, view.matrix + matrix);
  if (shared_rhs) batch.rhs.assign(view.rhs, view.rhs + rhs);
  for (std::int64_t i = 0; i < view.batch_size; ++i) {
    if (!shared_matrix)
      batch.matrix.insert(batch.matrix.end(), view.matrix_of(i), view.matrix_of(i) + matrix);
    if (!shared_rhs) batch.rhs.insert(batch.rhs.end(), view.rhs_of(i), view.rhs_of(i) + rhs);
    if (view.lambda) batch.lambda.push_back(view.lambda_of(i));
    if (view.initial)
      batch.initial.insert(batch.initial.end(), view.initial_of(i), view.initial_of(i) + len);
  }
  return batch;
}

template <class Real>
least_squares_batch<Real> least_squares_from_npy(const std::string& matrix_path,
                                                 const std::string& rhs_path) {
  const npy_array a = read_npy(matrix_path);
  const npy_array b = read_npy(rhs_path);
  auto mismatch = [&](const std::string& why) {
    throw dimension_mismatch("A '" + matrix_path + "' has shape " + detail::shape_text(a.shape) +
                             " and B '" + rhs_path + "' has shape " + detail::shape_text(b.shape) +
                             ": " + why);
  };
  if (a.shape.size() != 2 && a.shape.size() != 3) mismatch("A must be (batch, m, n) or (m, n)");
  if (b.shape.size() != 2 && b.shape.size() != 3)
    mismatch("B must be (batch, m, k), (batch, m) or (m, k)");

  least_squares_batch<Real> batch;
  const bool a_batched = a.shape.size() == 3;
  batch.rows = int(a.shape[a_batched ? 1 : 0]);
  batch.unknowns = int(a.shape[a_batched ? 2 : 1]);
  const std::int64_t a_batch = a_batched ? a.shape[0] : 1;
  // A 2-D B is (batch, m) — one right-hand side per problem — when its second extent is m and its
  // first is A's batch size (or, with a shared A, anything but m); otherwise it is a shared (m, k).
  const bool b_vectors = b.shape.size() == 2 && b.shape[1] == batch.rows &&
                         (a_batched ? b.shape[0] == a_batch : b.shape[0] != batch.rows);
  const bool b_batched = b.shape.size() == 3 || b_vectors;
  const std::int64_t b_batch = b_batched ? b.shape[0] : 1;
  const std::int64_t b_rows = b.shape[b_batched ? 1 : 0];
  batch.rhs_count = b.shape.size() == 3 ? int(b.shape[2]) : b_vectors ? 1 : int(b.shape[1]);
  if (b_rows != batch.rows) mismatch("A and B must have the same number of rows m");
  if (a_batched && b_batched && a_batch != b_batch) mismatch("batch sizes differ");
  batch.batch_size = a_batched ? a_batch : b_batch;
  if (batch.batch_size < 1 || batch.unknowns < 1 || batch.rows < 1 || batch.rhs_count < 1)
    mismatch("every extent must be >= 1");
  batch.matrix = values_as<Real>(a, "A '" + matrix_path + "'");
  batch.rhs = values_as<Real>(b, "B '" + rhs_path + "'");
  validate_shape(batch);  // values are checked by solve (which may skip invalid members)
  return batch;
}

template void validate_shape(const least_squares_batch<float>&);
template void validate_shape(const least_squares_batch<double>&);
template <class Real>
least_squares_batch<Real> select_members(const least_squares_batch<Real>& batch,
                                         const std::vector<std::int64_t>& keep) {
  least_squares_batch<Real> part;
  part.batch_size = std::int64_t(keep.size());
  part.rows = batch.rows;
  part.unknowns = batch.unknowns;
  part.rhs_count = batch.rhs_count;
  const std::int64_t len = batch.unknowns_per_problem();
  const auto take = [&](const std::vector<Real>& from, std::int64_t block, std::vector<Real>& to) {
    if (from.empty() || from.size() == std::size_t(block)) {  // absent or shared
      to = from;
      return;
    }
    for (std::int64_t i : keep)
      to.insert(to.end(), from.begin() + i * block, from.begin() + (i + 1) * block);
  };
  take(batch.matrix, std::int64_t(batch.rows) * batch.unknowns, part.matrix);
  take(batch.rhs, std::int64_t(batch.rows) * batch.rhs_count, part.rhs);
  take(batch.initial, len, part.initial);
  for (std::int64_t i : keep) part.lambda.push_back(batch.lambda_of(i));
  return part;
}

template std::vector<std::int64_t> invalid_problems(const least_squares_batch<float>&);
template std::vector<std::int64_t> invalid_problems(const least_squares_batch<double>&);
template least_squares_batch<float> select_members(const least_squares_batch<float>&,
                                                   const std::vector<std::int64_t>&);
template least_squares_batch<double> select_members(const least_squares_batch<double>&,
                                                    const std::vector<std::int64_t>&);
template void validate(const least_squares_batch<float>&);
template void validate(const least_squares_batch<double>&);
template least_squares_view<float> view_of(const least_squares_batch<float>&);
template void validate(const least_squares_view<float>&);
template least_squares_batch<float> copy_of(const least_squares_view<float>&);
template least_squares_batch<float> least_squares_from_npy(const std::string&, const std::string&);
template least_squares_view<double> view_of(const least_squares_batch<double>&);
template void validate(const least_squares_view<double>&);
template least_squares_batch<double> copy_of(const least_squares_view<double>&);
template least_squares_batch<double> least_squares_from_npy(const std::string&, const std::string&);

}  // namespace gradflow
