#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "../number_text.hpp"
#include "../random_stream.hpp"
#include "adaptive_rk.hpp"
#include "gradflow/collocation.hpp"
#include "gradflow/detail/run_plan.hpp"
#include "gradflow/error.hpp"
#include "gradflow/hyperparameters.hpp"
#include "gradflow/methods.hpp"
#include "gradflow/neural_ode.hpp"
#include "neural_ode_model.hpp"

namespace gradflow {

std::string_view to_string(formulation f) {
  return f == formulation::collocation ? "collocation" : "sequential";
}
std::string_view to_string(constraint_method c) {
  return c == constraint_method::penalty ? "penalty" : "augmented_lagrangian";
}
formulation parse_formulation(std::string_view text, std::string_view field) {
  for (formulation f : {formulation::collocation, formulation::sequential})
    if (text == to_string(f)) return f;
  throw invalid_argument("invalid " + std::string(field) + " = " + std::string(text) +
                         ": expected collocation or sequential");
}
constraint_method parse_constraint_method(std::string_view text, std::string_view field) {
  for (constraint_method c : {constraint_method::penalty, constraint_method::augmented_lagrangian})
    if (text == to_string(c)) return c;
  throw invalid_argument("invalid " + std::string(field) + " = " + std::string(text) +
                         ": expected penalty or augmented_lagrangian");
}

namespace {

using detail::neural_field;
using detail::number_text;

void require(bool ok, const std::string& message) {
  if (!ok) throw invalid_argument(message);
}

void validate_series(const time_series& s, const std::string& field, int least) {
  require(s.dimension >= 1 && s.dimension <= detail::max_field_dimension,
          "invalid " + field + " dimension = " + std::to_string(s.dimension) + ": must be in [1, " +
              std::to_string(detail::max_field_dimension) + "]");
  require(s.size() >= least, "invalid " + field + ": " + std::to_string(s.size()) +
                                 " samples; at least " + std::to_string(least) + " needed");
  require(s.values.size() == std::size_t(s.size()) * s.dimension,
          "invalid " + field + ": " + std::to_string(s.values.size()) + " values for " +
              std::to_string(s.size()) + " times of dimension " + std::to_string(s.dimension));
  // The messages are built only for a sample that fails (a series may hold millions).
  for (int j = 0; j < s.size(); ++j) {
    if (!std::isfinite(s.times[j]))
      throw invalid_argument("invalid " + field + " time " + std::to_string(j) + " = " +
                             number_text(s.times[j]));
    if (j > 0 && !(s.times[j] > s.times[j - 1]))
      throw invalid_argument("invalid " + field + " times: t[" + std::to_string(j) +
                             "] = " + number_text(s.times[j]) + " is not after t[" +
                             std::to_string(j - 1) + "] = " + number_text(s.times[j - 1]));
  }
  for (std::size_t e = 0; e < s.values.size(); ++e)
    if (!std::isfinite(s.values[e]))
      throw invalid_argument("invalid " + field + " value at sample " +
                             std::to_string(e / s.dimension) + " = " + number_text(s.values[e]));
}

/// Collocation's D is exact only at Chebyshev points of the second kind (gradflow/collocation.hpp).
bool at_chebyshev_points(const time_series& s) {
  const std::vector<double> points = chebyshev_points(s.size(), s.times.front(), s.times.back());
  const double span = s.times.back() - s.times.front();
  for (int j = 0; j < s.size(); ++j)
    if (std::fabs(points[j] - s.times[j]) > 1e-6 * span) return false;
  return true;
}

void validate(const training_spec& spec) {
  require(spec.hidden >= 1 && spec.hidden <= detail::max_hidden_width,
          "invalid hidden = " + std::to_string(spec.hidden) + ": must be in [1, " +
              std::to_string(detail::max_hidden_width) + "]");
  require(!spec.series.empty(), "invalid training: no series");
  require(!spec.members.empty(), "invalid training: no members");
  const bool collocation = spec.form == formulation::collocation;
  for (std::size_t s = 0; s < spec.series.size(); ++s) {
    const training_series& series = spec.series[s];
    const std::string place = "series " + std::to_string(s);
    const std::string field = series.data.source.empty() ? place : series.data.source;
    validate_series(series.data, field, collocation ? 3 : 2);
    require(series.data.dimension == spec.series[0].data.dimension,
            "invalid " + field + " dimension = " + std::to_string(series.data.dimension) +
                ": every series must have series 0's " +
                std::to_string(spec.series[0].data.dimension));
    if (collocation) {
      require(series.data.size() == spec.series[0].data.size(),
              "invalid " + field + ": " + std::to_string(series.data.size()) +
                  " samples; collocation trains every member on series 0's " +
                  std::to_string(spec.series[0].data.size()));
      require(at_chebyshev_points(series.data),
              "invalid " + field + " times: collocation needs samples at Chebyshev points of the " +
                  "second kind, t_j = (a + b)/2 − (b − a)/2·cos(πj/(N − 1)) on [a, b] (use " +
                  "formulation sequential for other times)");
    }
    for (const time_series* judge : {&series.truth, &series.test})
      if (judge->size() > 0) {
        const std::string name = !judge->source.empty()
                                     ? judge->source
                                     : place + (judge == &series.truth ? " truth" : " test");
        validate_series(*judge, name, 1);
        require(judge->dimension == series.data.dimension,
                "invalid " + name + " dimension = " + std::to_string(judge->dimension) +
                    ": must match the data's " + std::to_string(series.data.dimension));
      }
  }
  for (std::size_t i = 0; i < spec.members.size(); ++i) {
    const training_member& m = spec.members[i];
    const auto who = [i] { return " of member " + std::to_string(i); };
    if (!(m.series >= 0 && m.series < int(spec.series.size())))
      throw invalid_argument("invalid series = " + std::to_string(m.series) + who() +
                             ": there are " + std::to_string(spec.series.size()) + " series");
    if (!(std::isfinite(m.weight_decay) && m.weight_decay >= 0))
      throw invalid_argument("invalid weight_decay = " + number_text(m.weight_decay) + who() +
                             ": must be finite and >= 0");
    if (!(std::isfinite(m.rho) && m.rho > 0))
      throw invalid_argument("invalid rho = " + number_text(m.rho) + who() +
                             ": must be finite and > 0");
  }
  require(spec.rounds >= 1, "invalid rounds = " + std::to_string(spec.rounds) + ": must be >= 1");
  require(std::isfinite(spec.rho_growth) && spec.rho_growth >= 1,
          "invalid rho_growth = " + number_text(spec.rho_growth) + ": must be finite and >= 1");
  require(
      std::isfinite(spec.constraint_tolerance) && spec.constraint_tolerance > 0,
      "invalid constraint_tolerance = " + number_text(spec.constraint_tolerance) + ": must be > 0");
  require(std::isfinite(spec.bandwidth) && spec.bandwidth > 0,
          "invalid bandwidth = " + number_text(spec.bandwidth) + ": must be finite and > 0");
  require(std::isfinite(spec.max_step) && spec.max_step > 0,
          "invalid max_step = " + number_text(spec.max_step) + ": must be finite and > 0");
  if (!collocation)
    for (std::size_t s = 0; s < spec.series.size(); ++s) {
      const time_series& data = spec.series[s].data;
      const double steps = (data.times.back() - data.times.front()) / spec.max_step + data.size();
      require(steps <= 1e8, "invalid max_step = " + number_text(spec.max_step) + ": series " +
                                std::to_string(s) + " would take about " +
                                number_text(std::ceil(steps)) + " RK4 steps (at most 1e8)");
    }
  require(
      spec.rollout_rtol > 0 && spec.rollout_atol > 0 && spec.rollout_max_steps > 0,
      "invalid rollout tolerances: rollout_rtol, rollout_atol and rollout_max_steps must be > 0");
  if (!collocation)
    require(spec.solver.method != method::linearly_implicit,
            "invalid method = " + std::string(to_string(spec.solver.method)) +
                " for formulation sequential: it needs the Gauss–Newton matrix, which the "
                "collocation formulation gives");
}

/// Xavier-normal weights (std √(2/(fan_in + fan_out))) and N(0, 0.1²) biases, as the seed study's
/// code draws them, from the member's own stream.
std::vector<double> initial_weights(std::uint64_t seed, int d, int hidden) {
  detail::problem_stream stream(seed, 0);
  std::vector<double> theta(neural_field<double>::parameter_count(d, hidden));
  const double scale = std::sqrt(2.0 / (d + hidden));
  double* p = theta.data();
  for (int e = 0; e < hidden * d; ++e) *p++ = scale * stream.normal();
  for (int e = 0; e < hidden; ++e) *p++ = 0.1 * stream.normal();
  for (int e = 0; e < hidden * d; ++e) *p++ = scale * stream.normal();
  for (int e = 0; e < d; ++e) *p++ = 0.1 * stream.normal();
  return theta;
}

/// Local linear regression with the Epanechnikov kernel K(u) = ¾(1 − u²) of width `bandwidth`
/// (DiffEqFlux's collocate_data, as the seed study starts its node states); a sample with fewer
/// than two neighbours keeps its value.
std::vector<double> smoothed(const time_series& s, double bandwidth) {
  std::vector<double> result(s.values);
  for (int i = 0; i < s.size(); ++i) {
    double w0 = 0, w1 = 0, w2 = 0;
    for (int j = 0; j < s.size(); ++j) {
      const double u = (s.times[j] - s.times[i]) / bandwidth;
      if (std::fabs(u) >= 1) continue;
      const double w = 0.75 * (1 - u * u);
      const double offset = s.times[j] - s.times[i];
      w0 += w;
      w1 += w * offset;
      w2 += w * offset * offset;
    }
    const double determinant = w0 * w2 - w1 * w1;
    if (!(determinant > 1e-12 * w0 * w2)) continue;
    for (int c = 0; c < s.dimension; ++c) {
      double m0 = 0, m1 = 0;
      for (int j = 0; j < s.size(); ++j) {
        const double u = (s.times[j] - s.times[i]) / bandwidth;
        if (std::fabs(u) >= 1) continue;
        const double w = 0.75 * (1 - u * u);
        m0 += w * s.values[j * s.dimension + c];
        m1 += w * (s.times[j] - s.times[i]) * s.values[j * s.dimension + c];
      }
      result[i * s.dimension + c] = (w2 * m0 - w1 * m1) / determinant;  // the intercept
    }
  }
  return result;
}

/// The series' data and, for collocation, D and its Gram matrix, into the flat arrays.
void add_series(detail::neural_ode_arrays<double>& a, const time_series& s) {
  const int n = s.size();
  a.nodes.push_back(n);
  a.times_offset.push_back(std::int64_t(a.times.size()));
  a.times.insert(a.times.end(), s.times.begin(), s.times.end());
  a.observations.insert(a.observations.end(), s.values.begin(), s.values.end());
  a.differentiation_offset.push_back(std::int64_t(a.differentiation.size()));
  a.gram_offset.push_back(std::int64_t(a.gram.size()));
  if (a.form != formulation::collocation) return;
  const std::vector<double> d = differentiation_matrix(s.times);
  a.differentiation.insert(a.differentiation.end(), d.begin(), d.end());
  std::vector<double> gram(std::size_t(n - 1) * (n - 1), 0.0);
  for (int i = 1; i < n; ++i)
    for (int j = 1; j < n; ++j) {
      const double dij = d[std::size_t(i) * n + j];
      for (int k = 1; k < n; ++k)
        gram[std::size_t(j - 1) * (n - 1) + k - 1] += dij * d[std::size_t(i) * n + k];
    }
  a.gram.insert(a.gram.end(), gram.begin(), gram.end());
}

/// Training's first steps where the user gives none: Levenberg–Marquardt's λ = 1/h = 1, Adam's
/// learning rate 1e-3 of the seed study's sequential training, L-BFGS's first step −∇f (then
/// halved until f falls).
solve_options with_training_defaults(const solve_options& given) {
  solve_options options = given;
  if (!options.dt.is_set() && options.method == method::linearly_implicit) options.dt = 1.0;
  if (!options.dt.is_set() && options.method == method::adam) options.dt = 1e-3;
  if (!options.dt.is_set() && options.method == method::lbfgs) options.dt = 1.0;  // backtracked
  return options;
}

/// ‖∇f‖ of every member at its start (the first round's objective).
std::vector<double> start_gradient_norms(const detail::neural_ode_arrays<double>& arrays) {
  std::vector<double> scratch(std::size_t(arrays.scratch_total));
  const std::vector<detail::neural_ode_member<double>> members = arrays.members_at(
      arrays.times.data(), arrays.observations.data(), arrays.differentiation.data(),
      arrays.gram.data(), arrays.multipliers.data(), scratch.data());
  const detail::neural_ode_evaluator<double> evaluator{members.data(), arrays.form,
                                                       arrays.dimension, arrays.hidden};
  std::vector<double> norms(arrays.batch_size());
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t i = 0; i < arrays.batch_size(); ++i) {
    std::vector<double> gradient(arrays.unknowns);
    evaluator.value(arrays.initial.data() + i * arrays.unknowns, gradient.data(), i);
    double sum = 0;
    for (double g : gradient) sum += g * g;
    norms[i] = std::sqrt(sum);
  }
  return norms;
}

/// One gradient test for every round: gtol_i = max(gtol, rtol_grad·‖∇f‖ at the member's start).
/// A round's own start lies near the last round's answer, so a test relative to it would ask
/// later rounds for ever smaller gradients.
solve_options with_gradient_threshold(const solve_options& given,
                                      const std::vector<double>& start_norms) {
  solve_options options = given;
  const hyperparameter_info& gtol = *hyperparameter_row("gtol");
  const hyperparameter_info& rtol_grad = *hyperparameter_row("rtol_grad");
  std::vector<double> thresholds(start_norms.size());
  for (std::size_t i = 0; i < start_norms.size(); ++i) {
    const double absolute = given.gtol.at(std::int64_t(i), gtol.default_f64);
    const double relative = given.rtol_grad.at(
        std::int64_t(i), given.gtol.is_set() ? rtol_grad.default_when_given : training_rtol_grad);
    thresholds[i] = std::max(absolute, relative * start_norms[i]);
  }
  options.gtol = thresholds;
  options.rtol_grad = 0.0;
  return options;
}

/// solve_options whose per-member hyperparameters are those of `members`.
solve_options options_for(const solve_options& base, const std::vector<std::int64_t>& members) {
  solve_options options = base;
  for (const hyperparameter_info& row : hyperparameter_registry) {
    const hyperparameter& all = base.*row.field;
    if (!all.is_per_member()) continue;
    std::vector<double> values;
    for (std::int64_t i : members) values.push_back(all.values()[std::size_t(i)]);
    options.*row.field = hyperparameter(values);
  }
  return options;
}

/// RMS over i ≥ 1 of c_i = (D Y)_i − NN(Y_i), into `residuals` ((N−1)·d).
double constraint_residuals(const detail::neural_ode_arrays<double>& a, int series, const double* z,
                            std::vector<double>& residuals) {
  const int n = a.nodes[series], d = a.dimension;
  const double* observations = a.observations.data() + a.times_offset[series] * d;
  const double* dm = a.differentiation.data() + a.differentiation_offset[series];
  const neural_field<double> field{d, a.hidden, z + (n - 1) * d};
  const auto node = [&](int j) { return j == 0 ? observations : z + (j - 1) * d; };
  residuals.assign(std::size_t(n - 1) * d, 0.0);
  std::vector<double> activation(a.hidden), out(d);
  double sum = 0;
  for (int i = 1; i < n; ++i) {
    field.evaluate(node(i), activation.data(), out.data());
    for (int c = 0; c < d; ++c) {
      double derivative = 0;
      for (int j = 0; j < n; ++j) derivative += dm[std::size_t(i) * n + j] * node(j)[c];
      residuals[(i - 1) * d + c] = derivative - out[c];
      sum += (derivative - out[c]) * (derivative - out[c]);
    }
  }
  return std::sqrt(sum / residuals.size());
}

double mean_squared_error(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (std::size_t e = 0; e < a.size(); ++e) sum += (a[e] - b[e]) * (a[e] - b[e]);
  return sum / double(a.size());
}

/// The rollout's MSE against `reference` from its first value (+∞ for a failed rollout).
double rollout_error(const training_spec& spec, const std::vector<double>& theta, int d,
                     const time_series& reference, status& outcome) {
  const std::vector<double> start(reference.values.begin(), reference.values.begin() + d);
  const rollout path = roll_out(theta, d, spec.hidden, start, reference.times, spec.rollout_rtol,
                                spec.rollout_atol, spec.rollout_max_steps);
  outcome = path.outcome;
  if (outcome != status::converged) return std::numeric_limits<double>::infinity();
  return mean_squared_error(path.path.values, reference.values);
}

}  // namespace

