#pragma once
// The collocation f and ∇f of a whole neural-ODE batch layer by layer: each product of every
// member in one strided-batched GEMM (cuBLAS on the GPU), the elementwise rest (tanh, residuals,
// bias sums) one index per entry. The same f and ∇f as collocation_objective member by member, in
// another summation order; members must share the collocation times (so D is one matrix).
//
// With S = (ρ/N)(c + μ/ρ), c = DY − NN(Y) over the free nodes (N' = N − 1 rows) and
// A = tanh(Y W1ᵀ + b1): ∂f/∂W2 = −SᵀA, ∂f/∂b2 = −Σ_r S_r, B = (S W2) ⊙ (1 − A²),
// ∂f/∂W1 = −BᵀY, ∂f/∂b1 = −Σ_r B_r, ∂f/∂Y = (2/N)(Y − O) − B W1 + D[1:,1:]ᵀ S, plus 2λθ.
#include <cmath>
#include <cstdint>

#include "gradflow/detail/lockstep_state.hpp"
#include "gradflow/detail/neural_field.hpp"

namespace gradflow::detail {

/// The batch and its workspace; every pointer is in the memory of the backend that runs the pass.
/// Member i's unknowns z_i = (Y_i: N'×d row-major, θ_i) are at operand + i·operand_stride.
template <class Real>
struct collocation_layer_batch {
  std::int64_t members = 0;
  int nodes = 0;      ///< N
  int dimension = 0;  ///< d
  int hidden = 0;     ///< H
  const Real* operand = nullptr;
  std::int64_t operand_stride = 0;
  const Real* differentiation = nullptr;         ///< D, N×N, shared
  const Real* observations = nullptr;            ///< every series' N×d values
  const std::int64_t* observation_offset = nullptr;  ///< per member: its series' first value
  const Real* weight_decay = nullptr;            ///< λ per member
  const Real* rho = nullptr;                     ///< ρ per member
  const Real* multipliers = nullptr;             ///< μ, N'×d per member; nullptr: the penalty
  /// Workspace (members·workspace_per_member() values): the nodes with o_0 in front (N×d), DY (N'×d), the hidden
  /// layer (N'×H), the output layer, then c (N'×d), S (N'×d), B (N'×H), ∇f without 2λθ (n), f.
  Real* workspace = nullptr;

  GRADFLOW_HD int free_nodes() const { return nodes - 1; }
  GRADFLOW_HD int free_values() const { return free_nodes() * dimension; }
  GRADFLOW_HD int unknowns() const {
    return free_values() + neural_field<Real>::parameter_count(dimension, hidden);
  }
  GRADFLOW_HD std::int64_t nodes_stride() const { return std::int64_t(nodes) * dimension; }
  GRADFLOW_HD std::int64_t hidden_stride() const { return std::int64_t(free_nodes()) * hidden; }

  GRADFLOW_HD Real* all_nodes() const { return workspace; }
  GRADFLOW_HD Real* derivative() const { return all_nodes() + members * nodes_stride(); }
  GRADFLOW_HD Real* activation() const { return derivative() + members * free_values(); }
  GRADFLOW_HD Real* residual() const { return activation() + members * hidden_stride(); }
  GRADFLOW_HD Real* shifted() const { return residual() + members * free_values(); }
  GRADFLOW_HD Real* back() const { return shifted() + members * free_values(); }
  GRADFLOW_HD Real* gradient() const { return back() + members * hidden_stride(); }
  GRADFLOW_HD Real* value() const { return gradient() + members * unknowns(); }

  /// Values per member of the workspace.
  GRADFLOW_HD std::int64_t workspace_per_member() const {
    return nodes_stride() + 3 * std::int64_t(free_values()) + 2 * hidden_stride() + unknowns() + 1;
  }

