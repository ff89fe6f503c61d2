#include "gradflow/solve.hpp"

#include <chrono>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "backend.hpp"
#include "gradflow/error.hpp"
#include "lockstep_driver.hpp"

namespace gradflow {
namespace {

void require(bool ok, const char* field, double value, const char* requirement) {
  if (ok) return;
  std::ostringstream message;
  message << "invalid " << field << " = " << value << ": must be " << requirement;
  throw invalid_argument(message.str());
}

double non_negative(const std::optional<double>& value, const char* field, double fallback) {
  const double v = value.value_or(fallback);
  require(std::isfinite(v) && v >= 0, field, v, "finite and >= 0");
  return v;
}

/// Validates the options and fills in the precision-aware defaults (README, "Defaults").
template <class Real>
detail::step_settings<Real> resolve_settings(const solve_options& options) {
  constexpr bool single = std::is_same_v<Real, float>;
  detail::step_settings<Real> s;
  s.method = detail::tableau_for<Real>(options.method);
  const bool can_adapt = s.method.has_error_estimate;
  if (options.control == step_control::error_control && !can_adapt) {
    throw invalid_argument(
        "invalid control = error_control for method = " + std::string(to_string(options.method)) +
        ": it has no embedded error estimate (use tsit5, or control fixed)");
  }
  s.adaptive = can_adapt && options.control != step_control::fixed;

  if (options.dt)
    require(std::isfinite(*options.dt) && *options.dt > 0, "dt", *options.dt, "finite and > 0");
  s.initial_dt = Real(options.dt.value_or(0));
  s.rtol = Real(non_negative(options.rtol, "rtol", single ? 1e-4 : 1e-8));
  s.atol = Real(non_negative(options.atol, "atol", single ? 1e-6 : 1e-10));
  if (s.adaptive) require(s.rtol > 0 || s.atol > 0, "rtol", s.rtol, "> 0 when atol is 0");
  s.gtol = Real(non_negative(options.gtol, "gtol", 0.0));
  // With neither gradient test given, stop at a relative reduction; a given gtol stands alone.
  const double rtol_grad =
      non_negative(options.rtol_grad, "rtol_grad", options.gtol ? 0.0 : (single ? 1e-4 : 1e-8));
  require(rtol_grad < 1, "rtol_grad", rtol_grad, "< 1");
  s.rtol_grad = Real(rtol_grad);
  require(options.t_end > 0, "t_end", options.t_end, "> 0 (infinity allowed)");
  s.t_end = Real(options.t_end);
  require(options.max_steps > 0, "max_steps", double(options.max_steps), "> 0");
  s.max_steps = options.max_steps;
  s.dt_min = Real(non_negative(options.dt_min, "dt_min", 0.0));
  require(options.divergence_ratio > 1, "divergence_ratio", options.divergence_ratio, "> 1");
  s.divergence_ratio = Real(options.divergence_ratio);
  require(options.check_interval >= 1, "check_interval", options.check_interval, ">= 1");
  s.beta1 = Real(7) / Real(10 * s.method.order);
  s.beta2 = Real(2) / Real(5 * s.method.order);
  return s;
}

template <class Real>
std::unique_ptr<lockstep_backend<Real>> choose_backend(backend_kind requested) {
  switch (requested) {
    case backend_kind::cpu:
      return make_cpu_backend<Real>();
    case backend_kind::cuda:
      return make_cuda_backend<Real>();
    case backend_kind::automatic:
      break;
  }
  return cuda_device_count() > 0 ? make_cuda_backend<Real>() : make_cpu_backend<Real>();
}

}  // namespace

template <class Real>
solve_result<Real> solve(const least_squares_batch<Real>& batch, const solve_options& options) {
  validate(batch);
  const auto settings = resolve_settings<Real>(options);
  auto backend = choose_backend<Real>(options.backend);

  const auto start = std::chrono::steady_clock::now();
  backend->load(batch, settings.method.stage_count);
  integrate(*backend, settings, options.check_interval);
  solve_result<Real> result;
  result.batch_size = batch.batch_size;
  result.unknowns = batch.unknowns;
  result.rhs_count = batch.rhs_count;
  backend->collect(result);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  run_summary& summary = result.summary;
  summary.backend = backend->kind();
  summary.device = backend->device_name();
  summary.batch_size = batch.batch_size;
  summary.wall_seconds = elapsed.count();
  for (status s : result.outcome) ++summary.status_counts[static_cast<int>(s)];
  for (std::int64_t evaluations : result.gradient_evaluations)
    summary.gradient_evaluations += evaluations;
  return result;
}

template solve_result<float> solve(const least_squares_batch<float>&, const solve_options&);
template solve_result<double> solve(const least_squares_batch<double>&, const solve_options&);

bool cuda_compiled() {
#ifdef GRADFLOW_WITH_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace gradflow
