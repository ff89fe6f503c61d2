// The least-squares fused path on the CPU runs explicit Runge–Kutta methods (descent control
// included), the linearly implicit Euler step, the Chebyshev methods and the optimisers gd,
// momentum, nag, adam, FIRE, cg and L-BFGS in lanes of problems (host/least_squares_lanes.cpp,
// host/optimizer_lanes.cpp, host/conjugate_gradient_lanes.cpp, host/lbfgs_lanes.cpp): each lane's
// arithmetic must be the per-problem code's, so that the fused and lockstep paths keep the same
// bits. Batches of 37 (not a multiple of any lane width) whose members stop in every way, at
// different steps.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "../same_bits.hpp"
#include "gradflow/gradflow.hpp"

namespace gradflow {
namespace {

template <class Real>
constexpr std::int64_t lane_width = 64 / sizeof(Real);  // host/least_squares_lanes.cpp

struct lane_case {
  method m;
  dynamics d;
  step_control control;
  double t_end;
};

constexpr int members = 37;

/// Steps per member: every ninth far beyond stability (diverged); the others reach max_steps or
/// converge.
std::vector<double> member_steps() {
  std::vector<double> dt;
  for (int i = 0; i < members; ++i) dt.push_back(i % 9 == 4 ? 3.0 : 0.002 * (1 + i % 5));
  return dt;
}

template <class Real>
least_squares_batch<Real> lane_batch() {
  random_spec spec;
  spec.batch_size = members;
  spec.seed = 5;
  spec.random_initial = true;
  return random_least_squares<Real>(spec);
}

/// Solves `batch` on both paths with `options` as given and expects the same bits; returns the
/// fused path's result.
template <class Real>
solve_result<Real> fused_result_matching_lockstep(solve_options options,
                                                  const least_squares_batch<Real>& batch) {
  options.backend = backend_kind::cpu;
  options.path = execution_path::lockstep;
  const auto lockstep = solve(batch, options);
  options.path = execution_path::fused;
  const auto fused = solve(batch, options);
  EXPECT_EQ(fused.summary.path, execution_path::fused);
  testing::expect_same_bits(fused, lockstep);
  // The lanes compute all W products of a pass, a lane without a running problem included: at
  // least every evaluation the members count. (Not always lockstep's count, which adds one at
  // every member's answer: an optimiser's lane that stopped at its test holds that one already,
  // and with several threads the lanes' packing varies.)
  EXPECT_EQ(fused.summary.products_issued % lane_width<Real>, 0);
  std::int64_t evaluations = 0;
  for (std::int64_t count : fused.gradient_evaluations) evaluations += count;
  EXPECT_GE(fused.summary.products_issued, evaluations);
  return fused;
}

/// fused_result_matching_lockstep with at most 300 steps and, unless given, rtol_grad 1e-5.
template <class Real>
solve_result<Real> lanes_result_matching_lockstep(
    solve_options options, const least_squares_batch<Real>& batch = lane_batch<Real>()) {
  options.max_steps = 300;
  if (!options.rtol_grad.is_set()) options.rtol_grad = 1e-5;
  return fused_result_matching_lockstep(options, batch);
}

/// lanes_result_matching_lockstep's statuses: those the members ended with.
template <class Real>
std::set<status> expect_lanes_match_lockstep(const solve_options& options) {
  const solve_result<Real> fused = lanes_result_matching_lockstep<Real>(options);
  return std::set<status>(fused.outcome.begin(), fused.outcome.end());
}

template <class Real>
std::set<status> expect_lanes_match_lockstep(const lane_case& c) {
  solve_options options;
  options.method = c.m;
  options.dynamics = c.d;
  options.control = c.control;
  options.t_end = c.t_end;
  std::vector<double> rtol, zeta;
  for (int i = 0; i < members; ++i) {
    rtol.push_back(std::pow(10.0, -2 - i % 7));
    zeta.push_back(0.3 + 0.15 * (i % 8));
  }
  options.rtol = rtol;
  if (c.control == step_control::fixed || c.m == method::euler || c.m == method::rk4)
    options.dt = member_steps();
  if (c.d == dynamics::heavy_ball) options.zeta = zeta;  // ζ → c/m needs H's smallest eigenvalue
  return expect_lanes_match_lockstep<Real>(options);
}

/// gd, momentum, nag, adam and FIRE with each member's learning rate (FIRE: dt0) and β (adam: β1,
/// β2), up to t_end.
template <class Real>
std::set<status> expect_optimizer_lanes_match_lockstep(method m, double t_end = INFINITY) {
  solve_options options;
  options.method = m;
  options.t_end = t_end;
  // FIRE adapts its step, so its members diverge and run out of steps only far from the others'
  // rates: every ninth member's rate is huge, and every ninth another's tiny.
  // adam's steps are about its rate whatever the gradient, so its huge rate is one at which the
  // first step makes g² overflow.
  std::vector<double> dt = member_steps();
  const double huge = m == method::adam ? std::sqrt(double(std::numeric_limits<Real>::max())) : 1e6;
  for (int i = 4; i < members; i += 9) dt[i] = huge;
  for (int i = 7; i < members; i += 9) dt[i] = 1e-6;
  options.dt = dt;
  std::vector<double> beta;
  for (int i = 0; i < members; ++i) beta.push_back(0.5 + 0.05 * (i % 8));
  options.momentum = beta;
  if (m == method::adam) {
    // Every third member shares β1 = 0.5, β2 = 0.6, whose bias corrections 1 − βᵗ the lanes'
    // tables hold until they are exactly 1 (t ≈ 85 in double, 45 in float); the others take 11
    // more values of β1 and 7 of β2: 20 in all, more than the lanes keep tables for (16), so some
    // are computed when asked.
    std::vector<double> beta1, beta2;
    for (int i = 0; i < members; ++i) {
      beta1.push_back(i % 3 == 0 ? 0.5 : 0.8 + 0.01 * (i % 11));
      beta2.push_back(i % 3 == 0 ? 0.6 : 0.99 + 0.001 * (i % 7));
    }
    options.beta1 = beta1;
    options.beta2 = beta2;
  }
  return expect_lanes_match_lockstep<Real>(options);
}

const lane_case cases[] = {
    {method::euler, dynamics::gradient, step_control::method_default, INFINITY},
    {method::rk4, dynamics::gradient, step_control::method_default, INFINITY},
    {method::bs3, dynamics::gradient, step_control::method_default, INFINITY},
    {method::tsit5, dynamics::gradient, step_control::method_default, INFINITY},
    {method::dp5, dynamics::gradient, step_control::method_default, INFINITY},
    {method::tsit5, dynamics::gradient, step_control::fixed, INFINITY},
    {method::tsit5, dynamics::gradient, step_control::method_default, 0.05},
    {method::tsit5, dynamics::heavy_ball, step_control::method_default, INFINITY},
    {method::rk4, dynamics::heavy_ball, step_control::method_default, INFINITY},
    {method::tsit5, dynamics::nesterov, step_control::method_default, INFINITY},
    {method::rk4, dynamics::nesterov, step_control::method_default, INFINITY},
    {method::tsit5, dynamics::newton, step_control::method_default, INFINITY},
    {method::rk4, dynamics::newton, step_control::method_default, INFINITY},
    {method::bs3, dynamics::gradient, step_control::descent, INFINITY},
};

TEST(FusedLanes, SameBitsAsLockstepForEveryTableauAndDynamicsInDoublePrecision) {
  std::set<status> seen;
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.m)) + " " + std::string(to_string(c.d)));
    for (status s : expect_lanes_match_lockstep<double>(c)) seen.insert(s);
  }
  // The members end in every way a lane can stop.
  for (status s : {status::converged, status::diverged, status::max_steps, status::reached_t_end})
    EXPECT_TRUE(seen.count(s)) << to_string(s) << " never happened";
}

