#pragma once
// The two training objectives of a neural ODE y' = NN(y) fitted to samples (t_i, o_i), i < N, per
// member, written once for the CPU backend and CUDA threads (README, "Neural ODEs"):
//  - collocation (simultaneous): unknowns z = (Y_1 … Y_{N−1}, θ), Y_0 = o_0 fixed,
//      f = (1/N)Σ‖Y_i − o_i‖² + λ‖θ‖² + (ρ/2N)Σ_{i≥1}‖c_i + μ_i/ρ‖²,  c_i = (D Y)_i − NN(Y_i),
//    a quadratic penalty (μ = 0) or an augmented Lagrangian (multipliers μ); a sum of squares, so
//    its Gauss–Newton matrix stands in for the Hessian;
//  - sequential: unknowns θ, the ODE integrated from o_0 by classic RK4 with steps of at most
//    max_step that land on every t_i, f = (1/N)Σ_{i≥1}‖y(t_i) − o_i‖² + λ‖θ‖², ∇f by the discrete
//    adjoint (a reverse pass through the same steps).
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/neural_field.hpp"

namespace gradflow::detail {

/// One member's data and weights. The series pointers may be shared between members.
template <class Real>
struct neural_ode_member {
  int nodes = 0;                          ///< N
  const Real* times = nullptr;            ///< N
  const Real* observations = nullptr;     ///< N×d
  const Real* differentiation = nullptr;  ///< collocation: D, N×N
  /// Collocation: Σ_{i≥1} D_ij D_ik for j, k ≥ 1, (N−1)×(N−1): the constant part of the
  /// Gauss–Newton matrix.
  const Real* differentiation_gram = nullptr;
  Real weight_decay = 0;              ///< λ
  Real rho = 0;                       ///< collocation: the constraint weight
  const Real* multipliers = nullptr;  ///< collocation: μ, (N−1)×d; nullptr: the penalty
  Real max_step = 0;                  ///< sequential: the RK4 step bound
  /// Room for intermediate values: collocation_scratch or sequential_scratch values.
  Real* scratch = nullptr;
};

/// The unknowns per member of each formulation.
inline int collocation_unknowns(int nodes, int dimension, int hidden) {
  return (nodes - 1) * dimension + neural_field<double>::parameter_count(dimension, hidden);
}
/// The Gauss–Newton matrix's θ columns take this many nodes' ∂NN/∂θ at a time (each entry read
/// and written once for them, not once a node).
inline constexpr int collocation_nodes_together = 8;
inline std::int64_t collocation_scratch(int nodes, int dimension, int hidden) {
  return std::int64_t(nodes - 1) * dimension * (1 + dimension) +
         std::int64_t(collocation_nodes_together) * dimension *
             neural_field<double>::parameter_count(dimension, hidden);
}

/// RK4 steps over [t_{i−1}, t_i]: the fewest of at most max_step.
template <class Real>
GRADFLOW_HD int steps_between(Real from, Real to, Real max_step) {
  const Real count = std::ceil((to - from) / max_step);
  return count < 1 ? 1 : int(count);
}

/// RK4 steps over a whole series.
template <class Real>
GRADFLOW_HD std::int64_t sequential_steps(const Real* times, int nodes, Real max_step) {
  std::int64_t steps = 0;
  for (int i = 1; i < nodes; ++i) steps += steps_between(times[i - 1], times[i], max_step);
  return steps;
}

/// The four stages' activations of the step at hand (for the reverse pass), then the tape: the
/// state at the start of every step.
template <class Real>
GRADFLOW_HD std::int64_t sequential_scratch(const Real* times, int nodes, int dimension, int hidden,
                                            Real max_step) {
  return 4 * std::int64_t(hidden) + sequential_steps(times, nodes, max_step) * dimension;
}

template <class Real>
struct collocation_objective {
  const neural_ode_member<Real>& member;
  int dimension;
  int hidden;

  GRADFLOW_HD int free_values() const { return (member.nodes - 1) * dimension; }
  GRADFLOW_HD const Real* node(const Real* z, int j) const {
    return j == 0 ? member.observations : z + (j - 1) * dimension;
  }

