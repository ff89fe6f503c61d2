#include "problem_source.hpp"

#include <cstddef>
#include <filesystem>
#include <limits>
#include <vector>

#include "../shape_text.hpp"
#include "gradflow/error.hpp"
#include "gradflow/npy.hpp"
#include "host_memory.hpp"
#include "split_list.hpp"

namespace gradflow::cli {
namespace {

random_spec parse_random(const problem_arguments& arguments) {
  std::vector<double> fields;
  for (const std::string& item : split_list(arguments.random, ',')) {
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size())
      throw invalid_argument("invalid --random '" + arguments.random + "': '" + item +
                             "' is not a number");
    fields.push_back(value);
  }
  if (fields.size() != 4 && fields.size() != 5)
    throw invalid_argument("invalid --random '" + arguments.random +
                           "': expected B,m,n,k or B,m,n,k,cond");
  for (int d = 0; d < 4; ++d) {
    if (fields[d] < 1 || fields[d] != double(std::int64_t(fields[d])) || (d > 0 && fields[d] > 1e6))
      throw invalid_argument("invalid --random '" + arguments.random +
                             "': B, m, n, k must be positive integers");
  }
  random_spec spec;
  spec.batch_size = std::int64_t(fields[0]);
  spec.rows = int(fields[1]);
  spec.unknowns = int(fields[2]);
  spec.rhs_count = int(fields[3]);
  if (fields.size() == 5) spec.condition_number = fields[4];
  spec.lambda = arguments.lambda;
  spec.seed = arguments.seed.value_or(default_random_seed);
  spec.random_initial = arguments.random_initial;
  return spec;
}

/// U0 of every problem from `path`: its own (B, n, k) or one (n, k) for all.
template <class Real>
void read_initial_point(const std::string& path, least_squares_batch<Real>& batch) {
  const npy_array u0 = read_npy(path);
  const std::vector<std::int64_t> own = {batch.batch_size, batch.unknowns, batch.rhs_count};
  const std::vector<std::int64_t> shared = {batch.unknowns, batch.rhs_count};
  if (u0.shape != own && u0.shape != shared)
    throw dimension_mismatch("U0 '" + path + "' has shape " + detail::shape_text(u0.shape) +
                             ": expected (B, n, k) = " + detail::shape_text(own) +
                             " or (n, k) = " + detail::shape_text(shared));
  const std::vector<Real> values = values_as<Real>(u0, "U0 '" + path + "'");
  batch.initial.clear();
  const std::int64_t copies = u0.shape == own ? 1 : batch.batch_size;
  for (std::int64_t copy = 0; copy < copies; ++copy)
    batch.initial.insert(batch.initial.end(), values.begin(), values.end());
}

}  // namespace

bool names_objectives(const problem_arguments& arguments, bool single_precision) {
  if (arguments.objectives.empty()) return false;
  if (single_precision)
    throw invalid_argument(
        "invalid precision = 'f32' with --problem: the built-in objectives run "
        "in f64");
  if (!arguments.random.empty() || !arguments.matrix_path.empty() ||
      !arguments.initial_path.empty() || arguments.random_initial || arguments.lambda != 0 ||
      arguments.seed)
    throw invalid_argument("--problem '" + arguments.objectives +
                           "' names objectives: leave out --A, --B, --random, --seed, --random-u0, "
                           "--U0 and --lambda, which describe least-squares problems");
  return true;
}