TEST(FusedLanes, SameBitsAsLockstepInSinglePrecision) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.m)) + " " + std::string(to_string(c.d)));
    expect_lanes_match_lockstep<float>(c);
  }
}

TEST(FusedLanes, OptimisersKeepTheSameBitsAsLockstep) {
  for (method m :
       {method::gd, method::momentum, method::nag, method::adam, method::fire, method::fire2}) {
    SCOPED_TRACE(to_string(m));
    const std::set<status> seen = expect_optimizer_lanes_match_lockstep<double>(m);
    for (status s : {status::converged, status::diverged, status::max_steps})
      EXPECT_TRUE(seen.count(s)) << to_string(s) << " never happened";
    expect_optimizer_lanes_match_lockstep<float>(m);
  }
}

TEST(FusedLanes, OptimisersStopAtTEndWithTheSameBitsAsLockstep) {
  // t counts lr per iteration (FIRE: its dt); t_end bounds it as it bounds the integrators and the
  // learned flows. These methods ran past it.
  for (method m :
       {method::gd, method::momentum, method::nag, method::adam, method::fire, method::fire2}) {
    SCOPED_TRACE(to_string(m));
    EXPECT_TRUE(expect_optimizer_lanes_match_lockstep<double>(m, 0.5).count(status::reached_t_end));
    expect_optimizer_lanes_match_lockstep<float>(m, 0.5);
  }
}

