#include "solver_arguments.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "../number_text.hpp"
#include "gradflow/error.hpp"
#include "output_files.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {
namespace {

hyperparameter given(const std::optional<double>& value) {
  return value ? hyperparameter(*value) : hyperparameter();
}

nlohmann::json given_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

void add_solver_options(CLI::App& command, solver_arguments& arguments,
                        const std::string& method_help) {
  command.add_option("--method", arguments.method, method_help);
  command.add_option("--dynamics", arguments.dynamics,
                     table_names(dynamics_table) + " (integrators only)");
  command.add_option("--control", arguments.control,
                     "default | fixed | error | descent (step-size control)");
  const auto help = [](std::string_view name) {
    return std::string(hyperparameter_row(name)->help);
  };
  command.add_option("--rtol", arguments.rtol, help("rtol"));
  command.add_option("--atol", arguments.atol, help("atol"));
  command.add_option("--gtol", arguments.gtol, help("gtol"));
  command.add_option("--rtol-grad", arguments.rtol_grad, help("rtol_grad"));
  command.add_option("--vtol", arguments.vtol, help("vtol"));
  command.add_option("--t-end", arguments.t_end,
                     "the flow time to stop at (integrators land on it; gd, momentum, nag, adam, "
                     "fire and lgf stop at the iteration nearest it)");
  command.add_option("--max-steps", arguments.max_steps,
                     "accepted + rejected steps per problem (default " +
                         std::to_string(solve_options{}.max_steps) + ")");
  command.add_option("--dt-min", arguments.dt_min,
                     "error or descent control: step_underflow below this dt (default "
                     "16·ε·max(1, t))");
  command.add_option("--stall-window", arguments.stall_window,
                     "stalled when the largest ‖∇f‖ over this many accepted steps is not below "
                     "--stall-factor × that of the window before (0: never; default 1000 for "
                     "least squares, never for --problem objectives and training)");
  command.add_option("--stall-factor", arguments.stall_factor,
                     "the fall from one stall window to the next that counts as progress "
                     "(default 0.99)");
  command.add_flag("--skip-invalid", arguments.skip_invalid,
                   "mark problems with NaN/Inf data invalid_input and solve the rest");
  auto* trace = command.add_option(
      "--trace", arguments.trace,
      "every=N: record ‖∇f‖ of every member every N steps (for plot --convergence)");
  command.add_option("--trace-out", arguments.trace_out, "where --trace writes (CSV)")
      ->needs(trace);
  command.add_option("--backend", arguments.backend, "auto | cpu | cuda");
  command.add_option("--path", arguments.path,
                     "auto | lockstep | fused (fused: one thread runs each problem's whole solve)");
  command.add_option("--compaction", arguments.compaction_threshold,
                     "with --path lockstep: compact the active set when at most this fraction "
                     "still runs (0: never; default 0.5)");
  command.add_option("--precision", arguments.precision, "f64 | f32");
}

std::string flag_of(std::string_view name) {
  std::string flag = "--" + std::string(name);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

void require_read(const std::string& flag, std::string_view name, solve_options options,
                  const std::vector<method>& methods) {
  std::string names;
  for (method m : methods) {
    options.method = m;
    if (uses_hyperparameter(options, name)) return;
    names += (names.empty() ? "" : ",") + std::string(to_string(m));
  }
  throw invalid_argument(flag + " is not used by method " + names + " (" +
                         reading_context(options) + "): leave it out");
}

void require_read_limits(const solver_arguments& arguments, const solve_options& options,
                         const std::vector<method>& methods, bool stall_test_by_default) {
  const std::pair<std::string_view, const std::optional<double>*> tolerances[] = {
      {"rtol", &arguments.rtol}, {"atol", &arguments.atol}, {"vtol", &arguments.vtol}};
  for (const auto& [name, value] : tolerances)
    if (*value) require_read(flag_of(name), name, options, methods);
  if (std::isfinite(arguments.t_end)) require_read("--t-end", "t_end", options, methods);
  if (arguments.dt_min != 0) require_read("--dt-min", "dt_min", options, methods);
  if (arguments.stall_factor && arguments.stall_window == std::int64_t(0))
    throw invalid_argument("--stall-factor is not used: --stall-window 0 turns the stall test off");
  if (arguments.stall_factor && !arguments.stall_window && !stall_test_by_default)
    throw invalid_argument(
        "--stall-factor is not used: the stall test is off for these problems unless "
        "--stall-window is given (their ‖∇f‖ may stay flat while f falls)");
  // Path auto chooses after the arguments are read, often fused, where the setting would be lost.
  if (arguments.compaction_threshold && options.path != execution_path::lockstep)
    throw invalid_argument("--compaction is not used by path " +
                           std::string(to_string(options.path)) +
                           " (it compacts the lockstep path's active set): give --path lockstep");
}

solve_options to_options(const solver_arguments& arguments) {
  solve_options options;
  options.dynamics = parse_dynamics(arguments.dynamics);
  options.control = parse_step_control(arguments.control);
  options.backend = parse_backend(arguments.backend);
  options.path = parse_execution_path(arguments.path);
  options.rtol = given(arguments.rtol);
  options.atol = given(arguments.atol);
  options.gtol = given(arguments.gtol);
  options.rtol_grad = given(arguments.rtol_grad);
  options.vtol = given(arguments.vtol);
  options.t_end = arguments.t_end;
  options.max_steps = arguments.max_steps;
  options.dt_min = arguments.dt_min;
  options.stall_window = arguments.stall_window;
  options.stall_factor = arguments.stall_factor.value_or(options.stall_factor);
  options.skip_invalid = arguments.skip_invalid;
  options.trace_every = trace_interval(arguments);
  if (table_format_named_by(arguments.trace_out) == table_format::jsonl)
    throw invalid_argument("invalid --trace-out '" + arguments.trace_out +
                           "': the trace is CSV (name it .csv)");
  options.compaction_threshold =
      arguments.compaction_threshold.value_or(options.compaction_threshold);
  return options;
}

int trace_interval(const solver_arguments& arguments) {
  if (arguments.trace.empty()) return 0;
  const std::string number =
      arguments.trace.rfind("every=", 0) == 0 ? arguments.trace.substr(6) : arguments.trace;
  char* end = nullptr;
  const long value = std::strtol(number.c_str(), &end, 10);
  if (number.empty() || *end != '\0' || value < 1 || value > 1000000000)
    throw invalid_argument("invalid trace = '" + arguments.trace +
                           "': expected every=N with N >= 1");
  return int(value);
}

bool is_trace_header(const std::string& line) { return line + "\n" == trace_csv({}, true); }

std::string trace_csv(std::vector<trace_point> trace, bool with_header) {
  // Member by member (each history in step order), not in the order the solve recorded them —
  // which interleaves the members of a batch — so the file does not depend on how the members
  // were chunked or shared among ranks.
  std::stable_sort(trace.begin(), trace.end(), [](const trace_point& a, const trace_point& b) {
    return a.problem < b.problem;
  });
  std::string text = with_header ? "member,step,t,grad_norm\n" : "";
  for (const auto& point : trace)
    text += std::to_string(point.problem) + "," + std::to_string(point.step) + "," +
            detail::number_text(point.time) + "," + detail::number_text(point.gradient_norm) + "\n";
  return text;
}

bool single_precision(const solver_arguments& arguments) {
  if (arguments.precision != "f64" && arguments.precision != "f32")
    throw invalid_argument("invalid precision = '" + arguments.precision +
                           "': expected one of f64|f32");
  return arguments.precision == "f32";
}

nlohmann::json describe_solver(const solver_arguments& arguments) {
  const solve_options defaults;
  return {{"dynamics", arguments.dynamics},
          {"control", arguments.control},
          {"backend_requested", arguments.backend},
          {"path", arguments.path},
          {"compaction", arguments.compaction_threshold.value_or(defaults.compaction_threshold)},
          {"precision", arguments.precision},
          {"rtol", given_json(arguments.rtol)},
          {"atol", given_json(arguments.atol)},
          {"gtol", given_json(arguments.gtol)},
          {"rtol_grad", given_json(arguments.rtol_grad)},
          {"vtol", given_json(arguments.vtol)},
          {"t_end", std::isfinite(arguments.t_end) ? nlohmann::json(arguments.t_end)
                                                   : nlohmann::json("inf")},
          {"max_steps", arguments.max_steps},
          {"dt_min", arguments.dt_min},
          {"stall_window",
           arguments.stall_window ? nlohmann::json(*arguments.stall_window) : nlohmann::json()},
          {"stall_factor", arguments.stall_factor.value_or(defaults.stall_factor)},
          {"skip_invalid", arguments.skip_invalid},
          {"trace", arguments.trace}};
}

}  // namespace gradflow::cli
