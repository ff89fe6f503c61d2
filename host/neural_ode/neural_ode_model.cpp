#include "neural_ode_model.hpp"

#include <algorithm>

#include "gradflow/detail/cpu_loops.hpp"

namespace gradflow::detail {

template <class Real>
std::vector<neural_ode_member<Real>> neural_ode_arrays<Real>::members_at(
    const Real* times_base, const Real* observations_base, const Real* differentiation_base,
    const Real* gram_base, const Real* multipliers_base, Real* scratch_base) const {
  std::vector<neural_ode_member<Real>> members(batch_size());
  const std::int64_t per_member = multipliers_per_member();
  for (std::int64_t i = 0; i < batch_size(); ++i) {
    const int s = series_of[i];
    neural_ode_member<Real>& m = members[i];
    m.nodes = nodes[s];
    m.times = times_base + times_offset[s];
    m.observations = observations_base + times_offset[s] * dimension;
    if (form == formulation::collocation) {
      m.differentiation = differentiation_base + differentiation_offset[s];
      m.differentiation_gram = gram_base + gram_offset[s];
    }
    m.weight_decay = weight_decay[i];
    m.rho = rho[i];
    m.multipliers = per_member > 0 ? multipliers_base + i * per_member : nullptr;
    m.max_step = max_step[i];
    m.scratch = scratch_base + scratch_offset[i];
  }
  return members;
}

template <class Real>
bool neural_ode_arrays<Real>::shares_times() const {
  for (std::size_t s = 1; s < nodes.size(); ++s)
    if (nodes[s] != nodes[0] ||
        !std::equal(times.begin() + times_offset[s], times.begin() + times_offset[s] + nodes[s],
                    times.begin()))
      return false;
  return true;
}

template <class Real>
std::vector<std::int64_t> neural_ode_arrays<Real>::observation_offsets() const {
  std::vector<std::int64_t> offsets(batch_size());
  for (std::int64_t i = 0; i < batch_size(); ++i)
    offsets[i] = times_offset[series_of[i]] * dimension;
  return offsets;
}

model_traits neural_ode_traits(formulation form) {
  model_traits traits;
  traits.quadratic = false;
  traits.curvature = form == formulation::collocation;
  traits.evaluates_value = true;
  traits.stall_window = 0;  // a training loss can plateau for long stretches
  traits.name = std::string("neural-ODE training (") + std::string(to_string(form)) + ")";
  traits.curvature_source = "the collocation formulation's Gauss–Newton matrix";
  return traits;
}

template <class Real>
std::int64_t neural_ode_work(const neural_ode_arrays<Real>& a) {
  const std::int64_t field = 2 * std::int64_t(a.hidden) * a.dimension;  // one NN evaluation
  std::int64_t work = 0;
  for (std::size_t s = 0; s < a.nodes.size(); ++s) {
    const std::int64_t n = a.nodes[s];
    const std::int64_t series_work =
        a.form == formulation::collocation
            ? 2 * n * n * a.dimension + 3 * n * field
            : sequential_steps(a.times.data() + a.times_offset[s], int(n),
                               a.max_step.empty() ? Real(1) : a.max_step[0]) *
                  12 * field;  // 4 stages forward; 4 again and 4 pull-backs in reverse
    work = std::max(work, series_work);
  }
  return work;
}

namespace {

template <class Real>
class neural_ode_on_cpu final : public problem_model<Real> {
public:
  explicit neural_ode_on_cpu(const neural_ode_arrays<Real>& arrays) : arrays_(arrays) {}

  model_traits traits() const override { return neural_ode_traits(arrays_.form); }
  std::int64_t batch_size() const override { return arrays_.batch_size(); }
  int unknowns() const override { return arrays_.unknowns; }
  int rhs_count() const override { return 1; }
  std::int64_t evaluation_work() const override { return neural_ode_work(arrays_); }

  void load(engine<Real>& engine, bool needs_curvature) override {
    const std::int64_t n = arrays_.unknowns;
    curvature_.assign(needs_curvature ? std::size_t(batch_size() * n * n) : 0, Real(0));
    engine.view().curvature = curvature_.data();
    scratch_.assign(std::size_t(arrays_.scratch_total), Real(0));
    members_ = arrays_.members_at(arrays_.times.data(), arrays_.observations.data(),
                                  arrays_.differentiation.data(), arrays_.gram.data(),
                                  arrays_.multipliers.data(), scratch_.data());
    engine.upload_initial(arrays_.initial.data());
  }

  std::int64_t evaluate(engine<Real>& engine, operand source) override {
    return evaluate_on_cpu(engine, evaluator(), source);
  }
  std::int64_t curvature_product(engine<Real>&, operand) override {
    throw invalid_argument("a neural-ODE batch has no fixed curvature to multiply by");
  }
  void prepare_curvature(engine<Real>& engine, factor_shift shift) override {
    prepare_curvature_on_cpu(engine, evaluator(), shift);
  }
  std::int64_t run_fused(engine<Real>& engine, const step_settings<Real>& settings,
                         const std::function<bool()>& should_stop) override {
    return run_fused_on_cpu(engine, evaluator(), settings, should_stop);
  }
  void objective(engine<Real>& engine, std::vector<Real>& values) override {
    const lockstep_view<Real> v = engine.view();
    const neural_ode_evaluator<Real> e = evaluator();
    values.resize(batch_size());
    sum_over_active({nullptr, batch_size()}, engine.parallel(),
                    [&](std::int64_t i) -> std::int64_t {
                      values[i] = e.value(v.state_of(i), nullptr, i);
                      return 0;
                    });
  }

private:
  neural_ode_evaluator<Real> evaluator() const {
    return {members_.data(), arrays_.form, arrays_.dimension, arrays_.hidden};
  }

  const neural_ode_arrays<Real>& arrays_;
  std::vector<Real> curvature_;
  std::vector<Real> scratch_;
  std::vector<neural_ode_member<Real>> members_;
};

}  // namespace

template <class Real>
std::unique_ptr<problem_model<Real>> make_neural_ode_model(const neural_ode_arrays<Real>& arrays,
                                                           backend_kind kind) {
  if (kind == backend_kind::cuda) return make_neural_ode_cuda_model(arrays);
  return std::make_unique<neural_ode_on_cpu<Real>>(arrays);
}

template struct neural_ode_arrays<double>;
template std::int64_t neural_ode_work(const neural_ode_arrays<double>&);
template std::unique_ptr<problem_model<double>> make_neural_ode_model(
    const neural_ode_arrays<double>&, backend_kind);

}  // namespace gradflow::detail
