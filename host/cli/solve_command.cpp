#include "solve_command.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "../number_text.hpp"
#include "device_choice.hpp"
#include "gradflow/gradflow.hpp"
#include "objective_source.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "progress_line.hpp"
#include "shared_solve.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {
namespace {

/// The file the outputs' sidecar and default trace are named after: --out, else --report.
std::string anchor_of(const solve_arguments& arguments) {
  return arguments.out.empty() ? arguments.report : arguments.out;
}

/// --trace-out, else beside the anchor (u.npy: u.trace.csv, as a sweep's s.trace.csv), else
/// trace.csv.
std::string trace_path(const solve_arguments& arguments) {
  if (!arguments.solver.trace_out.empty()) return arguments.solver.trace_out;
  const std::string anchor = anchor_of(arguments);
  return anchor.empty() ? "trace.csv" : derived_path(anchor, ".trace.csv");
}

/// One row per problem, CSV with a header or JSON Lines (as --report is named; NaN/Inf as null).
template <class Real>
std::string report_text(const solve_result<Real>& result, table_format format) {
  constexpr std::array<const char*, 9> keys = {"problem",
                                               "status",
                                               "f",
                                               "grad_norm",
                                               "t",
                                               "accepted_steps",
                                               "rejected_steps",
                                               "gradient_evaluations",
                                               "surrogate_evaluations"};
  const bool csv = format == table_format::csv;
  const auto real = [csv](Real value) {
    return csv || std::isfinite(double(value)) ? detail::number_text(double(value))
                                               : std::string("null");  // JSON has no NaN or Inf
  };
  std::string text;
  if (csv) {
    for (std::size_t c = 0; c < keys.size(); ++c) text += (c ? "," : "") + std::string(keys[c]);
    text += "\n";
  }
  for (std::int64_t i = 0; i < result.batch_size; ++i) {
    const std::string status_name(to_string(result.outcome[i]));
    const std::array<std::string, keys.size()> cells = {
        std::to_string(i),
        csv ? status_name : nlohmann::json(status_name).dump(),
        real(result.objective[i]),
        real(result.gradient_norm[i]),
        real(result.time[i]),
        std::to_string(result.accepted_steps[i]),
        std::to_string(result.rejected_steps[i]),
        std::to_string(result.gradient_evaluations[i]),
        std::to_string(result.surrogate_evaluations[i])};
    for (std::size_t c = 0; c < keys.size(); ++c)
      text += csv ? (c ? "," : "") + cells[c]
                  : (c ? "," : "{") + nlohmann::json(keys[c]).dump() + ":" + cells[c];
    text += csv ? "\n" : "}\n";
  }
  return text;
}

template <class Real>
void write_sidecar(const solve_arguments& arguments, const solve_result<Real>& result,
                   const std::string& command_line) {
  const std::string anchor = anchor_of(arguments);
  if (anchor.empty()) return;
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [name, value] : arguments.hyperparameters)
    if (value) given[name] = *value;
  if (arguments.learning_rate) given["lr"] = *arguments.learning_rate;
  nlohmann::json counts = nlohmann::json::object();
  for (int s = 0; s < status_count; ++s)
    if (result.summary.status_counts[s] != 0)
      counts[std::string(to_string(static_cast<status>(s)))] = result.summary.status_counts[s];
  nlohmann::json problem = describe_problems(arguments.problem);
  if (!arguments.problem.objectives.empty()) {
    problem["x0_scale"] = arguments.x0_scale;
    problem["x0_offset"] = arguments.x0_offset;
  }
  const nlohmann::json sidecar = {{"gradflow_version", version},
                                  {"date", utc_now()},
                                  {"command", command_line},
                                  {"problem", problem},
                                  {"solver", describe_solver(arguments.solver)},
                                  {"method", arguments.solver.method},
                                  {"hyperparameters", given},
                                  {"backend", to_string(result.summary.backend)},
                                  {"device", result.summary.device},
                                  {"batch_size", result.batch_size},
                                  {"path", to_string(result.summary.path)},
                                  {"wall_seconds", result.summary.wall_seconds},
                                  {"compute_seconds", result.summary.compute_seconds},
                                  {"gradient_evaluations", result.summary.gradient_evaluations},
                                  {"surrogate_evaluations", result.summary.surrogate_evaluations},
                                  {"products_issued", result.summary.products_issued},
                                  {"compactions", result.summary.compactions},
                                  {"status_counts", counts},
                                  {"solution", arguments.out},
                                  {"report", arguments.report}};
  write_atomically(sidecar_path(anchor), sidecar.dump(2) + "\n", "the sidecar");
}