TEST(FusedLanes, AdamPastItsCorrectionTablesKeepsTheSameBits) {
  // β2 so close to 1 that 1 − β2ᵗ is not yet 1 after 2¹⁶ iterations, where the lanes' tables end:
  // later corrections are computed when asked.
  solve_options options;
  options.method = method::adam;
  options.dt = 1e-3;
  options.beta2 = 1 - 1e-7;
  options.gtol = 1e-300;  // never, and no stall test: every member runs to max_steps
  options.stall_window = 0;
  options.max_steps = (1 << 16) + 100;
  const auto fused = fused_result_matching_lockstep(options, lane_batch<double>());
  for (std::int64_t i = 0; i < members; ++i) EXPECT_EQ(fused.outcome[i], status::max_steps);
}

// A lane whose problem stopped takes the queue's next one, so a block no longer runs W lanes for
// as long as its slowest member: here one member in W needs far more steps than the others, and
// the lanes compute less than half what blocks held to their slowest member would (one thread,
// so that the queue's order is the batch's).
TEST(FusedLanes, AFinishedLaneTakesTheNextProblem) {
  constexpr std::int64_t W = lane_width<double>;
  random_spec spec;
  spec.batch_size = 8 * W;
  spec.seed = 9;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::tsit5;
  options.control = step_control::fixed;
  std::vector<double> dt(spec.batch_size, 0.01);
  for (std::size_t i = 0; i < dt.size(); i += W) dt[i] = 0.001;
  options.dt = dt;
  options.rtol_grad = 1e-3;
  options.path = execution_path::lockstep;
  const auto lockstep = solve(batch, options);
  options.path = execution_path::fused;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto fused = solve(batch, options);
  omp_set_num_threads(threads);
  testing::expect_same_bits(fused, lockstep);
  EXPECT_EQ(fused.summary.count(status::converged), spec.batch_size);

  std::int64_t slowest_per_block = 0;  // Σ over blocks of W lanes of their slowest member
  for (std::int64_t first = 0; first < spec.batch_size; first += W)
    slowest_per_block += *std::max_element(fused.gradient_evaluations.begin() + first,
                                           fused.gradient_evaluations.begin() + first + W);
  const std::int64_t slow = fused.gradient_evaluations[0], fast = fused.gradient_evaluations[1];
  EXPECT_GT(slow, 3 * fast);  // the batch is what the test needs
  EXPECT_LT(fused.summary.products_issued, W * slowest_per_block / 2);
  EXPECT_GE(fused.summary.products_issued, lockstep.summary.products_issued);
}

