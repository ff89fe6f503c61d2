#pragma once
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "gradflow/options.hpp"

namespace gradflow::cli {

/// Everything `gradflow solve` reads from the command line, as typed.
struct solve_arguments {
  std::string matrix_path, rhs_path;
  std::string random;  ///< "B,m,n,k[,cond]"
  std::uint64_t seed = 1;
  bool random_initial = false;
  double lambda = 0;
  std::string method = "tsit5", control = "default", backend = "auto", precision = "f64";
  std::optional<double> dt, rtol, atol, gtol, rtol_grad, dt_min;
  double t_end = std::numeric_limits<double>::infinity();
  std::int64_t max_steps = 100000;
  std::string out, report;
  bool quiet = false;
};

/// Registers the `solve` subcommand's options on `command`.
void add_solve_options(CLI::App& command, solve_arguments& arguments);

/// Runs a parsed `solve`. Returns the process exit code; throws gradflow::error for bad input.
int run_solve(const solve_arguments& arguments);

}  // namespace gradflow::cli
