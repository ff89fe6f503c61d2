#pragma once
#include <cstdint>
#include <string_view>

namespace gradflow {

/// Per-problem outcome. `running` only appears while a solve is in progress.
enum class status : std::int32_t {
  running = 0,
  converged = 1,      ///< ‖∇f‖ ≤ gtol or ‖∇f‖ ≤ rtol_grad·‖∇f(u0)‖
  reached_t_end = 2,  ///< integrated up to t_end without meeting the gradient test
  max_steps = 3,      ///< accepted + rejected steps reached max_steps
  diverged = 4,       ///< non-finite state or ‖∇f‖ grew past divergence_ratio·‖∇f(u0)‖
  step_underflow = 5,  ///< the step controller asked for dt below the floor
  /// The data was rejected before solving, or G was not positive definite where a factorisation
  /// needed it (an objective's Hessian under Newton flow).
  invalid_input = 6,
  /// ‖∇f‖ stopped falling: its largest value over a window of stall_window accepted steps was not
  /// below stall_factor times the largest of the window before (an explicit method held at its
  /// stability boundary, a learning rate too large for the tolerance, a solve at its rounding
  /// floor); or, at the final test, above twice the gradient threshold.
  stalled = 7,
  /// Training by collocation: the last round's solve met its gradient test, but the rounds ran out
  /// with the constraint residuals' RMS above constraint_tolerance (the fit is not an ODE's).
  constraint_unmet = 8,
};

inline constexpr int status_count = 9;

constexpr std::string_view to_string(status s) {
  switch (s) {
    case status::running:
      return "running";
    case status::converged:
      return "converged";
    case status::reached_t_end:
      return "reached_t_end";
    case status::max_steps:
      return "max_steps";
    case status::diverged:
      return "diverged";
    case status::step_underflow:
      return "step_underflow";
    case status::invalid_input:
      return "invalid_input";
    case status::stalled:
      return "stalled";
    case status::constraint_unmet:
      return "constraint_unmet";
  }
  return "unknown";
}

}  // namespace gradflow
