// Active-set compaction and the work counters of a run: compaction changes which problems the
// lockstep phases visit, never an answer; the counters add up to what the problems report.
#include <gtest/gtest.h>

#include <numeric>

#include "gradflow/gradflow.hpp"
#include "same_bits.hpp"

namespace gradflow {
namespace {

/// 40 seed problems; every tenth must reduce ‖∇f‖ by 1e-9, the rest by 1e-1, so most stop early.
struct mixed_batch {
  least_squares_batch<double> batch;
  solve_options options;
};

mixed_batch make_mixed_batch(method m) {
  mixed_batch mixed;
  random_spec spec;
  spec.batch_size = 40;
  spec.seed = 77;
  spec.random_initial = true;
  mixed.batch = random_least_squares<double>(spec);
  std::vector<double> reduction(spec.batch_size, 1e-1);
  for (std::size_t i = 0; i < reduction.size(); i += 10) reduction[i] = 1e-9;
  mixed.options.backend = backend_kind::cpu;
  mixed.options.path = execution_path::lockstep;
  mixed.options.method = m;
  mixed.options.rtol_grad = reduction;
  mixed.options.rtol = 1e-11;
  mixed.options.atol = 1e-13;
  mixed.options.check_interval = 2;
  return mixed;
}

std::int64_t sum(const std::vector<std::int64_t>& values) {
  return std::accumulate(values.begin(), values.end(), std::int64_t(0));
}

class Compaction : public ::testing::TestWithParam<method> {};

TEST_P(Compaction, ChangesNoAnswer) {
  auto mixed = make_mixed_batch(GetParam());
  mixed.options.compaction_threshold = 0;
  const auto masked = solve(mixed.batch, mixed.options);
  mixed.options.compaction_threshold = 1;  // compact at every check where a problem stopped
  const auto compacted = solve(mixed.batch, mixed.options);

  EXPECT_EQ(masked.summary.compactions, 0);
  EXPECT_GE(compacted.summary.compactions, 2);
  EXPECT_EQ(masked.summary.count(status::converged), 40);
  testing::expect_same_bits(masked, compacted);
  // The hard tenth takes more steps than the rest: compaction had work to skip.
  std::int64_t hard = 0, easy = 0;
  for (std::size_t i = 0; i < masked.accepted_steps.size(); ++i)
    (i % 10 == 0 ? hard : easy) += masked.accepted_steps[i];
  EXPECT_GT(hard / 4, 2 * easy / 36);
}

INSTANTIATE_TEST_SUITE_P(Methods, Compaction,
                         ::testing::Values(method::tsit5, method::gd, method::nag, method::fire),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(WorkCounters, ProductsAreEvaluationsPlusTheFinalOne) {
  // The CPU backend computes a product only for a running problem, and once more for every
  // problem at the end (‖∇f‖ at the returned U), on either path; the fused path's lanes
  // (explicit Runge–Kutta) compute a whole pass of lanes, those without a running problem too.
  auto mixed = make_mixed_batch(method::tsit5);
  for (execution_path path : {execution_path::lockstep, execution_path::fused}) {
    mixed.options.path = path;
    const auto result = solve(mixed.batch, mixed.options);
    EXPECT_EQ(result.summary.path, path);
    EXPECT_EQ(result.summary.gradient_evaluations, sum(result.gradient_evaluations));
    const std::int64_t useful = result.summary.gradient_evaluations + mixed.batch.batch_size;
    if (path == execution_path::lockstep)
      EXPECT_EQ(result.summary.products_issued, useful);
    else
      EXPECT_GE(result.summary.products_issued, useful);
    EXPECT_GT(result.summary.compute_seconds, 0);
    EXPECT_LE(result.summary.compute_seconds, result.summary.wall_seconds);
  }
}

TEST(WorkCounters, FusedRunsNeverCompact) {
  auto mixed = make_mixed_batch(method::tsit5);
  mixed.options.path = execution_path::fused;
  mixed.options.compaction_threshold = 1;
  EXPECT_EQ(solve(mixed.batch, mixed.options).summary.compactions, 0);
}

TEST(CompactionThreshold, OutsideTheUnitIntervalIsRejected) {
  auto mixed = make_mixed_batch(method::tsit5);
  mixed.options.compaction_threshold = 1.5;
  try {
    solve(mixed.batch, mixed.options);
    FAIL() << "compaction_threshold = 1.5 was accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("compaction_threshold"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gradflow