/// Problems [first, first + count) split over `devices` (one part each, on its own thread) and
/// joined in problem order, with the wall time of the whole; with no devices named, one part on
/// the calling thread.
template <class Real, class SolvePart>
solve_result<Real> solve_on_devices(device_set& devices, std::int64_t first, std::int64_t count,
                                    const solve_options& options, const SolvePart& solve_part) {
  const auto started = std::chrono::steady_clock::now();
  auto parts = devices.run_parts(
      first, count,
      [&](std::int64_t f, std::int64_t c, solver_context&) { return solve_part(f, c, options); });
  if (parts.size() == 1 && devices.size() == 1) return std::move(parts.front().second);
  solve_result<Real> whole;
  for (const auto& [part_first, part] : parts) append_part(whole, part, part_first - first);
  whole.summary.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return whole;
}

/// The batch's solve: in an MPI job shared among the ranks (rank 0 gets the whole result, the
/// others an empty one), each rank's chunks split over its --devices; alone, over --devices, in one
/// piece with a progress line without. `solve_part(first, count, options)` solves problems [first,
/// first + count).
template <class Real, class SolvePart>
solve_result<Real> solve_batch(const solve_arguments& arguments, const solve_options& options,
                               std::int64_t batch_size, const SolvePart& solve_part) {
  device_set devices = devices_for_run(arguments.devices, options.backend);
  if (this_rank().distributed())
    return solve_shared<Real>(batch_size, [&](std::int64_t first, std::int64_t count) {
      return solve_on_devices<Real>(devices, first, count, options, solve_part);
    });
  const progress_line progress(!arguments.quiet && devices.size() == 1, batch_size);
  solve_options with_progress = options;
  if (progress.enabled()) {
    with_progress.on_progress = [&](const progress_report& report) {
      progress.update(report.finished, report.running, report.elapsed_seconds);
    };
  }
  auto result = solve_on_devices<Real>(devices, 0, batch_size, with_progress, solve_part);
  progress.finish();
  return result;
}

/// Writes what the run asked for: the answers (least squares: (B, n, k); objectives: (B, n)), the
/// report, the trace and the sidecar, then the summary.
template <class Real>
int write_results(const solve_arguments& arguments, const solve_options& options,
                  const solve_result<Real>& result, const std::string& command_line) {
  if (!arguments.out.empty()) {
    std::vector<std::int64_t> shape = {result.batch_size, result.unknowns};
    if (arguments.problem.objectives.empty()) shape.push_back(result.rhs_count);
    write_npy(arguments.out, shape, result.solution.data());
  }
  if (!arguments.report.empty())
    write_atomically(
        arguments.report,
        report_text(result, table_format_named_by(arguments.report).value_or(table_format::csv)),
        "--report");
  if (options.trace_every > 0)
    write_atomically(trace_path(arguments), trace_csv(result.trace, true), "--trace-out");
  write_sidecar(arguments, result, command_line);
  if (!arguments.quiet) std::cout << describe(result.summary) << "\n";
  return 0;
}

template <class Real>
int solve_in(const solve_arguments& arguments, const solve_options& options,
             const std::string& command_line) {
  const auto batch = load_problems<Real>(arguments.problem);
  // Shared among ranks, bad data is refused here, naming its problem in the whole batch; each part
  // is then a batch of its own (with --skip-invalid its bad members become invalid_input there).
  if (this_rank().distributed() && !options.skip_invalid) validate(batch);
  const auto all = view_of(batch);
  const auto result =
      solve_batch<Real>(arguments, options, batch.batch_size,
                        [&](std::int64_t first, std::int64_t count, const solve_options& o) {
                          return first == 0 && count == batch.batch_size
                                     ? solve(batch, o)
                                     : solve(copy_of(problems_in(all, first, count)), o);
                        });
  if (!this_rank().owns_outputs()) return 0;
  return write_results(arguments, options, result, command_line);
}

