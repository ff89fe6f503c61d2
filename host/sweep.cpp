#include "gradflow/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>
#include <string>

#include "gradflow/error.hpp"
#include "gradflow/solve.hpp"

namespace gradflow {
namespace {

bool is_known_axis(const std::string& name) {
  return name == "lr" || name == "lambda" || name == "u0_seed" ||
         hyperparameter_named(solve_options{}, name) != nullptr;
}

std::string known_axes() {
  std::string names = "lr, lambda, u0_seed";
  for (std::string_view name : hyperparameter_names()) names += ", " + std::string(name);
  return names;
}

double parse_number(std::string_view axis, std::string_view text) {
  const std::string copy(text);
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(copy, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != copy.size() || !std::isfinite(value))
    throw invalid_argument("invalid axis " + std::string(axis) + ": '" + copy +
                           "' is not a finite number");
  return value;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::stringstream stream{std::string(text)};
  while (std::getline(stream, part, separator)) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

}  // namespace

void check_sweep(const sweep_spec& spec) {
  const std::vector<method> methods =
      spec.methods.empty() ? std::vector<method>{spec.base.method} : spec.methods;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const auto& axis = spec.axes[a];
    if (!is_known_axis(axis.name))
      throw invalid_argument("unknown sweep axis '" + axis.name + "': expected one of " +
                             known_axes());
    if (axis.values.empty()) throw invalid_argument("sweep axis " + axis.name + " is empty");
    for (std::size_t b = 0; b < a; ++b) {
      if (spec.axes[b].name == axis.name)
        throw invalid_argument("sweep axis " + axis.name + " is given twice");
      if ((spec.axes[b].name == "lr" && axis.name == "dt") ||
          (spec.axes[b].name == "dt" && axis.name == "lr"))
        throw invalid_argument("sweep axes lr and dt both given: they set the same step; give one");
    }
    for (method m : methods) {
      solve_options options = spec.base;
      options.method = m;
      if (!uses_hyperparameter(options, axis.name))
        throw invalid_argument(
            "sweep axis " + axis.name + " is not used by method " + std::string(to_string(m)) +
            " (dynamics " + std::string(to_string(spec.base.dynamics)) + ", control " +
            std::string(to_string(spec.base.control)) + "): its members would repeat each other");
    }
  }
}

sweep_axis linear_axis(std::string name, double first, double last, int count) {
  if (count < 1) throw invalid_argument("invalid axis " + name + ": count must be >= 1");
  sweep_axis axis{std::move(name), {}, false};
  for (int j = 0; j < count; ++j)
    axis.values.push_back(count == 1 ? first : first + (last - first) * j / (count - 1));
  return axis;
}

sweep_axis log_axis(std::string name, double first, double last, int count) {
  if (!(first > 0 && last > 0))
    throw invalid_argument("invalid axis " + name + ": log spacing needs both ends > 0");
  sweep_axis axis = linear_axis(std::move(name), std::log(first), std::log(last), count);
  for (double& value : axis.values) value = std::exp(value);
  axis.values.front() = first;  // exact ends, not exp(log(x))
  axis.values.back() = count == 1 ? first : last;
  axis.logarithmic = true;
  return axis;
}

sweep_axis parse_axis(std::string_view name, std::string_view text) {
  if (!is_known_axis(std::string(name)))
    throw invalid_argument("unknown sweep axis '" + std::string(name) + "': expected one of " +
                           known_axes());
  return parse_axis_values(name, text);
}

sweep_axis parse_axis_values(std::string_view name, std::string_view text) {
  const std::string axis_name(name);
  if (text.find(':') == std::string_view::npos) {
    sweep_axis axis{axis_name, {}, false};
    for (const auto& item : split(text, ',')) axis.values.push_back(parse_number(name, item));
    if (axis.values.empty()) throw invalid_argument("sweep axis " + axis_name + " is empty");
    return axis;
  }
  const auto parts = split(text, ':');
  if (parts.size() != 3 && parts.size() != 4)
    throw invalid_argument("invalid axis " + axis_name + " = '" + std::string(text) +
                           "': expected lo:hi:count[:log|lin] or v1,v2,...");
  const double first = parse_number(name, parts[0]), last = parse_number(name, parts[1]);
  const double count = parse_number(name, parts[2]);
  if (count < 1 || count != std::floor(count) || count > 1e7)
    throw invalid_argument("invalid axis " + axis_name + ": count '" + parts[2] +
                           "' must be an integer in [1, 1e7]");
  const std::string spacing = parts.size() == 4 ? parts[3] : "lin";
  if (spacing == "log") return log_axis(axis_name, first, last, int(count));
  if (spacing == "lin") return linear_axis(axis_name, first, last, int(count));
  throw invalid_argument("invalid axis " + axis_name + ": spacing '" + spacing +
                         "' is not log or lin");
}

std::int64_t sweep_size(const sweep_spec& spec, std::int64_t problem_count) {
  std::int64_t size = problem_count;
  const auto times = [&](std::int64_t factor, const std::string& what) {
    if (factor != 0 && size > max_sweep_members / factor)
      throw invalid_argument("the sweep has more than 2^62 members (at " + what +
                             "): it cannot be indexed; split it into several sweeps");
    size *= factor;
  };
  times(std::int64_t(spec.methods.empty() ? 1 : spec.methods.size()), "the methods");
  for (const auto& axis : spec.axes) times(std::int64_t(axis.values.size()), "axis " + axis.name);
  return size;
}

template <class Real>
expanded_sweep<Real> expand_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                                  method m, std::int64_t first, std::int64_t count) {
  if (spec.base.skip_invalid) {
    validate_shape(problems);  // bad members become invalid_input in the solve
  } else {
    validate(problems);
  }
  check_sweep(spec);
  for (std::string_view name : hyperparameter_names()) {
    if (hyperparameter_named(spec.base, name)->is_per_member())
      throw invalid_argument("sweep: base option " + std::string(name) +
                             " must be a single value; sweep it as an axis instead");
  }
  const std::int64_t problem_count = problems.batch_size;
  const std::int64_t method_count = spec.methods.empty() ? 1 : std::int64_t(spec.methods.size());
  const std::int64_t all = sweep_size(spec, problem_count) / method_count;  // this method's members
  const std::int64_t grid = problem_count == 0 ? 0 : all / problem_count;
  if (count < 0) count = all - first;
  if (first < 0 || count < 1 || first + count > all)
    throw invalid_argument("sweep members [" + std::to_string(first) + ", " +
                           std::to_string(first + count) + ") outside [0, " + std::to_string(all) +
                           ")");
  const std::int64_t len = problems.unknowns_per_problem();

  expanded_sweep<Real> out;
  out.options = spec.base;
  out.options.method = m;
  bool swept_initial = false;
  for (const auto& axis : spec.axes) swept_initial |= axis.name == "u0_seed";
  out.lambda.resize(count);
  if (swept_initial || !problems.initial.empty()) out.initial.resize(count * len);

  std::map<std::string, std::vector<double>> swept;
  for (const auto& axis : spec.axes)
    if (axis.name != "lambda" && axis.name != "u0_seed")
      swept[axis.name == "lr" ? "dt" : axis.name].resize(count);

  out.problem_of.resize(count);
  out.axis_values_of.resize(count);
  for (std::int64_t j = 0; j < count; ++j) {
    const std::int64_t p = (first + j) / grid, g = (first + j) % grid;
    out.problem_of[j] = p;
    auto& values = out.axis_values_of[j];
    values.resize(spec.axes.size());
    std::int64_t rest = g;
    for (std::size_t a = spec.axes.size(); a-- > 0;) {  // last axis fastest
      const auto& axis = spec.axes[a];
      values[a] = axis.values[rest % std::int64_t(axis.values.size())];
      rest /= std::int64_t(axis.values.size());
    }
    out.lambda[j] = problems.lambda_of(p);
    if (!problems.initial.empty())
      std::copy_n(problems.initial.data() + p * len, len, out.initial.data() + j * len);
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const std::string& name = spec.axes[a].name;
      const double value = values[a];
      if (name == "lambda") {
        out.lambda[j] = Real(value);
      } else if (name == "u0_seed") {
        if (!(value >= 0) || value != std::floor(value))
          throw invalid_argument("invalid u0_seed = " + std::to_string(value) +
                                 ": must be a non-negative integer");
        const auto point = random_initial_point(std::uint64_t(value), p, int(len));
        for (std::int64_t e = 0; e < len; ++e) out.initial[j * len + e] = Real(point[e]);
      } else if (name == "lr") {
        swept["dt"][j] = step_for_learning_rate(out.options, value);
      } else {
        swept[name][j] = value;
      }
    }
  }
  for (auto& [name, values] : swept) *hyperparameter_named(out.options, name) = std::move(values);
  return out;
}

