#include "problem_source.hpp"

#include <sstream>
#include <vector>

#include "gradflow/error.hpp"

namespace gradflow::cli {
namespace {

random_spec parse_random(const problem_arguments& arguments) {
  std::vector<double> fields;
  std::stringstream text(arguments.random);
  std::string item;
  while (std::getline(text, item, ',')) {
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
  spec.seed = arguments.seed;
  spec.random_initial = arguments.random_initial;
  return spec;
}

}  // namespace

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
  command.add_option("--seed", arguments.seed, "seed of --random");
  command.add_flag("--random-u0", arguments.random_initial,
                   "with --random: U0 uniform in [0,1) instead of 0");
  if (with_lambda)
    command.add_option("--lambda", arguments.lambda, "ridge / min-norm weight λ >= 0");
}

template <class Real>
least_squares_batch<Real> load_problems(const problem_arguments& arguments) {
  if (arguments.random.empty() && arguments.matrix_path.empty())
    throw invalid_argument("a problem is needed: --A a.npy --B b.npy, or --random B,m,n,k[,cond]");
  if (!arguments.random.empty()) return random_least_squares<Real>(parse_random(arguments));
  auto batch = least_squares_from_npy<Real>(arguments.matrix_path, arguments.rhs_path);
  if (arguments.lambda != 0) batch.lambda = {Real(arguments.lambda)};
  return batch;  // validated by solve, which may skip invalid members
}

nlohmann::json describe_problems(const problem_arguments& arguments) {
  if (!arguments.random.empty()) {
    return {{"random", arguments.random},
            {"seed", arguments.seed},
            {"random_u0", arguments.random_initial},
            {"lambda", arguments.lambda}};
  }
  return {{"A", arguments.matrix_path}, {"B", arguments.rhs_path}, {"lambda", arguments.lambda}};
}

template least_squares_batch<float> load_problems(const problem_arguments&);
template least_squares_batch<double> load_problems(const problem_arguments&);

}  // namespace gradflow::cli