  /// f at z; with `gradient`, ∇f into it.
  GRADFLOW_HD Real value(const Real* z, Real* gradient) const {
    const int n_nodes = member.nodes;
    const int d = dimension;
    const Real inverse_n = Real(1) / n_nodes;
    const neural_field<Real> field{d, hidden, z + free_values()};
    const int p_count = neural_field<Real>::parameter_count(d, hidden);
    Real* shifted = member.scratch;  // ρ/N (c_i + μ_i/ρ), (N−1)×d
    Real f = 0;
    for (int e = 0; e < free_values(); ++e) {
      const Real diff = z[e] - member.observations[d + e];
      f += diff * diff * inverse_n;
      if (gradient) gradient[e] = 2 * diff * inverse_n;
    }
    for (int p = 0; p < p_count; ++p) {
      f += member.weight_decay * field.theta[p] * field.theta[p];
      if (gradient) gradient[free_values() + p] = 2 * member.weight_decay * field.theta[p];
    }
    Real activation[max_hidden_width];
    Real out[max_field_dimension];
    for (int i = 1; i < n_nodes; ++i) {
      const Real* row = member.differentiation + std::int64_t(i) * n_nodes;
      field.evaluate(node(z, i), activation, out);
      Real* s = shifted + (i - 1) * d;
      for (int c = 0; c < d; ++c) {
        Real derivative = 0;
        for (int j = 0; j < n_nodes; ++j) derivative += row[j] * node(z, j)[c];
        Real residual = derivative - out[c];
        if (member.multipliers) residual += member.multipliers[(i - 1) * d + c] / member.rho;
        f += member.rho * inverse_n / 2 * residual * residual;
        s[c] = member.rho * inverse_n * residual;
      }
      if (gradient)
        field.pull_back(node(z, i), activation, s, Real(-1), gradient + free_values(),
                        gradient + (i - 1) * d);
    }
    if (gradient)
      for (int i = 1; i < n_nodes; ++i) {
        const Real* row = member.differentiation + std::int64_t(i) * n_nodes;
        const Real* s = shifted + (i - 1) * d;
        for (int j = 1; j < n_nodes; ++j)
          for (int c = 0; c < d; ++c) gradient[(j - 1) * d + c] += row[j] * s[c];
      }
    return f;
  }