// Conjugate gradients, each member with its own gradient test: some converge at U0, some within
// n = 5 steps, and those that test for an exact zero go on until the stall test stops them.
TEST(FusedLanes, ConjugateGradientsKeepTheSameBitsAsLockstep) {
  solve_options options;
  options.method = method::cg;
  std::vector<double> gtol, rtol_grad;
  for (int i = 0; i < members; ++i) {
    gtol.push_back(i % 4 == 0 ? 1e6 : 0.0);
    rtol_grad.push_back(i % 4 == 1 ? 0.0 : std::pow(10.0, -1 - i % 9));
  }
  options.gtol = gtol;
  options.rtol_grad = rtol_grad;
  for (const std::set<status>& seen :
       {expect_lanes_match_lockstep<double>(options), expect_lanes_match_lockstep<float>(options)})
    EXPECT_EQ(seen, (std::set<status>{status::converged, status::stalled}));
}

// Conjugate gradients on problems scaled towards overflow (B and U0 by 2^j times √max / 400):
// where pᵀHp overflows, at the first iteration or a later one, the member stops (diverged; it had
// gone on with α = 0 to max_steps), while ‖r‖² and the others' steps stay finite and converge. A
// lane that stopped must not take the step its masked neighbours take.
template <class Real>
void expect_conjugate_gradients_stop_where_the_curvature_overflows() {
  least_squares_batch<Real> batch = lane_batch<Real>();
  const Real base = std::sqrt(std::numeric_limits<Real>::max()) / Real(400);
  const std::int64_t rhs = batch.rhs_stride(), len = batch.unknowns_per_problem();
  for (std::int64_t i = 0; i < members; ++i) {
    const Real scale = std::ldexp(base, int(i % 6));
    for (std::int64_t e = 0; e < rhs; ++e) batch.rhs[i * rhs + e] *= scale;
    for (std::int64_t e = 0; e < len; ++e) batch.initial[i * len + e] *= scale;
  }
  solve_options options;
  options.method = method::cg;
  const auto fused = lanes_result_matching_lockstep<Real>(options, batch);
  const std::set<status> seen(fused.outcome.begin(), fused.outcome.end());
  EXPECT_EQ(seen, (std::set<status>{status::converged, status::diverged}));
  std::int64_t stopped_in_iterations = 0;  // diverged after a step, not at U0
  for (std::int64_t i = 0; i < members; ++i)
    stopped_in_iterations += fused.outcome[i] == status::diverged && fused.accepted_steps[i] > 0;
  EXPECT_GT(stopped_in_iterations, 0);
}

TEST(FusedLanes, ConjugateGradientsStopWhereTheCurvatureOverflows) {
  expect_conjugate_gradients_stop_where_the_curvature_overflows<double>();
  expect_conjugate_gradients_stop_where_the_curvature_overflows<float>();
}

// L-BFGS, each member with its own learning rate (its first and restarting directions −lr·∇f)
// and gradient test: rates far too large are rejected and halved before a first move, and the
// members that test for an exact zero go on, the two-loop recursion over all m pairs, until the
// step underflows.
TEST(FusedLanes, LbfgsKeepsTheSameBitsAsLockstep) {
  solve_options options;
  options.method = method::lbfgs;
  std::vector<double> rate = member_steps(), gtol, rtol_grad;
  for (int i = 4; i < members; i += 9) rate[i] = 1e6;
  for (int i = 0; i < members; ++i) {
    gtol.push_back(i % 4 == 0 ? 1e6 : 0.0);
    rtol_grad.push_back(i % 4 == 1 ? 0.0 : std::pow(10.0, -1 - i % 9));
  }
  options.dt = rate;
  options.gtol = gtol;
  options.rtol_grad = rtol_grad;
  const auto expect_every_path_taken = [](const auto& fused) {
    const std::set<status> seen(fused.outcome.begin(), fused.outcome.end());
    EXPECT_EQ(seen, (std::set<status>{status::converged, status::step_underflow}));
    EXPECT_GT(*std::max_element(fused.rejected_steps.begin(), fused.rejected_steps.end()), 10);
    EXPECT_GT(*std::max_element(fused.accepted_steps.begin(), fused.accepted_steps.end()),
              2 * lbfgs_memory);
  };
  expect_every_path_taken(lanes_result_matching_lockstep<double>(options));
  expect_every_path_taken(lanes_result_matching_lockstep<float>(options));
}

