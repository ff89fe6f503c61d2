#pragma once
// Which fused GPU kernels nvcc compiles for a family of problems (an objective's functor names its
// own: gradflow/objective.hpp). Each kernel holds the methods of those listed before it, so a run
// takes the first compiled kernel that holds its method; where none does, it runs on the GPU's
// lockstep path (path = automatic) or is refused (path = fused). Fewer kernels compile faster
// (README, "Your own objective").

namespace gradflow {

/// Sets of fused GPU kernels, combined with |. Bit s is detail::method_scope(s)'s kernel.
struct fused_kernels {
  /// Explicit Runge–Kutta on dynamics that factor nothing: gradient flow, the heavy ball with its
  /// damping given, Nesterov.
  static constexpr unsigned integrators = 1;
  /// Also Newton flow and the heavy ball given by ζ (they factor ∇²f).
  static constexpr unsigned factoring_integrators = 2;
  /// Also the optimisers, linearly_implicit, rkcd and rkc.
  static constexpr unsigned optimizers = 4;
  /// Also lgf, lgf_adam and lgf_implicit.
  static constexpr unsigned learned_flows = 8;
  static constexpr unsigned all = 15;
  static constexpr unsigned none = 0;  ///< every GPU run lockstep
};

}  // namespace gradflow
