#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gradflow/options.hpp"
#include "gradflow/result.hpp"

namespace gradflow::cli {

/// The per-problem hyperparameters with their help texts: scalars on `solve`, axes on `sweep`.
struct hyperparameter_option {
  const char* name;  ///< as in solve_options and sweep axes
  const char* help;
};
inline constexpr std::array<hyperparameter_option, 10> hyperparameter_options{{
    {"dt", "integrators: fixed / first step; optimisers: learning rate"},
    {"zeta", "heavy ball: damping ratio against the smallest curvature (default 1)"},
    {"damping", "heavy ball: friction c instead of zeta"},
    {"mass", "heavy ball: mass m (default 1)"},
    {"momentum", "momentum, nag: beta (default 0.9)"},
    {"beta1", "adam: beta1 (default 0.9)"},
    {"beta2", "adam: beta2 (default 0.999)"},
    {"epsilon", "adam: epsilon (default 1e-8)"},
    {"eta", "rkcd: damping eta (default 5); rkc: damping epsilon (default 2/13)"},
    {"stages", "rkcd, rkc: stages per step (default: from dt, or from the condition number)"},
}};

/// Options that `solve` and `sweep` share, as typed.
struct solver_arguments {
  std::string method = "tsit5", dynamics = "gradient", control = "default", backend = "auto",
              precision = "f64", path = "auto";
  std::optional<double> rtol, atol, gtol, rtol_grad, vtol;
  double t_end = std::numeric_limits<double>::infinity();
  std::int64_t max_steps = 100000;
  double dt_min = 0;
  std::optional<std::int64_t> stall_window;
  double stall_factor = solve_options{}.stall_factor;
  bool skip_invalid = false;
  double compaction_threshold = solve_options{}.compaction_threshold;
  std::string trace;      ///< "every=N" (or "N"): record ‖∇f‖ every N steps
  std::string trace_out;  ///< where the trace goes (a default per command when empty)
};

/// The N of --trace every=N; 0 when not tracing. Throws invalid_argument for anything else.
int trace_interval(const solver_arguments& arguments);

/// The trace as CSV rows `member,step,t,grad_norm` (header when `with_header`).
std::string trace_csv(const std::vector<trace_point>& trace, bool with_header);

/// `method_help` differs: one method for solve, a comma-separated list for sweep.
void add_solver_options(CLI::App& command, solver_arguments& arguments, const char* method_help);

/// The batch-wide solve_options (method not set: the caller parses its method list).
solve_options to_options(const solver_arguments& arguments);

/// True for f32; throws invalid_argument for anything but f64 | f32.
bool single_precision(const solver_arguments& arguments);

/// Everything but the method, as JSON for a run's sidecar.
nlohmann::json describe_solver(const solver_arguments& arguments);

}  // namespace gradflow::cli