rollout roll_out(const std::vector<double>& theta, int dimension, int hidden,
                 const std::vector<double>& start, const std::vector<double>& times, double rtol,
                 double atol, std::int64_t max_steps) {
  require(int(theta.size()) == neural_field<double>::parameter_count(dimension, hidden),
          "invalid theta: " + std::to_string(theta.size()) +
              " values for d = " + std::to_string(dimension) + ", H = " + std::to_string(hidden));
  const neural_field<double> field{dimension, hidden, theta.data()};
  std::vector<double> activation(hidden);
  const auto rhs = [&](double, const double* y, double* dy) {
    field.evaluate(y, activation.data(), dy);
  };
  rollout result;
  result.path.dimension = dimension;
  result.path.times = times;
  result.outcome =
      detail::integrate_adaptive(rhs, start, times, rtol, atol, max_steps, result.path.values);
  return result;
}

void check_training(const training_spec& spec) {
  validate(spec);
  const int d = spec.series[0].data.dimension;
  const int n = (spec.form == formulation::collocation ? (spec.series[0].data.size() - 1) * d : 0) +
                neural_field<double>::parameter_count(d, spec.hidden);
  detail::plan_run<double>(with_training_defaults(spec.solver), std::int64_t(spec.members.size()),
                           n, detail::neural_ode_traits(spec.form), spec.solver.backend);
}

