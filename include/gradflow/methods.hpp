#pragma once
// The method table and the dynamics table: every fact about a method or a dynamics that options,
// planning, the CLI and the documentation read, in one row each (README, "Extending gradflow").
#include <array>
#include <string_view>

#include "gradflow/options.hpp"

namespace gradflow {

/// How a method advances a problem, which decides the order of its phases (detail::run_sequence).
enum class method_kind {
  runge_kutta,        ///< an explicit tableau on any dynamics
  linearly_implicit,  ///< one factorisation of H + I/h per step, gradient dynamics
  chebyshev,          ///< s stages per step by recurrence, gradient dynamics
  optimizer,          ///< a classic iteration: [look-ahead,] evaluate, update
  direct,             ///< one factorisation and solve
};

/// The Runge–Kutta tableau of an integrator (detail::tableau_for).
enum class scheme { none, euler, rk4, bs3, tsit5, dp5 };

/// Where an optimiser evaluates: its iterate, a look-ahead or trial point (nag's U + βV, lbfgs's
/// U + αd) or, for a curvature product H·p, its search direction (cg).
enum class evaluation_point { iterate, look_ahead, search_direction };

/// An optimiser's learning rate (or FIRE's dt0) when none is given, from the curvature bound
/// L ≤ ‖H‖_∞: 1/L, Adam's 1e-2, or FIRE's 0.2/√L (so that dt_max = 10·dt0 stays near the
/// semi-implicit Euler stability limit 2/√L).
enum class default_rate { none, inverse_curvature, adam, fire };

/// L-BFGS's memory: the (s, y) pairs it keeps, two work vectors each.
inline constexpr int lbfgs_memory = 10;

struct method_info {
  method id;
  std::string_view name;
  method_kind kind;
  scheme tableau;
  /// Optimisers: per-problem work vectors (momentum, moments, CG's residual and direction; the
  /// learned flows: from the largest window, detail::lgf_work_vectors); integrators keep their
  /// tableau's stages.
  int work_vectors;
  evaluation_point evaluates_at;
  default_rate rate;
  step_control default_control;  ///< what control = method_default means (integrators)
  bool quadratic_only;  ///< solves H·u = c: needs a quadratic model (model_traits::quadratic)
  /// The method's own hyperparameters (hyperparameter_registry names) beyond dt / lr and the
  /// gradient tests; empty views pad.
  std::array<std::string_view, 8> reads;
  std::string_view help;
};

// clang-format off: one row per method.
// id, name, kind, tableau, work vectors, evaluates at, default rate, default control, quadratic only,
// reads, help
inline constexpr std::array<method_info, 20> method_table{{
    {method::euler, "euler", method_kind::runge_kutta, scheme::euler, 0, evaluation_point::iterate, default_rate::none, step_control::fixed, false, {},
     "explicit Euler, fixed dt (on gradient flow: gradient descent with lr = dt)"},
    {method::rk4, "rk4", method_kind::runge_kutta, scheme::rk4, 0, evaluation_point::iterate, default_rate::none, step_control::fixed, false, {},
     "classic Runge–Kutta 4, fixed dt"},
    {method::tsit5, "tsit5", method_kind::runge_kutta, scheme::tsit5, 0, evaluation_point::iterate, default_rate::none, step_control::error_control, false, {},
     "Tsitouras 5(4) with FSAL; PI error control by default"},
    {method::bs3, "bs3", method_kind::runge_kutta, scheme::bs3, 0, evaluation_point::iterate, default_rate::none, step_control::error_control, false, {},
     "Bogacki–Shampine 3(2) with FSAL; PI error control by default"},
    {method::dp5, "dp5", method_kind::runge_kutta, scheme::dp5, 0, evaluation_point::iterate, default_rate::none, step_control::error_control, false, {},
     "Dormand–Prince 5(4) with FSAL; PI error control by default"},
    {method::linearly_implicit, "linearly_implicit", method_kind::linearly_implicit, scheme::euler, 0, evaluation_point::iterate, default_rate::none, step_control::descent, false, {},
     "linearly implicit Euler on gradient flow, u ← u − (I/h + H)⁻¹∇f(u); descent control by default"},
    {method::rkcd, "rkcd", method_kind::chebyshev, scheme::euler, 0, evaluation_point::iterate, default_rate::none, step_control::fixed, false, {"eta", "stages"},
     "damped Runge–Kutta–Chebyshev descent (Eftekhari et al. 2021), s stages per step"},
    {method::rkc, "rkc", method_kind::chebyshev, scheme::euler, 0, evaluation_point::iterate, default_rate::none, step_control::fixed, false, {"eta", "stages"},
     "second-order Runge–Kutta–Chebyshev (van der Houwen & Sommeijer), damping ε = eta"},
    {method::gd, "gd", method_kind::optimizer, scheme::none, 0, evaluation_point::iterate, default_rate::inverse_curvature, step_control::fixed, false, {},
     "gradient descent: u −= lr·∇f"},
    {method::momentum, "momentum", method_kind::optimizer, scheme::none, 1, evaluation_point::iterate, default_rate::inverse_curvature, step_control::fixed, false, {"momentum"},
     "Polyak heavy ball: v = β v − lr ∇f(u), u += v"},
    {method::nag, "nag", method_kind::optimizer, scheme::none, 1, evaluation_point::look_ahead, default_rate::inverse_curvature, step_control::fixed, false, {"momentum"},
     "Nesterov accelerated gradient: v = β v − lr ∇f(u + β v), u += v"},
    {method::adam, "adam", method_kind::optimizer, scheme::none, 2, evaluation_point::iterate, default_rate::adam, step_control::fixed, false, {"beta1", "beta2", "epsilon"},
     "Adam (Kingma & Ba 2015) with bias correction"},
    {method::fire, "fire", method_kind::optimizer, scheme::none, 1, evaluation_point::iterate, default_rate::fire, step_control::fixed, false, {},
     "FIRE (Bitzek et al. 2006)"},
    {method::fire2, "fire2", method_kind::optimizer, scheme::none, 1, evaluation_point::iterate, default_rate::fire, step_control::fixed, false, {},
     "FIRE 2.0 (Guénolé et al. 2020)"},
    {method::lbfgs, "lbfgs", method_kind::optimizer, scheme::none, 2 + 2 * lbfgs_memory, evaluation_point::look_ahead, default_rate::inverse_curvature, step_control::fixed, false, {},
     "L-BFGS with 10 pairs, backtracking to the Armijo condition (f, or for least squares its exact change)"},
    {method::lgf, "lgf", method_kind::optimizer, scheme::none, 0, evaluation_point::iterate, default_rate::inverse_curvature, step_control::fixed, false, {"lgf_record", "lgf_window", "lgf_rank", "lgf_ridge", "lgf_degree", "lgf_target", "lgf_order", "lgf_threshold"},
     "learned gradient flow over gd, or Newton with --dynamics newton (Norman et al. 2026): K true steps, a polynomial surrogate fitted to them, M − K RK4 steps on it, the landing guarded"},
    {method::lgf_adam, "lgf_adam", method_kind::optimizer, scheme::none, 0, evaluation_point::iterate, default_rate::adam, step_control::fixed, false, {"beta1", "beta2", "epsilon", "lgf_record", "lgf_window", "lgf_rank", "lgf_ridge", "lgf_degree"},
     "learned gradient flow over Adam: K Adam steps, a polynomial fit of their gradients, M − K RK4 steps of the continuous Adam system with it, guarded"},
    {method::lgf_implicit, "lgf_implicit", method_kind::optimizer, scheme::none, 0, evaluation_point::iterate, default_rate::inverse_curvature, step_control::fixed, false, {"lgf_record", "lgf_window", "lgf_rank", "lgf_ridge", "lgf_degree", "lgf_target", "lgf_order", "lgf_threshold"},
     "learned gradient flow over linearly implicit Euler u ← u − (I/lr + ∇²f)⁻¹∇f: K true steps, a polynomial surrogate fitted to them, M − K RK4 steps on it, the landing guarded"},
    {method::cg, "cg", method_kind::optimizer, scheme::none, 2, evaluation_point::search_direction, default_rate::none, step_control::fixed, true, {},
     "conjugate gradient on the normal equations H U = c"},
    {method::direct, "direct", method_kind::direct, scheme::none, 0, evaluation_point::iterate, default_rate::none, step_control::fixed, true, {},
     "Cholesky solve of H U = c: the speed limit for least squares"},
}};
// clang-format on

/// lgf, lgf_adam and lgf_implicit: windows of true base steps and jumps on a learned surrogate.
constexpr bool is_learned_flow(method m) {
  return m == method::lgf || m == method::lgf_adam || m == method::lgf_implicit;
}

/// The row of `m`; throws invalid_argument for a value that is not a method.
const method_info& info_of(method m);

struct dynamics_info {
  dynamics id;
  std::string_view name;
  int state_factor;          ///< 2 for (u, v)
  bool needs_curvature;      ///< H at every evaluation (newton)
  bool momentum_time_scale;  ///< discrete momentum with step lr samples it at dt = √lr
  std::array<std::string_view, 4> reads;  ///< its hyperparameters (hyperparameter_registry names)
  std::string_view help;
};

// clang-format off: one row per dynamics.
// id, name, state factor, needs curvature, momentum time scale, reads, help
inline constexpr std::array<dynamics_info, 4> dynamics_table{{
    {dynamics::gradient, "gradient", 1, false, false, {}, "u' = −∇f(u)"},
    {dynamics::heavy_ball, "heavy_ball", 2, false, true, {"zeta", "damping", "mass", "vtol"}, "m u'' + c u' + ∇f(u) = 0"},
    {dynamics::nesterov, "nesterov", 2, false, true, {"vtol"}, "u'' + (3/t) u' + ∇f = 0 (Su, Boyd, Candès 2016)"},
    {dynamics::newton, "newton", 1, true, false, {}, "u' = −H⁻¹∇f"},
}};
// clang-format on

/// The row of `d`; throws invalid_argument for a value that is not a dynamics.
const dynamics_info& info_of(dynamics d);

}  // namespace gradflow
