#pragma once
// The neural-ODE family as a problem model (gradflow/model.hpp): each member's objective from
// detail/neural_ode_objective.hpp, evaluated by the generic CPU loops or CUDA threads, the
// Gauss–Newton matrix as collocation's curvature.
#include <cstdint>
#include <memory>
#include <vector>

#include "gradflow/detail/neural_ode_objective.hpp"
#include "gradflow/detail/stopping.hpp"
#include "gradflow/model.hpp"
#include "gradflow/neural_ode.hpp"

namespace gradflow::detail {

/// A batch of members as flat host arrays, ready to load into an engine's memory; the series'
/// arrays back to back, each member pointing at its series.
template <class Real>
struct neural_ode_arrays {
  formulation form = formulation::collocation;
  int dimension = 0;
  int hidden = 0;
  int unknowns = 0;
  std::vector<Real> times;            ///< every series' N values
  std::vector<Real> observations;     ///< N×d each
  std::vector<Real> differentiation;  ///< collocation: N×N each
  std::vector<Real> gram;             ///< collocation: (N−1)×(N−1) each
  std::vector<int> nodes;             ///< per series
  std::vector<std::int64_t> times_offset, differentiation_offset, gram_offset;  ///< per series
  std::vector<int> series_of;  ///< per member
  std::vector<Real> weight_decay, rho, max_step;  ///< per member
  std::vector<Real> multipliers;  ///< collocation, augmented Lagrangian: (N−1)·d per member
  std::vector<std::int64_t> scratch_offset;  ///< per member
  std::int64_t scratch_total = 0;
  std::vector<Real> initial;  ///< `unknowns` per member

  std::int64_t batch_size() const { return std::int64_t(series_of.size()); }
  std::int64_t multipliers_per_member() const {
    return multipliers.empty() ? 0 : std::int64_t(multipliers.size()) / batch_size();
  }
  /// Whether every series has the same times (so collocation's D is one matrix for the batch).
  bool shares_times() const;
  /// Per member: where its series' values start in `observations`.
  std::vector<std::int64_t> observation_offsets() const;
  /// The members with their pointers into copies of the arrays above at these addresses.
  std::vector<neural_ode_member<Real>> members_at(const Real* times_base,
                                                  const Real* observations_base,
                                                  const Real* differentiation_base,
                                                  const Real* gram_base,
                                                  const Real* multipliers_base,
                                                  Real* scratch_base) const;
};

/// The per-member math of a neural-ODE batch for the generic loops and the fused executor.
template <class Real>
struct neural_ode_evaluator {
  const neural_ode_member<Real>* members = nullptr;
  formulation form = formulation::collocation;
  int dimension = 0;
  int hidden = 0;

  GRADFLOW_HD Real value(const Real* x, Real* gradient, std::int64_t i) const {
    if (form == formulation::collocation)
      return collocation_objective<Real>{members[i], dimension, hidden}.value(x, gradient);
    return sequential_objective<Real>{members[i], dimension, hidden}.value(x, gradient);
  }

  GRADFLOW_HD void gradient(const lockstep_view<Real>& v, operand source, std::int64_t i) const {
    v.value[i] = value(v.operand_of(source, i), v.gradient_of(i), i);
  }

  /// Never called: cg, the one method that asks for H·p, needs a quadratic model.
  GRADFLOW_HD void curvature_product(const lockstep_view<Real>&, operand, std::int64_t) const {}

  /// Collocation: the Gauss–Newton matrix at the state (sequential training admits no method
  /// that asks for it).
  GRADFLOW_HD void prepare_curvature(const lockstep_view<Real>& v, factor_shift,
                                     std::int64_t i) const {
    if (!v.running(i) || form != formulation::collocation) return;
    collocation_objective<Real>{members[i], dimension, hidden}.gauss_newton(v.state_of(i),
                                                                            v.curvature_of(i));
  }
};

model_traits neural_ode_traits(formulation form);

/// Multiply-adds of one member's ∇f.
template <class Real>
std::int64_t neural_ode_work(const neural_ode_arrays<Real>& arrays);

/// The model of `arrays` (which must outlive it) for an engine of `kind`; the CUDA one throws
/// not_compiled in a build without CUDA.
template <class Real>
std::unique_ptr<problem_model<Real>> make_neural_ode_model(const neural_ode_arrays<Real>& arrays,
                                                           backend_kind kind);
template <class Real>
std::unique_ptr<problem_model<Real>> make_neural_ode_cuda_model(
    const neural_ode_arrays<Real>& arrays);

}  // namespace gradflow::detail
