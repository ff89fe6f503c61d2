#pragma once
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "problem_source.hpp"
#include "solver_arguments.hpp"

namespace gradflow::cli {

/// Everything `gradflow solve` reads from the command line, as typed.
struct solve_arguments {
  problem_arguments problem;
  solver_arguments solver;
  std::map<std::string, std::optional<double>>
      hyperparameters;                  ///< by hyperparameter_registry name (its cli_axis rows)
  std::optional<double> learning_rate;  ///< --lr: sets dt by step_for_learning_rate
  double x0_scale = 1, x0_offset = 0;   ///< with --problem: x0 = scale · the standard x0 + offset
  std::string out, report;
  std::string devices;  ///< "0,1,…" or "all": the batch split over these devices
  bool quiet = false;
};

void add_solve_options(CLI::App& command, solve_arguments& arguments);

/// Runs a parsed `solve`. Returns the process exit code; throws gradflow::error for bad input.
/// With --out or --report, a JSON sidecar beside the first of them records the run
/// (`command_line`, settings, backend, device, wall time, status counts).
int run_solve(const solve_arguments& arguments, const std::string& command_line);

}  // namespace gradflow::cli
