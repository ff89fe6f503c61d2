#include "solve_command.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gradflow/gradflow.hpp"

namespace gradflow::cli {
namespace {

random_spec parse_random(const solve_arguments& arguments) {
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

/// Fails before any work when an output file cannot be created.
void require_writable(const std::string& path, const char* option) {
  if (path.empty()) return;
  const std::string probe = path + ".partial";
  std::ofstream out(probe);
  if (!out)
    throw io_error("cannot write " + std::string(option) + " '" + path +
                   "': cannot create files there");
  out.close();
  std::remove(probe.c_str());
}

template <class Real>
void write_report(const std::string& path, const solve_result<Real>& result) {
  const std::string partial = path + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "w");
  if (!file) throw io_error("cannot write --report '" + path + "'");
  std::fprintf(file,
               "problem,status,f,grad_norm,t,accepted_steps,rejected_steps,gradient_evaluations\n");
  const int digits = sizeof(Real) == 4 ? 9 : 17;
  for (std::int64_t i = 0; i < result.batch_size; ++i) {
    std::fprintf(file, "%lld,%s,%.*g,%.*g,%.*g,%lld,%lld,%lld\n", static_cast<long long>(i),
                 std::string(to_string(result.outcome[i])).c_str(), digits,
                 double(result.objective[i]), digits, double(result.gradient_norm[i]), digits,
                 double(result.time[i]), static_cast<long long>(result.accepted_steps[i]),
                 static_cast<long long>(result.rejected_steps[i]),
                 static_cast<long long>(result.gradient_evaluations[i]));
  }
  const bool ok = std::fflush(file) == 0 && !std::ferror(file);
  std::fclose(file);
  if (!ok || std::rename(partial.c_str(), path.c_str()) != 0)
    throw io_error("cannot write --report '" + path + "': write failed");
}

template <class Real>
int solve_in(const solve_arguments& arguments, const solve_options& options) {
  const least_squares_batch<Real> batch =
      arguments.random.empty()
          ? least_squares_from_npy<Real>(arguments.matrix_path, arguments.rhs_path)
          : random_least_squares<Real>(parse_random(arguments));
  least_squares_batch<Real> with_lambda;
  const least_squares_batch<Real>* problem = &batch;
  if (arguments.random.empty() && arguments.lambda != 0) {
    with_lambda = batch;
    with_lambda.lambda = {Real(arguments.lambda)};
    problem = &with_lambda;
  }
  const solve_result<Real> result = solve(*problem, options);
  if (!arguments.out.empty()) {
    write_npy(arguments.out, {result.batch_size, result.unknowns, result.rhs_count},
              result.solution.data());
  }
  if (!arguments.report.empty()) write_report(arguments.report, result);
  if (!arguments.quiet) std::cout << describe(result.summary) << "\n";
  return 0;
}

}  // namespace

void add_solve_options(CLI::App& command, solve_arguments& arguments) {
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
  command.add_option("--lambda", arguments.lambda, "ridge / min-norm weight λ >= 0");
  command.add_option("--method", arguments.method, "euler | rk4 | tsit5");
  command.add_option("--control", arguments.control, "default | fixed | error (step-size control)");
  command.add_option("--dt", arguments.dt, "fixed step, or first step of an adaptive run");
  command.add_option("--rtol", arguments.rtol, "relative local-error tolerance");
  command.add_option("--atol", arguments.atol, "absolute local-error tolerance");
  command.add_option("--gtol", arguments.gtol, "stop when ‖∇f‖ <= gtol");
  command.add_option("--rtol-grad", arguments.rtol_grad, "stop when ‖∇f‖ <= rtol_grad·‖∇f(u0)‖");
  command.add_option("--t-end", arguments.t_end, "integrate no further than this flow time");
  command.add_option("--max-steps", arguments.max_steps, "accepted + rejected steps per problem");
  command.add_option("--dt-min", arguments.dt_min, "step_underflow below this dt");
  command.add_option("--backend", arguments.backend, "auto | cpu | cuda");
  command.add_option("--precision", arguments.precision, "f64 | f32");
  command.add_option("--out", arguments.out, "write U as .npy of shape (B,n,k)");
  command.add_option("--report", arguments.report, "write one CSV row per problem");
  command.add_flag("--quiet", arguments.quiet, "print no summary");
}

int run_solve(const solve_arguments& arguments) {
  if (arguments.random.empty() && arguments.matrix_path.empty())
    throw invalid_argument(
        "solve needs a problem: --A a.npy --B b.npy, or --random B,m,n,k[,cond]");
  if (arguments.precision != "f64" && arguments.precision != "f32")
    throw invalid_argument("invalid precision = '" + arguments.precision +
                           "': expected one of f64|f32");
  solve_options options;
  options.method = parse_method(arguments.method);
  options.control = parse_step_control(arguments.control);
  options.backend = parse_backend(arguments.backend);
  const auto given = [](const std::optional<double>& value) {
    return value ? hyperparameter(*value) : hyperparameter();
  };
  options.dt = given(arguments.dt);
  options.rtol = given(arguments.rtol);
  options.atol = given(arguments.atol);
  options.gtol = given(arguments.gtol);
  options.rtol_grad = given(arguments.rtol_grad);
  options.dt_min = arguments.dt_min.value_or(0.0);
  options.t_end = arguments.t_end;
  options.max_steps = arguments.max_steps;
  require_writable(arguments.out, "--out");
  require_writable(arguments.report, "--report");
  return arguments.precision == "f32" ? solve_in<float>(arguments, options)
                                      : solve_in<double>(arguments, options);
}

}  // namespace gradflow::cli
