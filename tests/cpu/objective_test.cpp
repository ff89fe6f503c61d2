// User-defined objectives: functors written in a test file, solved by the library's phases.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"
#include "gradflow/objective.hpp"
#include "oracle.hpp"
#include "same_bits.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

using testing::rosenbrock_valley;

/// Least squares ½‖A x − b‖² of problem i of a batch with k = 1, evaluated from A itself (not G):
/// the same minimiser as the least-squares solve.
struct least_squares_objective {
  const double* matrix = nullptr;  // m×n row-major
  const double* rhs = nullptr;
  int rows = 0, unknowns = 0;
  double value(const double* x) const {
    double sum = 0;
    for (int r = 0; r < rows; ++r) {
      double residual = -rhs[r];
      for (int c = 0; c < unknowns; ++c) residual += matrix[r * unknowns + c] * x[c];
      sum += residual * residual;
    }
    return sum / 2;
  }
  void gradient(const double* x, double* g) const {
    for (int c = 0; c < unknowns; ++c) g[c] = 0;
    for (int r = 0; r < rows; ++r) {
      double residual = -rhs[r];
      for (int c = 0; c < unknowns; ++c) residual += matrix[r * unknowns + c] * x[c];
      for (int c = 0; c < unknowns; ++c) g[c] += matrix[r * unknowns + c] * residual;
    }
  }
};

/// The same with ∇²f·v = Aᵀ(A v): ∇²f = G = AᵀA, so what reads G's curvature at the start (ζ, the
/// Chebyshev methods, default steps) must see what the least-squares solve sees.
struct least_squares_with_hessian : least_squares_objective {
  void hessian_times(const double* x, const double* v, double* product) const {
    (void)x;
    for (int c = 0; c < unknowns; ++c) product[c] = 0;
    for (int r = 0; r < rows; ++r) {
      double row_times_v = 0;
      for (int c = 0; c < unknowns; ++c) row_times_v += matrix[r * unknowns + c] * v[c];
      for (int c = 0; c < unknowns; ++c) product[c] += matrix[r * unknowns + c] * row_times_v;
    }
  }
};

/// Problem i of a least-squares batch (k = 1) as a functor over its own A and b, from the same
/// initial values.
template <class Functor>
objective_batch<Functor, double> as_functors(const least_squares_batch<double>& batch) {
  objective_batch<Functor, double> functors;
  functors.unknowns = batch.unknowns;
  functors.initial = batch.initial;
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    Functor problem;
    problem.matrix = batch.matrix.data() + i * batch.matrix_stride();
    problem.rhs = batch.rhs.data() + i * batch.rhs_stride();
    problem.rows = batch.rows;
    problem.unknowns = batch.unknowns;
    functors.problems.push_back(problem);
  }
  return functors;
}

objective_batch<rosenbrock_valley, double> valleys(std::vector<double> steepness) {
  objective_batch<rosenbrock_valley, double> batch;
  batch.unknowns = 2;
  for (double a : steepness) {
    batch.problems.push_back({1, a});
    batch.initial.insert(batch.initial.end(), {-1.2, 1.0});  // the standard start
  }
  return batch;
}

TEST(Objectives, Tsit5FollowsRosenbrocksValleyToTheMinimum) {
  // rtol well below gtol/L: error control stalls near L·(atol + rtol·|x|) (see the README).
  solve_options options;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  options.gtol = 1e-8;
  const auto result = solve_objectives(valleys({100, 10, 1}), options);
  ASSERT_EQ(result.summary.count(status::converged), 3) << describe(result.summary);
  for (std::int64_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(result.solution[2 * i], 1.0, 1e-6) << "problem " << i;
    EXPECT_NEAR(result.solution[2 * i + 1], 1.0, 1e-6) << "problem " << i;
    EXPECT_LT(result.objective[i], 1e-12) << "problem " << i;
  }
  // The steeper valley is the stiffer flow: more steps.
  EXPECT_GT(result.accepted_steps[0], result.accepted_steps[2]);
}

