#pragma once
// The problem-model interface: what the one driver (host/driver.cpp) knows of a problem family.
// Least squares (host/least_squares_model.cpp, kernels/least_squares_model.cu) and user
// objectives (gradflow/objective.hpp) implement it; README, "Extending gradflow", says how to add
// a family.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gradflow/detail/engine.hpp"
#include "gradflow/fused_kernels.hpp"

namespace gradflow {

/// What a model offers beyond ∇f, which decides the methods and defaults it admits.
struct model_traits {
  /// f = ½⟨U, HU⟩ − ⟨c, U⟩ + const with H and c fixed (view's curvature and linear_term): admits
  /// direct (U = H⁻¹c) and cg (curvature products H·p), and descent control by the trapezoid rule.
  bool quadratic = false;
  /// ∇²f at any point (fixed, or by prepare_curvature): admits Newton flow and what reads the
  /// curvature at the start (ζ, rkcd/rkc stage counts, default steps).
  bool curvature = false;
  /// f at every operand into view.value; descent control then compares f itself.
  bool evaluates_value = false;
  /// On the CPU: the largest n for which path = automatic takes the fused path when it runs in
  /// lanes (explicit Runge–Kutta, host/least_squares_lanes.hpp; the crossover is measured in the
  /// README); 0 for a family without lanes, whose automatic fused path stops at n = 32. A family
  /// with lanes runs every such fused solve in them, at any n, with its own stage vectors: the
  /// engine sizes none.
  int lane_unknowns_limit = 0;
  /// Its lockstep evaluations issue only stream-ordered device work (no allocation, no host
  /// synchronisation) whose arguments stay while the active set does, so a lockstep step can be
  /// captured once and replayed (a CUDA graph on the GPU).
  bool step_capture = false;
  /// The fused kernels the GPU has for this family (gradflow/fused_kernels.hpp): a GPU run whose
  /// method none of them holds runs lockstep (path = automatic) or is refused (path = fused).
  unsigned gpu_fused_kernels = fused_kernels::all;
  /// solve_options::stall_window's default for this family (0: never stalled).
  std::int64_t stall_window = 0;
  /// How messages name the family's problems ("least squares", "this objective").
  std::string name;
  /// What gives the curvature, for messages when it is missing ("an objective with
  /// hessian_times").
  std::string curvature_source;
};

/// One family's batch of problems, evaluated in an engine's memory. Per-problem math lives in a
/// GRADFLOW_HD evaluator (see least_squares_evaluator, objective_evaluator) that the fused path
/// runs inside fused_executor and the lockstep path runs over the active problems; a model's
/// batched evaluations may use libraries instead (least squares: cuBLAS batched GEMMs).
template <class Real>
class problem_model {
public:
  virtual ~problem_model() = default;
  virtual model_traits traits() const = 0;
  virtual std::int64_t batch_size() const = 0;
  virtual int unknowns() const = 0;   ///< n
  virtual int rhs_count() const = 0;  ///< k: a problem's unknowns are an n×k block
  /// Multiply-adds of one problem's ∇f (the CPU engine's measure of a pass's work).
  virtual std::int64_t evaluation_work() const = 0;
  /// Puts the problems into the engine's memory after engine.allocate: the initial state, the
  /// view's curvature (storage for ∇² f when `needs_curvature`, or the fixed H) and linear term.
  virtual void load(detail::engine<Real>& engine, bool needs_curvature) = 0;
  /// ∇f (and f, when evaluates_value) at `source` of the active problems into the gradient slot;
  /// returns the number of problems evaluated.
  virtual std::int64_t evaluate(detail::engine<Real>& engine, detail::operand source) = 0;
  /// H·X at `source` of the active problems into the curvature-product slot (quadratic models).
  virtual std::int64_t curvature_product(detail::engine<Real>& engine, detail::operand source) = 0;
  /// Before a factorisation: ∇²f where `shift` needs it (at the state), into the view's curvature;
  /// nothing for a fixed H.
  virtual void prepare_curvature(detail::engine<Real>& engine, detail::factor_shift shift) = 0;
  /// The fused path: each problem's whole detail::run_sequence in one thread of its own, asking
  /// `should_stop` between blocks of problems; returns the evaluations made.
  virtual std::int64_t run_fused(detail::engine<Real>& engine,
                                 const detail::step_settings<Real>& settings,
                                 const std::function<bool()>& should_stop) = 0;
  /// f at every problem's final state.
  virtual void objective(detail::engine<Real>& engine, std::vector<Real>& values) = 0;
};

}  // namespace gradflow
