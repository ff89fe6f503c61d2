#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/lockstep_arrays.hpp"
#include "gradflow/error.hpp"

namespace gradflow {
namespace {

/// Per-step phases with less work than this (multiply-adds of one product G·X over the batch) run
/// serially: an OpenMP fork/join costs microseconds, and far more when several processes share the
/// cores (spinning threads), while a product over 2¹⁷ multiply-adds takes tens of microseconds.
constexpr std::int64_t parallel_work = std::int64_t(1) << 17;

/// The fused path asks whether to stop between blocks of this many problems: often enough for a
/// prompt Ctrl-C, rarely enough that the barrier between blocks costs nothing measurable.
constexpr std::int64_t fused_block = 4096;

/// OpenMP over problems; each problem's loop is the same detail:: code the CUDA kernels run.
template <class Real>
class cpu_backend final : public lockstep_backend<Real> {
public:
  backend_kind kind() const override { return backend_kind::cpu; }

  std::string device_name() const override {
    return "cpu (" + std::to_string(omp_get_max_threads()) + " threads)";
  }

  void load(const least_squares_batch<Real>& batch, const lockstep_layout& layout,
            const std::vector<Real>& parameters) override {
    batch_ = &batch;
    const std::int64_t count = batch.batch_size;
    const int m = batch.rows, n = batch.unknowns, k = batch.rhs_count;
    const std::int64_t len = batch.unknowns_per_problem();
    arrays_.size_for(count, n, k, layout);
    arrays_.parameters = parameters;
    lambda_.resize(count);
    view_ = arrays_.view(count, n, k, layout.state_factor);
    activate_all();
    products_issued_ = 0;
    const auto v = view_;
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      lambda_[i] = batch.lambda_of(i);
      detail::normal_equations(batch.matrix.data() + i * batch.matrix_stride(),
                               batch.rhs.data() + i * batch.rhs_stride(), lambda_[i], m, n, k,
                               arrays_.gram.data() + i * n * n, arrays_.cross.data() + i * len);
      if (!batch.initial.empty()) std::copy_n(batch.initial.data() + i * len, len, v.state_of(i));
    }
  }

  void factorize(detail::factor_shift shift) override {
    const auto v = view_;
    const detail::active_set active = active_problems();
#pragma omp parallel for schedule(static) if (parallel())
    for (std::int64_t position = 0; position < active.count; ++position)
      detail::factor_problem(v, active[position], shift);
  }

  /// Skips stopped problems too (a test costs less than their product), except for the final
  /// product, which every problem needs.
  void apply_gram(detail::operand source) override {
    const auto v = view_;
    const detail::active_set active = active_problems();
    std::int64_t computed = 0;
#pragma omp parallel for schedule(static) if (parallel()) reduction(+ : computed)
    for (std::int64_t position = 0; position < active.count; ++position) {
      const std::int64_t i = active[position];
      if (!v.running(i) && source != detail::operand::state) continue;
      detail::gram_product(v.gram_of(i), v.operand_of(source, i), v.unknowns, v.rhs_count,
                           v.product_of(i));
      ++computed;
    }
    products_issued_ += computed;
  }

  void run_phase(const detail::step_settings<Real>& settings, detail::lockstep_phase phase,
                 int stage) override {
    const auto v = view_;
    const detail::active_set active = active_problems();
#pragma omp parallel for schedule(static) if (parallel())
    for (std::int64_t position = 0; position < active.count; ++position)
      detail::run_phase(v, settings, phase, stage, active[position]);
  }

  int most_stages() override {
    int most = 0;
    for (std::int64_t i = 0; i < view_.batch_size; ++i)
      if (view_.running(i)) most = std::max(most, int(view_.parameter_of(i, detail::stages)));
    return most;
  }

  std::int64_t batch_size() const override { return view_.batch_size; }

  void run_fused(const detail::step_settings<Real>& settings,
                 const std::function<bool()>& should_stop) override {
    const auto v = view_;
    std::int64_t computed = 0;
    for (std::int64_t first = 0; first < v.batch_size; first += fused_block) {
      if (should_stop && should_stop()) throw interrupted("the solve was interrupted");
      const std::int64_t end = std::min(v.batch_size, first + fused_block);
      // Problems finish at different times: hand them out in small dynamic chunks.
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : computed)
      for (std::int64_t i = first; i < end; ++i) {
        detail::fused_executor<Real> executor{v, settings, i};
        detail::run_sequence(executor, settings);
        computed += executor.products;
      }
    }
    products_issued_ += computed;
  }

  std::int64_t running_count() override {
    const detail::active_set active = active_problems();
    std::int64_t running = 0;
    for (std::int64_t position = 0; position < active.count; ++position)
      running += view_.running(active[position]);
    return running;
  }

  void compact(std::int64_t running) override {
    const detail::active_set active = active_problems();
    std::vector<std::int64_t> still_running;
    still_running.reserve(running);
    for (std::int64_t position = 0; position < active.count; ++position)
      if (view_.running(active[position])) still_running.push_back(active[position]);
    active_list_ = std::move(still_running);
    active_count_ = std::int64_t(active_list_.size());
  }

  void activate_all() override {
    active_list_.clear();
    active_count_ = view_.batch_size;
  }

  std::int64_t active_count() const override { return active_count_; }
  std::int64_t products_issued() const override { return products_issued_; }

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

  void collect(solve_result<Real>& result) override {
    const auto& batch = *batch_;
    const auto v = view_;
    const std::int64_t count = batch.batch_size;
    const int m = batch.rows, n = batch.unknowns, k = batch.rhs_count;
    const std::int64_t len = batch.unknowns_per_problem();
    result.objective.resize(count);
    result.solution.resize(count * len);
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      std::copy_n(v.state_of(i), len, result.solution.data() + i * len);
      result.objective[i] = detail::least_squares_objective(
          batch.matrix.data() + i * batch.matrix_stride(),
          batch.rhs.data() + i * batch.rhs_stride(), lambda_[i], v.state_of(i), m, n, k);
    }
    copy_per_problem_fields(arrays_, result);
  }

private:
  bool parallel() const { return active_count_ * view_.len() * view_.unknowns >= parallel_work; }
  detail::active_set active_problems() const {
    return {active_list_.empty() ? nullptr : active_list_.data(), active_count_};
  }

  const least_squares_batch<Real>* batch_ = nullptr;
  std::vector<std::int64_t> active_list_;  ///< empty: every problem is active
  std::int64_t active_count_ = 0;
  std::int64_t products_issued_ = 0;
  std::chrono::steady_clock::time_point clock_start_;
  std::vector<Real> lambda_;
  lockstep_arrays<host_array, Real> arrays_;
  detail::lockstep_view<Real> view_;
};

}  // namespace

template <class Real>
std::unique_ptr<lockstep_backend<Real>> make_cpu_backend() {
  return std::make_unique<cpu_backend<Real>>();
}

template std::unique_ptr<lockstep_backend<float>> make_cpu_backend<float>();
template std::unique_ptr<lockstep_backend<double>> make_cpu_backend<double>();

}  // namespace gradflow