// L-BFGS's restart from −lr·∇f where the two-loop result is not a descent direction. On least
// squares every pair it uses has sᵀy > 0, which keeps H positive definite, so only rounding loses
// descent: in single precision, with κ = 10⁷ beyond 1/ε, run on at the minimum with no gradient
// test, problem 190 of this batch loses it once, after 1189 accepted steps (seen by printing from
// lbfgs_step's restart; nothing else of 300 problems at κ from 10 to 10¹⁰ in f32 and to 10¹⁶ in f64
// did). Its counts pin that trajectory; the lanes without their restart end it at step 1189
// (step_underflow).
TEST(FusedLanes, LbfgsRestartWhereRoundingLosesDescentKeepsTheSameBits) {
  random_spec spec;
  spec.batch_size = 300;
  spec.rows = 40;
  spec.unknowns = 12;
  spec.rhs_count = 2;
  spec.condition_number = 1e7;
  spec.random_initial = true;
  const least_squares_batch<float> all = random_least_squares<float>(spec);
  constexpr std::int64_t first = 190 - members / 2, restarting = 190 - first;
  least_squares_batch<float> batch = all;
  batch.batch_size = members;
  const auto slice = [&](const std::vector<float>& values, std::int64_t stride) {
    const auto begin = values.begin() + first * stride;
    return std::vector<float>(begin, begin + members * stride);
  };
  batch.matrix = slice(all.matrix, all.matrix_stride());
  batch.rhs = slice(all.rhs, all.rhs_stride());
  batch.initial = slice(all.initial, all.unknowns_per_problem());
  solve_options options;
  options.method = method::lbfgs;
  options.rtol_grad = 0.0;
  options.max_steps = 3000;
  const auto fused = fused_result_matching_lockstep(options, batch);
  EXPECT_EQ(fused.outcome[restarting], status::max_steps);
  EXPECT_EQ(fused.accepted_steps[restarting], 2052);
  EXPECT_EQ(fused.rejected_steps[restarting], 948);
}

// Descent control on gradient flow, each member from its own first step: every ninth's, far
// beyond stability, is rejected and halved until f falls, and the others' steps must grow as ‖∇f‖
// falls for the members to converge within the steps they have. Every fourth member has no
// gradient test and goes on at the minimum, where rising f halves its step until some fall below
// dt_min (step_underflow).
TEST(FusedLanes, DescentControlKeepsTheSameBitsAsLockstep) {
  std::set<status> seen;
  for (method m : {method::euler, method::tsit5}) {
    SCOPED_TRACE(to_string(m));
    solve_options options;
    options.method = m;
    options.control = step_control::descent;
    options.dt = member_steps();
    options.dt_min = 1e-3;
    std::vector<double> rtol_grad;
    for (int i = 0; i < members; ++i) rtol_grad.push_back(i % 4 == 1 ? 0.0 : 1e-5);
    options.rtol_grad = rtol_grad;
    const auto expect_rejections_and_convergence = [&seen](const auto& fused) {
      seen.insert(fused.outcome.begin(), fused.outcome.end());
      EXPECT_GT(*std::max_element(fused.rejected_steps.begin(), fused.rejected_steps.end()), 3);
      EXPECT_GT(std::count(fused.outcome.begin(), fused.outcome.end(), status::converged),
                members / 2);
    };
    expect_rejections_and_convergence(lanes_result_matching_lockstep<double>(options));
    expect_rejections_and_convergence(lanes_result_matching_lockstep<float>(options));
  }
  EXPECT_EQ(seen, (std::set<status>{status::converged, status::max_steps, status::step_underflow}));
}

