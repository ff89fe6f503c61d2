// The CUDA fused kernels run a problem (least squares or an objective) that fits in a thread's own
// arrays (detail::resident_problem) instead of in place in the batch. The copy in, the run on the
// copy and the copy out are host-device code: run here, on the CPU, they must give the bits of the
// same per-problem run in place, for every method the fused path runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "gradflow/detail/cpu_loops.hpp"
#include "gradflow/detail/resident_problem.hpp"
#include "gradflow/detail/run_plan.hpp"
#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"
#include "gradflow/objective.hpp"
#include "least_squares_model.hpp"
#include "test_problems.hpp"

namespace gradflow::detail {
namespace {

struct method_case {
  method m;
  dynamics d;
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// The batch's fused run, each problem in place by an executor compiled for every phase (the
/// reference), or as the GPU's fused kernels run it: through a resident copy, by the evaluator's
/// resident_at and the executor compiled for the settings' method scope alone. (lgf keeps more
/// work vectors than resident_capacity holds: it runs in place on the GPU too.)
template <class Evaluator>
solve_result<double> run_fused(problem_model<double>& model, const Evaluator& evaluator,
                               const solve_options& options, bool resident) {
  // The GPU's plan: its fused path runs problems in place, where the CPU's would run lanes, whose
  // stages the engine does not hold.
  const auto plan = plan_run<double>(options, model.batch_size(), model.unknowns(), model.traits(),
                                     backend_kind::cuda);
  const auto engine = make_cpu_engine<double>();
  engine->allocate(model.batch_size(), model.unknowns(), model.rhs_count(), plan.layout,
                   plan.parameters, model.evaluation_work());
  model.load(*engine, plan.layout.needs_factor);
  const lockstep_view<double> v = engine->view();
  const int work_count = plan.settings.work_count();
  if (!resident_problem<double>::fits(v, work_count)) {
    ADD_FAILURE() << to_string(options.method) << " does not fit a resident_problem";
    return {};
  }
  for (std::int64_t i = 0; i < v.batch_size; ++i) {
    if (!resident) {
      fused_executor<double, Evaluator, method_scope::all> executor{v, plan.settings, i, evaluator};
      run_sequence(executor, plan.settings);
      continue;
    }
    resident_problem<double> problem;
    const lockstep_view<double> copy = problem.load(v, i, work_count);
    with_method_scope(scope_of(plan.settings), [&](auto scope) {
      fused_executor<double, Evaluator, decltype(scope)::value> executor{copy, plan.settings, 0,
                                                                         evaluator.resident_at(i)};
      run_sequence(executor, plan.settings);
    });
    problem.store(v, i);
  }
  solve_result<double> result;
  engine->download(result);
  return result;
}

void expect_same_run(const solve_result<double>& resident, const solve_result<double>& in_place,
                     const std::vector<double>& initial) {
  EXPECT_TRUE(same_bits(resident.solution, in_place.solution));
  EXPECT_EQ(resident.outcome, in_place.outcome);
  EXPECT_TRUE(same_bits(resident.gradient_norm, in_place.gradient_norm));
  EXPECT_TRUE(same_bits(resident.time, in_place.time));
  EXPECT_EQ(resident.accepted_steps, in_place.accepted_steps);
  EXPECT_EQ(resident.rejected_steps, in_place.rejected_steps);
  EXPECT_EQ(resident.gradient_evaluations, in_place.gradient_evaluations);
  EXPECT_EQ(resident.surrogate_evaluations, in_place.surrogate_evaluations);
  EXPECT_FALSE(same_bits(in_place.solution, initial));  // the comparison sees a run
}

class ResidentProblem : public ::testing::TestWithParam<method_case> {};

TEST_P(ResidentProblem, RunsTheBitsOfTheProblemInPlace) {
  const auto [m, d] = GetParam();
  random_spec spec;
  spec.batch_size = 23;
  spec.seed = 17;
  spec.random_initial = true;
  spec.lambda = 0.05;  // Newton and direct need G positive definite
  auto batch = random_least_squares<double>(spec);
  for (int e = 0; e < batch.rows * batch.unknowns; ++e)
    batch.matrix[7 * batch.rows * batch.unknowns + e] *= 30;  // one that stops another way
  solve_options options;
  options.method = m;
  options.dynamics = d;
  options.max_steps = 400;
  std::vector<double> rtol;
  for (int i = 0; i < spec.batch_size; ++i) rtol.push_back(std::pow(10.0, -4 - i % 5));
  options.rtol = rtol;
  if (d == dynamics::heavy_ball) options.zeta = 0.7;
  const auto view = view_of(batch);
  const auto model = make_least_squares_model(view, backend_kind::cpu);
  expect_same_run(run_fused(*model, least_squares_evaluator{}, options, true),
                  run_fused(*model, least_squares_evaluator{}, options, false), batch.initial);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFusedMethod, ResidentProblem,
    ::testing::Values(
        method_case{method::tsit5, dynamics::gradient},
        method_case{method::bs3, dynamics::gradient}, method_case{method::dp5, dynamics::gradient},
        method_case{method::euler, dynamics::gradient},
        method_case{method::linearly_implicit, dynamics::gradient},
        method_case{method::rkcd, dynamics::gradient},
        method_case{method::tsit5, dynamics::heavy_ball},
        method_case{method::rk4, dynamics::nesterov}, method_case{method::tsit5, dynamics::newton},
        method_case{method::gd, dynamics::gradient}, method_case{method::adam, dynamics::gradient},
        method_case{method::fire2, dynamics::gradient},
        method_case{method::lbfgs, dynamics::gradient}, method_case{method::cg, dynamics::gradient},
        method_case{method::direct, dynamics::gradient}),
    [](const auto& info) {
      return std::string(to_string(info.param.m)) + "_" + std::string(to_string(info.param.d));
    });

/// Five problems of the Moré–Garbow–Hillstrom set at n = 8 in turn, each from its standard start
/// (one of them from 10·x0), so that a problem run by another's functor would go elsewhere.
objective_batch<mgh::objective, double> mixed_objectives() {
  const mgh::problem kinds[] = {mgh::problem::extended_rosenbrock, mgh::problem::extended_powell,
                                mgh::problem::trigonometric, mgh::problem::variably_dimensioned,
                                mgh::problem::penalty_1};
  objective_batch<mgh::objective, double> batch;
  batch.unknowns = 8;
  for (int i = 0; i < 23; ++i) {
    const auto info = mgh::sized(kinds[i % 5], batch.unknowns);
    batch.problems.push_back(info.function);
    for (const double x : info.start) batch.initial.push_back(i == 7 ? 10 * x : x);
  }
  return batch;
}

class ResidentObjective : public ::testing::TestWithParam<method_case> {};

TEST_P(ResidentObjective, RunsTheBitsOfTheProblemInPlace) {
  const auto [m, d] = GetParam();
  const auto batch = mixed_objectives();
  solve_options options;
  options.method = m;
  options.dynamics = d;
  options.max_steps = 300;
  std::vector<double> rtol;
  for (std::int64_t i = 0; i < batch.batch_size(); ++i) rtol.push_back(std::pow(10.0, -4 - i % 5));
  options.rtol = rtol;
  if (d == dynamics::heavy_ball) options.zeta = 0.7;
  if (m == method::linearly_implicit) options.dt = 0.01;  // an objective has no default
  objective_model<mgh::objective, double> model(batch, d == dynamics::newton);
  const objective_evaluator<mgh::objective, double> evaluator{batch.problems.data(),
                                                              d == dynamics::newton};
  expect_same_run(run_fused(model, evaluator, options, true),
                  run_fused(model, evaluator, options, false), batch.initial);
}

INSTANTIATE_TEST_SUITE_P(EveryFusedMethodOfObjectives, ResidentObjective,
                         ::testing::Values(method_case{method::tsit5, dynamics::gradient},
                                           method_case{method::bs3, dynamics::gradient},
                                           method_case{method::euler, dynamics::gradient},
                                           method_case{method::linearly_implicit,
                                                       dynamics::gradient},
                                           method_case{method::rkcd, dynamics::gradient},
                                           method_case{method::tsit5, dynamics::heavy_ball},
                                           method_case{method::rk4, dynamics::nesterov},
                                           method_case{method::tsit5, dynamics::newton},
                                           method_case{method::gd, dynamics::gradient},
                                           method_case{method::adam, dynamics::gradient},
                                           method_case{method::fire2, dynamics::gradient},
                                           method_case{method::lbfgs, dynamics::gradient}),
                         [](const auto& info) {
                           return std::string(to_string(info.param.m)) + "_" +
                                  std::string(to_string(info.param.d));
                         });

TEST(ResidentObjectiveWithoutHessian, DifferencesOfTheGradientGiveTheBitsOfTheProblemInPlace) {
  objective_batch<testing::rosenbrock_valley, double> batch;
  batch.unknowns = 2;
  for (int i = 0; i < 17; ++i) {
    batch.problems.push_back({1 + 0.25 * i, 10.0 + 7 * i});
    batch.initial.insert(batch.initial.end(), {-1.2, 1.0});
  }
  for (const method m : {method::linearly_implicit, method::tsit5}) {
    SCOPED_TRACE(to_string(m));
    solve_options options;
    options.method = m;
    options.max_steps = 300;
    if (m == method::linearly_implicit) options.dt = 0.01;
    objective_model<testing::rosenbrock_valley, double> model(batch, false);
    const objective_evaluator<testing::rosenbrock_valley, double> evaluator{batch.problems.data(),
                                                                            false};
    expect_same_run(run_fused(model, evaluator, options, true),
                    run_fused(model, evaluator, options, false), batch.initial);
  }
}

TEST(ResidentLoad, HoldsNoArrayAnEarlierSolveOfTheEngineSized) {
  // A solver_context reuses its engine, whose arrays keep their allocation when a later solve sizes
  // them empty: the view must still say "none", or load() reads problem i's value, Chebyshev
  // recurrence or curvature record past the end of what the earlier, smaller solve sized.
  const auto engine = make_cpu_engine<double>();
  lockstep_layout sized;
  sized.needs_factor = sized.values = sized.chebyshev = sized.keeps_curvature = true;
  sized.work_count = 1;
  engine->allocate(2, 2, 1, sized, std::vector<double>(2 * parameter_count), 1);
  EXPECT_NE(engine->view().value, nullptr);
  EXPECT_NE(engine->view().curvature_formed_at, nullptr);
  lockstep_layout empty;
  empty.work_count = 1;
  engine->allocate(5, 2, 1, empty, std::vector<double>(5 * parameter_count), 1);
  const lockstep_view<double> v = engine->view();
  EXPECT_EQ(v.value, nullptr);
  EXPECT_EQ(v.factor, nullptr);
  EXPECT_EQ(v.recurrence, nullptr);
  EXPECT_EQ(v.curvature_formed_at, nullptr);
  resident_problem<double> problem;
  const lockstep_view<double> copy = problem.load(v, 4, 1);
  EXPECT_EQ(copy.value, nullptr);
  EXPECT_EQ(copy.recurrence, nullptr);
  EXPECT_EQ(copy.curvature_formed_at, nullptr);
}

TEST(ResidentCapacity, RefusesWhatItCannotHold) {
  lockstep_view<double> v;
  v.unknowns = 5;
  v.rhs_count = 2;
  v.state_factor = 2;
  EXPECT_TRUE(resident_problem<double>::fits(v, 7));  // heavy ball under Tsit5, the seed size
  v.unknowns = 9;                                     // n² = 81 > 64
  v.rhs_count = 1;
  EXPECT_FALSE(resident_problem<double>::fits(v, 1));
  v.unknowns = 4;
  v.rhs_count = 5;  // d·n·k = 40 > 32
  EXPECT_FALSE(resident_problem<double>::fits(v, 1));
  v.rhs_count = 2;  // 16 per vector, but 15 work vectors
  EXPECT_FALSE(resident_problem<double>::fits(v, 15));
}

}  // namespace
}  // namespace gradflow::detail
