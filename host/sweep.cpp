#include "gradflow/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "gradflow/error.hpp"
#include "gradflow/solve.hpp"
#include "number_text.hpp"

namespace gradflow {
namespace {

bool is_known_axis(const std::string& name, problem_axis_names problem_axes) {
  return name == "lr" || name == problem_axes[0] || name == problem_axes[1] ||
         hyperparameter_named(solve_options{}, name) != nullptr;
}

std::string known_axes(problem_axis_names problem_axes) {
  std::string names = "lr";
  for (std::string_view name : hyperparameter_names()) names += ", " + std::string(name);
  for (std::string_view name : problem_axes) names += ", " + std::string(name);
  return names;
}

/// An axis name no sweep of this problem family has; where it is the other family's, says so.
invalid_argument unknown_axis(const std::string& name, problem_axis_names problem_axes) {
  std::string whose = ":";
  for (const auto& [family, axes] : {std::pair{"least-squares problems", least_squares_axes},
                                     std::pair{"objectives", objective_axes}})
    if (axes != problem_axes && (name == axes[0] || name == axes[1]))
      whose = ": it is an axis of " + std::string(family) + ";";
  return invalid_argument("unknown sweep axis '" + name + "'" + whose + " expected one of " +
                          known_axes(problem_axes));
}

bool is_problem_axis(const std::string& name, problem_axis_names problem_axes) {
  return name == problem_axes[0] || name == problem_axes[1];
}

double parse_number(std::string_view axis, std::string_view text) {
  const std::string copy(text);
  const std::string beyond = detail::beyond_double(copy);
  if (!beyond.empty())
    throw invalid_argument("invalid axis " + std::string(axis) + ": '" + copy + "' " + beyond);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(value))
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

void check_sweep(const sweep_spec& spec, problem_axis_names problem_axes) {
  const std::vector<method> methods =
      spec.methods.empty() ? std::vector<method>{spec.base.method} : spec.methods;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const auto& axis = spec.axes[a];
    if (!is_known_axis(axis.name, problem_axes)) throw unknown_axis(axis.name, problem_axes);
    if (axis.values.empty()) throw invalid_argument("sweep axis " + axis.name + " is empty");
    for (std::size_t b = 0; b < a; ++b) {
      if (spec.axes[b].name == axis.name)
        throw invalid_argument("sweep axis " + axis.name + " is given twice");
      if ((spec.axes[b].name == "lr" && axis.name == "dt") ||
          (spec.axes[b].name == "dt" && axis.name == "lr"))
        throw invalid_argument("sweep axes lr and dt both given: they set the same step; give one");
    }
  }
  solve_options options = with_axis_values(spec.base, spec.axes);
  for (const auto& axis : spec.axes)
    for (method m : methods) {
      options.method = m;
      if (!uses_hyperparameter(options, axis.name))
        throw invalid_argument("sweep axis " + axis.name + " is not used by method " +
                               std::string(to_string(m)) + " (" + reading_context(options) +
                               "): its members would repeat each other");
    }
}

solve_options with_axis_values(solve_options base, const std::vector<sweep_axis>& axes) {
  for (const auto& axis : axes)
    if (hyperparameter* h = hyperparameter_named(base, axis.name)) *h = axis.values;
  return base;
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

sweep_axis parse_axis(std::string_view name, std::string_view text,
                      problem_axis_names problem_axes) {
  if (!is_known_axis(std::string(name), problem_axes))
    throw unknown_axis(std::string(name), problem_axes);
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

sweep_grid expand_grid(const sweep_spec& spec, std::int64_t problem_count,
                       problem_axis_names problem_axes, method m, std::int64_t first,
                       std::int64_t count) {
  check_sweep(spec, problem_axes);
  for (std::string_view name : hyperparameter_names()) {
    if (hyperparameter_named(spec.base, name)->is_per_member())
      throw invalid_argument("sweep: base option " + std::string(name) +
                             " must be a single value; sweep it as an axis instead");
  }
  const std::int64_t method_count = spec.methods.empty() ? 1 : std::int64_t(spec.methods.size());
  const std::int64_t all = sweep_size(spec, problem_count) / method_count;  // this method's members
  const std::int64_t grid_size = problem_count == 0 ? 0 : all / problem_count;
  if (count < 0) count = all - first;
  if (first < 0 || count < 1 || first + count > all)
    throw invalid_argument("sweep members [" + std::to_string(first) + ", " +
                           std::to_string(first + count) + ") outside [0, " + std::to_string(all) +
                           ")");
  sweep_grid grid;
  grid.options = spec.base;
  grid.options.method = m;
  std::map<std::string, std::vector<double>> swept;
  for (const auto& axis : spec.axes)
    if (!is_problem_axis(axis.name, problem_axes))
      swept[axis.name == "lr" ? "dt" : axis.name].resize(count);

  grid.problem_of.resize(count);
  grid.axis_values_of.resize(count);
  for (std::int64_t j = 0; j < count; ++j) {
    grid.problem_of[j] = (first + j) / grid_size;
    auto& values = grid.axis_values_of[j];
    values.resize(spec.axes.size());
    std::int64_t rest = (first + j) % grid_size;
    for (std::size_t a = spec.axes.size(); a-- > 0;) {  // last axis fastest
      const auto& axis = spec.axes[a];
      values[a] = axis.values[rest % std::int64_t(axis.values.size())];
      rest /= std::int64_t(axis.values.size());
    }
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const std::string& name = spec.axes[a].name;
      if (name == "lr") {
        swept["dt"][j] = step_for_learning_rate(grid.options, values[a]);
      } else if (!is_problem_axis(name, problem_axes)) {
        swept[name][j] = values[a];
      }
    }
  }
  for (auto& [name, values] : swept) *hyperparameter_named(grid.options, name) = std::move(values);
  return grid;
}

namespace {

/// `grid`'s least-squares members: λ and U0 from their problems, then the lambda and u0_seed axes.
template <class Real>
expanded_sweep<Real> least_squares_members(const least_squares_batch<Real>& problems,
                                           const sweep_spec& spec, sweep_grid grid) {
  const std::int64_t count = grid.size();
  const std::int64_t len = problems.unknowns_per_problem();
  expanded_sweep<Real> out;
  static_cast<sweep_grid&>(out) = std::move(grid);
  bool swept_initial = false;
  for (const auto& axis : spec.axes) swept_initial |= axis.name == "u0_seed";
  out.lambda.resize(count);
  if (swept_initial || !problems.initial.empty()) out.initial.resize(count * len);
  for (std::int64_t j = 0; j < count; ++j) {
    const std::int64_t p = out.problem_of[j];
    out.lambda[j] = problems.lambda_of(p);
    if (!problems.initial.empty())
      std::copy_n(problems.initial.data() + p * len, len, out.initial.data() + j * len);
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const double value = out.axis_values_of[j][a];
      if (spec.axes[a].name == "lambda") {
        out.lambda[j] = Real(value);
      } else if (spec.axes[a].name == "u0_seed") {
        if (!(value >= 0) || value != std::floor(value))
          throw invalid_argument("invalid u0_seed = " + detail::number_text(value) +
                                 ": must be a non-negative integer");
        const auto point = random_initial_point(std::uint64_t(value), p, int(len));
        for (std::int64_t e = 0; e < len; ++e) out.initial[j * len + e] = Real(point[e]);
      }
    }
  }
  return out;
}

template <class Real>
void validate_for_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec) {
  if (spec.base.skip_invalid) {
    validate_shape(problems);  // bad members become invalid_input in the solve
  } else {
    validate(problems);
  }
}

}  // namespace

template <class Real>
expanded_sweep<Real> expand_sweep(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                                  method m, std::int64_t first, std::int64_t count) {
  validate_for_sweep(problems, spec);
  return least_squares_members(
      problems, spec, expand_grid(spec, problems.batch_size, least_squares_axes, m, first, count));
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
  validate_for_sweep(problems, spec);
  return detail::run_sweep_members(
      spec, problems.batch_size, least_squares_axes, first, count, [&](sweep_grid grid) {
        const auto members = least_squares_members(problems, spec, std::move(grid));
        return solve(members.view(problems), members.options, context);
      });
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
