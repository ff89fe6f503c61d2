#pragma once
#include <cstdint>

#include "gradflow/detail/tableau.hpp"
#include "gradflow/methods.hpp"
#include "gradflow/options.hpp"
#include "gradflow/status.hpp"

namespace gradflow::detail {

/// Per-problem hyperparameters, stored problem by problem (parameter_count values each), resolved
/// on the host from solve_options; NaN marks "unset" where a default needs the problem's curvature.
enum parameter : int {
  step,          ///< integrators: fixed / first dt; optimisers: learning rate or FIRE's dt0
  zeta,          ///< heavy ball damping ratio against μ_min (NaN: use `damping`)
  damping,       ///< heavy ball c/m, resolved from ζ when ζ is given
  inverse_mass,  ///< heavy ball 1/m
  momentum,      ///< momentum, nag: β
  beta1,         ///< adam
  beta2,         ///< adam
  epsilon,       ///< adam
  eta,           ///< rkcd η / rkc ε (NaN: the method's default)
  stages,        ///< rkcd, rkc: s (NaN: chosen per problem)
  rtol,
  atol,
  gtol,
  rtol_grad,
  vtol,           ///< NaN: the problem's gradient threshold
  lgf_record,     ///< lgf: K
  lgf_window,     ///< lgf: M
  lgf_rank,       ///< lgf: the surrogate's most modes (0: the numerical rank)
  lgf_ridge,      ///< lgf: the fit's ridge α
  lgf_degree,     ///< lgf: the library's polynomial degree p
  lgf_target,     ///< lgf: the fit's target (surrogate_target)
  lgf_order,      ///< lgf: the strong target's difference order
  lgf_threshold,  ///< lgf: STLSQ's threshold (0: least squares)
  parameter_count
};

/// Which per-problem vector a model evaluates at (the first n·k values).
enum class operand { state, stage_input, search_direction };

/// Non-owning view of a batch in lockstep, as device or host pointers; trivially copyable, so
/// kernels take it by value. A problem's state is `state_len()` = d·n·k values: U, then for
/// second-order dynamics the velocity V. `work` holds `work_count` vectors of state_len() per
/// problem, vector w of problem i at (w·batch_size + i)·state_len(): the Runge–Kutta stages K_w, or
/// an optimiser's momentum / moments / CG directions. The engine owns the step-control arrays;
/// the model (gradflow/model.hpp) fills `gradient` and `value` when it evaluates and owns what
/// `curvature` and `linear_term` point at.
template <class Real>
struct lockstep_view {
  std::int64_t batch_size = 0;
  int unknowns = 0;
  int rhs_count = 0;
  int state_factor = 1;  ///< d: 1, or 2 for (u, v)

  /// ∇f at the last operand the model evaluated, n·k per problem.
  Real* gradient = nullptr;
  /// f at that operand, for models that evaluate f (model_traits::evaluates_value); else nullptr.
  Real* value = nullptr;
  /// The Hessian H_i (n×n row-major per problem) that factorisations and curvature estimates read:
  /// a quadratic model's fixed H (least squares: G = AᵀA + λI), else where the model left ∇²f at
  /// its last prepare_curvature. nullptr when neither the model nor the method needs it.
  Real* curvature = nullptr;
  /// A quadratic model's c in f = ½⟨U, HU⟩ − ⟨c, U⟩ + const (least squares: C = AᵀB), n·k per
  /// problem: what direct solves for. nullptr for other models.
  const Real* linear_term = nullptr;
  /// H·X at the last operand of a curvature product (cg's H·p), n·k per problem, when the method
  /// asks for it.
  Real* curvature_product = nullptr;
  Real* factor = nullptr;      ///< Cholesky factors of H_i (column-major lower), when needed
  Real* parameters = nullptr;  ///< parameter_count per problem
  Real* state = nullptr;       ///< y = (U[, V]), the accepted state
  Real* stage_input =
      nullptr;  ///< Y: where the next evaluation happens (U_new after the last stage)
  Real* work = nullptr;