int solve_objectives_in(const solve_arguments& arguments, const solve_options& options,
                        const std::string& command_line) {
  objective_problems problems = load_objectives(arguments.problem.objectives);
  move_starts(problems, arguments.x0_scale, arguments.x0_offset);
  const std::int64_t batch_size = problem_count(problems);
  const auto result = solve_batch<double>(
      arguments, options, batch_size,
      [&](std::int64_t first, std::int64_t count, const solve_options& o) {
        return std::visit(
            [&](const auto& batch) {
              return first == 0 && count == batch_size ? solve(batch, o)
                                                       : solve(problems_in(batch, first, count), o);
            },
            problems);
      });
  if (!this_rank().owns_outputs()) return 0;
  return write_results(arguments, options, result, command_line);
}

}  // namespace

void add_solve_options(CLI::App& command, solve_arguments& arguments) {
  add_problem_options(command, arguments.problem, true);
  add_solver_options(command, arguments.solver, table_names(method_table));
  for (const auto& row : hyperparameter_registry)
    if (row.cli_axis)
      command.add_option(flag_of(row.name), arguments.hyperparameters[std::string(row.name)],
                         std::string(row.help));
  command
      .add_option("--lr", arguments.learning_rate,
                  "learning rate instead of --dt (dt = lr; heavy ball / nesterov: dt = sqrt(lr))")
      ->excludes("--dt");
  command.add_option("--x0-scale", arguments.x0_scale,
                     "with --problem: start at this multiple of each problem's standard x0");
  command.add_option("--x0-offset", arguments.x0_offset,
                     "with --problem: add this to every coordinate of the start");
  command.add_option("--out", arguments.out,
                     "write U as .npy of shape (B,n,k) (with --problem: x, shape (B,n))");
  command.add_option("--report", arguments.report,
                     "one row per problem: JSON Lines where named .jsonl, else CSV");
  command.add_option("--devices", arguments.devices,
                     "0,1,… or all: split the batch over these CUDA devices, one stream each");
  command.add_flag("--quiet", arguments.quiet, "print no summary");
}

int run_solve(const solve_arguments& arguments, const std::string& command_line) {
  const bool single = single_precision(arguments.solver);
  const bool objectives = names_objectives(arguments.problem, single);
  if (!objectives && (arguments.x0_scale != 1 || arguments.x0_offset != 0))
    throw invalid_argument(
        "--x0-scale and --x0-offset move the start of --problem objectives; "
        "least squares start at --U0");
  solve_options options = to_options(arguments.solver);
  options.method = parse_method(arguments.solver.method);
  require_read_limits(arguments.solver, options, {options.method}, !objectives);
  // Every value is set before any is checked: whether lgf_order is read hangs on lgf_target.
  for (const auto& [name, value] : arguments.hyperparameters)
    if (value) *hyperparameter_named(options, name) = *value;
  for (const auto& [name, value] : arguments.hyperparameters)
    if (value) require_read(flag_of(name), name, options, {options.method});
  if (arguments.learning_rate) {
    require_read("--lr", "dt", options, {options.method});  // lr is the learning-rate view of dt
    options.dt = step_for_learning_rate(options, *arguments.learning_rate);
  }
  if (!arguments.out.empty() && std::filesystem::path(arguments.out).extension() != ".npy")
    throw invalid_argument("invalid --out '" + arguments.out +
                           "': the solution is written as .npy (name it .npy)");
  run_files files;
  add_problem_inputs(arguments.problem, files);
  files.output(arguments.out, "--out");
  files.output(arguments.report, "--report");
  if (options.trace_every > 0) files.output(trace_path(arguments), "--trace-out");
  const std::string anchor = anchor_of(arguments);
  if (!anchor.empty()) files.sidecar(sidecar_path(anchor));
  files.check();
  const auto locks = lock_outputs(files.outputs());
  if (objectives) return solve_objectives_in(arguments, options, command_line);
  return single ? solve_in<float>(arguments, options, command_line)
                : solve_in<double>(arguments, options, command_line);
}

}  // namespace gradflow::cli