TEST(Objectives, OptimisersAndDescentControlReachTheMinimumWithPerProblemSteps) {
  for (method m : {method::gd, method::nag, method::fire, method::euler}) {
    solve_options options;
    options.method = m;
    options.dt = std::vector<double>{5e-4, 1e-3};  // L ≈ 1000 at the minimum
    options.gtol = 1e-7;
    options.max_steps = 500000;
    if (m == method::euler) options.control = step_control::descent;
    const auto result = solve_objectives(valleys({100, 100}), options);
    EXPECT_EQ(result.summary.count(status::converged), 2)
        << to_string(m) << ": " << describe(result.summary);
    EXPECT_NEAR(result.solution[0], 1.0, 1e-5) << to_string(m);
  }
}

TEST(Objectives, ALeastSquaresFunctorMatchesTheLeastSquaresSolve) {
  random_spec spec;
  spec.batch_size = 6;
  spec.rhs_count = 1;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  const auto functors = as_functors<least_squares_objective>(batch);
  solve_options options;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  options.gtol = 1e-10;
  const auto through_functor = solve_objectives(functors, options);
  const auto through_gram = solve(batch, options);
  ASSERT_EQ(through_functor.summary.count(status::converged), batch.batch_size);
  for (std::int64_t i = 0; i < batch.batch_size; ++i) {
    const auto exact = testing::least_squares_solution(batch, i);
    EXPECT_LT(testing::relative_error(testing::block_of(through_functor.solution, i, 5, 1), exact),
              1e-8);
    EXPECT_NEAR(through_functor.objective[i], through_gram.objective[i],
                1e-10 * (1 + through_gram.objective[i]));
    // Same controller, same stopping rule: step counts agree up to rounding-sensitive rejections.
    EXPECT_NEAR(double(through_functor.accepted_steps[i]), double(through_gram.accepted_steps[i]),
                2 + 0.02 * double(through_gram.accepted_steps[i]));
  }
}

TEST(Objectives, CurvatureAtTheStartComesFromHessianProducts) {
  // ζ (heavy ball), rkcd/rkc's stage counts and step, and gd's default step read ∇²f(u0) = G: the
  // functor must give the least-squares solve's stage counts and answers.
  random_spec spec;
  spec.batch_size = 4;
  spec.rhs_count = 1;
  spec.random_initial = true;
  spec.condition_number = 30;
  const auto batch = random_least_squares<double>(spec);
  const auto functors = as_functors<least_squares_with_hessian>(batch);
  struct configuration {
    method m;
    dynamics d;
  };
  for (auto [m, d] : {configuration{method::rkcd, dynamics::gradient},
                      configuration{method::rkc, dynamics::gradient},
                      configuration{method::rk4, dynamics::heavy_ball},
                      configuration{method::gd, dynamics::gradient}}) {
    solve_options options;
    options.method = m;
    options.dynamics = d;
    if (d == dynamics::heavy_ball) options.zeta = 1.0;
    options.gtol = 1e-9;
    options.max_steps = 200000;
    SCOPED_TRACE(std::string(to_string(m)) + " " + std::string(to_string(d)));
    const auto through_functor = solve_objectives(functors, options);
    const auto through_gram = solve(batch, options);
    for (std::int64_t i = 0; i < batch.batch_size; ++i) {
      ASSERT_EQ(through_functor.outcome[i], status::converged) << "problem " << i;
      const auto exact = testing::least_squares_solution(batch, i);
      // ‖∇f‖ ≤ 1e-9 leaves up to κ(G)·1e-9 relative error (κ(G) = 900): the functor's answer
      // must be as close as the least-squares solve's.
      const double reached =
          testing::relative_error(testing::block_of(through_gram.solution, i, 5, 1), exact);
      EXPECT_LT(
          testing::relative_error(testing::block_of(through_functor.solution, i, 5, 1), exact),
          2 * reached + 1e-12)
          << "problem " << i;
      EXPECT_NEAR(double(through_functor.accepted_steps[i]), double(through_gram.accepted_steps[i]),
                  2 + 0.02 * double(through_gram.accepted_steps[i]))
          << "problem " << i;
    }
  }
}

