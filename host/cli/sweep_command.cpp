#include "sweep_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gradflow/gradflow.hpp"
#include "output_files.hpp"
#include "sweep_summary.hpp"

namespace gradflow::cli {
namespace {

/// `--preset seed`: the showcase of the seed discussion — its random 50×5 least-squares problem
/// with two right-hand sides and a random start, heavy-ball flow integrated by RK4 at dt = √lr,
/// over a log grid of learning rates and damping ratios.
constexpr const char* seed_preset = R"({
  "random": "1,50,5,2", "seed": 1, "random_u0": true,
  "method": "rk4", "dynamics": "heavy_ball", "gtol": 1e-8, "max_steps": 20000,
  "axes": {"lr": "1e-4:1:24:log", "zeta": "0.1:4:24:log"}
})";

const char* const axis_names[] = {"lr",    "dt",    "zeta",    "damping", "mass",   "momentum",
                                  "beta1", "beta2", "epsilon", "lambda",  "u0_seed"};

std::string option_of(const std::string& key) {
  std::string option = "--" + key;
  for (char& c : option)
    if (c == '_') c = '-';
  return option;
}

/// Takes each key of a config object that the command line did not set. Unknown keys and wrong
/// types are errors naming the key.
void apply_config(const nlohmann::json& config, const std::string& source, CLI::App& command,
                  sweep_arguments& arguments) {
  if (!config.is_object()) throw invalid_argument(source + ": the config must be a JSON object");
  auto typed = [&](const std::string& key) {
    const CLI::Option* option = command.get_option_no_throw(option_of(key));
    return option != nullptr && option->count() > 0;
  };
  for (const auto& [key, value] : config.items()) {
    try {
      if (key == "axes") {
        if (!value.is_object()) throw invalid_argument(source + ": 'axes' must be an object");
        for (const auto& [name, spec] : value.items()) {
          if (std::find(std::begin(axis_names), std::end(axis_names), name) == std::end(axis_names))
            throw invalid_argument(source + ": unknown axis '" + name + "'");
          if (typed(name)) continue;
          std::string text;
          if (spec.is_string()) {
            text = spec.get<std::string>();
          } else {
            for (const auto& number : spec) {
              std::ostringstream item;
              item.precision(17);
              item << number.get<double>();
              text += (text.empty() ? "" : ",") + item.str();
            }
          }
          arguments.axes[name] = text;
        }
        continue;
      }
      if (typed(key)) continue;
      if (key == "A")
        arguments.problem.matrix_path = value.get<std::string>();
      else if (key == "B")
        arguments.problem.rhs_path = value.get<std::string>();
      else if (key == "random")
        arguments.problem.random = value.get<std::string>();
      else if (key == "seed")
        arguments.problem.seed = value.get<std::uint64_t>();
      else if (key == "random_u0")
        arguments.problem.random_initial = value.get<bool>();
      else if (key == "method")
        arguments.solver.method = value.is_array() ? [&] {
          std::string list;
          for (const auto& name : value) list += (list.empty() ? "" : ",") + name.get<std::string>();
          return list;
        }() : value.get<std::string>();
      else if (key == "dynamics")
        arguments.solver.dynamics = value.get<std::string>();
      else if (key == "control")
        arguments.solver.control = value.get<std::string>();
      else if (key == "backend")
        arguments.solver.backend = value.get<std::string>();
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
        arguments.solver.max_steps = value.get<std::int64_t>();
      else if (key == "dt_min")
        arguments.solver.dt_min = value.get<double>();
      else if (key == "out")
        arguments.out = value.get<std::string>();
      else
        throw invalid_argument(source + ": unknown key '" + key + "'");
    } catch (const nlohmann::json::exception& e) {
      throw invalid_argument(source + ": key '" + key + "' has the wrong type (" + e.what() + ")");
    }
  }
}

nlohmann::json read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io_error("cannot read --config '" + path + "': no such file or not readable");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid_argument("cannot parse --config '" + path + "': " + e.what());
  }
}

std::vector<method> parse_methods(const std::string& list) {
  std::vector<method> methods;
  std::stringstream text(list);
  std::string name;
  while (std::getline(text, name, ',')) methods.push_back(parse_method(name));
  if (methods.empty()) throw invalid_argument("invalid method = '': expected at least one method");
  return methods;
}

std::string sweep_csv(const sweep_result& result) {
  std::string text = "member,problem,method";
  for (const auto& axis : result.axes) text += "," + axis.name;
  text += ",status,steps,rejected_steps,gradient_evaluations,f,grad_norm,t\n";
  for (const auto& row : result.rows) {
    text += std::to_string(row.member) + "," + std::to_string(row.problem) + "," +
            std::string(to_string(row.method));
    for (double value : row.axis_values) text += "," + exact_decimal(value);
    text += "," + std::string(to_string(row.outcome)) + "," + std::to_string(row.accepted_steps) +
            "," + std::to_string(row.rejected_steps) + "," +
            std::to_string(row.gradient_evaluations);
    for (double value : {row.objective, row.gradient_norm, row.time})
      text += "," + exact_decimal(value);
    text += "\n";
  }
  return text;
}

