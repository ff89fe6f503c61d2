#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gradflow/least_squares.hpp"
#include "output_files.hpp"

namespace gradflow::cli {

/// Where the problems of `solve` and `sweep` come from: least squares from .npy files or the seeded
/// generator, or built-in objectives by name (objective_source.hpp).
/// --random's seed when --seed is not given.
inline constexpr std::uint64_t default_random_seed = 1;

struct problem_arguments {
  std::string objectives;  ///< --problem "mgh:NAME[:n],…" or "heat"; empty: least squares
  std::string matrix_path, rhs_path;
  std::string initial_path;           ///< U0 from a .npy of shape (B,n,k) or (n,k)
  std::string random;                 ///< "B,m,n,k[,cond]"
  std::optional<std::uint64_t> seed;  ///< --random's (default_random_seed when not given)
  bool random_initial = false;        ///< --random's U0 uniform in [0,1)
  double lambda = 0;
};

/// `with_lambda`: a scalar --lambda (solve); sweep registers --lambda as an axis instead.
void add_problem_options(CLI::App& command, problem_arguments& arguments, bool with_lambda);

/// Whether the problems are built-in objectives (--problem) rather than least squares; throws
/// invalid_argument when a config file gave both, or objectives in single precision (they run in
/// f64).
bool names_objectives(const problem_arguments& arguments, bool single_precision);

/// Reads or generates the batch; throws invalid_argument / io_error naming the option.
template <class Real>
least_squares_batch<Real> load_problems(const problem_arguments& arguments);

/// The files the source reads (--A, --B, --U0), for the check that no output overwrites them.
void add_problem_inputs(const problem_arguments& arguments, run_files& files);

/// The source as JSON, for a run's sidecar.
nlohmann::json describe_problems(const problem_arguments& arguments);

}  // namespace gradflow::cli