/// Rosenbrock's valley that records f at every point the solver evaluates it (once per step).
struct recorded_rosenbrock {
  rosenbrock_valley function;
  std::vector<double>* values = nullptr;
  double value(const double* x) const {
    values->push_back(function.value(x));
    return values->back();
  }
  void gradient(const double* x, double* g) const { function.gradient(x, g); }
};

/// Rosenbrock with f and ∇f also in one call, counting which entry points the solver used.
struct rosenbrock_in_one_pass : rosenbrock_valley {
  int* separate_gradients = nullptr;  // calls of gradient()
  int* passes = nullptr;              // calls of evaluate()
  void gradient(const double* x, double* g) const {
    ++*separate_gradients;
    rosenbrock_valley::gradient(x, g);
  }
  double evaluate(const double* x, double* g) const {
    ++*passes;
    rosenbrock_valley::gradient(x, g);
    return rosenbrock_valley::value(x);
  }
};

TEST(Objectives, AFunctorsOnePassEvaluateReplacesGradientAndValue) {
  // An objective with evaluate(x, g) → f is evaluated by it alone — once per gradient the solver
  // counts, never by gradient() — with the same bits as the two calls of a functor without it.
  int separate = 0, passes = 0;
  objective_batch<rosenbrock_in_one_pass, double> one_pass;
  one_pass.unknowns = 2;
  one_pass.problems = {{{1, 100}, &separate, &passes}};
  one_pass.initial = {-1.2, 1.0};
  objective_batch<rosenbrock_valley, double> two_calls;
  two_calls.unknowns = 2;
  two_calls.problems = {{1, 100}};
  two_calls.initial = one_pass.initial;
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::lbfgs;
  options.dt = 1e-3;
  options.gtol = 1e-8;
  const auto once = solve_objectives(one_pass, options);
  const auto reference = solve_objectives(two_calls, options);
  EXPECT_EQ(once.outcome[0], status::converged);
  testing::expect_same_bits(once, reference);
  EXPECT_EQ(separate, 0);
  EXPECT_EQ(passes, once.gradient_evaluations[0] + 1);  // and the final evaluation at the answer
}

TEST(Objectives, LinearlyImplicitEulerConvergesQuadraticallyOnRosenbrock) {
  // The Hessian by differences of the gradient, descent control growing h without limit: the step
  // tends to Newton's, and f − f* = f squares from one step to the next near the end.
  std::vector<double> values;
  objective_batch<recorded_rosenbrock, double> batch;
  batch.unknowns = 2;
  batch.problems = {{{1, 100}, &values}};
  batch.initial = {-1.2, 1.0};
  solve_options options;
  options.method = method::linearly_implicit;
  options.dt = 1e-2;
  options.gtol = 1e-10;
  const auto result = solve_objectives(batch, options);
  ASSERT_EQ(result.outcome[0], status::converged) << describe(result.summary);
  EXPECT_NEAR(result.solution[0], 1.0, 1e-8);
  EXPECT_LT(result.accepted_steps[0], 100);
  bool quadratic = false;  // observed order ln(f_{k+1}/f_k) / ln(f_k/f_{k−1}) near 2
  for (std::size_t k = 1; k + 1 < values.size(); ++k) {
    const double previous = values[k - 1], current = values[k], next = values[k + 1];
    if (next < 1e-28 || !(next < current && current < previous) || current > 1e-3) continue;
    if (std::log(next / current) / std::log(current / previous) > 1.8) quadratic = true;
  }
  EXPECT_TRUE(quadratic) << "no step squared f on the way down";
  options.dt = hyperparameter();  // its curvature comes each step: no bound at the start
  try {
    solve_objectives(batch, options);
    ADD_FAILURE() << "linearly_implicit without dt was accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("dt is required for method = linearly_implicit on "),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("it factors ∇²f + I/dt at each step"), std::string::npos)
        << e.what();
  }
}

