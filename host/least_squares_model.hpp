#pragma once
// The least-squares family as a problem model (gradflow/model.hpp): f_i(U) = ½‖A_i U − B_i‖² +
// ½λ_i‖U‖², a quadratic with H = G_i = A_iᵀA_i + λ_i I and c = C_i = A_iᵀB_i, formed once at load.
#include <algorithm>
#include <memory>
#include <vector>

#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/stopping.hpp"
#include "gradflow/least_squares.hpp"
#include "gradflow/model.hpp"

namespace gradflow::detail {

/// The per-problem math of least squares, from the view's G (curvature) and C (linear term).
struct least_squares_evaluator {
  template <class Real>
  GRADFLOW_HD void gradient(const lockstep_view<Real>& v, operand source, std::int64_t i) const {
    quadratic_gradient(v.curvature_of(i), v.operand_of(source, i), v.linear_term_of(i), v.unknowns,
                       v.rhs_count, v.gradient_of(i));
  }
  template <class Real>
  GRADFLOW_HD void curvature_product(const lockstep_view<Real>& v, operand source,
                                     std::int64_t i) const {
    gram_product(v.curvature_of(i), v.operand_of(source, i), v.unknowns, v.rhs_count,
                 v.curvature_product_of(i));
  }
  /// G never changes: nothing to prepare before a factorisation.
  template <class Real>
  GRADFLOW_HD void prepare_curvature(const lockstep_view<Real>&, factor_shift, std::int64_t) const {
  }
  /// The evaluator of problem i copied into a resident_problem: this one, which reads a problem
  /// only through the view.
  GRADFLOW_HD least_squares_evaluator resident_at(std::int64_t) const { return *this; }
};

/// Data that are finite can still overflow G or C (|B| near the largest number): such a problem
/// is invalid_input before it starts.
template <class Real>
GRADFLOW_HD void reject_overflowed_normal_equations(const lockstep_view<Real>& v, std::int64_t i) {
  if (!all_finite(v.curvature_of(i), v.unknowns * v.unknowns) ||
      !all_finite(v.linear_term_of(i), v.len()))
    set_outcome(v, i, status::invalid_input);
}

model_traits least_squares_traits();

/// The problems an indexed view's members read, each once, and each member's position among them:
/// G (before λ) and C are formed once per problem, not per member (a sweep's members share their
/// problem). Both empty for a view without an index (every member its own problem).
struct distinct_problems {
  std::vector<std::int64_t> problems;
  std::vector<std::int64_t> position_of_member;
};

template <class Real>
distinct_problems distinct_problems_of(const least_squares_view<Real>& view) {
  distinct_problems distinct;
  if (!view.problem_index) return distinct;
  distinct.problems.assign(view.problem_index, view.problem_index + view.batch_size);
  std::sort(distinct.problems.begin(), distinct.problems.end());
  distinct.problems.erase(std::unique(distinct.problems.begin(), distinct.problems.end()),
                          distinct.problems.end());
  distinct.position_of_member.resize(view.batch_size);
  for (std::int64_t i = 0; i < view.batch_size; ++i)
    distinct.position_of_member[i] =
        std::lower_bound(distinct.problems.begin(), distinct.problems.end(),
                         view.problem_index[i]) -
        distinct.problems.begin();
  return distinct;
}

/// What the CPU and CUDA least-squares models share: the batch (which must outlive the model) and
/// its shape.
template <class Real>
class least_squares_model : public problem_model<Real> {
public:
  explicit least_squares_model(const least_squares_view<Real>& batch) : batch_(batch) {}
  model_traits traits() const override { return least_squares_traits(); }
  std::int64_t batch_size() const override { return batch_.batch_size; }
  int unknowns() const override { return batch_.unknowns; }
  int rhs_count() const override { return batch_.rhs_count; }
  /// One product G·X.
  std::int64_t evaluation_work() const override {
    return batch_.unknowns_per_problem() * batch_.unknowns;
  }
  void prepare_curvature(engine<Real>&, factor_shift) override {}  ///< G never changes

protected:
  least_squares_view<Real> batch_;
};

/// The model of `batch` (which must outlive it) for an engine of `kind` (cpu or cuda); the CUDA
/// one throws not_compiled in a build without CUDA.
template <class Real>
std::unique_ptr<problem_model<Real>> make_least_squares_model(const least_squares_view<Real>& batch,
                                                              backend_kind kind);

template <class Real>
std::unique_ptr<problem_model<Real>> make_least_squares_cuda_model(
    const least_squares_view<Real>& batch);

}  // namespace gradflow::detail
