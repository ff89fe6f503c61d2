#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

#include "gradflow/detail/learned_flow.hpp"
#include "gradflow/detail/run_plan.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"
#include "gradflow/hyperparameters.hpp"
#include "gradflow/methods.hpp"
#include "number_text.hpp"

// Options → what a run of one model needs: batch-wide settings, the per-problem table, the path
// and the storage, every field checked before any work.
namespace gradflow {
namespace {

void require(bool ok, const char* field, double value, const char* requirement) {
  if (!ok)
    throw invalid_argument("invalid " + std::string(field) + " = " + detail::number_text(value) +
                           ": must be " + requirement);
}

/// The registry's rows are the per-problem table's columns, in order.
constexpr bool registry_matches_slots() {
  for (std::size_t r = 0; r < hyperparameter_registry.size(); ++r)
    if (hyperparameter_registry[r].slot != int(r)) return false;
  return hyperparameter_registry.size() == std::size_t(detail::parameter_count);
}
static_assert(registry_matches_slots(), "hyperparameter_registry must follow detail::parameter");

/// Whether the range holds integers only (a count, or a choice among numbered options).
bool whole_range(value_range range) {
  return range != value_range::positive && range != value_range::non_negative &&
         range != value_range::fraction;
}

bool in_range(value_range range, double x, int fewest_stages) {
  switch (range) {
    case value_range::positive:
      return std::isfinite(x) && x > 0;
    case value_range::non_negative:
      return std::isfinite(x) && x >= 0;
    case value_range::fraction:
      return std::isfinite(x) && x >= 0 && x < 1;
    case value_range::stage_count:
      return x == std::floor(x) && x >= fewest_stages && x <= detail::max_chebyshev_stages;
    case value_range::whole_number:
      return x == std::floor(x) && x >= 0 && x <= 1e9;
    case value_range::record_count:
      return x == std::floor(x) && x >= 2 && x <= detail::lgf_max_record;
    case value_range::library_degree:
      return x == 1 || x == 2;
    case value_range::surrogate_target:
      return x == 0 || x == 1 || x == 2;
    case value_range::difference_order:
      return x == 1 || x == 2 || x == 4;
  }
  return false;
}

std::string requirement(value_range range, int fewest_stages) {
  switch (range) {
    case value_range::positive:
      return "finite and > 0";
    case value_range::non_negative:
      return "finite and >= 0";
    case value_range::fraction:
      return "in [0, 1)";
    case value_range::stage_count:
      return fewest_stages == 2 ? "an integer in [2, 10000] (rkc)" : "an integer in [1, 10000]";
    case value_range::whole_number:
      return "an integer in [0, 1e9]";
    case value_range::record_count:
      return "an integer in [2, " + std::to_string(detail::lgf_max_record) + "]";
    case value_range::library_degree:
      return "1 or 2";
    case value_range::surrogate_target:
      return "0 (tracked), 1 (strong) or 2 (weak)";
    case value_range::difference_order:
      return "1, 2 or 4";
  }
  return {};
}

/// Resolves one hyperparameter into its column of the per-problem table, checking its size and
/// every member's value — as given and as the working precision holds it: in f32, dt = 1e-50 is 0
/// and 1e50 is inf (a run that stops at once or rejects every step), momentum 0.999999999 is 1 (no
/// friction), and whole numbers above 2²⁴ round to others.
template <class Real>
void fill(std::vector<Real>& table, std::int64_t count, const hyperparameter_info& row,
          const hyperparameter& given, double fallback, int fewest_stages) {
  const std::string field(row.name);
  if (given.is_per_member() && std::int64_t(given.size()) != count) {
    throw dimension_mismatch(field + " has " + std::to_string(given.size()) +
                             " values; expected 1 or batch_size = " + std::to_string(count));
  }
  for (std::int64_t i = 0; i < count; ++i) {
    const double value = given.at(i, fallback);
    const Real held = Real(value);
    if (!std::isnan(value) || given.is_set()) {
      const bool fits = in_range(row.range, value, fewest_stages);
      const bool held_fits = in_range(row.range, double(held), fewest_stages) &&
                             (!whole_range(row.range) || double(held) == value);
      if (!fits || !held_fits) {
        std::ostringstream message;
        message << "invalid " << field << " = " << detail::number_text(value);
        if (given.is_per_member()) message << " for member " << i;
        message << ": must be " << requirement(row.range, fewest_stages);
        if (fits)
          message << " in single precision, where it is " << detail::number_text(double(held));
        throw invalid_argument(message.str());
      }
    }
    table[i * detail::parameter_count + row.slot] = held;
  }
}

/// lgf's window and fit (K, p, the target and the order have the registry's ranges): M > K,
/// rank < K, a target the method takes, and enough rows for the library of one mode.
template <class Real>
void check_learned_flow(const solve_options& o, const Real* own, std::int64_t i) {
  using detail::parameter;
  const auto member = [&](const hyperparameter& h) {
    return h.is_per_member() ? " for member " + std::to_string(i) : std::string();
  };
  const auto whole = [&](parameter p) { return std::to_string(std::int64_t(own[p])); };
  const Real record = own[parameter::lgf_record];
  if (!(own[parameter::lgf_window] > record))
    throw invalid_argument("invalid lgf_window = " + whole(parameter::lgf_window) +
                           member(o.lgf_window) +
                           ": must be > lgf_record = " + whole(parameter::lgf_record));
  if (own[parameter::lgf_rank] > record - 1)  // K snapshots span at most K − 1 modes
    throw invalid_argument("invalid lgf_rank = " + whole(parameter::lgf_rank) + member(o.lgf_rank) +
                           ": must be at most lgf_record − 1 = " +
                           std::to_string(std::int64_t(record) - 1) + " (0: the numerical rank)");
  const Real degree = own[parameter::lgf_degree];
  const Real target = own[parameter::lgf_target];
  const Real order = own[parameter::lgf_order];
  if (o.method == method::lgf_adam && target != 0)
    throw invalid_argument("invalid lgf_target = " + whole(parameter::lgf_target) +
                           member(o.lgf_target) +
                           " for method = lgf_adam: it fits the recorded gradients (0, tracked)");
  if (o.method == method::lgf_adam && own[parameter::lgf_threshold] != 0)
    throw invalid_argument("invalid lgf_threshold for method = lgf_adam" + member(o.lgf_threshold) +
                           ": it fits the recorded gradients by least squares (give 0)");
  const int rows =
      detail::fitted_rows(detail::surrogate_target(int(target)), int(order), int(record));
  const int needed = detail::library_size(1, int(degree));
  if (rows < needed)
    throw invalid_argument("invalid lgf_record = " + whole(parameter::lgf_record) +
                           member(o.lgf_record) + ": lgf_target = " + whole(parameter::lgf_target) +
                           " leaves rows = " + std::to_string(rows) +
                           " for the fit, fewer than the " + std::to_string(needed) +
                           " columns of one mode's degree-" + whole(parameter::lgf_degree) +
                           " library");
}

/// The per-problem table from the registry's rows, then the rules that tie rows together.
template <class Real>
std::vector<Real> resolve_parameters(const solve_options& o, std::int64_t count) {
  constexpr bool single = std::is_same_v<Real, float>;
  using detail::parameter;
  if (o.damping.is_set() && o.zeta.is_set())
    throw invalid_argument("zeta and damping both given: the heavy ball takes one of them");
  const int fewest_stages = o.method == method::rkc ? 2 : 1;
  std::vector<Real> table(count * detail::parameter_count);
  for (const hyperparameter_info& row : hyperparameter_registry) {
    const bool other_given =
        !row.unless_given.empty() && hyperparameter_named(o, row.unless_given)->is_set();
    const double fallback =
        other_given ? row.default_when_given : (single ? row.default_f32 : row.default_f64);
    fill(table, count, row, o.*(row.field), fallback, fewest_stages);
  }
  for (std::int64_t i = 0; i < count; ++i) {
    Real* own = table.data() + i * detail::parameter_count;
    // The heavy ball's phases read 1/m and c/m.
    own[parameter::inverse_mass] = 1 / own[parameter::inverse_mass];
    own[parameter::damping] *= own[parameter::inverse_mass];
    if (!(own[parameter::rtol] > 0 || own[parameter::atol] > 0))
      throw invalid_argument("invalid rtol = 0 with atol = 0" +
                             (o.rtol.is_per_member() || o.atol.is_per_member()
                                  ? " for member " + std::to_string(i)
                                  : std::string()) +
                             ": one of them must be > 0");
    if (is_learned_flow(o.method)) check_learned_flow(o, own, i);
  }
  return table;
}

/// Whether a run reads the curvature once, at the start: ζ's smallest curvature, the Chebyshev
/// methods' spectral bounds, or a default step without error control.
bool needs_start_curvature(const solve_options& options, bool adaptive) {
  return (options.dynamics == dynamics::heavy_ball && !options.damping.is_set()) ||
         is_chebyshev(options.method) || (!adaptive && !options.dt.is_set());
}

/// What a model cannot give: a fixed H and c (direct and cg solve H·u = c) and, without its
/// curvature, Newton flow and what reads the curvature at the start (ζ, the Chebyshev methods and
/// default steps). A model whose H is not fixed prepares it at the start only by the first
/// factorisation, which the linearly implicit method skips (its factorisations come each step).
/// Returns whether the run must prepare and factor H at the start.
template <class Real>
bool check_model_needs(const solve_options& options, const detail::step_settings<Real>& s,
                       const model_traits& traits) {
  const std::string method_name(to_string(options.method));
  if (!traits.quadratic && info_of(options.method).quadratic_only)
    throw invalid_argument("invalid method = " + method_name + " for " + traits.name +
                           ": it solves the linear system of a quadratic (least squares)");
  if (info_of(options.dynamics).needs_curvature && !traits.curvature)
    throw invalid_argument("invalid dynamics = " + std::string(to_string(options.dynamics)) +
                           " for " + traits.name + ": it needs the Hessian (" +
                           traits.curvature_source + ")");
  if (traits.quadratic || !needs_start_curvature(options, s.adaptive)) return false;
  if (traits.curvature && !s.linearly_implicit) return true;
  if (options.dynamics == dynamics::heavy_ball && !options.damping.is_set())
    throw invalid_argument("invalid zeta for " + traits.name +
                           ": give the heavy ball's damping (ζ needs the smallest curvature: " +
                           traits.curvature_source + ")");
  if (is_chebyshev(options.method))
    throw invalid_argument("invalid method = " + method_name + " for " + traits.name +
                           ": its stage count needs the curvature (" + traits.curvature_source +
                           ")");
  if (s.linearly_implicit)
    throw invalid_argument("dt is required for method = " + method_name + " on " + traits.name +
                           ": it factors ∇²f + I/dt at each step and bounds no curvature at the "
                           "start to default dt from (dt = 1: Levenberg–Marquardt with λ = 1)");
  throw invalid_argument("dt is required for method = " + method_name + " on " + traits.name +
                         " (no curvature bound to default it from)");
}

/// Validates the batch-wide options for a model with `traits`.
template <class Real>
detail::step_settings<Real> resolve_settings(const solve_options& options,
                                             const model_traits& traits) {
  const method_info& row = info_of(options.method);
  const dynamics_info& flow = info_of(options.dynamics);
  detail::step_settings<Real> s;
  s.method = options.method;
  s.dynamics = options.dynamics;
  s.kind = row.kind;
  s.evaluates_at = row.evaluates_at;
  s.work_vectors = row.work_vectors;
  if (is_learned_flow(options.method)) {
    // room for the longest window's record (checked later)
    double largest = hyperparameter_row("lgf_record")->default_f64;
    if (options.lgf_record.is_set())
      largest =
          *std::max_element(options.lgf_record.values().begin(), options.lgf_record.values().end());
    s.work_vectors = detail::lgf_work_vectors(
        options.method, options.dynamics,
        largest >= 2 ? int(std::min(largest, double(detail::lgf_max_record))) : 2);
  }
  s.rate = row.rate;
  const bool integrator = s.integrates();
  const std::string method_name(row.name);
  const std::string dynamics_name(flow.name);
  const bool newton_base = options.method == method::lgf && options.dynamics == dynamics::newton;
  if (!integrator && options.dynamics != dynamics::gradient && !newton_base) {
    throw invalid_argument("invalid dynamics = " + dynamics_name + " for method = " + method_name +
                           ": dynamics are integrated by euler, rk4, bs3, tsit5 or dp5 (lgf also "
                           "takes newton as its base)");
  }
  s.scheme = detail::tableau_for<Real>(row.tableau);
  const bool can_adapt = s.scheme.has_error_estimate;
  if (options.control == step_control::error_control && !can_adapt) {
    throw invalid_argument(
        "invalid control = error for method = " + method_name +
        ": it has no embedded error estimate (use bs3, tsit5 or dp5, or control fixed)");
  }
  s.linearly_implicit = row.kind == method_kind::linearly_implicit;
  s.chebyshev = row.kind == method_kind::chebyshev;
  if (s.chebyshev &&
      (options.dynamics != dynamics::gradient || options.control == step_control::descent))
    throw invalid_argument("invalid dynamics = " + dynamics_name +
                           " or control = " + std::string(to_string(options.control)) +
                           " for method = " + method_name +
                           ": it takes gradient dynamics at a step set by its stability length");
  if (s.linearly_implicit && options.dynamics != dynamics::gradient)
    throw invalid_argument("invalid dynamics = " + dynamics_name +
                           " for method = linearly_implicit: it integrates gradient flow");
  if (options.control == step_control::descent &&
      (!integrator || options.dynamics != dynamics::gradient))
    throw invalid_argument("invalid control = descent for method = " + method_name +
                           ", dynamics = " + dynamics_name +
                           ": descent control needs an integrator on gradient dynamics");
  const step_control control =
      options.control == step_control::method_default ? row.default_control : options.control;
  s.descent = control == step_control::descent;
  s.adaptive = can_adapt && control == step_control::error_control;
  require(options.t_end > 0, "t_end", options.t_end, "> 0 (infinity allowed)");
  s.t_end = Real(options.t_end);
  require(options.max_steps > 0, "max_steps", double(options.max_steps), "> 0");
  s.max_steps = options.max_steps;
  require(std::isfinite(options.dt_min) && options.dt_min >= 0, "dt_min", options.dt_min,
          "finite and >= 0");
  s.dt_min = Real(options.dt_min);
  s.stall_window = options.stall_window.value_or(traits.stall_window);
  require(s.stall_window >= 0, "stall_window", double(s.stall_window), ">= 0 (0: never stalled)");
  require(options.stall_factor > 0 && options.stall_factor <= 1, "stall_factor",
          options.stall_factor, "in (0, 1]");
  s.stall_factor = Real(options.stall_factor);
  require(options.divergence_ratio > 1, "divergence_ratio", options.divergence_ratio, "> 1");
  s.divergence_ratio = Real(options.divergence_ratio);
  require(options.check_interval >= 1, "check_interval", options.check_interval, ">= 1");
  require(options.compaction_threshold >= 0 && options.compaction_threshold <= 1,
          "compaction_threshold", options.compaction_threshold, "in [0, 1]");
  if (integrator) {
    s.pi_exponent_error = Real(7) / Real(10 * s.scheme.order);
    s.pi_exponent_memory = Real(2) / Real(5 * s.scheme.order);
  }
  const bool implicit_base = options.method == method::lgf_implicit;
  s.needs_factor =
      row.kind == method_kind::direct || s.linearly_implicit || implicit_base ||
      (s.chebyshev && !options.stages.is_set() && !options.dt.is_set()) || newton_base ||
      (integrator && (flow.needs_curvature ||
                      (options.dynamics == dynamics::heavy_ball && !options.damping.is_set())));
  s.factor_at_start = s.needs_factor && !implicit_base;  // its factors come every iteration
  if (check_model_needs(options, s, traits)) {
    s.needs_factor = true;  // ∇²f(u0) prepared; factored for ζ and the Chebyshev stage counts, but
    // a default step reads only its bound: an indefinite ∇²f(u0) is no error there
    s.factor_at_start |= (options.dynamics == dynamics::heavy_ball && !options.damping.is_set()) ||
                         is_chebyshev(options.method);
  }
  s.descent_by_value = traits.evaluates_value;
  return s;
}

template <class Real>
lockstep_layout layout_for(const solve_options& options,
                           const detail::step_settings<Real>& settings, bool fused, bool in_lanes) {
  lockstep_layout layout;
  const bool integrator = settings.integrates();
  layout.state_factor = integrator ? info_of(options.dynamics).state_factor : 1;
  // A run in lanes keeps its stages and stage input in lane blocks of its own.
  layout.work_count = in_lanes ? 0 : settings.work_count();
  layout.stage_input = !in_lanes;
  layout.needs_factor = settings.needs_factor;
  layout.curvature_product = settings.evaluates_at == evaluation_point::search_direction;
  layout.compaction = !fused && options.compaction_threshold > 0;
  layout.chebyshev = settings.chebyshev;
  layout.keeps_curvature = settings.linearly_implicit;
  return layout;
}

}  // namespace

namespace detail {

/// Whether the fused path on `backend` runs the model's lanes (models with lanes have a lane
/// limit).
template <class Real>
bool fused_runs_in_lanes(const model_traits& traits, const detail::step_settings<Real>& settings,
                         backend_kind backend) {
  return backend == backend_kind::cpu && traits.lane_unknowns_limit > 0 && settings.runs_in_lanes();
}

/// path = automatic: fused up to n = 32, or on the CPU up to the model's lane limit when the
/// method runs in lanes (measured: README, "Design"); never with a trace or a progress report.
template <class Real>
bool automatic_path_is_fused(const solve_options& options, int unknowns, const model_traits& traits,
                             const detail::step_settings<Real>& settings, backend_kind backend) {
  const int limit =
      fused_runs_in_lanes(traits, settings, backend) ? traits.lane_unknowns_limit : 32;
  return unknowns <= limit && options.trace_every == 0 && !options.on_progress;
}

template <class Real>
run_plan<Real> plan_run(const solve_options& options, std::int64_t count, int unknowns,
                        const model_traits& traits, backend_kind backend) {
  run_plan<Real> plan;
  plan.settings = gradflow::resolve_settings<Real>(options, traits);
  plan.parameters = gradflow::resolve_parameters<Real>(options, count);
  require(options.trace_every >= 0, "trace_every", options.trace_every, ">= 0");
  const bool kernel_compiled =
      backend != backend_kind::cuda ||
      covering_scope(scope_of(plan.settings), traits.gpu_fused_kernels).has_value();
  if (options.path == execution_path::fused && !kernel_compiled)
    throw invalid_argument(
        "invalid path = fused for method = " + std::string(to_string(options.method)) +
        " on the GPU: " + traits.name + " has no fused kernel compiled for it (gpu_fused_kernels)" +
        "; path = automatic runs it lockstep");
  plan.fused = options.path == execution_path::fused ||
               (options.path == execution_path::automatic && kernel_compiled &&
                automatic_path_is_fused(options, unknowns, traits, plan.settings, backend));
  if (plan.fused && options.trace_every > 0)
    throw invalid_argument(
        "invalid path = fused with trace_every > 0: a trace needs the lockstep path");
  plan.layout = layout_for(options, plan.settings, plan.fused,
                           plan.fused && fused_runs_in_lanes(traits, plan.settings, backend));
  plan.layout.values = traits.evaluates_value;
  return plan;
}

template run_plan<float> plan_run(const solve_options&, std::int64_t, int, const model_traits&,
                                  backend_kind);
template run_plan<double> plan_run(const solve_options&, std::int64_t, int, const model_traits&,
                                   backend_kind);

}  // namespace detail

}  // namespace gradflow
