// Convergence of the flows to the least-squares solution, against Eigen's QR; builders; validation.
#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <cmath>
#include <limits>

#include "gradflow/gradflow.hpp"
#include "gradflow/methods.hpp"
#include "oracle.hpp"
#include "same_bits.hpp"

namespace gradflow {
namespace {

random_spec seed_example(std::int64_t batch_size) {
  random_spec spec;  // the seed discussion's A = rand(50, 5), U = rand(5, 2), B = A·U, U0 = rand
  spec.batch_size = batch_size;
  spec.random_initial = true;
  spec.seed = 2024;
  return spec;
}

/// Tolerances tight enough that Tsit5's stall on its stability boundary sits below gtol.
solve_options tight_cpu_options() {
  solve_options options;
  options.backend = backend_kind::cpu;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  options.gtol = 1e-10;
  return options;
}

template <class Real>
double worst_solution_error(const least_squares_batch<Real>& batch,
                            const solve_result<Real>& result) {
  double worst = 0;
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    const auto reference = testing::least_squares_solution(batch, i);
    worst = std::max(
        worst,
        testing::relative_error(
            testing::block_of(result.solution, i, batch.unknowns, batch.rhs_count), reference));
  }
  return worst;
}

template <class Real>
class Convergence : public ::testing::Test {};
using precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Convergence, precisions);

TYPED_TEST(Convergence, Tsit5ReachesTheLeastSquaresSolution) {
  using Real = TypeParam;
  constexpr bool single = std::is_same_v<Real, float>;
  const auto batch = random_least_squares<Real>(seed_example(64));
  solve_options options;
  options.backend = backend_kind::cpu;
  // Tight enough that the stability-boundary stall sits below the gradient test.
  options.rtol = single ? 1e-5 : 1e-12;
  options.atol = single ? 1e-7 : 1e-14;
  if (single)
    options.rtol_grad = 1e-5;
  else
    options.gtol = 1e-10;
  const auto result = solve(batch, options);
  EXPECT_EQ(result.summary.count(status::converged), batch.batch_size);
  EXPECT_EQ(result.summary.backend, backend_kind::cpu);
  constexpr double tolerance = single ? 1e-3 : 1e-8;
  EXPECT_LT(worst_solution_error(batch, result), tolerance);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    EXPECT_LT(result.objective[i], single ? 1e-5 : 1e-18) << "consistent problem: f* = 0";
    EXPECT_EQ(result.gradient_evaluations[i],
              2 + 6 * (result.accepted_steps[i] + result.rejected_steps[i]));
  }
}

TYPED_TEST(Convergence, EulerIsGradientDescentToTheSolution) {
  using Real = TypeParam;
  const auto batch = random_least_squares<Real>(seed_example(8));
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::euler;
  const auto result = solve(batch, options);
  EXPECT_EQ(result.summary.count(status::converged), batch.batch_size);
  constexpr double tolerance = std::is_same_v<Real, float> ? 2e-3 : 1e-6;
  EXPECT_LT(worst_solution_error(batch, result), tolerance);
}

TEST(Ridge, PerProblemLambdaGivesTheRegularisedSolution) {
  auto batch = random_least_squares<double>(seed_example(4));
  batch.lambda = {0.0, 0.1, 1.0, 25.0};
  const auto result = solve(batch, tight_cpu_options());
  EXPECT_EQ(result.summary.count(status::converged), 4);
  EXPECT_LT(worst_solution_error(batch, result), 1e-8);
  // The oracle itself must tell the λ apart, or the comparison proves nothing.
  EXPECT_GT(testing::relative_error(testing::least_squares_solution(batch, 3),
                                    testing::least_squares_solution(batch, 0)),
            1e-2);
}

TEST(SharedMatrix, OneMatrixManyRightHandSides) {
  auto batch = random_least_squares<double>(seed_example(5));
  batch.matrix.resize(std::size_t(batch.rows) * batch.unknowns);  // keep problem 0's A for all
  ASSERT_TRUE(batch.shares_matrix());
  const auto result = solve(batch, tight_cpu_options());
  EXPECT_EQ(result.summary.count(status::converged), 5);
  EXPECT_LT(worst_solution_error(batch, result), 1e-8);
}

TEST(RandomProblems, ProblemDependsOnlyOnSeedAndIndex) {
  auto spec = seed_example(3);
  const auto small = random_least_squares<double>(spec);
  spec.batch_size = 7;
  const auto large = random_least_squares<double>(spec);
  EXPECT_TRUE(std::equal(small.matrix.begin(), small.matrix.end(), large.matrix.begin()));
  EXPECT_TRUE(std::equal(small.rhs.begin(), small.rhs.end(), large.rhs.begin()));
  spec.seed += 1;
  const auto other = random_least_squares<double>(spec);
  EXPECT_NE(small.matrix[0], other.matrix[0]);
}

