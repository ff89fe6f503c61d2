#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gradflow/hyperparameter.hpp"

namespace gradflow {

/// The continuous dynamics whose equilibrium is the minimum (README, "Dynamics"). Integrated by the
/// ODE methods (euler, rk4, tsit5); ignored by the discrete optimisers.
enum class dynamics {
  gradient,    ///< u' = −∇f(u)
  heavy_ball,  ///< m u'' + c u' + ∇f(u) = 0, as (u, v): u' = v, v' = −(c/m) v − ∇f/m
  nesterov,    ///< u'' + (3/t) u' + ∇f = 0, u'(0) = 0 (Su, Boyd, Candès 2016)
  newton,      ///< u' = −H⁻¹∇f (least squares: H = G, Cholesky-factored once)
};

/// How the problem is advanced: an ODE integrator applied to the dynamics, or a classic optimiser.
enum class method {
  euler,  ///< explicit Euler, fixed dt (on gradient flow: gradient descent with lr = dt)
  rk4,    ///< classic Runge–Kutta 4, fixed dt
  tsit5,  ///< Tsitouras 5(4) with FSAL; PI error control by default
  bs3,    ///< Bogacki–Shampine 3(2) with FSAL; PI error control by default
  dp5,    ///< Dormand–Prince 5(4) with FSAL; PI error control by default
  /// Linearly implicit (Rosenbrock) Euler on gradient flow: u ← u − (I/h + G)⁻¹∇f(u), descent
  /// control by default — pseudo-transient continuation, Levenberg–Marquardt with λ = 1/h.
  linearly_implicit,
  /// First-order damped Runge–Kutta–Chebyshev descent (RKCD; Eftekhari et al., BIT 2021) on
  /// gradient flow: s stages per step, stable for h·L up to ≈ (2 − 4η/3)s².
  rkcd,
  /// Second-order Runge–Kutta–Chebyshev (RKC; van der Houwen & Sommeijer, damping ε = `eta`,
  /// default 2/13) on gradient flow: stable for h·L up to ≈ 0.65 s².
  rkc,
  gd,        ///< gradient descent: u −= lr·∇f
  momentum,  ///< Polyak heavy ball: v = β v − lr ∇f(u), u += v
  nag,       ///< Nesterov accelerated gradient: v = β v − lr ∇f(u + β v), u += v
  adam,      ///< Adam (Kingma & Ba 2015) with bias correction
  fire,      ///< FIRE (Bitzek et al. 2006)
  fire2,     ///< FIRE 2.0 (Guénolé et al. 2020)
  /// L-BFGS (Nocedal 1980; Liu & Nocedal 1989), the last lbfgs_memory pairs, backtracking to the
  /// Armijo condition from the unit step (the first step: −lr·∇f)
  lbfgs,
  /// Learned gradient flow over gd, or over Newton with dynamics::newton (Norman et al., CMAME
  /// 2026): windows of lgf_window iterations, lgf_record true steps, then a jump by RK4 on a
  /// polynomial surrogate fitted to them, guarded.
  lgf,
  /// Learned gradient flow over Adam: Adam's true steps, the recorded gradients' affine fit g(θ),
  /// and jumps by RK4 on the continuous Adam system with that g.
  lgf_adam,
  /// Learned gradient flow over linearly implicit Euler with step lr,
  /// u ← u − (I/lr + ∇²f)⁻¹∇f(u): the same windows and fits as lgf.
  lgf_implicit,
  cg,      ///< conjugate gradient on the normal equations G U = C (least squares)
  direct,  ///< Cholesky solve of G U = C: the speed limit for linear least squares
};

/// True for the methods that integrate `dynamics` (Runge–Kutta, Chebyshev and linearly implicit;
/// gradflow/methods.hpp's method_kind).
bool is_integrator(method m);

/// True for rkcd and rkc (a stage count per problem instead of a tableau).
bool is_chebyshev(method m);

/// Where the batch runs. `automatic` picks CUDA when a device answers, else the CPU.
enum class backend_kind { automatic, cpu, cuda };

/// How a batch is executed. `lockstep`: every phase is one pass over the batch and every product
/// one batched GEMM (cuBLAS on the GPU), with host checks between steps — right for larger n, and
/// what traces and progress reports need. `fused`: each problem runs its whole solve without
/// synchronising with the others (one CUDA thread; on the CPU one thread, or for least squares
/// under explicit Runge–Kutta a lane of a vector of problems), with its G and state close by —
/// right for small problems like the seed's 50×5. `automatic`: fused when n ≤ 32 (on the CPU in
/// lanes: n ≤ 128, README "Design") and no trace or progress report is asked for.
enum class execution_path { automatic, lockstep, fused };

/// Step-size policy of the integrators: `fixed` keeps dt; `error_control` is a PI controller
/// (Gustafsson 1991; OrdinaryDiffEq's coefficients, see step_settings); `descent` (switched
/// evolution relaxation, for gradient dynamics) follows the endpoint instead of the curve: a step
/// that raises f is rejected and dt halved, an accepted one sets dt ← 1.1·dt·‖∇f_old‖/‖∇f_new‖
/// (growth at most 10× for explicit methods, unlimited for linearly_implicit, whose convergence
/// then becomes quadratic).
enum class step_control { method_default, fixed, error_control, descent };

/// Where a solve stands, for a progress display (solve_options::on_progress).
struct progress_report {
  std::int64_t running = 0;
  std::int64_t finished = 0;
  double elapsed_seconds = 0;
};

/// Options of a solve. Every `hyperparameter` is unset (default below), one value, or one value per
/// batch member; all are validated by `solve` and rejected with a message naming the field and, for
/// per-member values, the member.
struct solve_options {
  gradflow::method method = gradflow::method::tsit5;
  gradflow::dynamics dynamics = gradflow::dynamics::gradient;
  step_control control = step_control::method_default;
  backend_kind backend = backend_kind::automatic;
  execution_path path = execution_path::automatic;

