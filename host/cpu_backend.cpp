#include <omp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "gradflow/detail/least_squares_math.hpp"

namespace gradflow {
namespace {

/// Below this batch size a step's work is smaller than an OpenMP fork/join (~µs): run serially.
constexpr std::int64_t parallel_threshold = 256;

/// OpenMP over problems; each problem's loop is the same detail:: code the CUDA kernels run.
template <class Real>
class cpu_backend final : public lockstep_backend<Real> {
public:
  backend_kind kind() const override { return backend_kind::cpu; }

  std::string device_name() const override {
    return "cpu (" + std::to_string(omp_get_max_threads()) + " threads)";
  }

  void load(const least_squares_batch<Real>& batch, int stage_count) override {
    batch_ = &batch;
    const std::int64_t count = batch.batch_size;
    const int m = batch.rows, n = batch.unknowns, k = batch.rhs_count;
    const std::int64_t len = batch.unknowns_per_problem();
    gram_.assign(count * n * n, Real(0));
    cross_.assign(count * len, Real(0));
    lambda_.resize(count);
    solution_ = batch.initial.empty() ? std::vector<Real>(count * len, Real(0)) : batch.initial;
    stage_input_.assign(count * len, Real(0));
    stages_.assign(count * len * stage_count, Real(0));
    outcome_.assign(count, 0);
    time_.assign(count, 0);
    dt_.assign(count, 0);
    dt_step_.assign(count, 0);
    error_previous_.assign(count, 0);
    gradient_norm_.assign(count, 0);
    gradient_norm_initial_.assign(count, 0);
    accepted_.assign(count, 0);
    rejected_.assign(count, 0);
    gradient_evaluations_.assign(count, 0);

#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      lambda_[i] = batch.lambda_of(i);
      detail::normal_equations(batch.matrix.data() + i * batch.matrix_stride(),
                               batch.rhs.data() + i * batch.rhs_stride(), lambda_[i], m, n, k,
                               gram_.data() + i * n * n, cross_.data() + i * len);
    }

    view_.batch_size = count;
    view_.unknowns = n;
    view_.rhs_count = k;
    view_.gram = gram_.data();
    view_.cross = cross_.data();
    view_.solution = solution_.data();
    view_.stage_input = stage_input_.data();
    view_.stages = stages_.data();
    view_.outcome = outcome_.data();
    view_.time = time_.data();
    view_.dt = dt_.data();
    view_.dt_step = dt_step_.data();
    view_.error_previous = error_previous_.data();
    view_.gradient_norm = gradient_norm_.data();
    view_.gradient_norm_initial = gradient_norm_initial_.data();
    view_.accepted = accepted_.data();
    view_.rejected = rejected_.data();
    view_.gradient_evaluations = gradient_evaluations_.data();
  }

  void evaluate_flow(flow_point point, int output_stage) override {
    const auto v = view_;
    const std::int64_t count = v.batch_size;
    const Real* input = point == flow_point::solution ? v.solution : v.stage_input;
    Real* output = v.stage(output_stage, 0);
#pragma omp parallel for schedule(static) if (count >= parallel_threshold)
    for (std::int64_t i = 0; i < count; ++i) detail::evaluate_flow(v, input, output, i);
  }

  void run_phase(const detail::step_settings<Real>& settings, detail::lockstep_phase phase,
                 int stage) override {
    const auto v = view_;
    const std::int64_t count = v.batch_size;
#pragma omp parallel for schedule(static) if (count >= parallel_threshold)
    for (std::int64_t i = 0; i < count; ++i) detail::run_phase(v, settings, phase, stage, i);
  }

  bool any_running() override {
    for (std::int64_t i = 0; i < view_.batch_size; ++i)
      if (view_.running(i)) return true;
    return false;
  }

  void collect(solve_result<Real>& result) override {
    const auto& batch = *batch_;
    const std::int64_t count = batch.batch_size;
    const int m = batch.rows, n = batch.unknowns, k = batch.rhs_count;
    result.objective.resize(count);
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      result.objective[i] = detail::least_squares_objective(
          batch.matrix.data() + i * batch.matrix_stride(), batch.rhs.data() + i * batch.rhs_stride(),
          lambda_[i],
          solution_.data() + i * n * k, m, n, k);
    }
    result.solution = solution_;
    result.outcome.resize(count);
    for (std::int64_t i = 0; i < count; ++i) result.outcome[i] = static_cast<status>(outcome_[i]);
    result.gradient_norm = gradient_norm_;
    result.time = time_;
    result.accepted_steps = accepted_;
    result.rejected_steps = rejected_;
    result.gradient_evaluations = gradient_evaluations_;
  }

private:
  const least_squares_batch<Real>* batch_ = nullptr;
  std::vector<Real> gram_, cross_, lambda_, solution_, stage_input_, stages_;
  std::vector<std::int32_t> outcome_;
  std::vector<Real> time_, dt_, dt_step_, error_previous_, gradient_norm_, gradient_norm_initial_;
  std::vector<std::int64_t> accepted_, rejected_, gradient_evaluations_;
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
