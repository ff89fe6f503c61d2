#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gradflow/options.hpp"
#include "gradflow/status.hpp"

namespace gradflow {

/// What a whole run did: which backend ran, on what device, how each problem ended, how long it
/// took.
struct run_summary {
  backend_kind backend = backend_kind::cpu;  ///< the backend that actually ran (never automatic)
  std::string device;                        ///< "cpu (N threads)" or the CUDA device name
  std::int64_t batch_size = 0;
  std::array<std::int64_t, status_count> status_counts{};  ///< indexed by status
  execution_path path = execution_path::lockstep;          ///< the path that ran (never automatic)
  double wall_seconds = 0;     ///< from upload to results on the host, set-up included
  double compute_seconds = 0;  ///< the device's time from the first phase to the last (no copies)
  std::int64_t gradient_evaluations = 0;   ///< summed over problems
  std::int64_t surrogate_evaluations = 0;  ///< summed over problems
  /// Per-problem evaluations the model issued (∇f or H·X; least squares: one product G·X each);
  /// beyond gradient_evaluations they were spent on problems that had already stopped (lockstep:
  /// masked, not yet compacted; the CPU's lanes: a pass computes all of its lanes).
  std::int64_t products_issued = 0;
  std::int64_t compactions = 0;  ///< active-set compactions (lockstep path)

  std::int64_t count(status s) const { return status_counts[static_cast<int>(s)]; }
};

/// One point of a problem's history (solve_options::trace_every).
struct trace_point {
  std::int64_t problem = 0;
  std::int64_t step = 0;  ///< accepted steps so far
  double time = 0;
  double gradient_norm = 0;
};

/// Per-problem results, indexed like the batch. `solution` is batch·n·k row-major: NumPy shape
/// (batch, n, k).
template <class Real>
struct solve_result {
  std::int64_t batch_size = 0;
  int unknowns = 0;
  int rhs_count = 0;
  std::vector<Real> solution;
  std::vector<status> outcome;
  std::vector<Real> objective;      ///< f(U) = ½‖AU − B‖² + ½λ‖U‖² at the final U
  std::vector<Real> gradient_norm;  ///< Frobenius norm of ∇f at the final U
  std::vector<Real> time;           ///< flow time reached
  std::vector<std::int64_t> accepted_steps;
  /// Steps attempted and not taken as proposed: rejected by error or descent control, halved by a
  /// failed factorisation; FIRE's uphill iterations (velocity reset, FIRE 2.0 steps back).
  std::vector<std::int64_t> rejected_steps;
  std::vector<std::int64_t> gradient_evaluations;  ///< true ∇f (or H·X) evaluations
  /// Evaluations of a learned surrogate in place of ∇f (lgf: four per RK4 step of a jump, refused
  /// jumps included); 0 for every other method.
  std::vector<std::int64_t> surrogate_evaluations;
  std::vector<trace_point> trace;  ///< empty unless solve_options::trace_every > 0
  run_summary summary;
};

/// The last word on every answer, the same for every method: a problem reported `converged` whose
/// f at the returned U is not finite becomes `diverged` (the per-problem phases already checked U
/// and the recomputed ‖∇f‖). Then adds the outcomes and gradient evaluations into the summary.
template <class Real>
void finish_outcomes(solve_result<Real>& result);

extern template void finish_outcomes(solve_result<float>&);
extern template void finish_outcomes(solve_result<double>&);

/// What to change when problems end `stalled` (one line, for summaries).
inline constexpr const char* stall_advice =
    "stalled: ‖∇f‖ stopped falling short of the gradient test — an integrator: tighten rtol and "
    "atol with the test, or use control = descent; any method: a test above rounding (gtol, "
    "rtol_grad) or another method (linearly_implicit, rkcd, cg, lbfgs); the README's \"Stalls\" "
    "says why";

/// One line per status that occurred, e.g. "converged 998, max_steps 2", then backend, device,
/// batch size, wall time and problems per second.
std::string describe(const run_summary& summary);

}  // namespace gradflow
