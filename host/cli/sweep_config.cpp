#include "sweep_config.hpp"

#include <algorithm>
#include <iterator>

#include "../number_text.hpp"
#include "gradflow/error.hpp"
#include "gradflow/sweep.hpp"
#include "json_file.hpp"

namespace gradflow::cli {
namespace {

/// `--preset seed`: the showcase of the seed discussion — its random 50×5 least-squares problem
/// with two right-hand sides and a random start, heavy-ball flow integrated by RK4 at dt = √lr,
/// over a log grid of learning rates and damping ratios.
constexpr const char* seed_preset_json = R"({
  "random": "1,50,5,2", "seed": 1, "random_u0": true,
  "method": "rk4", "dynamics": "heavy_ball", "gtol": 1e-8, "max_steps": 20000,
  "axes": {"lr": "1e-4:1:24:log", "zeta": "0.1:4:24:log"}
})";

/// ["gd", "nag"] → "gd,nag": a method list as the command line spells it.
std::string joined_names(const nlohmann::json& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ",") + name.get<std::string>();
  return list;
}

}  // namespace

std::vector<std::string> solver_axis_names() {
  std::vector<std::string> names = {"lr"};
  for (const auto& row : hyperparameter_registry)
    if (row.cli_axis) names.push_back(std::string(row.name));
  return names;
}

std::vector<std::string> sweep_axis_names() {
  std::vector<std::string> names = solver_axis_names();
  for (const auto& family : {least_squares_axes, objective_axes})
    for (std::string_view name : family) names.emplace_back(name);
  return names;
}

namespace {

bool is_sweep_axis(const std::string& name) {
  const auto known = sweep_axis_names();
  return std::find(known.begin(), known.end(), name) != known.end();
}

}  // namespace

void apply_config(const nlohmann::json& config, const std::string& source,
                  const std::function<bool(const std::string&)>& typed,
                  sweep_arguments& arguments) {
  if (!config.is_object()) throw invalid_argument(source + ": the config must be a JSON object");
  // As on the command line, where --random-u0 left out is false: null and false set nothing.
  const auto sets = [&](const char* key) {
    return config.contains(key) && !config.at(key).is_null() && config.at(key) != false;
  };
  for (const char* random_only : {"seed", "random_u0"})
    if (sets(random_only) && !typed(random_only) && !sets("random") && !typed("random"))
      throw invalid_argument(source + ": key '" + random_only +
                             "' describes 'random' problems: leave it out with 'A'/'B' or "
                             "'problem' (or add 'random')");
  for (const auto& [key, value] : config.items()) {
    const std::string named = source + ": key '" + key + "'";
    try {
      if (key == "axes") {
        if (!value.is_object()) throw invalid_argument(source + ": 'axes' must be an object");
        for (const auto& [name, spec] : value.items()) {
          if (!is_sweep_axis(name))
            throw invalid_argument(source + ": unknown axis '" + name + "'");
          if (typed(name)) continue;
          if (!spec.is_string() && !spec.is_number() && !spec.is_array())
            throw invalid_argument(source + ": axis '" + name + "' = " + spec.dump() +
                                   ": expected a list of numbers, a number or a text");
          std::string text;
          if (spec.is_string()) {
            text = spec.get<std::string>();
          } else {
            for (const auto& number : spec)  // a number iterates as itself
              text += (text.empty() ? "" : ",") + detail::number_text(number.get<double>());
          }
          arguments.axes[name] = text;
        }
        continue;
      }
      if (typed(key)) continue;
      if (key == "problem")
        arguments.problem.objectives = value.get<std::string>();
      else if (key == "A")
        arguments.problem.matrix_path = value.get<std::string>();
      else if (key == "B")
        arguments.problem.rhs_path = value.get<std::string>();
      else if (key == "random")
        arguments.problem.random = value.get<std::string>();
      else if (key == "seed")
        arguments.problem.seed = json_integer<std::uint64_t>(value, named);
      else if (key == "random_u0")
        arguments.problem.random_initial = value.get<bool>();
      else if (key == "method")
        arguments.solver.method = value.is_array() ? joined_names(value) : value.get<std::string>();
      else if (key == "dynamics")
        arguments.solver.dynamics = value.get<std::string>();
      else if (key == "control")
        arguments.solver.control = value.get<std::string>();
      else if (key == "backend")
        arguments.solver.backend = value.get<std::string>();
      else if (key == "path")
        arguments.solver.path = value.get<std::string>();
      else if (key == "precision")
        arguments.solver.precision = value.get<std::string>();
      else if (key == "rtol")
        arguments.solver.rtol = value.get<double>();
      else if (key == "atol")
        arguments.solver.atol = value.get<double>();
      else if (key == "gtol")
        arguments.solver.gtol = value.get<double>();
      else if (key == "rtol_grad")
        arguments.solver.rtol_grad = value.get<double>();
      else if (key == "vtol")
        arguments.solver.vtol = value.get<double>();
      else if (key == "t_end")
        arguments.solver.t_end = value.get<double>();
      else if (key == "max_steps")
        arguments.solver.max_steps = json_integer<std::int64_t>(value, named);
      else if (key == "dt_min")
        arguments.solver.dt_min = value.get<double>();
      else if (key == "stall_window")
        arguments.solver.stall_window = json_integer<std::int64_t>(value, named);
      else if (key == "stall_factor")
        arguments.solver.stall_factor = value.get<double>();
      else if (key == "skip_invalid")
        arguments.solver.skip_invalid = value.get<bool>();
      else if (key == "out")
        arguments.out = value.get<std::string>();
      else if (key == "format")
        arguments.format = value.get<std::string>();
      else if (key == "chunk")
        arguments.chunk = json_integer<std::int64_t>(value, named, 0);
      else
        throw invalid_argument(
            source + ": unknown key '" + key + "'" +
            (is_sweep_axis(key) ? " (axes go in \"axes\": {\"" + key + "\": …})" : ""));
    } catch (const nlohmann::json::exception& e) {
      throw invalid_argument(source + ": key '" + key + "' has the wrong type (" + e.what() + ")");
    }
  }
}

void keep_one_problem_source(nlohmann::json& lower,
                             const std::function<bool(const std::string&)>& names) {
  struct source {
    std::vector<const char*> naming, keys;
  };
  const source sources[] = {{{"problem"}, {"problem"}},
                            {{"A", "B"}, {"A", "B"}},
                            {{"random"}, {"random", "seed", "random_u0"}}};
  for (const source& named : sources) {
    if (std::none_of(named.naming.begin(), named.naming.end(), names)) continue;
    for (const source& other : sources)
      if (&other != &named)
        for (const char* key : other.keys) lower.erase(key);
  }
}

nlohmann::json read_config(const std::string& path) { return read_json_file(path, "--config"); }

nlohmann::json preset_config(const std::string& name) {
  if (name != "seed") throw invalid_argument("invalid preset = '" + name + "': expected seed");
  return nlohmann::json::parse(seed_preset_json);
}

}  // namespace gradflow::cli
