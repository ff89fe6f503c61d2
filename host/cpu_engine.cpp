#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gradflow/detail/cpu_loops.hpp"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/engine.hpp"
#include "gradflow/detail/lockstep_arrays.hpp"

namespace gradflow::detail {
namespace {

/// Per-step passes with less work than this (multiply-adds of one evaluation over the batch) run
/// serially: an OpenMP fork/join costs microseconds, and far more when several processes share the
/// cores (spinning threads), while an evaluation over 2¹⁷ multiply-adds takes tens of microseconds.
constexpr std::int64_t parallel_work = std::int64_t(1) << 17;

template <class Real>
class cpu_engine final : public engine<Real> {
public:
  backend_kind kind() const override { return backend_kind::cpu; }

  std::string device_name() const override {
    return "cpu (" + std::to_string(omp_get_max_threads()) + " threads)";
  }

  void allocate(std::int64_t count, int unknowns, int rhs_count, const lockstep_layout& layout,
                const std::vector<Real>& parameters, std::int64_t evaluation_work) override {
    arrays_.size_for(count, unknowns, rhs_count, layout);
    arrays_.parameters = parameters;
    view_ = arrays_.view(count, unknowns, rhs_count, layout.state_factor);
    evaluation_work_ = evaluation_work;
    activate_all();
  }

  lockstep_view<Real>& view() override { return view_; }

  void upload_initial(const Real* initial) override {
    const auto v = view_;
    const std::int64_t len = v.len();
    sum_over_active(active(), true, [&](std::int64_t i) -> std::int64_t {
      std::copy_n(initial + i * len, len, v.state_of(i));
      return 0;
    });
  }

  void factorize(factor_shift shift) override {
    const auto v = view_;
    sum_over_active(active(), parallel(), [&](std::int64_t i) -> std::int64_t {
      factor_problem(v, i, shift);
      return 0;
    });
  }

  void run_phase(const step_settings<Real>& settings, lockstep_phase phase, int stage) override {
    const auto v = view_;
    sum_over_active(active(), parallel(), [&](std::int64_t i) -> std::int64_t {
      detail::run_phase(v, settings, phase, stage, i);
      return 0;
    });
  }

  int most_stages() override {
    int most = 0;
    for (std::int64_t i = 0; i < view_.batch_size; ++i)
      if (view_.running(i)) most = std::max(most, int(view_.parameter_of(i, stages)));
    return most;
  }

  std::int64_t running_count() override {
    const active_set problems = active();
    std::int64_t running = 0;
    for (std::int64_t position = 0; position < problems.count; ++position)
      running += view_.running(problems[position]);
    return running;
  }

  void compact(std::int64_t running) override {
    const active_set problems = active();
    std::vector<std::int64_t> still_running;
    still_running.reserve(running);
    for (std::int64_t position = 0; position < problems.count; ++position)
      if (view_.running(problems[position])) still_running.push_back(problems[position]);
    active_list_ = std::move(still_running);
    active_count_ = std::int64_t(active_list_.size());
  }

  void activate_all() override {
    active_list_.clear();
    active_count_ = view_.batch_size;
  }

  active_set active() const override {
    return {active_list_.empty() ? nullptr : active_list_.data(), active_count_};
  }

  /// One active problem has nothing to share: the other threads would only spin at its barriers.
  bool parallel() const override {
    return active_count_ > 1 && active_count_ * evaluation_work_ >= parallel_work;
  }

  void start_clock() override { clock_start_ = std::chrono::steady_clock::now(); }
  double stop_clock() override {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - clock_start_;
    return elapsed.count();
  }

  void read_progress(std::vector<std::int32_t>& outcome, std::vector<std::int64_t>& accepted,
                     std::vector<Real>& time, std::vector<Real>& gradient_norm) override {
    outcome = arrays_.outcome;
    accepted = arrays_.accepted;
    time = arrays_.time;
    gradient_norm = arrays_.gradient_norm;
  }

  void download(solve_result<Real>& result) override {
    const auto v = view_;
    const std::int64_t len = v.len();
    result.solution.resize(v.batch_size * len);
    sum_over_active({nullptr, v.batch_size}, true, [&](std::int64_t i) -> std::int64_t {
      std::copy_n(v.state_of(i), len, result.solution.data() + i * len);
      return 0;
    });
    copy_per_problem_fields(arrays_, result);
  }

  void* stream() const override { return nullptr; }
  bool begin_step_capture() override { return false; }
  void end_step_capture() override {}
  void replay_step() override {}

private:
  std::vector<std::int64_t> active_list_;  ///< empty: every problem is active
  std::int64_t active_count_ = 0;
  std::int64_t evaluation_work_ = 1;
  std::chrono::steady_clock::time_point clock_start_;
  lockstep_arrays<host_array, Real> arrays_;
  lockstep_view<Real> view_;
};

}  // namespace

template <class Real>
std::unique_ptr<engine<Real>> make_cpu_engine() {
  return std::make_unique<cpu_engine<Real>>();
}

template std::unique_ptr<engine<float>> make_cpu_engine<float>();
template std::unique_ptr<engine<double>> make_cpu_engine<double>();

}  // namespace gradflow::detail
