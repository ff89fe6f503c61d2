#pragma once
// The vector field of a neural ODE, y' = NN(y) with NN = [d, H, d], tanh hidden layer (Tsay &
// Shapovalova, DYCOPS 2025): its value, its Jacobians and its vector–Jacobian products, per member,
// written once for the CPU backend and CUDA threads.
#include <cmath>

#include "gradflow/detail/host_device.hpp"

namespace gradflow::detail {

/// Sizes the per-thread arrays of the field's math (a CUDA thread has no heap): checked when a
/// batch is built (gradflow/neural_ode.hpp).
inline constexpr int max_field_dimension = 8;
inline constexpr int max_hidden_width = 128;

/// θ = (W1: H×d row-major, b1: H, W2: d×H row-major, b2: d), `theta` pointing at it.
template <class Real>
struct neural_field {
  int dimension = 0;  ///< d
  int hidden = 0;     ///< H
  const Real* theta = nullptr;

  GRADFLOW_HD static int parameter_count(int dimension, int hidden) {
    return 2 * hidden * dimension + hidden + dimension;
  }
  GRADFLOW_HD const Real* w1() const { return theta; }
  GRADFLOW_HD const Real* b1() const { return theta + hidden * dimension; }
  GRADFLOW_HD const Real* w2() const { return b1() + hidden; }
  GRADFLOW_HD const Real* b2() const { return w2() + hidden * dimension; }

  /// a = tanh(W1 y + b1) (H values) and out = W2 a + b2 (d values).
  GRADFLOW_HD void evaluate(const Real* y, Real* activation, Real* out) const {
    for (int h = 0; h < hidden; ++h) {
      Real sum = b1()[h];
      for (int e = 0; e < dimension; ++e) sum += w1()[h * dimension + e] * y[e];
      activation[h] = std::tanh(sum);
    }
    for (int c = 0; c < dimension; ++c) {
      Real sum = b2()[c];
      for (int h = 0; h < hidden; ++h) sum += w2()[c * hidden + h] * activation[h];
      out[c] = sum;
    }
  }

  /// With `activation` from evaluate at y: adds sᵀ∂NN/∂θ to theta_gradient and sᵀ∂NN/∂y to
  /// y_gradient (either may be nullptr), scaled by `scale`.
  GRADFLOW_HD void pull_back(const Real* y, const Real* activation, const Real* s, Real scale,
                             Real* theta_gradient, Real* y_gradient) const {
    Real* g_w1 = theta_gradient;
    Real* g_b1 = theta_gradient + hidden * dimension;
    Real* g_w2 = g_b1 + hidden;
    Real* g_b2 = g_w2 + hidden * dimension;
    for (int h = 0; h < hidden; ++h) {
      Real back = 0;  // (W2ᵀ s)_h · tanh′
      for (int c = 0; c < dimension; ++c) back += w2()[c * hidden + h] * s[c];
      back *= scale * (1 - activation[h] * activation[h]);
      if (theta_gradient) {
        for (int c = 0; c < dimension; ++c)
          g_w2[c * hidden + h] += scale * s[c] * activation[h];
        for (int e = 0; e < dimension; ++e) g_w1[h * dimension + e] += back * y[e];
        g_b1[h] += back;
      }
      if (y_gradient)
        for (int e = 0; e < dimension; ++e) y_gradient[e] += back * w1()[h * dimension + e];
    }
    if (theta_gradient)
      for (int c = 0; c < dimension; ++c) g_b2[c] += scale * s[c];
  }

  /// ∂NN/∂y = W2 diag(1 − a²) W1 at the point of `activation`, d×d row-major.
  GRADFLOW_HD void state_jacobian(const Real* activation, Real* jacobian) const {
    for (int c = 0; c < dimension; ++c)
      for (int e = 0; e < dimension; ++e) {
        Real sum = 0;
        for (int h = 0; h < hidden; ++h)
          sum += w2()[c * hidden + h] * (1 - activation[h] * activation[h]) *
                 w1()[h * dimension + e];
        jacobian[c * dimension + e] = sum;
      }
  }

  /// ∂NN/∂θ at y (with its `activation`), d rows of P values, row-major.
  GRADFLOW_HD void parameter_jacobian(const Real* y, const Real* activation, Real* jacobian) const {
    const int count = parameter_count(dimension, hidden);
    for (int c = 0; c < dimension; ++c) {
      Real* row = jacobian + c * count;
      for (int p = 0; p < count; ++p) row[p] = 0;
      Real* r_w1 = row;
      Real* r_b1 = row + hidden * dimension;
      Real* r_w2 = r_b1 + hidden;
      for (int h = 0; h < hidden; ++h) {
        const Real back = w2()[c * hidden + h] * (1 - activation[h] * activation[h]);
        for (int e = 0; e < dimension; ++e) r_w1[h * dimension + e] = back * y[e];
        r_b1[h] = back;
        r_w2[c * hidden + h] = activation[h];
      }
      row[count - dimension + c] = 1;
    }
  }
};

}  // namespace gradflow::detail
