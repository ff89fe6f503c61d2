// device_set: a sweep's members split into one part per device, each part on its own thread and
// solver_context, joined in member order. Here every part runs on the CPU backend — the same split
// the GPUs get (tests/cuda/cuda_backend_test.cpp runs it on a device).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <tuple>

#include "cli_fixture.hpp"
#include "gradflow/devices.hpp"
#include "gradflow/gradflow.hpp"
#include "test_problems.hpp"

namespace gradflow {
namespace {

std::vector<std::tuple<std::int64_t, std::int64_t, double, double>> sorted_trace(
    const std::vector<trace_point>& trace) {
  std::vector<std::tuple<std::int64_t, std::int64_t, double, double>> points;
  for (const auto& point : trace)
    points.emplace_back(point.problem, point.step, point.time, point.gradient_norm);
  std::sort(points.begin(), points.end());
  return points;
}

TEST(DeviceSplit, PartsJoinToTheWholeSweepInMemberOrder) {
  const auto problems = testing::two_seed_problems();
  sweep_spec spec = testing::two_method_sweep();
  spec.base.trace_every = 10;
  const auto run_part = [&](std::int64_t first, std::int64_t count, solver_context& context) {
    return run_sweep(problems, spec, first, count, context);
  };
  const auto whole = run_sweep(problems, spec);
  ASSERT_EQ(whole.rows.size(), 24u);
  device_set three({0, 1, 2}, false);
  EXPECT_EQ(three.size(), 3u);
  const auto joined = three.split(0, 24, run_part);
  ASSERT_EQ(joined.rows.size(), whole.rows.size());
  for (std::size_t r = 0; r < whole.rows.size(); ++r) {  // parts straddle the method boundary
    EXPECT_EQ(joined.rows[r].member, whole.rows[r].member);
    EXPECT_EQ(joined.rows[r].method, whole.rows[r].method);
    EXPECT_EQ(joined.rows[r].axis_values, whole.rows[r].axis_values);
    EXPECT_EQ(joined.rows[r].outcome, whole.rows[r].outcome);
    EXPECT_EQ(joined.rows[r].accepted_steps, whole.rows[r].accepted_steps);
    EXPECT_EQ(joined.rows[r].gradient_evaluations, whole.rows[r].gradient_evaluations);
    EXPECT_EQ(joined.rows[r].objective, whole.rows[r].objective);
    EXPECT_EQ(joined.rows[r].gradient_norm, whole.rows[r].gradient_norm);
  }
  EXPECT_EQ(sorted_trace(joined.trace), sorted_trace(whole.trace));
  EXPECT_EQ(joined.axes.size(), 2u);
  // Each part ran on its own: one run per method of each part (parts 0–7, 8–15, 16–23).
  EXPECT_EQ(joined.runs.size(), 4u);
  // Fewer members than parts: only the parts with members run.
  const auto two = three.split(5, 2, run_part);
  ASSERT_EQ(two.rows.size(), 2u);
  EXPECT_EQ(two.rows[0].member, 5);
  EXPECT_EQ(two.rows[1].objective, whole.rows[6].objective);
  EXPECT_EQ(two.runs.size(), 2u);
}

TEST(DeviceSplit, APartsFailureIsRethrownAfterEveryPartHasEnded) {
  device_set four({0, 1, 2, 3}, false);
  std::atomic<int> ended{0};
  const auto failing = [&](std::int64_t first, std::int64_t, solver_context&) {
    ++ended;
    if (first == 2) throw invalid_argument("part at member 2 fails");
    return sweep_result{};
  };
  EXPECT_THROW(four.split(0, 8, failing), invalid_argument);
  EXPECT_EQ(ended.load(), 4);
}

TEST(DeviceSplit, NoDevicesNamedRunsOnTheCallingThread) {
  device_set none({}, false);
  EXPECT_EQ(none.size(), 1u);
  std::thread::id ran_on;
  none.split(0, 3, [&](std::int64_t, std::int64_t count, solver_context&) {
    ran_on = std::this_thread::get_id();
    EXPECT_EQ(count, 3);
    return sweep_result{};
  });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(Cli, DevicesSplitEachChunkOrBatchAndWriteTheSameFiles) {
  const std::string sweep = "sweep --preset seed --backend cpu --quiet --trace every=5 --out ";
  ASSERT_EQ(run(sweep + path("one.csv")).exit_code, 0);
  const auto split = run(sweep + path("three.csv") + " --devices 0,1,2 --chunk 100");
  ASSERT_EQ(split.exit_code, 0) << split.output;
  EXPECT_EQ(read_file(path("three.csv")), read_file(path("one.csv")));
  EXPECT_EQ(read_file(path("three.trace.csv")), read_file(path("one.trace.csv")));
  // solve splits its batch the same way: the files one process writes without --devices.
  const std::string solve =
      "solve --random 200,50,5,2 --random-u0 --backend cpu --trace every=10 --quiet";
  const auto files = [&](const std::string& tag) {
    return " --out " + path("u" + tag + ".npy") + " --report " + path("r" + tag + ".csv") +
           " --trace-out " + path("t" + tag + ".csv");
  };
  ASSERT_EQ(run(solve + files("1")).exit_code, 0);
  const auto split_solve = run(solve + files("3") + " --devices 0,1,2");
  ASSERT_EQ(split_solve.exit_code, 0) << split_solve.output;
  EXPECT_EQ(read_file(path("u3.npy")), read_file(path("u1.npy")));
  EXPECT_EQ(read_file(path("r3.csv")), read_file(path("r1.csv")));
  EXPECT_EQ(read_file(path("t3.csv")), read_file(path("t1.csv")));
  const std::string objectives =
      "solve --problem mgh:rosenbrock,mgh:beale,mgh:rosenbrock --method lbfgs --lr 1e-3 --quiet "
      "--backend cpu --out ";
  ASSERT_EQ(run(objectives + path("x1.npy")).exit_code, 0);
  ASSERT_EQ(run(objectives + path("x2.npy") + " --devices 0,1").exit_code, 0);
  EXPECT_EQ(read_file(path("x2.npy")), read_file(path("x1.npy")));
  expect_usage_error("sweep --preset seed --devices 0,,1", "invalid devices = '0,,1'");
  expect_usage_error("sweep --preset seed --devices gpu0", "invalid devices = 'gpu0'");
  if (cuda_device_count() == 0)
    expect_usage_error("sweep --preset seed --devices all", "no CUDA device answers");
}

}  // namespace
}  // namespace gradflow
