#include "solve_command.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "gradflow/gradflow.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "progress_line.hpp"

namespace gradflow::cli {
namespace {

std::string trace_path(const solve_arguments& arguments) {
  return arguments.solver.trace_out.empty() ? "trace.csv" : arguments.solver.trace_out;
}

template <class Real>
std::string report_csv(const solve_result<Real>& result) {
  std::string text =
      "problem,status,f,grad_norm,t,accepted_steps,rejected_steps,gradient_evaluations\n";
  for (std::int64_t i = 0; i < result.batch_size; ++i) {
    text += std::to_string(i) + "," + std::string(to_string(result.outcome[i]));
    for (Real value : {result.objective[i], result.gradient_norm[i], result.time[i]})
      text += "," + exact_decimal(double(value));
    text += "," + std::to_string(result.accepted_steps[i]) + "," +
            std::to_string(result.rejected_steps[i]) + "," +
            std::to_string(result.gradient_evaluations[i]) + "\n";
  }
  return text;
}

template <class Real>
void write_sidecar(const solve_arguments& arguments, const solve_result<Real>& result,
                   const std::string& command_line) {
  const std::string anchor = arguments.out.empty() ? arguments.report : arguments.out;
  if (anchor.empty()) return;
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [name, value] : arguments.hyperparameters)
    if (value) given[name] = *value;
  if (arguments.learning_rate) given["lr"] = *arguments.learning_rate;
  nlohmann::json counts = nlohmann::json::object();
  for (int s = 0; s < status_count; ++s)
    if (result.summary.status_counts[s] != 0)
      counts[std::string(to_string(static_cast<status>(s)))] = result.summary.status_counts[s];
  const nlohmann::json sidecar = {{"gradflow_version", version},
                                  {"date", utc_now()},
                                  {"command", command_line},
                                  {"problem", describe_problems(arguments.problem)},
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
                                  {"products_issued", result.summary.products_issued},
                                  {"compactions", result.summary.compactions},
                                  {"status_counts", counts},
                                  {"solution", arguments.out},
                                  {"report", arguments.report}};
  write_atomically(sidecar_path(anchor), sidecar.dump(2) + "\n", "the sidecar");
}

template <class Real>
int solve_in(const solve_arguments& arguments, const solve_options& options,
             const std::string& command_line) {
  const auto batch = load_problems<Real>(arguments.problem);
  const progress_line progress(!arguments.quiet, batch.batch_size);
  solve_options with_progress = options;
  if (progress.enabled()) {
    with_progress.on_progress = [&](const progress_report& report) {
      progress.update(report.finished, report.running, report.elapsed_seconds);
    };
  }
  const solve_result<Real> result = solve(batch, with_progress);
  progress.finish();
  if (!arguments.out.empty()) {
    write_npy(arguments.out, {result.batch_size, result.unknowns, result.rhs_count},
              result.solution.data());
  }
  if (!arguments.report.empty()) write_atomically(arguments.report, report_csv(result), "--report");
  if (options.trace_every > 0)
    write_atomically(trace_path(arguments), trace_csv(result.trace, true), "--trace-out");
  write_sidecar(arguments, result, command_line);
  if (!arguments.quiet) std::cout << describe(result.summary) << "\n";
  return 0;
}

}  // namespace

void add_solve_options(CLI::App& command, solve_arguments& arguments) {
  add_problem_options(command, arguments.problem, true);
  add_solver_options(command, arguments.solver, table_names(method_table));
  for (const auto& row : hyperparameter_registry)
    if (row.cli_axis)
      command.add_option(flag_of(row), arguments.hyperparameters[std::string(row.name)],
                         std::string(row.help));
  command
      .add_option("--lr", arguments.learning_rate,
                  "learning rate instead of --dt (dt = lr; heavy ball / nesterov: dt = sqrt(lr))")
      ->excludes("--dt");
  command.add_option("--out", arguments.out, "write U as .npy of shape (B,n,k)");
  command.add_option("--report", arguments.report, "write one CSV row per problem");
  command.add_flag("--quiet", arguments.quiet, "print no summary");
}

int run_solve(const solve_arguments& arguments, const std::string& command_line) {
  const bool single = single_precision(arguments.solver);
  solve_options options = to_options(arguments.solver);
  options.method = parse_method(arguments.solver.method);
  for (const auto& [name, value] : arguments.hyperparameters) {
    if (!value) continue;
    if (!uses_hyperparameter(options, name))
      throw invalid_argument("--" + name + " is not used by method " +
                             std::string(to_string(options.method)) + " (dynamics " +
                             std::string(to_string(options.dynamics)) + ", control " +
                             std::string(to_string(options.control)) + "): leave it out");
    *hyperparameter_named(options, name) = *value;
  }
  if (arguments.learning_rate)
    options.dt = step_for_learning_rate(options, *arguments.learning_rate);
  run_files files;
  add_problem_inputs(arguments.problem, files);
  files.output(arguments.out, "--out");
  files.output(arguments.report, "--report");
  if (options.trace_every > 0) files.output(trace_path(arguments), "--trace-out");
  const std::string anchor = arguments.out.empty() ? arguments.report : arguments.out;
  if (!anchor.empty()) files.output(sidecar_path(anchor), "the sidecar");
  files.check();
  const auto locks = lock_outputs(files.outputs());
  return single ? solve_in<float>(arguments, options, command_line)
                : solve_in<double>(arguments, options, command_line);
}

}  // namespace gradflow::cli
