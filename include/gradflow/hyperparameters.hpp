#pragma once
// The hyperparameter registry: one row per per-member hyperparameter of solve_options, read by
// option resolution, the CLI's flags and help, sweep axes and the README (README, "Extending
// gradflow": a new hyperparameter is one row here, one solve_options field and one slot).
#include <array>
#include <cmath>
#include <limits>
#include <string_view>

#include "gradflow/options.hpp"

namespace gradflow {

/// The values a hyperparameter accepts.
enum class value_range {
  positive,          ///< finite and > 0
  non_negative,      ///< finite and >= 0
  fraction,          ///< in [0, 1)
  stage_count,       ///< an integer in [1, 10000] ([2, 10000] for rkc)
  whole_number,      ///< an integer in [0, 10⁹]
  record_count,      ///< an integer in [2, 32]: the learned flows' K (detail::lgf_max_record)
  library_degree,    ///< 1 or 2: the learned flows' polynomial degree p
  surrogate_target,  ///< 0 (tracked), 1 (strong) or 2 (weak): what the learned flows fit
  difference_order,  ///< 1, 2 or 4: the strong target's finite differences
};

struct hyperparameter_info {
  std::string_view name;  ///< the solve_options field, the CLI flag --name, the sweep axis
  hyperparameter solve_options::*field;
  int slot;  ///< its column of the per-problem table (detail::parameter)
  /// When unset, in double and single precision; NaN: chosen per problem (from the curvature or
  /// another hyperparameter, see help).
  double default_f64, default_f32;
  /// The default above applies unless this one is given; then `default_when_given` does.
  std::string_view unless_given;
  double default_when_given;
  value_range range;
  /// A per-member CLI option of `solve` and an axis of `sweep`; else a batch-wide CLI setting.
  bool cli_axis;
  std::string_view help;
};

inline constexpr double per_problem = std::numeric_limits<double>::quiet_NaN();

/// In the order of detail::parameter's slots.
// clang-format off: one row per hyperparameter.
// name, field, slot, default f64, default f32, unless given, default when given, range, CLI axis, help
inline constexpr std::array<hyperparameter_info, 23> hyperparameter_registry{{
    {"dt", &solve_options::dt, 0, per_problem, per_problem, {}, 0, value_range::positive, true,
     "integrators: fixed / first step (default 1/‖H‖_∞ for fixed steps, else chosen per problem); optimisers: learning rate (default 1/‖H‖_∞; adam 1e-2) or FIRE's dt0"},
    {"zeta", &solve_options::zeta, 1, 1.0, 1.0, "damping", per_problem, value_range::non_negative, true,
     "heavy ball: damping ratio against the smallest curvature (default 1)"},
    {"damping", &solve_options::damping, 2, per_problem, per_problem, {}, 0, value_range::non_negative, true,
     "heavy ball: friction c instead of zeta"},
    {"mass", &solve_options::mass, 3, 1.0, 1.0, {}, 0, value_range::positive, true,
     "heavy ball: mass m (default 1)"},
    {"momentum", &solve_options::momentum, 4, 0.9, 0.9, {}, 0, value_range::fraction, true,
     "momentum, nag: beta (default 0.9)"},
    {"beta1", &solve_options::beta1, 5, 0.9, 0.9, {}, 0, value_range::fraction, true,
     "adam, lgf_adam: beta1 (default 0.9)"},
    {"beta2", &solve_options::beta2, 6, 0.999, 0.999, {}, 0, value_range::fraction, true,
     "adam, lgf_adam: beta2 (default 0.999)"},
    {"epsilon", &solve_options::epsilon, 7, 1e-8, 1e-8, {}, 0, value_range::positive, true,
     "adam, lgf_adam: epsilon (default 1e-8)"},
    {"eta", &solve_options::eta, 8, per_problem, per_problem, {}, 0, value_range::positive, true,
     "rkcd: damping eta (default 5); rkc: damping epsilon (default 2/13)"},
    {"stages", &solve_options::stages, 9, per_problem, per_problem, {}, 0, value_range::stage_count, true,
     "rkcd, rkc: stages per step (default: from dt, or from the condition number)"},
    {"rtol", &solve_options::rtol, 10, 1e-8, 1e-4, {}, 0, value_range::non_negative, false,
     "relative local-error tolerance (default 1e-8; f32: 1e-4)"},
    {"atol", &solve_options::atol, 11, 1e-10, 1e-6, {}, 0, value_range::non_negative, false,
     "absolute local-error tolerance (default 1e-10; f32: 1e-6)"},
    {"gtol", &solve_options::gtol, 12, 0.0, 0.0, {}, 0, value_range::non_negative, false,
     "stop when ‖∇f‖ <= gtol (default 0: off)"},
    {"rtol_grad", &solve_options::rtol_grad, 13, 1e-8, 1e-4, "gtol", 0.0, value_range::fraction, false,
     "stop when ‖∇f‖ <= rtol_grad·‖∇f(u0)‖ (default 1e-8, f32: 1e-4, unless gtol is given: then 0)"},
    {"vtol", &solve_options::vtol, 14, per_problem, per_problem, {}, 0, value_range::non_negative, false,
     "second-order dynamics: also need ‖v‖ <= vtol (default: the gradient threshold)"},
    {"lgf_record", &solve_options::lgf_record, 15, 25, 25, {}, 0, value_range::record_count, true,
     "lgf, lgf_implicit, lgf_adam: true base steps recorded per window, K in [2, 32] (default 25)"},
    {"lgf_window", &solve_options::lgf_window, 16, 50, 50, {}, 0, value_range::whole_number, true,
     "lgf, lgf_implicit, lgf_adam: iterations per window, M > K (default 50): each jump is M − K surrogate RK4 steps of lr"},
    {"lgf_rank", &solve_options::lgf_rank, 17, 0, 0, {}, 0, value_range::whole_number, true,
     "lgf, lgf_implicit, lgf_adam: the surrogate's most modes, at most K − 1 (default 0: the snapshots' numerical rank)"},
    {"lgf_ridge", &solve_options::lgf_ridge, 18, 0, 0, {}, 0, value_range::non_negative, true,
     "lgf, lgf_implicit, lgf_adam: the surrogate fit's ridge α (default 0)"},
    {"lgf_degree", &solve_options::lgf_degree, 19, 1, 1, {}, 0, value_range::library_degree, true,
     "lgf, lgf_implicit, lgf_adam: the surrogate library's polynomial degree p, 1 or 2 (default 1: affine)"},
    {"lgf_target", &solve_options::lgf_target, 20, 0, 0, {}, 0, value_range::surrogate_target, true,
     "lgf, lgf_implicit: what the surrogate is fitted to: 0 tracked (the base's steps, default), 1 strong (finite differences of the iterates), 2 weak (bump test functions)"},
    {"lgf_order", &solve_options::lgf_order, 21, 2, 2, {}, 0, value_range::difference_order, true,
     "lgf, lgf_implicit with lgf_target 1: the strong target's finite-difference order, 1, 2 or 4 (default 2)"},
    {"lgf_threshold", &solve_options::lgf_threshold, 22, 0, 0, {}, 0, value_range::non_negative, true,
     "lgf, lgf_implicit: STLSQ's threshold on the coefficients of unit library columns (default 0: least squares)"},
}};
// clang-format on

/// The row called `name`; nullptr for any other name.
const hyperparameter_info* hyperparameter_row(std::string_view name);

}  // namespace gradflow