training_result train(const training_spec& spec, solver_context& context) {
  const auto started = std::chrono::steady_clock::now();
  check_training(spec);
  const bool collocation = spec.form == formulation::collocation;
  const int d = spec.series[0].data.dimension;
  const int p_count = neural_field<double>::parameter_count(d, spec.hidden);
  const int nodes = spec.series[0].data.size();
  const int free = collocation ? (nodes - 1) * d : 0;
  const int n = free + p_count;
  const std::int64_t count = std::int64_t(spec.members.size());

  // The series once; each round's batch only re-points its members.
  detail::neural_ode_arrays<double> arrays;
  arrays.form = spec.form;
  arrays.dimension = d;
  arrays.hidden = spec.hidden;
  arrays.unknowns = n;
  for (const training_series& s : spec.series) add_series(arrays, s.data);
  std::vector<std::vector<double>> start_states;
  if (collocation)
    for (const training_series& s : spec.series)
      start_states.push_back(smoothed(s.data, spec.bandwidth));

  std::vector<double> unknowns(std::size_t(count) * n);
  std::vector<double> rho(count), multipliers(collocation ? std::size_t(count) * free : 0, 0.0);
  std::vector<double> violation(count, std::numeric_limits<double>::infinity());
  training_result result;
  result.members.resize(count);
  for (std::int64_t i = 0; i < count; ++i) {
    const training_member& m = spec.members[i];
    double* z = unknowns.data() + i * n;
    if (collocation) std::copy_n(start_states[m.series].begin() + d, free, z);
    const std::vector<double> theta = initial_weights(m.seed, d, spec.hidden);
    std::copy(theta.begin(), theta.end(), z + free);
    rho[i] = m.rho;
  }

  const bool lagrangian = spec.constraints == constraint_method::augmented_lagrangian;
  // Each round's batch: the members still training, from their current unknowns.
  const auto gather = [&](const std::vector<std::int64_t>& members) {
    arrays.series_of.clear();
    arrays.weight_decay.clear();
    arrays.rho.clear();
    arrays.max_step.clear();
    arrays.scratch_offset.clear();
    arrays.initial.clear();
    arrays.multipliers.clear();
    arrays.scratch_total = 0;
    for (std::int64_t i : members) {
      const training_member& m = spec.members[i];
      arrays.series_of.push_back(m.series);
      arrays.weight_decay.push_back(m.weight_decay);
      arrays.rho.push_back(rho[i]);
      arrays.max_step.push_back(spec.max_step);
      arrays.scratch_offset.push_back(arrays.scratch_total);
      arrays.scratch_total +=
          collocation
              ? detail::collocation_scratch(nodes, d, spec.hidden)
              : detail::sequential_scratch(arrays.times.data() + arrays.times_offset[m.series],
                                           arrays.nodes[m.series], d, spec.hidden, spec.max_step);
      arrays.initial.insert(arrays.initial.end(), unknowns.begin() + i * n,
                            unknowns.begin() + (i + 1) * n);
      if (collocation && lagrangian)
        arrays.multipliers.insert(arrays.multipliers.end(), multipliers.begin() + i * free,
                                  multipliers.begin() + (i + 1) * free);
    }
  };
  std::vector<std::int64_t> active(count);
  for (std::int64_t i = 0; i < count; ++i) active[i] = i;
  gather(active);
  const solve_options base =
      with_gradient_threshold(with_training_defaults(spec.solver), start_gradient_norms(arrays));

  const int rounds = collocation ? spec.rounds : 1;
  std::vector<double> residuals;
  for (int round = 0; round < rounds && !active.empty(); ++round) {
    if (round > 0) gather(active);
    const solve_options options = options_for(base, active);
    auto& engine = context.engine_for<double>(options.backend, true, "");
    const auto model = detail::make_neural_ode_model(arrays, engine.kind());
    const solve_result<double> solved = detail::solve_model(*model, engine, options);
    result.runs.push_back(solved.summary);

    std::vector<std::int64_t> still;
    for (std::size_t position = 0; position < active.size(); ++position) {
      const std::int64_t i = active[position];
      trained_member& member = result.members[i];
      member.outcome = solved.outcome[position];
      member.rounds = round + 1;
      member.iterations += solved.accepted_steps[position] + solved.rejected_steps[position];
      member.gradient_evaluations += solved.gradient_evaluations[position];
      member.loss = solved.objective[position];  // sequential: the training loss itself
      // A diverged member keeps its last finite unknowns (and reports f where it diverged).
      if (member.outcome == status::diverged || member.outcome == status::invalid_input) continue;
      std::copy_n(solved.solution.begin() + position * n, n, unknowns.begin() + i * n);
      if (!collocation) continue;
      const int series = spec.members[i].series;
      const double previous = violation[i];
      violation[i] = constraint_residuals(arrays, series, unknowns.data() + i * n, residuals);
      const time_series& data = spec.series[series].data;
      const double scale = std::max(
          1.0, std::sqrt(mean_squared_error(data.values, std::vector<double>(data.values.size()))));
      if (violation[i] <= spec.constraint_tolerance * scale) continue;
      if (lagrangian) {
        for (int e = 0; e < free; ++e) multipliers[i * free + e] += rho[i] * residuals[e];
        if (violation[i] > 0.25 * previous) rho[i] *= spec.rho_growth;
      } else {
        rho[i] *= spec.rho_growth;
      }
      still.push_back(i);
    }
    active = still;
  }
  for (std::int64_t i : active) {  // the rounds ran out first
    if (result.members[i].outcome == status::converged)
      result.members[i].outcome = status::constraint_unmet;
  }

  // Loss, constraint and rollouts per member.
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t i = 0; i < count; ++i) {
    const training_member& m = spec.members[i];
    const training_series& series = spec.series[m.series];
    trained_member& member = result.members[i];
    const double* z = unknowns.data() + i * n;
    member.theta.assign(z + free, z + n);
    double weights = 0;
    for (double w : member.theta) weights += w * w;
    if (collocation) {
      member.states.assign(series.data.values.begin(), series.data.values.begin() + d);
      member.states.insert(member.states.end(), z, z + free);
      member.loss =
          mean_squared_error(member.states, series.data.values) + m.weight_decay * weights;
      std::vector<double> own_residuals;
      member.constraint = constraint_residuals(arrays, m.series, z, own_residuals);
    }
    const time_series& truth = series.truth.size() > 0 ? series.truth : series.data;
    member.train_mse = rollout_error(spec, member.theta, d, truth, member.train_rollout);
    if (series.test.size() > 0)
      member.test_mse = rollout_error(spec, member.theta, d, series.test, member.test_rollout);
    else
      member.test_mse = std::numeric_limits<double>::quiet_NaN();
  }
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

training_result train(const training_spec& spec) {
  solver_context context;
  return train(spec, context);
}

}  // namespace gradflow