  /// Integrators: the fixed step, or the first step of an adaptive run. Unset: fixed steps use
  /// 1/‖G‖_∞ per problem (a Gershgorin bound on the largest curvature L; for second-order dynamics
  /// 1/√‖G‖_∞), adaptive runs pick the first step per problem (Hairer–Nørsett–Wanner). Discrete
  /// optimisers: the learning rate (default 1/‖G‖_∞; Adam 1e-2) or FIRE's initial dt.
  hyperparameter dt;
  /// Heavy ball: damping ratio ζ measured against the problem's smallest curvature μ_min, so that
  /// c/m = 2ζ√(μ_min/m): ζ = 1 damps the slowest mode critically. Default 1 unless `damping` is
  /// set.
  hyperparameter zeta;
  hyperparameter damping;   ///< heavy ball: c (the friction coefficient), instead of ζ
  hyperparameter mass;      ///< heavy ball: m (default 1)
  hyperparameter momentum;  ///< momentum, nag: β (default 0.9)
  hyperparameter beta1;     ///< adam (default 0.9)
  hyperparameter beta2;     ///< adam (default 0.999)
  hyperparameter epsilon;   ///< adam (default 1e-8)
  /// rkcd: damping η (default 5: near CG's rate); rkc: damping ε (default 2/13).
  hyperparameter eta;
  /// rkcd, rkc: stages s per step. Unset: the fewest that keep dt·L stable when dt is given, else
  /// ⌈√(η(κ−1)/2)⌉ from the problem's κ = L/μ (then dt = ℓ_s/L, the stability length over L).
  hyperparameter stages;
  /// lgf, lgf_adam: true base steps recorded per window, K (an integer in [2, 32]; default 25).
  hyperparameter lgf_record;
  /// lgf, lgf_adam: iterations per window, M (an integer > K; default 50): the jump is M − K
  /// surrogate steps.
  hyperparameter lgf_window;
  /// lgf, lgf_adam: the most modes of the surrogate (POD rank; default 0: the snapshots' numerical
  /// rank).
  hyperparameter lgf_rank;
  /// lgf, lgf_adam: the surrogate's ridge α (default 0: plain least squares).
  hyperparameter lgf_ridge;
  /// lgf, lgf_adam: the library's polynomial degree p (1 or 2; default 1).
  hyperparameter lgf_degree;
  /// lgf: the fit's target: 0 tracked (the base's steps; default), 1 strong (finite differences of
  /// the iterates), 2 weak (bump test functions).
  hyperparameter lgf_target;
  /// lgf: the strong target's finite-difference order (1, 2 or 4; default 2).
  hyperparameter lgf_order;
  /// lgf: STLSQ's threshold on the coefficients of unit library columns (default 0: least
  /// squares).
  hyperparameter lgf_threshold;

  /// Local-error tolerances (f64: rtol 1e-8, atol 1e-10; f32: 1e-4, 1e-6). Near a minimum an
  /// error-controlled explicit method settles with dt on its stability boundary, and ‖∇f‖ stalls
  /// near L·(atol + rtol·|u|): tighten these together with the gradient tests.
  hyperparameter rtol;
  hyperparameter atol;
  hyperparameter gtol;  ///< stop when ‖∇f‖ ≤ gtol (default 0: off)
  /// Stop when ‖∇f‖ ≤ rtol_grad·‖∇f(u0)‖. Default: 1e-8 (f64) or 1e-4 (f32) when gtol is unset
  /// too, else off.
  hyperparameter rtol_grad;
  /// Integrators of second-order dynamics (heavy_ball, nesterov) also need ‖v‖ ≤ vtol to
  /// converge, so a problem is never declared converged while it swings through the minimum (the
  /// optimisers test the gradient alone). Default: the problem's gradient threshold
  /// (max(gtol, rtol_grad·‖∇f(u0)‖)).
  hyperparameter vtol;

