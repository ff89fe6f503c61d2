#include <omp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "gradflow/detail/least_squares_math.hpp"
#include "lockstep_arrays.hpp"

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
    arrays_.size_for(count, n, k, stage_count);
    lambda_.resize(count);
    if (!batch.initial.empty()) arrays_.solution = batch.initial;
    view_ = arrays_.view(count, n, k);

#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      lambda_[i] = batch.lambda_of(i);
      detail::normal_equations(batch.matrix.data() + i * batch.matrix_stride(),
                               batch.rhs.data() + i * batch.rhs_stride(), lambda_[i], m, n, k,
                               arrays_.gram.data() + i * n * n, arrays_.cross.data() + i * len);
    }
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
      result.objective[i] =
          detail::least_squares_objective(batch.matrix.data() + i * batch.matrix_stride(),
                                          batch.rhs.data() + i * batch.rhs_stride(), lambda_[i],
                                          arrays_.solution.data() + i * n * k, m, n, k);
    }
    result.solution = arrays_.solution;
    result.outcome.resize(count);
    for (std::int64_t i = 0; i < count; ++i)
      result.outcome[i] = static_cast<status>(arrays_.outcome[i]);
    result.gradient_norm = arrays_.gradient_norm;
    result.time = arrays_.time;
    result.accepted_steps = arrays_.accepted;
    result.rejected_steps = arrays_.rejected;
    result.gradient_evaluations = arrays_.gradient_evaluations;
  }

private:
  const least_squares_batch<Real>* batch_ = nullptr;
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
