#include "least_squares_model.hpp"

#include <vector>

#include "gradflow/detail/cpu_loops.hpp"
#include "least_squares_lanes.hpp"
#include "least_squares_sums.hpp"

namespace gradflow::detail {
namespace {

/// solve_options::stall_window's default for least squares: ‖∇f‖ falls steadily unless the method
/// is stuck (see solve_options::stall_window).
constexpr std::int64_t least_squares_stall_window = 1000;

template <class Real>
class least_squares_on_cpu final : public least_squares_model<Real> {
public:
  using least_squares_model<Real>::least_squares_model;

  /// AᵀA and AᵀB once per problem (into the members' slots, or for an indexed view once per
  /// distinct problem and then copied to its members), then each member's λ on the diagonal.
  void load(engine<Real>& engine, bool) override {
    const std::int64_t count = batch_.batch_size;
    const int m = batch_.rows, n = batch_.unknowns, k = batch_.rhs_count;
    const std::int64_t len = batch_.unknowns_per_problem(), square = std::int64_t(n) * n;
    gram_.assign(count * square, Real(0));
    cross_.assign(count * len, Real(0));
    lockstep_view<Real>& v = engine.view();
    v.curvature = gram_.data();
    v.linear_term = cross_.data();
    if (batch_.initial) engine.upload_initial(batch_.initial);
    const lockstep_view<Real> view = v;
    const auto& batch = batch_;
    const distinct_problems distinct = distinct_problems_of(batch);
    const bool indexed = batch.problem_index != nullptr;
    const std::int64_t formed = indexed ? std::int64_t(distinct.problems.size()) : count;
    std::vector<Real> problem_gram, problem_cross;
    if (indexed) {
      problem_gram.resize(formed * square);
      problem_cross.resize(formed * len);
    }
    Real* gram_target = indexed ? problem_gram.data() : gram_.data();
    Real* cross_target = indexed ? problem_cross.data() : cross_.data();
    sum_over_active({nullptr, formed}, true, [&](std::int64_t d) -> std::int64_t {
      const std::int64_t p = indexed ? distinct.problems[d] : d;
      normal_equations_on_cpu(batch.matrix + p * batch.matrix_stride,
                              batch.rhs + p * batch.rhs_stride, m, n, k, gram_target + d * square,
                              cross_target + d * len);
      return 0;
    });
    sum_over_active({nullptr, count}, true, [&](std::int64_t i) -> std::int64_t {
      if (indexed) {
        const std::int64_t d = distinct.position_of_member[i];
        std::copy_n(problem_gram.data() + d * square, square, view.curvature_of(i));
        std::copy_n(problem_cross.data() + d * len, len, cross_.data() + i * len);
      }
      add_ridge(view.curvature_of(i), batch.lambda_of(i), n);
      reject_overflowed_normal_equations(view, i);
      return 0;
    });
  }

  std::int64_t evaluate(engine<Real>& engine, operand source) override {
    return evaluate_on_cpu(engine, least_squares_evaluator{}, source);
  }
  std::int64_t curvature_product(engine<Real>& engine, operand source) override {
    return curvature_product_on_cpu(engine, least_squares_evaluator{}, source);
  }
  std::int64_t run_fused(engine<Real>& engine, const step_settings<Real>& settings,
                         const std::function<bool()>& should_stop) override {
    if (settings.runs_in_lanes()) return run_least_squares_in_lanes(engine, settings, should_stop);
    return run_fused_on_cpu(engine, least_squares_evaluator{}, settings, should_stop);
  }

  void objective(engine<Real>& engine, std::vector<Real>& values) override {
    const lockstep_view<Real> v = engine.view();
    const auto& batch = batch_;
    values.resize(batch.batch_size);
    sum_over_active({nullptr, batch.batch_size}, true, [&](std::int64_t i) -> std::int64_t {
      values[i] = least_squares_objective_on_cpu(batch.matrix_of(i), batch.rhs_of(i),
                                                 batch.lambda_of(i), v.state_of(i), batch.rows,
                                                 batch.unknowns, batch.rhs_count);
      return 0;
    });
  }

private:
  using least_squares_model<Real>::batch_;
  std::vector<Real> gram_, cross_;
};

}  // namespace

model_traits least_squares_traits() {
  model_traits traits;
  traits.quadratic = true;
  traits.curvature = true;
  traits.evaluates_value = false;
  traits.stall_window = least_squares_stall_window;
  // Each evaluation is a device copy of C and one cuBLAS GEMM (pointer arrays rebuilt only when
  // the active set changes).
  traits.step_capture = true;
  // Fused in lanes beats lockstep on the CPU by 4.7–6.9× at every measured n ≤ 128 (k = 1, 2, 16;
  // README, "Design"); larger n was not measured.
  traits.lane_unknowns_limit = 128;
  traits.name = "least squares";
  traits.curvature_source = "G = AᵀA + λI";
  return traits;
}

template <class Real>
std::unique_ptr<problem_model<Real>> make_least_squares_model(const least_squares_view<Real>& batch,
                                                              backend_kind kind) {
  if (kind == backend_kind::cuda) return make_least_squares_cuda_model(batch);
  return std::make_unique<least_squares_on_cpu<Real>>(batch);
}

template std::unique_ptr<problem_model<float>> make_least_squares_model(
    const least_squares_view<float>&, backend_kind);
template std::unique_ptr<problem_model<double>> make_least_squares_model(
    const least_squares_view<double>&, backend_kind);

}  // namespace gradflow::detail