std::string sidecar_path(const std::string& out) {
  const auto dot = out.rfind(".csv");
  return (dot != std::string::npos && dot + 4 == out.size() ? out.substr(0, dot) : out) + ".json";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

nlohmann::json sidecar(const sweep_arguments& arguments, const sweep_spec& spec,
                       const sweep_result& result, const std::string& command_line) {
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& axis : spec.axes)
    axes.push_back({{"name", axis.name},
                    {"spec", arguments.axes.at(axis.name)},
                    {"spacing", axis.logarithmic ? "log" : "lin"},
                    {"values", axis.values}});
  nlohmann::json runs = nlohmann::json::array();
  for (std::size_t r = 0; r < result.runs.size(); ++r) {
    nlohmann::json counts;
    for (int s = 0; s < status_count; ++s)
      if (result.runs[r].status_counts[s] != 0)
        counts[std::string(to_string(static_cast<status>(s)))] = result.runs[r].status_counts[s];
    runs.push_back({{"method", to_string(spec.methods[r])},
                    {"backend", to_string(result.runs[r].backend)},
                    {"device", result.runs[r].device},
                    {"members", result.runs[r].batch_size},
                    {"wall_seconds", result.runs[r].wall_seconds},
                    {"gradient_evaluations", result.runs[r].gradient_evaluations},
                    {"status_counts", counts}});
  }
  nlohmann::json methods = nlohmann::json::array();
  for (method m : spec.methods) methods.push_back(to_string(m));
  return {{"gradflow_version", version},
          {"date", utc_now()},
          {"command", command_line},
          {"preset", arguments.preset},
          {"config", arguments.config},
          {"problem", describe_problems(arguments.problem)},
          {"solver", describe_solver(arguments.solver)},
          {"methods", methods},
          {"axes", axes},
          {"members", result.rows.size()},
          {"wall_seconds", result.wall_seconds},
          {"runs", runs},
          {"csv", arguments.out}};
}

template <class Real>
int sweep_in(const sweep_arguments& arguments, const sweep_spec& spec,
             const std::string& command_line) {
  const auto problems = load_problems<Real>(arguments.problem);
  const std::int64_t members = sweep_size(spec, problems.batch_size);
  if (!arguments.quiet) std::cerr << "gradflow: sweeping " << members << " members...\n";
  const sweep_result result = run_sweep(problems, spec);
  if (!arguments.out.empty()) {
    write_atomically(arguments.out, sweep_csv(result), "--out");
    write_atomically(sidecar_path(arguments.out),
                     sidecar(arguments, spec, result, command_line).dump(2) + "\n",
                     "--out sidecar");
  }
  if (!arguments.quiet) {
    std::cout << summarize_sweep(result, arguments.solver.dynamics, arguments.solver.precision);
    if (!arguments.out.empty())
      std::cout << "wrote " << arguments.out << " and " << sidecar_path(arguments.out) << "\n";
  }
  return 0;
}

}  // namespace

void add_sweep_options(CLI::App& command, sweep_arguments& arguments) {
  add_problem_options(command, arguments.problem, false);
  add_solver_options(command, arguments.solver,
                     "one method, or a comma-separated list (a method axis)");
  for (const auto& option : hyperparameter_options)
    command.add_option("--" + std::string(option.name), arguments.axes[option.name],
                       std::string("axis: ") + option.help);
  command.add_option("--lr", arguments.axes["lr"],
                     "axis: learning rate (dt = lr; heavy ball / nesterov: dt = sqrt(lr))");
  command.add_option("--lambda", arguments.axes["lambda"], "axis: ridge weight λ");
  command.add_option("--u0-seed", arguments.axes["u0_seed"], "axis: seed of a random U0 in [0,1)");
  command.add_option("--config", arguments.config, "JSON file with any of these settings");
  command.add_option("--preset", arguments.preset, "seed: the seed example's lr × zeta showcase");
  command.add_option("--out", arguments.out, "CSV, one row per member (+ a .json sidecar)");
  command.add_flag("--quiet", arguments.quiet, "print no summary");
}

int run_sweep_command(CLI::App& command, sweep_arguments arguments,
                      const std::string& command_line) {
  for (auto it = arguments.axes.begin(); it != arguments.axes.end();)
    it = it->second.empty() ? arguments.axes.erase(it) : std::next(it);
  // Precedence: the command line, then the config file, then the preset.
  nlohmann::json settings = nlohmann::json::object();
  if (!arguments.preset.empty()) {
    if (arguments.preset != "seed")
      throw invalid_argument("invalid preset = '" + arguments.preset + "': expected seed");
    settings = nlohmann::json::parse(seed_preset);
  }
  if (!arguments.config.empty()) settings.merge_patch(read_config(arguments.config));
  apply_config(settings, arguments.config.empty() ? "preset " + arguments.preset : arguments.config,
               command, arguments);
  if (arguments.axes.empty())
    throw invalid_argument("sweep needs at least one axis (--lr, --zeta, …, or --config/--preset)");
  const bool single = single_precision(arguments.solver);
  sweep_spec spec;
  spec.base = to_options(arguments.solver);
  spec.methods = parse_methods(arguments.solver.method);
  spec.base.method = spec.methods.front();
  for (const char* name : axis_names) {  // a fixed, documented column order
    const auto it = arguments.axes.find(name);
    if (it != arguments.axes.end()) spec.axes.push_back(parse_axis(name, it->second));
  }
  require_writable(arguments.out, "--out");
  return single ? sweep_in<float>(arguments, spec, command_line)
                : sweep_in<double>(arguments, spec, command_line);
}

}  // namespace gradflow::cli