// Descent control takes a step whose trapezoid-rule change f(y_new) − f(y) is zero but for
// rounding: it allows a rise of 4ε times the sum of the terms' sizes (ode_step.hpp). Each member's
// G = diag(c, 3c), ∇f(u0) = (g, ±g) and first Euler step h = 1/c: the first component's fall,
// h·g²/2, is the second's rise (|1 − 3hc| = 2), so rounding (of √c in A, of G, of h) alone sets
// the sign of the computed change, and without the allowance about half the members would reject
// their one step. The rounding of the data bounds the true change by about 5ε·hg², below the
// allowance of 4ε·(4hg²).
template <class Real>
void expect_steps_within_rounding_accepted() {
  least_squares_batch<Real> batch;
  batch.batch_size = members;
  batch.rows = batch.unknowns = 2;
  batch.rhs_count = 1;
  batch.rhs = {0, 0};
  std::vector<double> dt;
  for (int i = 0; i < members; ++i) {
    const double c = 1 + 0.137 * i, g = 1 + 0.01 * i, sign = i % 2 ? -1 : 1;
    batch.matrix.insert(batch.matrix.end(), {Real(std::sqrt(c)), 0, 0, Real(std::sqrt(3 * c))});
    batch.initial.insert(batch.initial.end(), {Real(g / c), Real(sign * g / (3 * c))});
    dt.push_back(1 / c);
  }
  solve_options options;
  options.method = method::euler;
  options.control = step_control::descent;
  options.dt = dt;
  options.max_steps = 1;
  const solve_result<Real> fused = fused_result_matching_lockstep(options, batch);
  for (int i = 0; i < members; ++i) {
    EXPECT_EQ(fused.rejected_steps[i], 0) << "member " << i;
    EXPECT_EQ(fused.outcome[i], status::max_steps) << "member " << i;
  }
}

TEST(FusedLanes, DescentControlTakesAStepWhoseChangeIsRounding) {
  expect_steps_within_rounding_accepted<double>();
  expect_steps_within_rounding_accepted<float>();
}

// The linearly implicit Euler step (descent control), each member from its own first step. Every
// third member's A repeats its first column, so that G is singular and G + I/h has no Cholesky
// factor to working precision once 1/h is below G's rounding: from a first step of 10⁶/ε the
// step is halved some thirty times before one is found, from 10²⁵/ε the 64 halvings do not reach
// one and the member ends as diverged. Every fourth member has no gradient test and goes on at
// the minimum until its steps run out or its step falls below the floor.
TEST(FusedLanes, LinearlyImplicitKeepsTheSameBitsAsLockstep) {
  const auto expect_every_path_taken = [](auto real) {  // returns the statuses seen
    using Real = decltype(real);
    least_squares_batch<Real> batch = lane_batch<Real>();
    const int m = batch.rows, n = batch.unknowns;
    std::vector<double> dt = member_steps(), rtol_grad;
    const double epsilon = std::numeric_limits<Real>::epsilon();
    for (int i = 0; i < members; ++i) {
      if (i % 3 == 0 || i % 9 == 4)
        for (int r = 0; r < m; ++r)
          batch.matrix[(std::size_t(i) * m + r) * n + 1] =
              batch.matrix[(std::size_t(i) * m + r) * n];
      if (i % 9 == 3) dt[i] = 1e6 / epsilon;
      if (i % 9 == 4) dt[i] = 1e25 / epsilon;
      rtol_grad.push_back(i % 4 == 1 ? 0.0 : 1e-5);
    }
    solve_options options;
    options.method = method::linearly_implicit;
    options.dt = dt;
    options.rtol_grad = rtol_grad;
    const solve_result<Real> fused = lanes_result_matching_lockstep<Real>(options, batch);
    for (int i = 3; i < members; i += 9) {
      EXPECT_GT(fused.rejected_steps[i], 20) << "member " << i;
      EXPECT_EQ(fused.outcome[i + 1], status::diverged) << "member " << i + 1;
    }
    return std::set<status>(fused.outcome.begin(), fused.outcome.end());
  };
  std::set<status> seen = expect_every_path_taken(double{});
  for (status s : expect_every_path_taken(float{})) seen.insert(s);
  EXPECT_EQ(seen, (std::set<status>{status::converged, status::diverged, status::max_steps,
                                    status::step_underflow}));
}