/// MGH's Rosenbrock (its Hessian products by forward mode), recording the point of each Hessian the
/// solver forms (a formation asks for ∇²f·e_0 first) and counting its gradients.
struct rosenbrock_recording_hessians {
  mgh::objective function = mgh::test_set().front().function;
  std::vector<std::array<double, 2>>* formed_at = nullptr;
  std::int64_t* gradients = nullptr;
  double value(const double* x) const { return function.value(x); }
  void gradient(const double* x, double* g) const {
    ++*gradients;
    function.gradient(x, g);
  }
  void hessian_times(const double* x, const double* v, double* product) const {
    if (v[0] == 1 && v[1] == 0) formed_at->push_back({x[0], x[1]});
    function.hessian_times(x, v, product);
  }
};

TEST(Objectives, ALinearlyImplicitStepRetriedAfterARejectionKeepsItsHessian) {
  // Descent control rejects steps on the way along the valley; the retry from the same point
  // refactors ∇²f + I/h with h halved, but ∇²f there is the one formed for the rejected try: one
  // Hessian per point stepped from, each counted as 2n gradient evaluations.
  for (execution_path path : {execution_path::fused, execution_path::lockstep}) {
    SCOPED_TRACE(std::string(to_string(path)));
    std::vector<std::array<double, 2>> formed_at;
    std::int64_t gradients = 0;
    objective_batch<rosenbrock_recording_hessians, double> batch;
    batch.unknowns = 2;
    batch.problems.resize(1);
    batch.problems[0].formed_at = &formed_at;
    batch.problems[0].gradients = &gradients;
    batch.initial = {-1.2, 1.0};
    solve_options options;
    options.backend = backend_kind::cpu;
    options.path = path;
    options.method = method::linearly_implicit;
    options.dt = 1.0;
    options.gtol = 1e-10;
    const auto result = solve_objectives(batch, options);
    ASSERT_EQ(result.outcome[0], status::converged) << describe(result.summary);
    EXPECT_NEAR(result.solution[0], 1.0, 1e-8);
    ASSERT_GE(result.rejected_steps[0], 2) << "no step was retried: the test has no retry to check";
    for (std::size_t k = 1; k < formed_at.size(); ++k)
      EXPECT_NE(formed_at[k], formed_at[k - 1]) << "the Hessian was formed twice at one point";
    // A point stepped from per accepted step; the last accepted step converged, so it is not one.
    EXPECT_EQ(std::int64_t(formed_at.size()), result.accepted_steps[0]);
    // The count: each gradient the functor computed but the last, at the answer (the earlier
    // test of evaluate's passes), and 2n per Hessian.
    EXPECT_EQ(result.gradient_evaluations[0],
              gradients - 1 + 2 * 2 * std::int64_t(formed_at.size()));
  }
}

TEST(Objectives, AUserFunctorGivesTheBuiltInsResults) {
  // The test file's Rosenbrock against MGH problem 1 (residuals 10(x₂ − x₁²), 1 − x₁): the same
  // function written another way, so the same answers up to rounding.
  objective_batch<mgh::objective, double> built_in;
  built_in.unknowns = 2;
  built_in.problems = {mgh::test_set().front().function};
  built_in.initial = {-1.2, 1.0};
  solve_options options;
  options.method = method::fire;
  options.dt = 1e-3;
  options.gtol = 1e-9;
  const auto theirs = solve_objectives(built_in, options);
  const auto ours = solve_objectives(valleys({100}), options);
  ASSERT_EQ(theirs.outcome[0], status::converged);
  ASSERT_EQ(ours.outcome[0], status::converged);
  EXPECT_NEAR(ours.solution[0], theirs.solution[0], 1e-9);
  EXPECT_NEAR(ours.solution[1], theirs.solution[1], 1e-9);
  EXPECT_NEAR(double(ours.accepted_steps[0]), double(theirs.accepted_steps[0]), 2.0);
}

/// A strictly convex objective with its Hessian products: f = Σ_j (e^{x_j} − (j+1) x_j) +
/// ½ (x₀ + x₁)², ∇²f = diag(e^x) + [[1, 1], [1, 1]].
struct convex_with_hessian {
  GRADFLOW_HD double value(const double* x) const {
    return std::exp(x[0]) - x[0] + std::exp(x[1]) - 2 * x[1] + (x[0] + x[1]) * (x[0] + x[1]) / 2;
  }
  GRADFLOW_HD void gradient(const double* x, double* g) const {
    g[0] = std::exp(x[0]) - 1 + x[0] + x[1];
    g[1] = std::exp(x[1]) - 2 + x[0] + x[1];
  }
  GRADFLOW_HD void hessian_times(const double* x, const double* v, double* product) const {
    product[0] = std::exp(x[0]) * v[0] + v[0] + v[1];
    product[1] = std::exp(x[1]) * v[1] + v[0] + v[1];
  }
};

