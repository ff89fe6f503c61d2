#pragma once
#include <cstdint>

#include "gradflow/detail/tableau.hpp"
#include "gradflow/status.hpp"

namespace gradflow::detail {

/// Non-owning view of a batch in lockstep: the solution, the stage buffers and every problem's own
/// step-control state, as device or host pointers. Trivially copyable, so kernels take it by value.
/// Problem i's unknowns are the `len()` values at offset i·len() of `solution`, `stage_input` and
/// of each stage s in `stages` (stage s starts at s·batch_size·len()).
template <class Real>
struct lockstep_view {
  std::int64_t batch_size = 0;
  int unknowns = 0;
  int rhs_count = 0;

  const Real* gram = nullptr;   ///< G_i = A_iᵀA_i + λ_i I, n×n each
  const Real* cross = nullptr;  ///< C_i = A_iᵀB_i, n×k each
  Real* solution = nullptr;     ///< U, the accepted state
  Real* stage_input =
      nullptr;  ///< Y, where the next flow evaluation happens; U_new after the last stage
  Real* stages = nullptr;  ///< K_s = −∇f(Y_s), stage-major

  std::int32_t* outcome = nullptr;  ///< gradflow::status values
  Real* time = nullptr;
  Real* dt = nullptr;              ///< the controller's proposal
  Real* dt_step = nullptr;         ///< the step actually attempted: min(dt, t_end − t)
  Real* error_previous = nullptr;  ///< the PI controller's memory (EEst of the last accepted step)
  Real* gradient_norm = nullptr;
  Real* gradient_norm_initial = nullptr;
  std::int64_t* accepted = nullptr;
  std::int64_t* rejected = nullptr;
  std::int64_t* gradient_evaluations = nullptr;

  GRADFLOW_HD int len() const { return unknowns * rhs_count; }
  GRADFLOW_HD Real* stage(int s, std::int64_t i) const {
    return stages + (std::int64_t(s) * batch_size + i) * len();
  }
  GRADFLOW_HD bool running(std::int64_t i) const {
    return outcome[i] == static_cast<std::int32_t>(status::running);
  }
};

/// Settings shared by the batch, resolved from solve_options in the working precision.
template <class Real>
struct step_settings {
  tableau<Real> method;
  bool adaptive = true;
  Real initial_dt = 0;  ///< > 0: every problem starts with it; 0: chosen per problem
  Real rtol = 0;
  Real atol = 0;
  Real gtol = 0;
  Real rtol_grad = 0;
  Real t_end = 0;
  Real dt_min = 0;  ///< 0: 16·ε·max(1, t)
  Real divergence_ratio = 0;
  std::int64_t max_steps = 0;
  // PI controller (OrdinaryDiffEq defaults): β1 = 7/(10p), β2 = 2/(5p), γ = 0.9, qmin = 1/5, qmax
  // = 10.
  Real beta1 = 0;
  Real beta2 = 0;
  Real safety = Real(0.9);
  Real q_min = Real(0.2);
  Real q_max = Real(10);
  Real error_previous_initial = Real(1e-4);
};

}  // namespace gradflow::detail