  GRADFLOW_HD const Real* unknowns_of(std::int64_t i) const { return operand + i * operand_stride; }
  GRADFLOW_HD const Real* theta_of(std::int64_t i) const { return unknowns_of(i) + free_values(); }
  GRADFLOW_HD const Real* observations_of(std::int64_t i) const {
    return observations + observation_offset[i];
  }
  GRADFLOW_HD neural_field<Real> field_of(std::int64_t i) const {
    return {dimension, hidden, theta_of(i)};
  }
};

/// o_0 in front of each member's free nodes: the operand of D·Y.
template <class Real>
struct gather_nodes {
  collocation_layer_batch<Real> b;
  GRADFLOW_HD void operator()(std::int64_t e) const {
    const std::int64_t i = e / b.nodes_stride(), r = e % b.nodes_stride();
    b.all_nodes()[e] = r < b.dimension ? b.observations_of(i)[r]
                                       : b.unknowns_of(i)[r - b.dimension];
  }
};

/// A = tanh(Y W1ᵀ + b1), the product already in place.
template <class Real>
struct activate_hidden_layer {
  collocation_layer_batch<Real> b;
  GRADFLOW_HD void operator()(std::int64_t e) const {
    const std::int64_t i = e / b.hidden_stride();
    b.activation()[e] = std::tanh(b.activation()[e] + b.field_of(i).b1()[e % b.hidden]);
  }
};

/// c = DY − (A W2ᵀ + b2) (the product already in `residual`), S = (ρ/N)(c + μ/ρ), and ∇f's data
/// term (2/N)(Y − O) on the free nodes.
template <class Real>
struct form_residuals {
  collocation_layer_batch<Real> b;
  GRADFLOW_HD void operator()(std::int64_t e) const {
    const std::int64_t i = e / b.free_values();
    const int q = int(e % b.free_values());
    const Real rho = b.rho[i];
    const Real residual = b.derivative()[e] - b.residual()[e] - b.field_of(i).b2()[q % b.dimension];
    b.residual()[e] = residual;
    const Real multiplier = b.multipliers ? b.multipliers[i * b.free_values() + q] / rho : Real(0);
    b.shifted()[e] = rho / b.nodes * (residual + multiplier);
    b.gradient()[i * b.unknowns() + q] =
        2 * (b.unknowns_of(i)[q] - b.observations_of(i)[b.dimension + q]) / b.nodes;
  }
};

/// B ← B ⊙ (1 − A²): the pull-back through tanh.
template <class Real>
struct pull_back_through_tanh {
  collocation_layer_batch<Real> b;
  GRADFLOW_HD void operator()(std::int64_t e) const {
    const Real a = b.activation()[e];
    b.back()[e] *= 1 - a * a;
  }
};

/// ∂f/∂b1 = −Σ_r B_r and ∂f/∂b2 = −Σ_r S_r, one index per member and bias.
template <class Real>
struct sum_bias_gradients {
  collocation_layer_batch<Real> b;
  GRADFLOW_HD void operator()(std::int64_t e) const {
    const int per_member = b.hidden + b.dimension;
    const std::int64_t i = e / per_member;
    const int j = int(e % per_member);
    const bool first_layer = j < b.hidden;
    const int width = first_layer ? b.hidden : b.dimension;
    const int column = first_layer ? j : j - b.hidden;
    const Real* source = first_layer ? b.back() + i * b.hidden_stride()
                                     : b.shifted() + i * b.free_values();
    Real sum = 0;
    for (int r = 0; r < b.free_nodes(); ++r) sum += source[std::int64_t(r) * width + column];
    const int bias_offset = first_layer ? b.hidden * b.dimension
                                        : 2 * b.hidden * b.dimension + b.hidden;
    b.gradient()[i * b.unknowns() + b.free_values() + bias_offset + column] = -sum;
  }
};

/// f = (1/N)Σ‖Y − O‖² + λ‖θ‖² + (ρ/2N)Σ‖c + μ/ρ‖², one index per member.
template <class Real>
struct sum_objective {
  collocation_layer_batch<Real> b;
  GRADFLOW_HD void operator()(std::int64_t i) const {
    const Real* z = b.unknowns_of(i);
    const Real* o = b.observations_of(i) + b.dimension;
    const Real* residual = b.residual() + i * b.free_values();
    const Real* multipliers = b.multipliers ? b.multipliers + i * b.free_values() : nullptr;
    const Real rho = b.rho[i];
    Real f = 0;
    for (int q = 0; q < b.free_values(); ++q) {
      const Real misfit = z[q] - o[q];
      const Real constraint = residual[q] + (multipliers ? multipliers[q] / rho : Real(0));
      f += misfit * misfit / b.nodes + rho / (2 * b.nodes) * constraint * constraint;
    }
    for (int p = b.free_values(); p < b.unknowns(); ++p) f += b.weight_decay[i] * z[p] * z[p];
    b.value()[i] = f;
  }
};

/// The pass's ∇f (with 2λθ) and f into the engine's slots, for the problems a lockstep
/// evaluation visits: running ones, and every one at the state.
template <class Real>
struct commit_collocation_gradients {
  collocation_layer_batch<Real> b;
  lockstep_view<Real> view;
  active_set active;
  operand source;
  GRADFLOW_HD void operator()(std::int64_t e) const {
    const std::int64_t i = active[e / b.unknowns()];
    const int j = int(e % b.unknowns());
    if (!view.running(i) && source != operand::state) return;
    Real g = b.gradient()[i * b.unknowns() + j];
    if (j >= b.free_values()) g += 2 * b.weight_decay[i] * b.unknowns_of(i)[j];
    view.gradient_of(i)[j] = g;
    if (j == 0) view.value[i] = b.value()[i];
  }
};

/// f and ∇f (without 2λθ) of every member into the workspace. Backend: gemm(transpose_a,
/// transpose_b, m, n, k, α, a, lda, stride_a, b, ldb, stride_b, β, c, ldc, stride_c, batch) — the
/// row-major strided-batched C = α·op(A)·op(B) + β·C — and for_each(count, function) calling
/// function(e) for e < count.
template <class Real, class Backend>
void collocation_layer_pass(Backend& backend, const collocation_layer_batch<Real>& b) {
  const std::int64_t count = b.members;
  const int n_all = b.nodes, n_free = b.free_nodes(), d = b.dimension, h = b.hidden;
  const std::int64_t s_z = b.operand_stride, s_y = b.free_values(), s_h = b.hidden_stride(),
                     s_g = b.unknowns();
  const Real* y = b.operand;
  const Real* w1 = y + b.free_values();
  const Real* w2 = w1 + h * d + h;
  Real* g_y = b.gradient();
  Real* g_w1 = g_y + b.free_values();
  Real* g_w2 = g_w1 + h * d + h;
  const Real* d_free_rows = b.differentiation + n_all;  // D's rows 1…N−1

  backend.for_each(count * b.nodes_stride(), gather_nodes<Real>{b});
  backend.gemm(false, false, n_free, d, n_all, Real(1), d_free_rows, n_all, 0, b.all_nodes(), d,
               b.nodes_stride(), Real(0), b.derivative(), d, s_y, count);
  backend.gemm(false, true, n_free, h, d, Real(1), y, d, s_z, w1, d, s_z, Real(0), b.activation(),
               h, s_h, count);
  backend.for_each(count * s_h, activate_hidden_layer<Real>{b});
  backend.gemm(false, true, n_free, d, h, Real(1), b.activation(), h, s_h, w2, h, s_z, Real(0),
               b.residual(), d, s_y, count);
  backend.for_each(count * s_y, form_residuals<Real>{b});
  backend.gemm(true, false, d, h, n_free, Real(-1), b.shifted(), d, s_y, b.activation(), h, s_h,
               Real(0), g_w2, h, s_g, count);
  backend.gemm(false, false, n_free, h, d, Real(1), b.shifted(), d, s_y, w2, h, s_z, Real(0),
               b.back(), h, s_h, count);
  backend.for_each(count * s_h, pull_back_through_tanh<Real>{b});
  backend.gemm(true, false, h, d, n_free, Real(-1), b.back(), h, s_h, y, d, s_z, Real(0), g_w1, d,
               s_g, count);
  backend.gemm(false, false, n_free, d, h, Real(-1), b.back(), h, s_h, w1, d, s_z, Real(1), g_y, d,
               s_g, count);
  backend.gemm(true, false, n_free, d, n_free, Real(1), d_free_rows + 1, n_all, 0, b.shifted(), d,
               s_y, Real(1), g_y, d, s_g, count);
  backend.for_each(count * (h + d), sum_bias_gradients<Real>{b});
  backend.for_each(count, sum_objective<Real>{b});
}

}  // namespace gradflow::detail