TEST(Objectives, NewtonFlowShrinksTheGradientLikeExpMinusT) {
  // Under u' = −∇²f⁻¹∇f, d∇f/dt = −∇f exactly, so ‖∇f(t)‖ = e^{−t}‖∇f(u0)‖ for any f (the oracle).
  objective_batch<convex_with_hessian, double> batch;
  batch.unknowns = 2;
  batch.problems = {convex_with_hessian{}, convex_with_hessian{}};
  batch.initial = {2.0, -1.0, -3.0, 1.5};
  solve_options options;
  options.dynamics = dynamics::newton;
  options.t_end = 3;
  options.rtol = 1e-11;
  options.atol = 1e-13;
  options.gtol = 1e-14;
  const auto result = solve_objectives(batch, options);
  for (int i = 0; i < 2; ++i) {
    double g0[2];
    convex_with_hessian{}.gradient(&batch.initial[2 * i], g0);
    ASSERT_EQ(result.outcome[i], status::reached_t_end) << describe(result.summary);
    EXPECT_NEAR(result.gradient_norm[i], std::exp(-3.0) * std::hypot(g0[0], g0[1]),
                1e-8 * std::hypot(g0[0], g0[1]))
        << "problem " << i;
  }
}

TEST(Objectives, NewtonFlowStopsWhereTheHessianIsIndefinite) {
  // Rosenbrock at (0, 1): ∂²f/∂x₁² = 2 − 400·1 < 0, so the flow is not defined there.
  objective_batch<mgh::objective, double> batch;
  batch.unknowns = 2;
  batch.problems = {mgh::test_set().front().function, mgh::test_set().front().function};
  batch.initial = {0.0, 1.0, 1.1, 1.2};
  solve_options options;
  options.dynamics = dynamics::newton;
  options.max_steps = 2000;
  const auto result = solve_objectives(batch, options);
  EXPECT_EQ(result.outcome[0], status::invalid_input);
  EXPECT_EQ(result.outcome[1], status::converged);  // its neighbour is not disturbed
  EXPECT_NEAR(result.solution[2], 1.0, 1e-6);
}

TEST(Objectives, ADefaultStepFromAnIndefiniteHessianIsTheInverseGershgorinBound) {
  // Beale at x0 = (1, 1) has an indefinite ∇²f; a default step reads only its Gershgorin bound
  // max_p Σ_q |H_pq|, so gd takes x1 = x0 − ∇f(x0)/bound — H here by central differences of the
  // gradient — and the run goes on (it was refused as invalid_input while H was factored).
  const auto beale = mgh::named("beale");
  objective_batch<mgh::objective, double> batch;
  batch.unknowns = 2;
  batch.problems = {beale.function};
  batch.initial = beale.start;
  const double x0[2] = {1.0, 1.0};
  double g0[2], up[2], down[2], hessian[2][2];
  beale.function.gradient(x0, g0);
  for (int j = 0; j < 2; ++j) {
    double point[2] = {x0[0], x0[1]};
    point[j] += 1e-5;
    beale.function.gradient(point, up);
    point[j] -= 2e-5;
    beale.function.gradient(point, down);
    for (int r = 0; r < 2; ++r) hessian[r][j] = (up[r] - down[r]) / 2e-5;
  }
  ASSERT_LT(hessian[0][0] * hessian[1][1] - hessian[0][1] * hessian[1][0], 0) << "not indefinite";
  const double bound = std::max(std::fabs(hessian[0][0]) + std::fabs(hessian[0][1]),
                                std::fabs(hessian[1][0]) + std::fabs(hessian[1][1]));
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::gd;
  options.max_steps = 1;
  const auto one = solve_objectives(batch, options);
  EXPECT_EQ(one.outcome[0], status::max_steps);
  for (int j = 0; j < 2; ++j) EXPECT_NEAR(one.solution[j], x0[j] - g0[j] / bound, 1e-8) << j;
  options.method = method::lbfgs;  // from there to Beale's minimiser (3, 0.5)
  options.max_steps = 2000;
  const auto whole = solve_objectives(batch, options);
  EXPECT_EQ(whole.outcome[0], status::converged);
  EXPECT_NEAR(whole.solution[0], 3.0, 1e-5);
  EXPECT_NEAR(whole.solution[1], 0.5, 1e-5);
}