  std::int32_t* outcome = nullptr;  ///< gradflow::status values
  Real* time = nullptr;
  Real* dt = nullptr;                ///< the controller's proposal (FIRE: its current dt)
  Real* dt_step = nullptr;           ///< the step actually attempted: min(dt, t_end − t)
  Real* pi_error_memory = nullptr;   ///< PI control: the error estimate of the last accepted step
  Real* accepted_value = nullptr;    ///< descent control by value: f at the accepted point
  Real* fire_mixing = nullptr;       ///< FIRE: the velocity mixing α
  Real* residual_norm_sq = nullptr;  ///< cg: ‖r‖² of the current residual
  Real* trial_gradient_norm = nullptr;  ///< ‖∇f‖ at the last evaluated stage
  Real* gradient_norm = nullptr;
  Real* gradient_norm_initial = nullptr;
  std::int64_t* accepted = nullptr;
  std::int64_t* rejected = nullptr;  ///< rejected steps; FIRE: uphill iterations (P = F·v ≤ 0)
  std::int64_t* gradient_evaluations = nullptr;
  std::int64_t* surrogate_evaluations = nullptr;  ///< lgf: evaluations of the learned field
  std::int64_t* downhill_steps = nullptr;         ///< FIRE: consecutive steps with P = F·v > 0
  /// lgf: true steps recorded in the current window; −1 while a jump's landing awaits its guard.
  std::int64_t* window_position = nullptr;
  std::int64_t* jump_steps = nullptr;            ///< lgf: surrogate steps of the next jump
  Real* window_largest_gradient_norm = nullptr;  ///< the largest ‖∇f‖ in this stall window
  Real* stall_reference = nullptr;  ///< the largest ‖∇f‖ in the window before (0: none yet)
  std::int64_t* stall_window_start = nullptr;  ///< accepted steps when this window opened
  Real* recurrence = nullptr;  ///< rkcd, rkc: recurrence_count Chebyshev values per problem
  /// The linearly implicit step: 1 + the accepted steps at whose state the curvature was last
  /// formed (0: not yet), so that a step retried after a rejection — same state, h halved —
  /// refactors H + I/h with the H it has. nullptr: H is formed at every factorisation.
  std::int64_t* curvature_formed_at = nullptr;

  GRADFLOW_HD int len() const { return unknowns * rhs_count; }
  GRADFLOW_HD int state_len() const { return state_factor * unknowns * rhs_count; }
  GRADFLOW_HD Real* state_of(std::int64_t i) const { return state + i * state_len(); }
  GRADFLOW_HD Real* stage_input_of(std::int64_t i) const { return stage_input + i * state_len(); }
  GRADFLOW_HD Real* work_of(int w, std::int64_t i) const {
    return work + (std::int64_t(w) * batch_size + i) * state_len();
  }
  GRADFLOW_HD Real* gradient_of(std::int64_t i) const { return gradient + i * len(); }
  GRADFLOW_HD Real* curvature_product_of(std::int64_t i) const {
    return curvature_product + i * len();
  }
  GRADFLOW_HD const Real* linear_term_of(std::int64_t i) const { return linear_term + i * len(); }
  GRADFLOW_HD Real* curvature_of(std::int64_t i) const {
    return curvature + i * std::int64_t(unknowns) * unknowns;
  }
  GRADFLOW_HD Real* factor_of(std::int64_t i) const {
    return factor + i * std::int64_t(unknowns) * unknowns;
  }
  GRADFLOW_HD Real* recurrence_of(std::int64_t i) const { return recurrence + i * 8; }
  GRADFLOW_HD Real parameter_of(std::int64_t i, parameter p) const {
    return parameters[i * parameter_count + p];
  }
  /// Problem i's vector whose first n·k values a model evaluates at (i = 0: the batch's base).
  GRADFLOW_HD Real* operand_of(operand source, std::int64_t i) const {
    return source == operand::state         ? state_of(i)
           : source == operand::stage_input ? stage_input_of(i)
                                            : work_of(1, i);
  }
  GRADFLOW_HD bool running(std::int64_t i) const {
    return outcome[i] == static_cast<std::int32_t>(status::running);
  }
};

/// The problems a lockstep phase or product visits: every problem of the batch (list == nullptr),
/// or after active-set compaction the `count` problems listed.
struct active_set {
  const std::int64_t* list = nullptr;
  std::int64_t count = 0;
  GRADFLOW_HD std::int64_t operator[](std::int64_t position) const {
    return list ? list[position] : position;
  }
};

/// FIRE's constants (Bitzek et al. 2006; FIRE 2.0: Guénolé et al. 2020, α_start 0.25 and the
/// half step back). dt_max = 10·dt0, FIRE 2.0's dt_min = 0.02·dt0.
template <class Real>
struct fire_constants {
  int delay_steps = 5;  ///< N_min / N_delay
  Real increase = Real(1.1);
  Real decrease = Real(0.5);
  Real alpha_start = Real(0.1);
  Real alpha_shrink = Real(0.99);
  Real dt_max_factor = Real(10);
  Real dt_min_factor = Real(0.02);
};

/// Settings shared by the batch.
template <class Real>
struct step_settings {
  gradflow::method method = gradflow::method::tsit5;
  gradflow::dynamics dynamics = gradflow::dynamics::gradient;
  // The method's row of gradflow/methods.hpp, as far as per-problem code reads it.
  method_kind kind = method_kind::runge_kutta;
  evaluation_point evaluates_at = evaluation_point::iterate;
  int work_vectors = 0;  ///< an optimiser's work vectors
  default_rate rate = default_rate::none;
  tableau<Real> scheme;
  bool adaptive = true;            ///< PI error control
  bool descent = false;            ///< descent (SER) control
  bool linearly_implicit = false;  ///< stage input by a solve with G + I/h, factored every step
  bool chebyshev = false;          ///< rkcd / rkc: s_i stages per step by recurrence
  Real t_end = 0;
  Real dt_min = 0;  ///< 0: 16·ε·max(1, t)
  Real divergence_ratio = 0;
  std::int64_t max_steps = 0;
  std::int64_t stall_window = 0;  ///< accepted steps per stall test; 0: never stalled
  Real stall_factor = 0;  ///< a window's largest ‖∇f‖ must fall below this × the window before's
  // PI controller (OrdinaryDiffEq defaults): q = EEst^β1 / EEst_old^β2 with β1 = 7/(10p),
  // β2 = 2/(5p), safety γ = 0.9, qmin = 1/5, qmax = 10; EEst_old starts at (and never falls
  // below) 1e-4.
  Real pi_exponent_error = 0;   ///< β1
  Real pi_exponent_memory = 0;  ///< β2
  Real safety = Real(0.9);
  Real q_min = Real(0.2);
  Real q_max = Real(10);
  Real pi_memory_initial = Real(1e-4);
  fire_constants<Real> fire;

