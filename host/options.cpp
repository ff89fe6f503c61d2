#include "gradflow/options.hpp"

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "gradflow/error.hpp"

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

constexpr std::array<std::pair<std::string_view, method>, 16> method_names{
    {{"euler", method::euler},
     {"rk4", method::rk4},
     {"tsit5", method::tsit5},
     {"bs3", method::bs3},
     {"dp5", method::dp5},
     {"linearly_implicit", method::linearly_implicit},
     {"rkcd", method::rkcd},
     {"rkc", method::rkc},
     {"gd", method::gd},
     {"momentum", method::momentum},
     {"nag", method::nag},
     {"adam", method::adam},
     {"fire", method::fire},
     {"fire2", method::fire2},
     {"cg", method::cg},
     {"direct", method::direct}}};
constexpr std::array<std::pair<std::string_view, dynamics>, 4> dynamics_names{
    {{"gradient", dynamics::gradient},
     {"heavy_ball", dynamics::heavy_ball},
     {"nesterov", dynamics::nesterov},
     {"newton", dynamics::newton}}};
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

constexpr std::array<std::pair<std::string_view, hyperparameter solve_options::*>, 15>
    hyperparameter_fields{{{"dt", &solve_options::dt},
                           {"zeta", &solve_options::zeta},
                           {"damping", &solve_options::damping},
                           {"mass", &solve_options::mass},
                           {"momentum", &solve_options::momentum},
                           {"beta1", &solve_options::beta1},
                           {"beta2", &solve_options::beta2},
                           {"epsilon", &solve_options::epsilon},
                           {"eta", &solve_options::eta},
                           {"stages", &solve_options::stages},
                           {"rtol", &solve_options::rtol},
                           {"atol", &solve_options::atol},
                           {"gtol", &solve_options::gtol},
                           {"rtol_grad", &solve_options::rtol_grad},
                           {"vtol", &solve_options::vtol}}};

}  // namespace

hyperparameter* hyperparameter_named(solve_options& options, std::string_view name) {
  for (const auto& [field_name, field] : hyperparameter_fields)
    if (field_name == name) return &(options.*field);
  return nullptr;
}

const hyperparameter* hyperparameter_named(const solve_options& options, std::string_view name) {
  return hyperparameter_named(const_cast<solve_options&>(options), name);
}

double step_for_learning_rate(const solve_options& options, double lr) {
  const bool momentum_time_scale =
      is_integrator(options.method) &&
      (options.dynamics == dynamics::heavy_ball || options.dynamics == dynamics::nesterov);
  return momentum_time_scale && lr >= 0 ? std::sqrt(lr) : lr;
}

bool uses_hyperparameter(const solve_options& options, std::string_view name) {
  const method m = options.method;
  const bool integrator = is_integrator(m);
  const bool heavy_ball = integrator && options.dynamics == dynamics::heavy_ball;
  if (name == "dt" || name == "lr") return m != method::cg && m != method::direct;
  if (name == "zeta" || name == "damping" || name == "mass") return heavy_ball;
  if (name == "vtol") return heavy_ball || (integrator && options.dynamics == dynamics::nesterov);
  if (name == "momentum") return m == method::momentum || m == method::nag;
  if (name == "beta1" || name == "beta2" || name == "epsilon") return m == method::adam;
  if (name == "eta" || name == "stages") return is_chebyshev(m);
  if (name == "rtol" || name == "atol")
    return (m == method::bs3 || m == method::tsit5 || m == method::dp5) &&
           (options.control == step_control::method_default ||
            options.control == step_control::error_control);
  if (name == "u0_seed") return m != method::direct;
  return true;  // gtol, rtol_grad, lambda
}

std::vector<std::string_view> hyperparameter_names() {
  std::vector<std::string_view> names;
  for (const auto& field : hyperparameter_fields) names.push_back(field.first);
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