TEST(Objectives, TheCompiledInSolverOfTheBuiltInsIsTheHeadersSolver) {
  objective_batch<mgh::objective, double> batch;
  const auto info = mgh::sized(mgh::problem::penalty_1, 4);
  batch.unknowns = 4;
  batch.problems = {info.function, info.function};
  batch.initial = info.start;
  for (double value : info.start) batch.initial.push_back(10 * value);
  solve_options options;
  options.method = method::linearly_implicit;
  options.dt = 1e-2;
  options.backend = backend_kind::cpu;
  const auto ours = solve_objectives(batch, options), library = mgh::solve(batch, options);
  EXPECT_EQ(library.solution, ours.solution);
  EXPECT_EQ(library.accepted_steps, ours.accepted_steps);
  options.backend = backend_kind::cuda;  // compiled into the library: present, or said not to be
  if (cuda_compiled())
    EXPECT_THROW(mgh::solve(batch, options), no_device);
  else
    EXPECT_THROW(mgh::solve(batch, options), not_compiled);
}

TEST(Objectives, TheLockstepPathGivesTheFusedBitsWithTracesProgressAndCompaction) {
  // Steeper valleys take more steps, so problems finish at different times and the active set is
  // compacted under them.
  std::vector<double> steepness;
  for (int i = 0; i < 40; ++i) steepness.push_back(1 + 5 * i);
  const auto batch = valleys(steepness);
  for (method m : {method::tsit5, method::fire, method::linearly_implicit}) {
    solve_options options;
    options.backend = backend_kind::cpu;
    options.method = m;
    options.gtol = 1e-6;
    options.rtol = 1e-10;
    options.atol = 1e-12;
    options.max_steps = 20000;
    if (m == method::fire) options.dt = 1e-3;
    if (m == method::linearly_implicit) options.dt = 1e-2;
    options.path = execution_path::fused;
    const auto fused = solve_objectives(batch, options);
    options.path = execution_path::lockstep;
    options.trace_every = 5;
    options.compaction_threshold = 0.9;
    std::int64_t progress_reports = 0;
    options.on_progress = [&](const progress_report& report) {
      ++progress_reports;
      EXPECT_EQ(report.running + report.finished, batch.batch_size());
    };
    const auto lockstep = solve_objectives(batch, options);
    SCOPED_TRACE(std::string(to_string(m)));
    EXPECT_EQ(lockstep.summary.path, execution_path::lockstep);
    testing::expect_same_bits(lockstep, fused);
    EXPECT_GE(fused.summary.count(status::converged), batch.batch_size() * 3 / 4);
    EXPECT_GT(progress_reports, 0);
    EXPECT_GT(lockstep.summary.compactions, 0);
    // Every problem's trace starts at step 0 with ‖∇f(u0)‖ and ends where its result does.
    std::vector<const trace_point*> first(batch.batch_size()), last(batch.batch_size());
    for (const auto& point : lockstep.trace) {
      if (!first[point.problem]) first[point.problem] = &point;
      last[point.problem] = &point;
    }
    for (std::int64_t i = 0; i < batch.batch_size(); ++i) {
      ASSERT_TRUE(first[i] && last[i]) << "problem " << i;
      EXPECT_EQ(first[i]->step, 0);
      EXPECT_EQ(last[i]->step, lockstep.accepted_steps[i]) << "problem " << i;
      EXPECT_EQ(last[i]->gradient_norm, lockstep.gradient_norm[i]) << "problem " << i;
      double g[2];
      batch.problems[i].gradient(&batch.initial[2 * i], g);
      EXPECT_DOUBLE_EQ(first[i]->gradient_norm, std::hypot(g[0], g[1])) << "problem " << i;
    }
  }
}