void add_problem_options(CLI::App& command, problem_arguments& arguments, bool with_lambda) {
  auto* matrix =
      command.add_option("--A", arguments.matrix_path, "matrix A: .npy of shape (B,m,n) or (m,n)");
  auto* rhs = command.add_option("--B", arguments.rhs_path,
                                 "right-hand side B: .npy of shape (B,m,k), (B,m) or (m,k)");
  auto* random = command.add_option(
      "--random", arguments.random,
      "random batch B,m,n,k[,cond] instead of files (seed example: 1000,50,5,2)");
  matrix->needs(rhs);
  rhs->needs(matrix);
  random->excludes(matrix)->excludes(rhs);
  command.add_option("--seed", arguments.seed, "seed of --random (an integer >= 0)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            const bool digits = !text.empty() && text.size() <= 19 &&
                                text.find_first_not_of("0123456789") == std::string::npos;
            return digits ? std::string() : "'" + text + "' is not an integer >= 0";
          },
          ""));  // the help's type is UINT already
  auto* random_initial = command.add_flag("--random-u0", arguments.random_initial,
                                          "with --random: U0 uniform in [0,1) instead of 0");
  command
      .add_option("--U0", arguments.initial_path,
                  "initial point U0: .npy of shape (B,n,k) or (n,k) (default 0)")
      ->excludes(random_initial);
  if (with_lambda)
    command.add_option("--lambda", arguments.lambda, "ridge / min-norm weight λ >= 0");
  command.add_option("--problem", arguments.objectives,
                     "built-in objectives instead of least squares: mgh:NAME[:n] (Moré–Garbow–"
                     "Hillstrom; comma-separated, one size) or heat (the heat inverse problem)");
}

template <class Real>
least_squares_batch<Real> load_problems(const problem_arguments& arguments) {
  if (arguments.random.empty() && arguments.matrix_path.empty())
    throw invalid_argument(
        "a problem is needed: --A a.npy --B b.npy, --random B,m,n,k[,cond], or --problem "
        "mgh:NAME[:n] | heat");
  if (arguments.random.empty() && arguments.seed)
    throw invalid_argument("--seed seeds --random problems: leave it out with --A and --B");
  if (arguments.random.empty() && arguments.random_initial)
    throw invalid_argument(
        "--random-u0 draws U0 for --random problems: with --A and --B, U0 comes from --U0");
  // A, B and the solution at least, checked before they are allocated.
  least_squares_batch<Real> batch;
  if (!arguments.random.empty()) {
    const random_spec spec = parse_random(arguments);
    const double bytes = double(sizeof(Real)) * double(spec.batch_size) *
                         (double(spec.rows) * (spec.unknowns + spec.rhs_count) +
                          double(spec.unknowns) * spec.rhs_count);
    // Past what memory can address, random_least_squares refuses the batch as bad input.
    if (bytes < double(std::numeric_limits<std::ptrdiff_t>::max()))
      require_host_memory(bytes, "--random " + arguments.random + " (A, B and the solution)");
    batch = random_least_squares<Real>(spec);
  } else {
    std::error_code unreadable;  // then read_npy says why, naming the file
    const auto bytes_of = [&](const std::string& path) {
      const auto size = std::filesystem::file_size(path, unreadable);
      return unreadable ? 0.0 : double(size);
    };
    require_host_memory(bytes_of(arguments.matrix_path) + bytes_of(arguments.rhs_path),
                        "--A and --B (their files)");
    batch = least_squares_from_npy<Real>(arguments.matrix_path, arguments.rhs_path);
    if (arguments.lambda != 0) batch.lambda = {Real(arguments.lambda)};
  }
  if (!arguments.initial_path.empty()) read_initial_point(arguments.initial_path, batch);
  return batch;  // validated by solve, which may skip invalid members
}

void add_problem_inputs(const problem_arguments& arguments, run_files& files) {
  files.input(arguments.matrix_path, "--A");
  files.input(arguments.rhs_path, "--B");
  files.input(arguments.initial_path, "--U0");
}

nlohmann::json describe_problems(const problem_arguments& arguments) {
  if (!arguments.objectives.empty()) return {{"problem", arguments.objectives}};
  if (!arguments.random.empty()) {
    return {{"random", arguments.random},
            {"seed", arguments.seed.value_or(default_random_seed)},
            {"random_u0", arguments.random_initial},
            {"lambda", arguments.lambda}};
  }
  return {{"A", arguments.matrix_path},
          {"B", arguments.rhs_path},
          {"U0", arguments.initial_path},
          {"lambda", arguments.lambda}};
}

template least_squares_batch<float> load_problems(const problem_arguments&);
template least_squares_batch<double> load_problems(const problem_arguments&);

}  // namespace gradflow::cli
