// The sweep engine: axis syntax, member layout, and rows identical to solving members one by one.
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

TEST(SweepAxis, ParsesRangesAndLists) {
  const auto log_lr = parse_axis("lr", "1e-3:1:4:log");
  ASSERT_EQ(log_lr.values.size(), 4u);
  EXPECT_TRUE(log_lr.logarithmic);
  EXPECT_DOUBLE_EQ(log_lr.values[0], 1e-3);
  EXPECT_NEAR(log_lr.values[1], 1e-2, 1e-15);
  EXPECT_NEAR(log_lr.values[2], 1e-1, 1e-15);
  EXPECT_DOUBLE_EQ(log_lr.values[3], 1.0);
  const auto zeta = parse_axis("zeta", "0.5:2:4");
  EXPECT_FALSE(zeta.logarithmic);
  EXPECT_EQ(zeta.values, (std::vector<double>{0.5, 1.0, 1.5, 2.0}));
  EXPECT_EQ(parse_axis("lambda", "0,0.1,1").values, (std::vector<double>{0, 0.1, 1}));
  EXPECT_EQ(parse_axis("momentum", "0.9:0.9:1").values, (std::vector<double>{0.9}));
}

TEST(SweepAxis, BadSpecificationsNameTheAxis) {
  auto expect_rejected = [](const char* name, const char* text, const std::string& fragment) {
    try {
      parse_axis(name, text);
      ADD_FAILURE() << text << " accepted";
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_rejected("learning_rate", "1:2:3", "unknown sweep axis 'learning_rate'");
  expect_rejected("lr", "0:1:3:log", "log spacing");
  expect_rejected("lr", "1:2:0", "count");
  expect_rejected("lr", "1:2:2.5", "count");
  expect_rejected("zeta", "1:2", "lo:hi:count");
  expect_rejected("zeta", "1:2:3:cubic", "spacing");
  expect_rejected("zeta", "a,b", "not a finite number");
  expect_rejected("zeta", "", "empty");
  // Numbers no double holds, which strtod reads as 0 and inf; a subnormal one is held.
  expect_rejected("lr", "0.1,1e-400", "'1e-400' underflows to 0 in a double");
  expect_rejected("lr", "1e999:2e999:3", "'1e999' overflows a double");
  EXPECT_EQ(parse_axis("lr", "1e-310").values, (std::vector<double>{1e-310}));
}

TEST(Sweep, MembersAreProblemMajorWithTheLastAxisFastest) {
  sweep_spec spec;
  spec.axes = {parse_axis("lr", "0.01,0.04"), parse_axis("zeta", "0.5,1,2")};
  spec.base.method = method::rk4;
  spec.base.dynamics = dynamics::heavy_ball;
  const auto expanded = expand_sweep(testing::two_seed_problems(), spec, method::rk4);
  ASSERT_EQ(expanded.size(), 12);
  EXPECT_EQ(sweep_size(spec, 2), 12);
  EXPECT_EQ(expanded.problem_of[5], 0);
  EXPECT_EQ(expanded.problem_of[6], 1);
  EXPECT_EQ(expanded.axis_values_of[4], (std::vector<double>{0.04, 1.0}));
  EXPECT_EQ(expanded.options.zeta.at(4, 0), 1.0);
  // Heavy ball: the learning rate lr is the ODE sampled at dt = √lr.
  EXPECT_DOUBLE_EQ(expanded.options.dt.at(4, 0), 0.2);
  const auto gradient = expand_sweep(testing::two_seed_problems(), spec, method::gd);
  EXPECT_DOUBLE_EQ(gradient.options.dt.at(4, 0), 0.04);
}

TEST(Sweep, UnknownOrDuplicateAxesAndPerMemberBaseOptionsAreRejected) {
  sweep_spec spec;
  spec.axes = {sweep_axis{"zeta", {1.0}, false}, sweep_axis{"zeta", {2.0}, false}};
  EXPECT_THROW(expand_sweep(testing::two_seed_problems(), spec, method::rk4), invalid_argument);
  spec.axes = {sweep_axis{"zeta", {}, false}};
  EXPECT_THROW(expand_sweep(testing::two_seed_problems(), spec, method::rk4), invalid_argument);
  spec.axes = {};
  spec.base.rtol = std::vector<double>{1e-6, 1e-7};
  EXPECT_THROW(expand_sweep(testing::two_seed_problems(), spec, method::rk4), invalid_argument);
}

TEST(Sweep, RowsEqualMembersSolvedOneByOne) {
  sweep_spec spec;
  spec.axes = {parse_axis("lr", "1e-3:1e-1:3:log"), parse_axis("zeta", "0.25,1,4"),
               parse_axis("lambda", "0,0.5"), parse_axis("u0_seed", "1,2")};
  spec.methods = {method::rk4, method::tsit5};
  spec.base.dynamics = dynamics::heavy_ball;
  spec.base.backend = backend_kind::cpu;
  spec.base.max_steps = 3000;
  const auto problems = testing::two_seed_problems();
  const auto swept = run_sweep(problems, spec);
  ASSERT_EQ(std::int64_t(swept.rows.size()), sweep_size(spec, 2));
  std::int64_t converged = 0;
  for (method m : spec.methods) {
    const auto expanded = expand_sweep(problems, spec, m);
    const std::int64_t offset = m == method::rk4 ? 0 : expanded.size();
    for (std::int64_t i = 0; i < expanded.size(); i += 7) {  // a spread of members
      // The member alone: its problem, its λ, its U0 and its hyperparameters.
      least_squares_batch<double> alone = problems;
      alone.batch_size = 1;
      const std::int64_t p = expanded.problem_of[i];
      const int m_rows = problems.rows, n = problems.unknowns, k = problems.rhs_count;
      alone.matrix.assign(problems.matrix.begin() + p * m_rows * n,
                          problems.matrix.begin() + (p + 1) * m_rows * n);
      alone.rhs.assign(problems.rhs.begin() + p * m_rows * k,
                       problems.rhs.begin() + (p + 1) * m_rows * k);
      alone.lambda = {expanded.lambda[i]};
      alone.initial.assign(expanded.initial.begin() + i * n * k,
                           expanded.initial.begin() + (i + 1) * n * k);
      auto options = expanded.options;
      options.dt = expanded.options.dt.at(i, 0);
      options.zeta = expanded.options.zeta.at(i, 0);
      const auto single = solve(alone, options);
      const auto& row = swept.rows[offset + i];
      EXPECT_EQ(row.method, m);
      EXPECT_EQ(row.outcome, single.outcome[0]) << "member " << i;
      EXPECT_EQ(row.accepted_steps, single.accepted_steps[0]);
      EXPECT_EQ(row.gradient_evaluations, single.gradient_evaluations[0]);
      EXPECT_EQ(row.objective, single.objective[0]);
      EXPECT_EQ(row.time, single.time[0]);
      converged += row.outcome == status::converged;
    }
  }
  EXPECT_GT(converged, 0) << "the comparison must include converged members";
}

TEST(Sweep, ChunksConcatenateToTheWholeSweep) {
  const sweep_spec spec = testing::two_method_sweep();
  const auto problems = testing::two_seed_problems();
  const auto whole = run_sweep(problems, spec);
  ASSERT_EQ(whole.rows.size(), 24u);
  std::vector<sweep_row> pieces;
  for (std::int64_t first = 0; first < 24; first += 7) {  // chunks straddle the method boundary
    const auto chunk = run_sweep(problems, spec, first, std::min<std::int64_t>(7, 24 - first));
    pieces.insert(pieces.end(), chunk.rows.begin(), chunk.rows.end());
  }
  ASSERT_EQ(pieces.size(), whole.rows.size());
  for (std::size_t r = 0; r < pieces.size(); ++r) {
    EXPECT_EQ(pieces[r].member, whole.rows[r].member);
    EXPECT_EQ(pieces[r].method, whole.rows[r].method);
    EXPECT_EQ(pieces[r].axis_values, whole.rows[r].axis_values);
    EXPECT_EQ(pieces[r].outcome, whole.rows[r].outcome);
    EXPECT_EQ(pieces[r].accepted_steps, whole.rows[r].accepted_steps);
    EXPECT_EQ(pieces[r].objective, whole.rows[r].objective);
  }
  EXPECT_THROW(run_sweep(problems, spec, 20, 5), invalid_argument);
}

TEST(Sweep, ObjectiveRowsEqualMembersSolvedAloneFromTheirMovedStarts) {
  objective_batch<mgh::objective, double> problems;
  problems.unknowns = 2;
  for (const char* name : {"rosenbrock", "beale"}) {
    const auto info = mgh::named(name);
    problems.problems.push_back(info.function);
    problems.initial.insert(problems.initial.end(), info.start.begin(), info.start.end());
  }
  sweep_spec spec;
  spec.axes = {parse_axis("lr", "1e-3,2e-3", objective_axes),
               parse_axis("x0_scale", "1,2", objective_axes),
               parse_axis("x0_offset", "0,0.25", objective_axes)};
  spec.methods = {method::gd, method::lgf};
  spec.base.backend = backend_kind::cpu;
  spec.base.max_steps = 20000;
  solver_context context;
  const auto swept = mgh::sweep(problems, spec, 0, -1, context);
  ASSERT_EQ(std::int64_t(swept.rows.size()), sweep_size(spec, 2));
  ASSERT_EQ(swept.rows.size(), 32u);
  std::int64_t converged = 0;
  for (const auto& row : swept.rows) {
    objective_batch<mgh::objective, double> alone;
    alone.unknowns = 2;
    alone.problems = {problems.problems[row.problem]};
    const double scale = row.axis_values[1], offset = row.axis_values[2];
    for (int e = 0; e < 2; ++e)
      alone.initial.push_back(scale * problems.initial[row.problem * 2 + e] + offset);
    solve_options options = spec.base;
    options.method = row.method;
    options.dt = row.axis_values[0];
    const auto single = mgh::solve(alone, options);
    EXPECT_EQ(row.outcome, single.outcome[0]) << "member " << row.member;
    EXPECT_EQ(row.accepted_steps, single.accepted_steps[0]) << "member " << row.member;
    EXPECT_EQ(row.gradient_evaluations, single.gradient_evaluations[0]);
    EXPECT_EQ(row.objective, single.objective[0]) << "member " << row.member;
    converged += row.outcome == status::converged;
  }
  EXPECT_GT(converged, 0) << "the comparison must include converged members";
  // A chunk straddling the method boundary gives the same rows.
  const auto chunk = mgh::sweep(problems, spec, 13, 6, context);
  for (std::size_t r = 0; r < chunk.rows.size(); ++r) {
    EXPECT_EQ(chunk.rows[r].member, swept.rows[13 + r].member);
    EXPECT_EQ(chunk.rows[r].objective, swept.rows[13 + r].objective);
  }
  // The least-squares axes are not objective axes, and the other way round.
  spec.axes.push_back(sweep_axis{"lambda", {0.0}, false});
  EXPECT_THROW(mgh::sweep(problems, spec, 0, -1, context), invalid_argument);
  EXPECT_THROW(parse_axis("x0_scale", "1,2"), invalid_argument);
}

}  // namespace
}  // namespace gradflow