TEST(RandomProblems, ConditionNumberIsAsRequested) {
  auto spec = seed_example(3);
  spec.condition_number = 1e4;
  const auto batch = random_least_squares<double>(spec);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    const Eigen::JacobiSVD<testing::dense> svd(testing::matrix_of(batch, i));
    const auto& sigma = svd.singularValues();
    EXPECT_NEAR(sigma(0) / sigma(sigma.size() - 1), 1e4, 1e4 * 1e-8);
    EXPECT_NEAR(sigma(0), 1.0, 1e-12);
  }
}

TEST(Validation, NonFiniteDataIsRejectedNamingFieldAndProblem) {
  auto batch = random_least_squares<double>(seed_example(4));
  batch.matrix[2 * 50 * 5 + 7] = std::numeric_limits<double>::quiet_NaN();
  try {
    validate(batch);
    FAIL() << "NaN accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("in A of problem 2 at (1, 2)"), std::string::npos)
        << e.what();
  }
  batch = random_least_squares<double>(seed_example(4));
  batch.rhs.back() = std::numeric_limits<double>::infinity();
  EXPECT_THROW(validate(batch), invalid_argument);
  batch = random_least_squares<double>(seed_example(4));
  batch.lambda = {0.0, -1.0, 0.0, 0.0};
  EXPECT_THROW(validate(batch), invalid_argument);
  batch.lambda = {0.0, 1.0};
  EXPECT_THROW(validate(batch), dimension_mismatch);
  batch.lambda.clear();
  batch.rhs.pop_back();
  EXPECT_THROW(validate(batch), dimension_mismatch);
}