// rkcd and rkc, each member's stage count s its own: from its κ (the default), from its given step
// (the fewest stages whose damped length covers h·L), or given with the step, where every ninth
// member's step lies beyond what its stages keep stable (diverged); every fourth member has no
// gradient test. A lane block runs its stages up to the largest s among its lanes, and a lane
// whose s is reached keeps its stages.
TEST(FusedLanes, ChebyshevKeepsTheSameBitsAsLockstep) {
  std::set<status> seen;
  for (method m : {method::rkcd, method::rkc}) {
    SCOPED_TRACE(to_string(m));
    std::vector<double> dt, stages, rtol_grad;
    for (int i = 0; i < members; ++i) {
      dt.push_back(i % 9 == 4 ? 3.0 : 0.05 * (1 + i % 5));
      stages.push_back(2 + i % 7);
      rtol_grad.push_back(i % 4 == 1 ? 0.0 : 1e-5);
    }
    solve_options options;
    options.method = m;
    options.rtol_grad = rtol_grad;
    const auto expect_both_precisions = [&seen](const solve_options& o) {
      for (status s : expect_lanes_match_lockstep<double>(o)) seen.insert(s);
      for (status s : expect_lanes_match_lockstep<float>(o)) seen.insert(s);
    };
    expect_both_precisions(options);  // s from κ
    options.dt = dt;
    expect_both_precisions(options);  // s from h·L
    options.stages = stages;
    expect_both_precisions(options);  // both given
  }
  EXPECT_EQ(seen, (std::set<status>{status::converged, status::diverged, status::max_steps}));
}

// path = automatic on the CPU: fused through n = 128 where the lanes run (they beat lockstep at
// every measured size, README), lockstep beyond; methods without lanes stay fused to n = 32 only.
TEST(FusedLanes, AutomaticPathFollowsTheMeasuredRule) {
  const auto path_for = [](int n, method m, step_control control = step_control::method_default) {
    random_spec spec;
    spec.rows = n + 8;
    spec.unknowns = n;
    spec.rhs_count = 1;
    spec.batch_size = 2;
    solve_options options;
    options.backend = backend_kind::cpu;
    options.method = m;
    options.control = control;
    options.max_steps = 2;
    return solve(random_least_squares<double>(spec), options).summary.path;
  };
  EXPECT_EQ(path_for(128, method::tsit5), execution_path::fused);
  EXPECT_EQ(path_for(129, method::tsit5), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::gd), execution_path::fused);
  EXPECT_EQ(path_for(129, method::gd), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::adam), execution_path::fused);
  EXPECT_EQ(path_for(129, method::adam), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::cg), execution_path::fused);
  EXPECT_EQ(path_for(129, method::cg), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::lbfgs), execution_path::fused);
  EXPECT_EQ(path_for(129, method::lbfgs), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::euler, step_control::descent), execution_path::fused);
  EXPECT_EQ(path_for(129, method::euler, step_control::descent), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::linearly_implicit), execution_path::fused);
  EXPECT_EQ(path_for(129, method::linearly_implicit), execution_path::lockstep);
  EXPECT_EQ(path_for(128, method::rkcd), execution_path::fused);
  EXPECT_EQ(path_for(129, method::rkcd), execution_path::lockstep);
  EXPECT_EQ(path_for(32, method::lgf), execution_path::fused);
  EXPECT_EQ(path_for(33, method::lgf), execution_path::lockstep);
}

}  // namespace
}  // namespace gradflow
