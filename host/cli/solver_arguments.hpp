#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gradflow/hyperparameters.hpp"
#include "gradflow/methods.hpp"
#include "gradflow/options.hpp"
#include "gradflow/result.hpp"

namespace gradflow::cli {

/// Options that `solve` and `sweep` share, as typed.
struct solver_arguments {
  std::string method = "tsit5", dynamics = "gradient", control = "default", backend = "auto",
              precision = "f64", path = "auto";
  std::optional<double> rtol, atol, gtol, rtol_grad, vtol;
  double t_end = std::numeric_limits<double>::infinity();
  std::int64_t max_steps = 100000;
  double dt_min = 0;
  std::optional<std::int64_t> stall_window;
  std::optional<double> stall_factor;  ///< unset: solve_options' default
  bool skip_invalid = false;
  std::optional<double> compaction_threshold;  ///< unset: solve_options' default
  std::string trace;      ///< "every=N" (or "N"): record ‖∇f‖ every N steps
  std::string trace_out;  ///< where the trace goes (a default per command when empty)
};

/// The N of --trace every=N; 0 when not tracing. Throws invalid_argument for anything else.
int trace_interval(const solver_arguments& arguments);

/// The trace as CSV rows `member,step,t,grad_norm` (header when `with_header`).
std::string trace_csv(std::vector<trace_point> trace, bool with_header);

/// Whether `line` (without its newline) is a trace's header: the file is a trace.
bool is_trace_header(const std::string& line);

/// The command-line flag of a hyperparameter: --name with '-' for '_' (lgf_record: --lgf-record).
std::string flag_of(std::string_view name);

/// Throws invalid_argument when none of `methods` reads hyperparameter `name` (uses_hyperparameter)
/// under `options`' dynamics and control: `flag`, given for it, would be ignored.
void require_read(const std::string& flag, std::string_view name, solve_options options,
                  const std::vector<method>& methods);

/// require_read for each limit given that not every method reads: rtol and atol (error control),
/// vtol (second-order dynamics), t_end (no flow time in cg, lbfgs, direct), dt_min (error or
/// descent control); gtol, rtol_grad and
/// max_steps every method reads. Also refuses --stall-factor where no stall test runs
/// (--stall-window 0, or none given where the problems' family has it off by default: objectives
/// and training, whose ‖∇f‖ may stay flat while f falls; `stall_test_by_default` says which) and
/// --compaction without --path lockstep (only lockstep compacts; auto often runs fused).
void require_read_limits(const solver_arguments& arguments, const solve_options& options,
                         const std::vector<method>& methods, bool stall_test_by_default);

/// `method_help` differs: one method for solve, a comma-separated list for sweep.
void add_solver_options(CLI::App& command, solver_arguments& arguments,
                        const std::string& method_help);

/// "a | b | …": the names of a table's rows (gradflow/methods.hpp), for help texts.
template <class Table>
std::string table_names(const Table& table) {
  std::string names;
  for (const auto& row : table) names += (names.empty() ? "" : " | ") + std::string(row.name);
  return names;
}

/// The batch-wide solve_options (method not set: the caller parses its method list).
solve_options to_options(const solver_arguments& arguments);

/// True for f32; throws invalid_argument for anything but f64 | f32.
bool single_precision(const solver_arguments& arguments);

/// Everything but the method, as JSON for a run's sidecar.
nlohmann::json describe_solver(const solver_arguments& arguments);

}  // namespace gradflow::cli
