#pragma once
// Adam (Kingma & Ba 2015), per element: the discrete optimiser (optimizer_step.hpp, the CPU's
// lanes) and the continuous system that lgf over Adam integrates (learned_flow.hpp).
#include <cmath>

#include "gradflow/detail/host_device.hpp"

namespace gradflow::detail {

/// Adam's bias corrections 1 − β₁ⁿ and 1 − β₂ⁿ at iteration count n (from 1; a real number on the
/// continuous system), once per step or stage rather than per entry.
template <class Real>
struct adam_corrections {
  Real first, second;
  GRADFLOW_HD adam_corrections(Real b1, Real b2, Real n)
      : first(1 - std::pow(b1, n)), second(1 - std::pow(b2, n)) {}
};

/// Adam's bias-corrected step direction m̂/(√ŝ + ε).
template <class Real>
GRADFLOW_HD Real adam_direction(Real m, Real second, const adam_corrections<Real>& c, Real eps) {
  return (m / c.first) / (std::sqrt(second / c.second) + eps);
}

/// One iteration of discrete Adam on one element: the moments m = β₁m + (1 − β₁)g and
/// s = β₂s + (1 − β₂)g², then u −= lr·m̂/(√ŝ + ε) (the corrections adam_corrections'; apart, so
/// that the CPU's lanes pass them as vectors).
template <class Real>
GRADFLOW_HD void adam_element(Real& m, Real& second, Real& u, Real gradient, Real b1, Real b2,
                              Real eps, Real rate, Real first_correction, Real second_correction) {
  m = b1 * m + (1 - b1) * gradient;
  second = b2 * second + (1 - b2) * gradient * gradient;
  u -= rate * (m / first_correction) / (std::sqrt(second / second_correction) + eps);
}

}  // namespace gradflow::detail