  /// The Gauss–Newton matrix of f at z (its Hessian without the residuals' second derivatives),
  /// n×n row-major: (2/N) I on Y, 2λ I on θ, and (ρ/N) JᵀJ with J = ∂c/∂z.
  GRADFLOW_HD void gauss_newton(const Real* z, Real* matrix) const {
    const int n_nodes = member.nodes;
    const int d = dimension;
    const int free = free_values();
    const int p_count = neural_field<Real>::parameter_count(d, hidden);
    const int n = free + p_count;
    const Real weight = member.rho / n_nodes;
    const neural_field<Real> field{d, hidden, z + free};
    Real* jacobians = member.scratch + free;      // ∂NN/∂y at Y_i, (N−1)×d×d
    Real* parameter_rows = jacobians + free * d;  // ∂NN/∂θ at a block's Y_i, each d×P
    Real activation[max_hidden_width];
    // Zero only what the θ columns' sums below add to: the Y–Y block is assigned and the lower
    // triangle mirrored at the end.
    for (int r = 0; r < n; ++r)
      for (int c = r < free ? free : r; c < n; ++c) matrix[std::int64_t(r) * n + c] = 0;
    for (int i = 1; i < n_nodes; ++i) {
      Real out[max_field_dimension];
      field.evaluate(node(z, i), activation, out);
      field.state_jacobian(activation, jacobians + (i - 1) * d * d);
    }
    // Y–Y: (ρ/N)[(DᵀD)_jk δ_bc − D_kj (J_k)_bc − D_jk (J_j)_cb + δ_jk (J_jᵀJ_j)_bc] + (2/N) δ.
    for (int j = 1; j < n_nodes; ++j) {
      const Real* jac_j = jacobians + (j - 1) * d * d;
      for (int k = 1; k < n_nodes; ++k) {
        const Real* jac_k = jacobians + (k - 1) * d * d;
        const Real gram = member.differentiation_gram[std::int64_t(j - 1) * (n_nodes - 1) + k - 1];
        const Real d_kj = member.differentiation[std::int64_t(k) * n_nodes + j];
        const Real d_jk = member.differentiation[std::int64_t(j) * n_nodes + k];
        for (int b = 0; b < d; ++b)
          for (int c = 0; c < d; ++c) {
            Real entry =
                (b == c ? gram : Real(0)) - d_kj * jac_k[b * d + c] - d_jk * jac_j[c * d + b];
            if (j == k)
              for (int a = 0; a < d; ++a) entry += jac_j[a * d + b] * jac_j[a * d + c];
            matrix[std::int64_t((j - 1) * d + b) * n + (k - 1) * d + c] = weight * entry;
          }
      }
      for (int b = 0; b < d; ++b)
        matrix[std::int64_t((j - 1) * d + b) * n + (j - 1) * d + b] += Real(2) / n_nodes;
    }
    // Y–θ: −(ρ/N)[Σ_i D_ij (B_i)_b − (J_jᵀ B_j)_b], θ–θ: (ρ/N) Σ_i B_iᵀB_i (upper triangle), a
    // block of nodes i at a time; each entry adds its terms in order of i (at i = j: the D term,
    // then J's in order of a), as node by node. B is sparse (W2's entries of other outputs): a
    // θ–θ term with a zero coefficient is left out.
    constexpr int block = collocation_nodes_together;
    Real coefficients[block * max_field_dimension];
    const Real* sources[block * max_field_dimension];
    // By address, not [&]: nvcc takes capturing an unfilled array by reference for a read (#549-D).
    const auto listed_coefficient = [list = &coefficients[0]](int k) { return list[k]; };
    const auto listed_source = [list = &sources[0]](int k) { return list[k]; };
    for (int i0 = 1; i0 < n_nodes; i0 += block) {
      const int count = n_nodes - i0 < block ? n_nodes - i0 : block;
      for (int t = 0; t < count; ++t) {
        Real out[max_field_dimension];
        const Real* y = node(z, i0 + t);
        field.evaluate(y, activation, out);
        field.parameter_jacobian(y, activation, parameter_rows + std::int64_t(t) * d * p_count);
      }
      const auto rows_of = [&](int t, int a) {
        return parameter_rows + std::int64_t(t * d + a) * p_count;
      };
      for (int j = 1; j < n_nodes; ++j)
        for (int b = 0; b < d; ++b) {
          int terms = 0;
          for (int t = 0; t < count; ++t) {
            const int i = i0 + t;
            coefficients[terms] = -weight * member.differentiation[std::int64_t(i) * n_nodes + j];
            sources[terms++] = rows_of(t, b);
            if (i == j)
              for (int a = 0; a < d; ++a) {
                coefficients[terms] = weight * jacobians[(i - 1) * d * d + a * d + b];
                sources[terms++] = rows_of(t, a);
              }
          }
          add_terms(matrix + std::int64_t((j - 1) * d + b) * n + free, p_count, terms,
                    listed_coefficient, listed_source);
        }
      for (int p = 0; p < p_count; ++p) {
        int terms = 0;
        for (int t = 0; t < count; ++t)
          for (int a = 0; a < d; ++a) {
            const Real coefficient = weight * rows_of(t, a)[p];
            if (coefficient == 0) continue;
            coefficients[terms] = coefficient;
            sources[terms++] = rows_of(t, a) + p;
          }
        add_terms(matrix + std::int64_t(free + p) * n + free + p, p_count - p, terms,
                  listed_coefficient, listed_source);
      }
    }
    for (int p = 0; p < p_count; ++p)
      matrix[std::int64_t(free + p) * n + free + p] += 2 * member.weight_decay;
    // The lower triangle from the upper, eight rows r at a time, so that the eight entries written
    // into row c share a cache line (one row at a time, each write would touch a line of its own).
    const auto first_mirrored = [free](int r) { return r < free ? free : r + 1; };
    for (int r0 = 0; r0 < n; r0 += 8) {
      const int r1 = r0 + 8 < n ? r0 + 8 : n;
      for (int c = first_mirrored(r0); c < n; ++c)
        for (int r = r0; r < r1; ++r)
          if (c >= first_mirrored(r))
            matrix[std::int64_t(c) * n + r] = matrix[std::int64_t(r) * n + c];
    }
  }
};

template <class Real>
struct sequential_objective {
  const neural_ode_member<Real>& member;
  int dimension;
  int hidden;

  /// y ← y + h/6 (k1 + 2k2 + 2k3 + k4), the stage inputs (y, y2, y3, y4) left in `inputs` and
  /// the stages' hidden activations in `activations` (4 × H, stage s at s·H), for the reverse
  /// pass.
  GRADFLOW_HD void rk4_step(const neural_field<Real>& field, Real* y, Real h, Real* inputs,
                            Real* activations) const {
    const int d = dimension;
    Real k[max_field_dimension];
    Real sum[max_field_dimension];
    const Real stage_step[3] = {h / 2, h / 2, h};
    const Real weights[4] = {h / 6, h / 3, h / 3, h / 6};
    for (int c = 0; c < d; ++c) {
      inputs[c] = y[c];
      sum[c] = 0;
    }
    for (int stage = 0; stage < 4; ++stage) {
      field.evaluate(inputs + stage * d, activations + stage * hidden, k);
      for (int c = 0; c < d; ++c) {
        sum[c] += weights[stage] * k[c];
        if (stage < 3) inputs[(stage + 1) * d + c] = y[c] + stage_step[stage] * k[c];
      }
    }
    for (int c = 0; c < d; ++c) y[c] += sum[c];
  }