template <class Real>
sweep_result run_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                       std::int64_t first, std::int64_t count) {
  solver_context context;
  return run_sweep(problems, spec, first, count, context);
}

template <class Real>
sweep_result run_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                       std::int64_t first, std::int64_t count, solver_context& context) {
  const std::int64_t total = sweep_size(spec, problems.batch_size);
  if (count < 0) count = total - first;
  if (first < 0 || count < 0 || first + count > total)
    throw invalid_argument("sweep members [" + std::to_string(first) + ", " +
                           std::to_string(first + count) + ") outside [0, " +
                           std::to_string(total) + ")");
  sweep_result result;
  result.axes = spec.axes;
  const std::vector<method> methods =
      spec.methods.empty() ? std::vector<method>{spec.base.method} : spec.methods;
  const std::int64_t per_method = total / std::int64_t(methods.size());
  for (std::size_t mi = 0; mi < methods.size(); ++mi) {
    // This method's members [mi·per_method, (mi+1)·per_method) meet the requested range here:
    const std::int64_t begin = std::max(first, std::int64_t(mi) * per_method);
    const std::int64_t end = std::min(first + count, std::int64_t(mi + 1) * per_method);
    if (begin >= end) continue;
    const method m = methods[mi];
    const auto expanded =
        expand_sweep(problems, spec, m, begin - std::int64_t(mi) * per_method, end - begin);
    const auto solved = solve(expanded.view(problems), expanded.options, context);
    for (std::int64_t i = 0; i < expanded.size(); ++i) {
      sweep_row row;
      row.member = begin + i;
      row.problem = expanded.problem_of[i];
      row.method = m;
      row.axis_values = std::vector<double>(expanded.axis_values_of[i]);
      row.outcome = solved.outcome[i];
      row.accepted_steps = solved.accepted_steps[i];
      row.rejected_steps = solved.rejected_steps[i];
      row.gradient_evaluations = solved.gradient_evaluations[i];
      row.objective = solved.objective[i];
      row.gradient_norm = solved.gradient_norm[i];
      row.time = solved.time[i];
      result.rows.push_back(std::move(row));
    }
    for (trace_point point : solved.trace) {
      point.problem += begin;
      result.trace.push_back(point);
    }
    result.runs.push_back(solved.summary);
    result.wall_seconds += solved.summary.wall_seconds;
  }
  return result;
}

template expanded_sweep<float> expand_sweep(const least_squares_batch<float>&, const sweep_spec&,
                                            method, std::int64_t, std::int64_t);
template expanded_sweep<double> expand_sweep(const least_squares_batch<double>&, const sweep_spec&,
                                             method, std::int64_t, std::int64_t);
template sweep_result run_sweep(const least_squares_batch<float>&, const sweep_spec&, std::int64_t,
                                std::int64_t);
template sweep_result run_sweep(const least_squares_batch<double>&, const sweep_spec&, std::int64_t,
                                std::int64_t);
template sweep_result run_sweep(const least_squares_batch<float>&, const sweep_spec&, std::int64_t,
                                std::int64_t, solver_context&);
template sweep_result run_sweep(const least_squares_batch<double>&, const sweep_spec&, std::int64_t,
                                std::int64_t, solver_context&);

}  // namespace gradflow