  /// The flow time to stop at, reached_t_end: an integrator's last step lands on it; gd, momentum,
  /// nag, adam, FIRE and the learned flows stop at the iteration that ends nearest it.
  double t_end = std::numeric_limits<double>::infinity();
  std::int64_t max_steps = 100000;  ///< accepted + rejected steps (iterations) per problem
  /// Smallest step the controller may ask for before a problem is marked step_underflow; 0:
  /// 16·ε·max(1, t) in the working precision.
  double dt_min = 0;
  /// A problem is `stalled` when the largest ‖∇f‖ over stall_window accepted steps is not below
  /// stall_factor times the largest over the stall_window steps before (0: never). Unset: 1000 for
  /// least squares, where ‖∇f‖ falls steadily unless the method is stuck — the defaults stop a
  /// problem gaining less than 1 % per 1000 steps (10⁸ would take over 1.8·10⁶ steps), such as an
  /// error-controlled explicit method held at its stability boundary — and never for objectives,
  /// whose ‖∇f‖ can stay flat for thousands of steps while f falls (a valley, a plateau).
  std::optional<std::int64_t> stall_window;
  double stall_factor = 0.99;
  /// A problem whose ‖∇f‖ exceeds divergence_ratio·‖∇f(u0)‖ is diverged (numerical blow-up), but
  /// for a method that accepts only points of lower f (L-BFGS, descent control, on a model that
  /// evaluates f).
  double divergence_ratio = 1e10;
  /// Problems with NaN/Inf data or a bad λ are marked invalid_input (solution NaN) and the rest
  /// are solved, instead of the whole solve being rejected.
  bool skip_invalid = false;
  /// > 0: record (accepted steps, t, ‖∇f‖) of every running problem every this many steps, plus
  /// its start and end, into solve_result::trace (a host synchronisation per record on a GPU; two
  /// for the optimisers whose ‖∇f‖ is read after the step that follows it, host/driver.cpp).
  int trace_every = 0;
  /// The host checks whether any problem is still running every this many steps (fewer syncs).
  int check_interval = 8;
  /// Lockstep path: when at most this fraction of the active problems still runs at a check, the
  /// running ones are compacted into a list that later products and phases visit alone (0: never;
  /// 1: at every check where any problem has stopped).
  double compaction_threshold = 0.5;
  /// Called on the host at those checks (so at most every check_interval steps), if set.
  std::function<void(const progress_report&)> on_progress;
  /// Asked on the host at the same checks and, on the fused path, between blocks of problems (a
  /// fused CUDA kernel runs to its end); when it returns true the solve throws
  /// gradflow::interrupted. For Ctrl-C: the flag a signal handler sets.
  std::function<bool()> should_stop;
};

/// The hyperparameter called `name` ("dt", "zeta", "damping", "mass", "momentum", "beta1", "beta2",
/// "epsilon", "eta", "stages", "rtol", "atol", "gtol", "rtol_grad", "vtol"); nullptr for any other
/// name.
hyperparameter* hyperparameter_named(solve_options& options, std::string_view name);
const hyperparameter* hyperparameter_named(const solve_options& options, std::string_view name);
/// The step dt that corresponds to learning rate `lr` under `options`: dt = √lr for heavy-ball and
/// Nesterov dynamics integrated by a Runge–Kutta method (discrete momentum with step lr samples the
/// ODE at time step √lr; Yang et al. 2018), dt = lr otherwise. invalid_argument, naming lr, where
/// lr is not finite and > 0.
double step_for_learning_rate(const solve_options& options, double lr);

/// Whether a solve with `options` (method, dynamics, control) reads the hyperparameter or sweep
/// axis `name` (those of hyperparameter_named, lr, and the problem axes of gradflow/sweep.hpp): a
/// sweep axis it does not read would only repeat members. dt/lr: every method but cg and direct;
/// zeta, damping, mass: integrators of heavy-ball dynamics; vtol: integrators of second-order
/// dynamics; momentum: momentum, nag; beta1, beta2, epsilon: adam; eta, stages: rkcd, rkc; rtol,
/// atol: bs3, tsit5, dp5 under error control; u0_seed, x0_scale, x0_offset: every method but
/// direct; t_end: every method but cg, lbfgs and direct; dt_min: integrators under error or
/// descent control (linearly_implicit's default); gtol, rtol_grad, lambda: all; lgf_order:
/// lgf and lgf_implicit where a value of lgf_target is 1 (strong, the target it is the order of).
bool uses_hyperparameter(const solve_options& options, std::string_view name);

/// What, besides the method, uses_hyperparameter's answer depends on, for a message: "dynamics D,
/// control C", and for a method that reads lgf_target ", lgf_target T".
std::string reading_context(const solve_options& options);

/// Every name hyperparameter_named knows, in declaration order.
std::vector<std::string_view> hyperparameter_names();

std::string_view to_string(method m);
std::string_view to_string(dynamics d);
std::string_view to_string(backend_kind b);
std::string_view to_string(execution_path p);
std::string_view to_string(step_control c);

/// Parse the CLI spellings; throw invalid_argument naming `field` and the accepted values.
method parse_method(std::string_view text, std::string_view field = "method");
dynamics parse_dynamics(std::string_view text, std::string_view field = "dynamics");
backend_kind parse_backend(std::string_view text, std::string_view field = "backend");
execution_path parse_execution_path(std::string_view text, std::string_view field = "path");
step_control parse_step_control(std::string_view text, std::string_view field = "control");

}  // namespace gradflow