  /// f at θ; with `gradient`, ∇f by the discrete adjoint. A trajectory that leaves the finite
  /// numbers gives f = +∞ and a NaN gradient (the member then diverges alone).
  GRADFLOW_HD Real value(const Real* theta, Real* gradient) const {
    const int n_nodes = member.nodes;
    const int d = dimension;
    const Real inverse_n = Real(1) / n_nodes;
    const neural_field<Real> field{d, hidden, theta};
    const int p_count = neural_field<Real>::parameter_count(d, hidden);
    Real* activations = member.scratch;  // sequential_scratch's layout
    Real* tape = member.scratch + 4 * hidden;
    Real y[max_field_dimension];
    Real inputs[4 * max_field_dimension];
    for (int c = 0; c < d; ++c) y[c] = member.observations[c];
    Real f = 0;
    std::int64_t step = 0;
    for (int i = 1; i < n_nodes; ++i) {
      const int count = steps_between(member.times[i - 1], member.times[i], member.max_step);
      const Real h = (member.times[i] - member.times[i - 1]) / count;
      for (int q = 0; q < count; ++q, ++step) {
        for (int c = 0; c < d; ++c) tape[step * d + c] = y[c];
        rk4_step(field, y, h, inputs, activations);
      }
      for (int c = 0; c < d; ++c) {
        const Real diff = y[c] - member.observations[i * d + c];
        f += diff * diff * inverse_n;
      }
    }
    for (int p = 0; p < p_count; ++p) f += member.weight_decay * theta[p] * theta[p];
    if (!(std::fabs(f) <= std::numeric_limits<Real>::max())) {
      if (gradient)
        for (int p = 0; p < p_count; ++p) gradient[p] = std::numeric_limits<Real>::quiet_NaN();
      return std::numeric_limits<Real>::infinity();
    }
    if (!gradient) return f;
    for (int p = 0; p < p_count; ++p) gradient[p] = 2 * member.weight_decay * theta[p];
    Real adjoint[max_field_dimension];  // ∂f/∂y at the current point of the reverse pass
    for (int c = 0; c < d; ++c)
      adjoint[c] = 2 * (y[c] - member.observations[(n_nodes - 1) * d + c]) * inverse_n;
    for (int i = n_nodes - 1; i >= 1; --i) {
      const int count = steps_between(member.times[i - 1], member.times[i], member.max_step);
      const Real h = (member.times[i] - member.times[i - 1]) / count;
      for (int q = count - 1; q >= 0; --q) {
        --step;
        reverse_rk4_step(field, tape + step * d, h, adjoint, gradient, inputs, activations);
      }
      if (i - 1 >= 1)
        for (int c = 0; c < d; ++c)
          adjoint[c] += 2 * (tape[step * d + c] - member.observations[(i - 1) * d + c]) * inverse_n;
    }
    return f;
  }

  /// The adjoint of one RK4 step from `start`: `adjoint` (∂f/∂y at its end) becomes ∂f/∂y at its
  /// start, and the step's part of ∂f/∂θ is added to theta_gradient. The step is taken again from
  /// the tape, its stage inputs and activations kept (`inputs`, `activations`: rk4_step's room)
  /// for the pull-backs, so each stage's field is evaluated once here.
  GRADFLOW_HD void reverse_rk4_step(const neural_field<Real>& field, const Real* start, Real h,
                                    Real* adjoint, Real* theta_gradient, Real* inputs,
                                    Real* activations) const {
    const int d = dimension;
    Real y[max_field_dimension];
    for (int c = 0; c < d; ++c) y[c] = start[c];
    rk4_step(field, y, h, inputs, activations);
    // k̄_s = b_s ȳ, then from the last stage back: ḡ = ∂NN(Y_s)ᵀ k̄_s flows into ȳ_start and
    // into the stage that formed Y_s (Y_s = y + a_s h k_{s−1}).
    const Real weights[4] = {h / 6, h / 3, h / 3, h / 6};
    const Real stage_step[3] = {h / 2, h / 2, h};
    Real stage_adjoint[4][max_field_dimension];
    Real start_adjoint[max_field_dimension];
    for (int stage = 0; stage < 4; ++stage)
      for (int c = 0; c < d; ++c) stage_adjoint[stage][c] = weights[stage] * adjoint[c];
    for (int c = 0; c < d; ++c) start_adjoint[c] = adjoint[c];
    for (int stage = 3; stage >= 0; --stage) {
      Real pulled[max_field_dimension];
      for (int c = 0; c < d; ++c) pulled[c] = 0;
      field.pull_back(inputs + stage * d, activations + stage * hidden, stage_adjoint[stage],
                      Real(1), theta_gradient, pulled);
      for (int c = 0; c < d; ++c) {
        start_adjoint[c] += pulled[c];
        if (stage > 0) stage_adjoint[stage - 1][c] += stage_step[stage - 1] * pulled[c];
      }
    }
    for (int c = 0; c < d; ++c) adjoint[c] = start_adjoint[c];
  }
};

}  // namespace gradflow::detail