TEST(Validation, BadOptionsAreRejectedNamingTheField) {
  const auto batch = random_least_squares<double>(seed_example(1));
  auto expect_rejected = [&](solve_options options, const std::string& field) {
    options.backend = backend_kind::cpu;
    try {
      solve(batch, options);
      ADD_FAILURE() << field << " accepted";
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  solve_options options;
  options.rtol = -1;
  expect_rejected(options, "rtol");
  options = {};
  options.gtol = std::numeric_limits<double>::quiet_NaN();
  expect_rejected(options, "gtol");
  options = {};
  options.dt = 0;
  expect_rejected(options, "dt");
  options = {};
  options.max_steps = 0;
  expect_rejected(options, "max_steps");
  options = {};
  options.t_end = -1;
  expect_rejected(options, "t_end");
  options = {};
  options.method = method::euler;
  options.control = step_control::error_control;
  expect_rejected(options, "control");
}

/// What `run` throws as invalid_argument, or "accepted".
template <class Run>
std::string message_of(Run run) {
  try {
    run();
  } catch (const invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

// A rejected value is shown to its last digit: six significant digits would show a stall factor
// of 1.0000001 as the 1 its range allows, and six fixed places a condition number of 1e-9 as
// 0.000000.
TEST(Validation, ARejectedValueIsShownToItsLastDigit) {
  const auto batch = random_least_squares<double>(seed_example(1));
  solve_options options;
  options.backend = backend_kind::cpu;
  options.stall_factor = 1.0000001;
  EXPECT_EQ(message_of([&] { solve(batch, options); }),
            "invalid stall_factor = 1.0000001: must be in (0, 1]");
  random_spec spec = seed_example(1);
  spec.condition_number = 1e-9;
  EXPECT_EQ(message_of([&] { random_least_squares<double>(spec); }),
            "invalid condition_number = 1e-09: must be finite and >= 1");
  auto negative = batch;
  negative.lambda = {-1.0000001};
  EXPECT_EQ(message_of([&] { validate(negative); }),
            "invalid lambda = -1.0000001 of problem 0: must be finite and >= 0");
  auto signed_nan = batch;
  signed_nan.rhs[3] = -std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(message_of([&] { validate(signed_nan); }),
            "non-finite value nan in B of problem 0 at (1, 1)");
}

// A hyperparameter is checked as the working precision holds it: in f32 these values would run as
// 0, inf, 1 and another integer — outside their ranges — though f64 takes them as given.
TEST(Validation, HyperparametersAreCheckedAsSinglePrecisionHoldsThem) {
  const auto single = random_least_squares<float>(seed_example(2));
  const auto twin = random_least_squares<double>(seed_example(2));
  const auto expect_refused_in_single = [&](const solve_options& options, const std::string& text) {
    EXPECT_EQ(message_of([&] { solve(single, options); }), text);
    EXPECT_EQ(message_of([&] { solve(twin, options); }), "accepted") << text;
  };
  solve_options options;
  options.backend = backend_kind::cpu;
  options.max_steps = 10;
  options.dt = 1e-50;
  expect_refused_in_single(options,
                           "invalid dt = 1e-50: must be finite and > 0 in single precision, where "
                           "it is 0");
  options.dt = std::vector<double>{0.1, 1e50};
  expect_refused_in_single(options,
                           "invalid dt = 1e+50 for member 1: must be finite and > 0 in single "
                           "precision, where it is inf");
  options.dt = 1e-30;  // a float's normal range reaches 1.2e-38
  EXPECT_EQ(message_of([&] { solve(single, options); }), "accepted");
  options.dt = {};
  options.method = method::momentum;
  options.momentum = 0.999999999;
  expect_refused_in_single(options,
                           "invalid momentum = 0.999999999: must be in [0, 1) in single precision, "
                           "where it is 1");
  options.momentum = {};
  options.method = method::lgf;
  options.lgf_window = 16777217;  // 2²⁴ + 1
  expect_refused_in_single(
      options,
      "invalid lgf_window = 16777217: must be an integer in [0, 1e9] in single "
      "precision, where it is 16777216");
}

TEST(BatchView, IndexedMembersSolveLikeTheirCopiesWithNothingCopied) {
  // Three problems, seven members pointing at them in any order, each with its own λ and U0.
  random_spec spec;
  spec.batch_size = 3;
  spec.seed = 5;
  const auto problems = random_least_squares<double>(spec);
  const std::vector<std::int64_t> index = {2, 0, 0, 1, 2, 2, 1};
  const std::int64_t len = problems.unknowns_per_problem();
  std::vector<double> lambda, initial;
  for (std::size_t j = 0; j < index.size(); ++j) {
    lambda.push_back(0.1 * double(j));
    for (std::int64_t e = 0; e < len; ++e) initial.push_back(0.01 * double(j + e));
  }
  least_squares_view<double> view = view_of(problems);
  view.batch_size = std::int64_t(index.size());
  view.problem_index = index.data();
  view.lambda = lambda.data();
  view.lambda_stride = 1;
  view.initial = initial.data();
  const auto copy = copy_of(view);
  EXPECT_EQ(copy.batch_size, 7);
  EXPECT_TRUE(std::equal(copy.matrix.begin(), copy.matrix.begin() + 250,
                         problems.matrix.begin() + 2 * 250));  // member 0 is problem 2
  for (execution_path path : {execution_path::fused, execution_path::lockstep}) {
    solve_options options;
    options.backend = backend_kind::cpu;
    options.path = path;
    testing::expect_same_bits(solve(view, options), solve(copy, options));
  }
  // A member's non-finite U0 is named with its problem.
  initial[3 * len + 1] = std::numeric_limits<double>::infinity();
  try {
    solve(view, solve_options{});
    ADD_FAILURE() << "a non-finite U0 was accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("member 3 (problem 1)"), std::string::npos) << e.what();
  }
}

TEST(SolverContext, RepeatedSolvesReuseOneEngineAndGiveFreshSolvesBits) {
  solver_context context;
  detail::engine<double>& engine = context.engine_for<double>(backend_kind::cpu, true, "");
  // Larger, smaller, larger again: buffers kept from a larger solve must be reset for a smaller.
  for (std::int64_t count : {40, 7, 40}) {
    random_spec spec;
    spec.batch_size = count;
    spec.seed = std::uint64_t(count);
    const auto batch = random_least_squares<double>(spec);
    for (method m : {method::tsit5, method::fire, method::cg}) {
      solve_options options;
      options.backend = backend_kind::cpu;
      options.method = m;
      testing::expect_same_bits(solve(batch, options, context), solve(batch, options));
    }
  }
  EXPECT_EQ(&context.engine_for<double>(backend_kind::cpu, true, ""), &engine);
}

TEST(Validation, AMethodOrDynamicsOutsideTheTablesIsAnErrorNeverADefault) {
  const auto batch = random_least_squares<double>(seed_example(1));
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = static_cast<method>(99);
  EXPECT_THROW(solve(batch, options), invalid_argument);
  options.method = method::tsit5;
  options.dynamics = static_cast<dynamics>(99);
  EXPECT_THROW(solve(batch, options), invalid_argument);
  EXPECT_THROW(info_of(static_cast<method>(-1)), invalid_argument);
  // Every enumerator has its row, named as the CLI spells it.
  for (const auto& row : method_table) {
    EXPECT_EQ(&info_of(row.id), &row);
    EXPECT_EQ(parse_method(row.name), row.id);
  }
  for (const auto& row : dynamics_table) EXPECT_EQ(parse_dynamics(row.name), row.id);
}

}  // namespace
}  // namespace gradflow