  /// Whether only points where f fell are accepted: L-BFGS's Armijo test and descent control, on
  /// models that evaluate f (descent_by_value). Such a point is no blow-up whatever ‖∇f‖ does.
  GRADFLOW_HD bool accepts_only_lower_values() const {
    return descent_by_value && (descent || method == gradflow::method::lbfgs);
  }
  /// Runge–Kutta, linearly implicit and Chebyshev methods integrate the dynamics.
  GRADFLOW_HD bool integrates() const {
    return kind != method_kind::optimizer && kind != method_kind::direct;
  }
  /// The work vectors a problem holds: the Runge–Kutta stages, or the optimiser's.
  GRADFLOW_HD int work_count() const { return integrates() ? scheme.stage_count : work_vectors; }
  /// Optimisers that start from ∇f(u0), evaluated before optimizer_start (cg's residual, L-BFGS's
  /// first direction), so that each later evaluation is one step.
  GRADFLOW_HD bool starts_from_gradient() const {
    return evaluates_at == evaluation_point::search_direction || method == gradflow::method::lbfgs;
  }
  /// What the CPU's fused path runs in lanes of problems (host/least_squares_lanes.hpp): explicit
  /// Runge–Kutta with a tableau of 2, 4, 5 or 7 stages (Euler, Bogacki–Shampine, RK4, the
  /// seven-stage pairs) under PI control or a fixed step on gradient, Newton, heavy-ball or
  /// Nesterov dynamics, or under descent control where it compares the trapezoid rule's change
  /// (the lanes hold no f), and so the linearly implicit Euler step; rkcd and rkc; the optimisers
  /// gd, momentum, nag, adam, FIRE, FIRE 2.0, cg, and L-BFGS where its Armijo test uses the
  /// quadratic's exact change (the lanes hold no f).
  GRADFLOW_HD bool runs_in_lanes() const {
    if (kind == method_kind::optimizer)
      return method == gradflow::method::gd || method == gradflow::method::momentum ||
             method == gradflow::method::nag || method == gradflow::method::adam ||
             method == gradflow::method::fire || method == gradflow::method::fire2 ||
             method == gradflow::method::cg ||
             (method == gradflow::method::lbfgs && !descent_by_value);
    if (descent && descent_by_value) return false;
    if (linearly_implicit || chebyshev) return true;
    const int stages = scheme.stage_count;
    return kind == method_kind::runge_kutta &&
           (stages == 2 || stages == 4 || stages == 5 || stages == 7);
  }
  /// Where an optimiser's evaluation reads its operand.
  GRADFLOW_HD operand optimizer_operand() const {
    return evaluates_at == evaluation_point::look_ahead         ? operand::stage_input
           : evaluates_at == evaluation_point::search_direction ? operand::search_direction
                                                                : operand::state;
  }
  /// Prepare H at the start (and keep room for its factor): newton, direct, heavy ball given by
  /// ζ, Chebyshev stage counts, an objective's default step; linearly implicit: the factors'
  /// storage.
  bool needs_factor = false;
  /// Cholesky-factor that H at the start (all of the above but a default step, which reads only
  /// H's bound and so takes an indefinite H too).
  bool factor_at_start = false;
  /// Descent control compares f itself (models that evaluate it) instead of the trapezoid rule
  /// on gradients, which is exact for quadratic models only.
  bool descent_by_value = false;
};

}  // namespace gradflow::detail
