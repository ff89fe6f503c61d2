#include "gradflow/options.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "gradflow/detail/surrogate_fit.hpp"
#include "gradflow/detail/tableau.hpp"
#include "gradflow/error.hpp"
#include "gradflow/hyperparameters.hpp"
#include "gradflow/methods.hpp"
#include "number_text.hpp"

namespace gradflow {
namespace {

template <class Enum, std::size_t N>
Enum parse_named(const std::array<std::pair<std::string_view, Enum>, N>& names,
                 std::string_view text, std::string_view field) {
  std::string known;
  for (const auto& [name, value] : names) {
    if (name == text) return value;
    known += (known.empty() ? "" : "|") + std::string(name);
  }
  throw invalid_argument("invalid " + std::string(field) + " = '" + std::string(text) +
                         "': expected one of " + known);
}

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, Enum>, N>& names, Enum e) {
  for (const auto& [name, value] : names)
    if (value == e) return name;
  return "unknown";
}

/// (name, value) pairs of a table's rows, for parse_named and name_of.
template <class Row, std::size_t N>
auto names_of(const std::array<Row, N>& rows) {
  std::array<std::pair<std::string_view, decltype(Row::id)>, N> names{};
  for (std::size_t r = 0; r < N; ++r) names[r] = {rows[r].name, rows[r].id};
  return names;
}

const auto method_names = names_of(method_table);
const auto dynamics_names = names_of(dynamics_table);
constexpr std::array<std::pair<std::string_view, backend_kind>, 3> backend_names{
    {{"auto", backend_kind::automatic}, {"cpu", backend_kind::cpu}, {"cuda", backend_kind::cuda}}};
constexpr std::array<std::pair<std::string_view, execution_path>, 3> path_names{
    {{"auto", execution_path::automatic},
     {"lockstep", execution_path::lockstep},
     {"fused", execution_path::fused}}};
constexpr std::array<std::pair<std::string_view, step_control>, 4> control_names{
    {{"default", step_control::method_default},
     {"fixed", step_control::fixed},
     {"error", step_control::error_control},
     {"descent", step_control::descent}}};

}  // namespace

const hyperparameter_info* hyperparameter_row(std::string_view name) {
  for (const auto& row : hyperparameter_registry)
    if (row.name == name) return &row;
  return nullptr;
}

hyperparameter* hyperparameter_named(solve_options& options, std::string_view name) {
  const hyperparameter_info* row = hyperparameter_row(name);
  return row ? &(options.*(row->field)) : nullptr;
}

const hyperparameter* hyperparameter_named(const solve_options& options, std::string_view name) {
  return hyperparameter_named(const_cast<solve_options&>(options), name);
}

/// The row of `id` in `table`; invalid_argument when there is none (a value cast from an integer).
template <class Row, std::size_t N, class Id>
const Row& row_of(const std::array<Row, N>& table, Id id, const char* what) {
  for (const Row& row : table)
    if (row.id == id) return row;
  throw invalid_argument("unknown " + std::string(what) + " (value " +
                         std::to_string(static_cast<int>(id)) + ")");
}

const method_info& info_of(method m) { return row_of(method_table, m, "method"); }
const dynamics_info& info_of(dynamics d) { return row_of(dynamics_table, d, "dynamics"); }

bool is_integrator(method m) {
  const method_kind kind = info_of(m).kind;
  return kind != method_kind::optimizer && kind != method_kind::direct;
}

bool is_chebyshev(method m) { return info_of(m).kind == method_kind::chebyshev; }

double step_for_learning_rate(const solve_options& options, double lr) {
  if (!(std::isfinite(lr) && lr > 0))  // named as the user gave it, not as the dt it becomes
    throw invalid_argument("invalid lr = " + detail::number_text(lr) + ": must be finite and > 0");
  const bool momentum_time_scale =
      is_integrator(options.method) && info_of(options.dynamics).momentum_time_scale;
  return momentum_time_scale ? std::sqrt(lr) : lr;
}

bool uses_hyperparameter(const solve_options& options, std::string_view name) {
  const method_info& row = info_of(options.method);
  const bool integrator = is_integrator(options.method);
  const auto reads = [name](const auto& names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (name == "dt" || name == "lr") return integrator || row.rate != default_rate::none;
  if (reads(info_of(options.dynamics).reads)) return integrator;
  const step_control control =
      options.control == step_control::method_default ? row.default_control : options.control;
  const bool error_controlled = detail::tableau_for<double>(row.tableau).has_error_estimate &&
                                control == step_control::error_control;
  if (name == "rtol" || name == "atol") return error_controlled;
  if (name == "dt_min")  // the floor of a controlled step: error or descent control
    return integrator && (error_controlled || control == step_control::descent);
  if (name == "u0_seed" || name == "x0_scale" || name == "x0_offset")
    return row.kind != method_kind::direct;  // a start point matters to every iterative method
  if (name == "t_end")  // cg's t is 0 and L-BFGS's sums line-search fractions: no flow time
    return row.kind != method_kind::direct && options.method != method::cg &&
           options.method != method::lbfgs;
  if (name == "gtol" || name == "rtol_grad" || name == "lambda") return true;
  if (name == "lgf_order") {  // the strong target's difference order: no other target reads it
    const double strong = double(detail::surrogate_target::strong);
    const std::vector<double>& targets = options.lgf_target.values();
    return reads(row.reads) && std::find(targets.begin(), targets.end(), strong) != targets.end();
  }
  return reads(row.reads);
}

std::string reading_context(const solve_options& options) {
  std::string text = "dynamics " + std::string(to_string(options.dynamics)) + ", control " +
                     std::string(to_string(options.control));
  const auto& reads = info_of(options.method).reads;
  if (std::find(reads.begin(), reads.end(), "lgf_target") == reads.end()) return text;
  text += ", lgf_target ";
  if (!options.lgf_target.is_set()) return text + "0 (tracked, the default)";
  for (std::size_t i = 0; i < options.lgf_target.size(); ++i)
    text += (i ? "," : "") + detail::number_text(options.lgf_target.values()[i]);
  return text;
}

std::vector<std::string_view> hyperparameter_names() {
  std::vector<std::string_view> names;
  for (const auto& row : hyperparameter_registry) names.push_back(row.name);
  return names;
}

std::string_view to_string(method m) { return name_of(method_names, m); }
std::string_view to_string(dynamics d) { return name_of(dynamics_names, d); }
std::string_view to_string(backend_kind b) { return name_of(backend_names, b); }
std::string_view to_string(execution_path p) { return name_of(path_names, p); }
std::string_view to_string(step_control c) { return name_of(control_names, c); }

method parse_method(std::string_view text, std::string_view field) {
  return parse_named(method_names, text, field);
}
dynamics parse_dynamics(std::string_view text, std::string_view field) {
  return parse_named(dynamics_names, text, field);
}
backend_kind parse_backend(std::string_view text, std::string_view field) {
  return parse_named(backend_names, text, field);
}
execution_path parse_execution_path(std::string_view text, std::string_view field) {
  return parse_named(path_names, text, field);
}
step_control parse_step_control(std::string_view text, std::string_view field) {
  return parse_named(control_names, text, field);
}

}  // namespace gradflow