TEST(Objectives, ATracePointHoldsTheGradientNormOfItsOwnStep) {
  // gd evaluates ∇f(u_k), then moves to u_{k+1}: the point for step k + 1 showed ‖∇f(u_k)‖, and
  // step 0 showed 0. The iterates by hand are the oracle.
  const auto batch = valleys({100});
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::gd;
  options.dt = 1e-3;
  options.max_steps = 20;
  options.trace_every = 1;
  const auto result = solve_objectives(batch, options);
  ASSERT_EQ(result.trace.size(), 21u);
  std::vector<double> u = batch.initial;
  for (std::int64_t k = 0; k <= 20; ++k) {
    double g[2];
    batch.problems[0].gradient(u.data(), g);
    const trace_point& point = result.trace[k];
    EXPECT_EQ(point.step, k);
    EXPECT_NEAR(point.time, 1e-3 * k, 1e-15);
    EXPECT_NEAR(point.gradient_norm, std::hypot(g[0], g[1]), 1e-12 * std::hypot(g[0], g[1]))
        << "step " << k;
    for (int e = 0; e < 2; ++e) u[e] -= 1e-3 * g[e];
  }
}

TEST(Objectives, WhatAFunctorCannotGiveIsAClearError) {
  const auto batch = valleys({100});
  const auto rejected = [&](solve_options options, const char* field) {
    try {
      solve_objectives(batch, options);
      ADD_FAILURE() << field << " was accepted";
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  solve_options options;
  options.method = method::cg;
  rejected(options, "cg");
  options.method = method::rkcd;
  rejected(options, "rkcd");
  options.method = method::gd;
  rejected(options, "dt");
  options.method = method::tsit5;
  options.dynamics = dynamics::newton;  // this functor has no hessian_times
  rejected(options, "hessian_times");
  options.dynamics = dynamics::gradient;
  options.method = method::tsit5;
  options.dynamics = dynamics::heavy_ball;
  rejected(options, "damping");
  options.dynamics = dynamics::gradient;
  options.backend = backend_kind::cuda;  // this file is compiled by g++, not nvcc
  EXPECT_THROW(solve_objectives(batch, options), not_compiled);
  auto short_start = batch;
  short_start.initial.pop_back();
  EXPECT_THROW(solve_objectives(short_start, solve_options{}), dimension_mismatch);
}

/// A functor that asks nvcc for the integrators' fused GPU kernel alone.
struct valley_integrated_on_the_gpu : rosenbrock_valley {
  static constexpr unsigned gpu_fused_kernels = fused_kernels::integrators;
};

TEST(Objectives, AFunctorNamesTheFusedGpuKernelsItsModelHas) {
  EXPECT_EQ((detail::objective_traits<rosenbrock_valley, double>().gpu_fused_kernels),
            fused_kernels::all);
  EXPECT_EQ((detail::objective_traits<valley_integrated_on_the_gpu, double>().gpu_fused_kernels),
            fused_kernels::integrators);
  // On the CPU every method runs fused, the same bits as the functor without the set.
  objective_batch<valley_integrated_on_the_gpu, double> named;
  named.unknowns = 2;
  named.problems.assign(3, valley_integrated_on_the_gpu{});
  named.initial = {-1.2, 1, 0, 0, 2, 2};
  objective_batch<rosenbrock_valley, double> plain;
  plain.unknowns = 2;
  plain.problems.assign(3, rosenbrock_valley{});
  plain.initial = named.initial;
  solve_options options;
  options.method = method::adam;
  options.dt = 1e-2;
  options.path = execution_path::fused;
  options.max_steps = 500;
  const auto with_set = solve_objectives(named, options);
  const auto without = solve_objectives(plain, options);
  EXPECT_EQ(with_set.summary.path, execution_path::fused);
  EXPECT_EQ(with_set.solution, without.solution);
}

}  // namespace
}  // namespace gradflow
