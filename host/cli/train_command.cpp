#include "train_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "../number_text.hpp"
#include "chunked_table.hpp"
#include "device_choice.hpp"
#include "gradflow/detail/neural_field.hpp"
#include "gradflow/gradflow.hpp"
#include "gradflow/neural_ode.hpp"
#include "gradflow/npy.hpp"
#include "json_file.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "plot_command.hpp"
#include "progress_line.hpp"
#include "sweep_config.hpp"
#include "sweep_table.hpp"
#include "train_summary.hpp"

namespace gradflow::cli {
namespace {

/// The axes of a train run, in their column order: the member's own (seed, weight_decay, rho),
/// then the solver's (lr = dt, and every per-member hyperparameter of the registry).
std::vector<std::string> train_axis_names() {
  std::vector<std::string> names = {"noise_seed", "seed", "weight_decay", "rho"};
  for (const std::string& name : solver_axis_names()) names.push_back(name);
  return names;
}

/// A series from an .npy of shape N×(1+d): t, then y.
time_series read_series(const std::string& path, const char* option) {
  const npy_array array = read_npy(path);
  if (array.shape.size() != 2 || array.shape[1] < 2 ||
      array.shape[1] - 1 > detail::max_field_dimension)
    throw invalid_argument("invalid " + std::string(option) + " '" + path +
                           "': expected shape N×(1+d) with t in the first column and 1 <= d <= " +
                           std::to_string(detail::max_field_dimension));
  time_series series;
  series.source = std::string(option) + " " + path;
  series.dimension = int(array.shape[1] - 1);
  for (std::int64_t r = 0; r < array.shape[0]; ++r) {
    series.times.push_back(array.values[r * array.shape[1]]);
    for (int c = 0; c < series.dimension; ++c)
      series.values.push_back(array.values[r * array.shape[1] + 1 + c]);
  }
  return series;
}

nlohmann::json data_settings(const train_arguments& a) {
  if (a.data == "vdp")
    return {{"source", "vdp"},
            {"mu", a.vdp.mu},
            {"amplitude", a.vdp.amplitude},
            {"omega", a.vdp.omega},
            {"x1", a.vdp.x1},
            {"x2", a.vdp.x2},
            {"samples", a.vdp.samples},
            {"train_end", a.vdp.train_end},
            {"noise", a.vdp.noise},
            {"noise_seed", 0},
            {"test_samples", a.vdp.test_samples},
            {"test_end", a.vdp.test_end}};
  const auto absolute = [](const std::string& path) {
    return path.empty() ? path : std::filesystem::absolute(path).string();
  };
  return {{"source", "file"},
          {"data", absolute(a.data)},
          {"truth", absolute(a.truth)},
          {"test", absolute(a.test)}};
}

/// The members' grid and their rows' fixed columns.
struct member_grid {
  std::vector<sweep_axis> axes;
  std::int64_t size() const {
    std::int64_t total = 1;
    for (const sweep_axis& axis : axes) total *= std::int64_t(axis.values.size());
    return total;
  }
  /// Member m's value on every axis (the last axis fastest).
  std::vector<double> values_of(std::int64_t member) const {
    std::vector<double> values(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      const std::int64_t count = std::int64_t(axes[a].values.size());
      values[a] = axes[a].values[member % count];
      member /= count;
    }
    return values;
  }
};

const std::vector<std::string> row_columns = {
    "status",   "rounds",       "iterations",   "gradient_evaluations",
    "loss",     "constraint",   "train_mse",    "train_rollout",
    "test_mse", "test_rollout", "batch_seconds"};

std::string header_of(const member_grid& grid, table_format format) {
  if (format == table_format::jsonl) return {};
  std::string header = "member";
  for (const sweep_axis& axis : grid.axes) header += "," + axis.name;
  for (const std::string& column : row_columns) header += "," + column;
  return header + "\n";
}

/// A rollout's status; empty (JSON null) for none — the test rollout without a test series.
std::string rollout_text(status outcome) {
  return outcome == status::running ? std::string() : std::string(to_string(outcome));
}

std::string rows_of(const member_grid& grid, std::int64_t first, const training_result& result,
                    table_format format) {
  std::string rows;
  for (std::size_t k = 0; k < result.members.size(); ++k) {
    const trained_member& m = result.members[k];
    const std::int64_t member = first + std::int64_t(k);
    const std::vector<double> values = grid.values_of(member);
    std::vector<std::pair<std::string, std::string>> cells;  // (column, CSV text)
    for (std::size_t a = 0; a < grid.axes.size(); ++a)
      cells.push_back({grid.axes[a].name, detail::number_text(values[a])});
    const std::vector<std::string> row = {std::string(to_string(m.outcome)),
                                          std::to_string(m.rounds),
                                          std::to_string(m.iterations),
                                          std::to_string(m.gradient_evaluations),
                                          detail::number_text(m.loss),
                                          detail::number_text(m.constraint),
                                          detail::number_text(m.train_mse),
                                          rollout_text(m.train_rollout),
                                          detail::number_text(m.test_mse),
                                          rollout_text(m.test_rollout),
                                          detail::number_text(result.wall_seconds)};
    for (std::size_t c = 0; c < row_columns.size(); ++c) cells.push_back({row_columns[c], row[c]});
    if (format == table_format::csv) {
      rows += std::to_string(member);
      for (const auto& cell : cells) rows += "," + cell.second;
    } else {
      nlohmann::ordered_json object;
      object["member"] = member;
      for (const auto& [column, cell] : cells) {
        const bool word =
            column == "status" || column == "train_rollout" || column == "test_rollout";
        if (word) {
          object[column] = cell.empty() ? nlohmann::json() : nlohmann::json(cell);
        } else {  // the CSV cell's number as written (counts stay integers); JSON has no NaN or ∞
          const double number = std::strtod(cell.c_str(), nullptr);
          object[column] = std::isfinite(number) ? nlohmann::json::parse(cell) : nlohmann::json();
        }
      }
      rows += object.dump();
    }
    rows += "\n";
  }
  return rows;
}

/// The member span of a train table's text (for a resumed run's check).
member_rows span_of(const std::string& table_text, table_format format) {
  member_rows span;
  std::istringstream lines(table_text);
  std::string line;
  if (format == table_format::csv) std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::int64_t member = -1;
    try {
      member = format == table_format::csv
                   ? std::stoll(line.substr(0, line.find(',')))
                   : json_integer<std::int64_t>(nlohmann::json::parse(line).at("member"), "member");
    } catch (const std::exception&) {
      throw invalid_argument("not a train table row: " + line.substr(0, 40));
    }
    if (span.count == 0) span.first = member;
    span.last = member;
    ++span.count;
  }
  return span;
}

std::string weights_lines(std::int64_t first, const training_result& result) {
  std::string lines;
  for (std::size_t k = 0; k < result.members.size(); ++k) {
    nlohmann::ordered_json line;
    line["member"] = first + std::int64_t(k);
    line["theta"] = result.members[k].theta;
    line["states"] = result.members[k].states;
    lines += line.dump() + "\n";
  }
  return lines;
}

/// Built-in data with a noise_seed axis: one series per value, in the axis' order (a repeated
/// value reuses its first series).
int series_index(const sweep_axis& noise_seeds, double value) {
  return int(std::find(noise_seeds.values.begin(), noise_seeds.values.end(), value) -
             noise_seeds.values.begin());
}

/// Seeds index random streams: integers >= 0.
void require_seeds(const sweep_axis& axis) {
  for (double seed : axis.values)
    if (!(seed >= 0 && seed == std::floor(seed) && seed < 9e15))
      throw invalid_argument("invalid " + axis.name + " = " + detail::number_text(seed) +
                             ": must be an integer >= 0");
}

/// The training of members [first, first + count): their own weights and the solver's per-member
/// hyperparameters from the grid.
training_spec chunk_spec(const training_spec& base, const member_grid& grid, std::int64_t first,
                         std::int64_t count) {
  training_spec spec = base;
  spec.members.clear();
  std::map<std::string, std::vector<double>> per_member;
  for (std::int64_t m = first; m < first + count; ++m) {
    const std::vector<double> values = grid.values_of(m);
    training_member member = base.members.front();
    for (std::size_t a = 0; a < grid.axes.size(); ++a) {
      const std::string& name = grid.axes[a].name;
      if (name == "noise_seed")
        member.series = series_index(grid.axes[a], values[a]);
      else if (name == "seed")
        member.seed = std::uint64_t(values[a]);
      else if (name == "weight_decay")
        member.weight_decay = values[a];
      else if (name == "rho")
        member.rho = values[a];
      else if (name == "lr")
        per_member["dt"].push_back(step_for_learning_rate(spec.solver, values[a]));
      else
        per_member[name].push_back(values[a]);
    }
    spec.members.push_back(member);
  }
  for (auto& [name, values] : per_member) *hyperparameter_named(spec.solver, name) = values;
  return spec;
}

}  // namespace

std::string weights_path(const std::string& table) { return derived_path(table, ".weights.jsonl"); }

training_series series_from_settings(const nlohmann::json& data,
                                     std::optional<std::uint64_t> noise_seed) {
  training_series series;
  if (data.at("source") == "vdp") {
    van_der_pol_setup setup;
    setup.mu = data.at("mu");
    setup.amplitude = data.at("amplitude");
    setup.omega = data.at("omega");
    setup.x1 = data.at("x1");
    setup.x2 = data.at("x2");
    setup.samples = json_integer<int>(data.at("samples"), "samples");
    setup.train_end = data.at("train_end");
    setup.noise = data.at("noise");
    setup.noise_seed =
        noise_seed.value_or(json_integer<std::uint64_t>(data.at("noise_seed"), "noise_seed"));
    setup.test_samples = json_integer<int>(data.at("test_samples"), "test_samples");
    setup.test_end = data.at("test_end");
    const van_der_pol_data made = van_der_pol(setup);
    return {made.noisy, made.clean, made.test};
  }
  series.data = read_series(data.at("data"), "--data");
  if (!data.at("truth").get<std::string>().empty())
    series.truth = read_series(data.at("truth"), "--truth");
  if (!data.at("test").get<std::string>().empty())
    series.test = read_series(data.at("test"), "--test");
  return series;
}

void add_train_options(CLI::App& command, train_arguments& a) {
  a.solver.method.clear();  // chosen by the formulation unless given (run_train_command)
  add_solver_options(command, a.solver,
                     "the optimiser (default: linearly_implicit, Levenberg–Marquardt, for "
                     "collocation; adam for sequential, which has no Gauss–Newton matrix)");
  // Training writes no trace, and its data are checked whole (a bad series has no member to skip):
  // options it would take and ignore are not offered.
  for (const char* ignored : {"--trace", "--trace-out", "--skip-invalid"})
    command.remove_option(command.get_option(ignored));
  command.get_option("--precision")->description("f64 (neural-ODE training runs in f64 only)");
  command.get_option("--max-steps")
      ->description(
          "iterations per member: in each round (collocation) or in all (sequential: "
          "epochs); default " +
          std::to_string(solve_options{}.max_steps));
  command.get_option("--rtol-grad")
      ->description("stop a round when ‖∇f‖ <= rtol_grad·‖∇f‖ at the member's start (default " +
                    detail::number_text(training_rtol_grad) + ", unless gtol is given: then 0)");
  // An option one scope reads alone is recorded when given, for run_train_command's check.
  const auto scoped = [&a](CLI::Option* option, train_scope scope) {
    option->each([&a, scope, flag = option->get_name()](const std::string&) {
      a.scoped_given.emplace_back(flag, scope);
    });
  };
  command.add_option("--data", a.data,
                     "vdp (the seed study's Van der Pol data), or an .npy N×(1+d): t, then y");
  scoped(command.add_option("--truth", a.truth,
                            "an .npy like --data: the noise-free path (train MSE)"),
         train_scope::file);
  scoped(command.add_option("--test", a.test,
                            "an .npy like --data: a continuation (extrapolation MSE)"),
         train_scope::file);
  scoped(command.add_option("--mu", a.vdp.mu, "vdp: μ"), train_scope::vdp);
  scoped(command.add_option("--amplitude", a.vdp.amplitude, "vdp: the forcing's amplitude A"),
         train_scope::vdp);
  scoped(command.add_option("--omega", a.vdp.omega, "vdp: the forcing's frequency ω"),
         train_scope::vdp);
  scoped(command.add_option("--samples", a.vdp.samples,
                            "vdp: samples at Chebyshev points on [0, train_end]"),
         train_scope::vdp);
  scoped(command.add_option("--train-end", a.vdp.train_end,
                            "vdp: the training interval [0, train_end]"),
         train_scope::vdp);
  scoped(command.add_option("--noise", a.vdp.noise, "vdp: the noise's σ"), train_scope::vdp);
  command.add_option("--noise-seed", a.axes["noise_seed"],
                     "axis, vdp: the noise's seed, one data set per value (default 0)");
  scoped(command.add_option("--test-samples", a.vdp.test_samples, "vdp: equispaced test points"),
         train_scope::vdp);
  scoped(command.add_option("--test-end", a.vdp.test_end, "vdp: the test interval's end"),
         train_scope::vdp);
  command.add_option("--formulation", a.formulation, "collocation | sequential");
  scoped(command.add_option("--constraints", a.constraints,
                            "collocation: augmented_lagrangian | penalty"),
         train_scope::collocation);
  command.add_option("--hidden", a.hidden, "the hidden layer's width H");
  scoped(command.add_option("--rounds", a.rounds, "collocation: rounds of ρ / multiplier updates"),
         train_scope::collocation);
  scoped(command.add_option("--rho-growth", a.rho_growth, "collocation: ρ's factor between rounds"),
         train_scope::collocation);
  scoped(command.add_option(
             "--constraint-tol", a.constraint_tolerance,
             "collocation: a member stops when the RMS of (DY)_i − NN(Y_i) is at most this × "
             "max(1, the data's RMS)"),
         train_scope::collocation);
  scoped(command.add_option("--bandwidth", a.bandwidth, "collocation: the smoother that starts Y"),
         train_scope::collocation);
  scoped(command.add_option("--max-step", a.max_step, "sequential: the RK4 step bound"),
         train_scope::sequential);
  command.add_option("--seed", a.axes["seed"], "axis: the initial weights' seed (default 0)");
  command.add_option("--weight-decay", a.axes["weight_decay"], "axis: λ in λ‖θ‖² (default 1e-3)");
  scoped(command.add_option("--rho", a.axes["rho"],
                            "axis: collocation's first constraint weight (default 100)"),
         train_scope::collocation);
  command.add_option("--lr", a.axes["lr"],
                     "axis: the learning rate (dt = lr; heavy ball / nesterov: dt = sqrt(lr))");
  for (const auto& row : hyperparameter_registry)
    if (row.cli_axis)
      command.add_option(flag_of(row.name), a.axes[std::string(row.name)],
                         "axis: " + std::string(row.help));
  command.add_option("--out", a.out,
                     "table, one row per member (+ a .json sidecar and .weights.jsonl)");
  command.add_option("--format", a.format,
                     "csv | jsonl (JSON Lines); default: as --out is named (.jsonl), else csv");
  auto* plot =
      command.add_option("--plot", a.plot, "also draw one member's fit (.png; needs --out)");
  command.add_option("--plot-member", a.plot_member, "the member --plot draws (default 0)")
      ->needs(plot);
  command.add_option("--chunk", a.chunk,
                     "members per chunk (>= 1): each finished chunk is appended and journalled");
  command.add_flag("--resume", a.resume, "finish an interrupted run of the same command");
  command.add_flag("--quiet", a.quiet, "print no summary");
  // Fixed defaults, shown as CLI11 shows them ("--hidden INT=32"), read from the bound variables.
  for (const char* flag :
       {"--data", "--mu", "--amplitude", "--omega", "--samples", "--train-end", "--noise",
        "--test-samples", "--test-end", "--formulation", "--constraints", "--hidden", "--rounds",
        "--rho-growth", "--constraint-tol", "--bandwidth", "--max-step"})
    command.get_option(flag)->capture_default_str();
}

int run_train_command(train_arguments a, const std::string& command_line) {
  for (auto it = a.axes.begin(); it != a.axes.end();)
    it = it->second.empty() ? a.axes.erase(it) : std::next(it);
  if (a.chunk && *a.chunk < 1)
    throw invalid_argument("invalid chunk = " + std::to_string(*a.chunk) + ": must be >= 1");
  if (a.out.empty() && (a.resume || !a.plot.empty()))
    throw invalid_argument(std::string(a.resume ? "--resume" : "--plot") + " needs --out");
  if (!a.plot.empty()) require_picture_extension(a.plot);
  if (single_precision(a.solver))
    throw invalid_argument("invalid precision = f32 for train: neural-ODE training runs in f64");
  if (a.axes.count("lr") && a.axes.count("dt"))
    throw invalid_argument("axes lr and dt both given: they set the same step; give one");
  const table_format format = table_format_for(a.format, a.out);

  training_spec base;
  base.hidden = a.hidden;
  base.form = parse_formulation(a.formulation);
  const bool collocation = base.form == formulation::collocation;
  // The study's best of each (README, "Neural ODEs: the seed study").
  if (a.solver.method.empty()) a.solver.method = collocation ? "linearly_implicit" : "adam";
  for (const auto& [flag, scope] : a.scoped_given) {
    if (scope == train_scope::vdp && a.data != "vdp")
      throw invalid_argument(flag + " shapes the built-in Van der Pol data: leave it out " +
                             "with --data " + a.data);
    if (scope == train_scope::file && a.data == "vdp")
      throw invalid_argument(flag + " goes with a series of your own (--data FILE): the " +
                             "built-in data make their own noise-free path and continuation");
    if ((scope == train_scope::collocation && !collocation) ||
        (scope == train_scope::sequential && collocation))
      throw invalid_argument(flag + " is not used by formulation " + a.formulation +
                             ": leave it out");
  }
  base.constraints = parse_constraint_method(a.constraints);
  base.rounds = a.rounds;
  base.rho_growth = a.rho_growth;
  base.constraint_tolerance = a.constraint_tolerance;
  base.bandwidth = a.bandwidth;
  base.max_step = a.max_step;
  base.solver = to_options(a.solver);
  base.solver.method = parse_method(a.solver.method);
  require_read_limits(a.solver, base.solver, {base.solver.method}, /*stall_test_by_default=*/false);
  base.members.push_back(training_member{});
  member_grid grid;
  for (const std::string& name : train_axis_names()) {
    const auto it = a.axes.find(name);
    if (it != a.axes.end()) grid.axes.push_back(parse_axis_values(name, it->second));
  }
  const solve_options read_by = with_axis_values(base.solver, grid.axes);
  for (const sweep_axis& axis : grid.axes) {
    const std::string& name = axis.name;
    if (name != "noise_seed" && name != "seed" && name != "weight_decay" && name != "rho" &&
        !uses_hyperparameter(read_by, name == "lr" ? "dt" : name))
      throw invalid_argument("axis " + name + " is not used by method " + a.solver.method + " (" +
                             reading_context(read_by) + "): its members would repeat each other");
    if (name == "noise_seed" && a.data != "vdp")
      throw invalid_argument("axis noise_seed needs --data vdp (the built-in data's noise)");
    if (name == "seed" || name == "noise_seed") require_seeds(axis);
  }
  if (!a.plot.empty() && (a.plot_member < 0 || a.plot_member >= grid.size()))
    throw invalid_argument("invalid plot_member = " + std::to_string(a.plot_member) +
                           ": the grid's members are 0 to " + std::to_string(grid.size() - 1));
  const nlohmann::json data = data_settings(a);
  run_files files;
  if (a.data != "vdp") files.input(a.data, "--data");
  files.input(a.truth, "--truth");
  files.input(a.test, "--test");
  chunked_plan plan;
  if (!a.out.empty()) {
    plan.table = a.out;
    plan.journal = a.out + ".progress";
    plan.side = weights_path(a.out);
  }
  const std::string sidecar = a.out.empty() ? "" : sidecar_path(a.out);
  files.output(plan.table, "--out");
  files.output(plan.journal, "the journal");
  files.output(plan.side, "the weights");
  files.sidecar(sidecar);
  files.output(a.plot, "--plot");
  files.check();
  const auto locks = lock_outputs(files.outputs());
  const auto noise_seeds =
      std::find_if(grid.axes.begin(), grid.axes.end(),
                   [](const sweep_axis& axis) { return axis.name == "noise_seed"; });
  if (noise_seeds == grid.axes.end())
    base.series.push_back(series_from_settings(data));
  else
    for (double value : noise_seeds->values)
      base.series.push_back(series_from_settings(data, std::uint64_t(value)));
  check_training(chunk_spec(base, grid, 0, grid.size()));  // bad input fails before any write

  nlohmann::json axes = nlohmann::json::array();
  for (const sweep_axis& axis : grid.axes)
    axes.push_back({{"name", axis.name}, {"spec", a.axes.at(axis.name)}, {"values", axis.values}});
  nlohmann::json settings = {{"run", "train"},
                             {"data", data},
                             {"solver", describe_solver(a.solver)},
                             {"method", a.solver.method},
                             {"formulation", a.formulation},
                             {"constraints", a.constraints},
                             {"hidden", a.hidden},
                             {"rounds", a.rounds},
                             {"rho_growth", a.rho_growth},
                             {"constraint_tol", a.constraint_tolerance},
                             {"bandwidth", a.bandwidth},
                             {"max_step", a.max_step},
                             {"axes", axes},
                             {"format", to_string(format)}};
  const std::int64_t total = grid.size();
  plan.header = header_of(grid, format);
  plan.settings = settings;
  plan.first = 0;
  plan.end = total;
  plan.chunk = a.chunk;
  plan.resume = a.resume;
  plan.rows_in = [format](const std::string& table_text) { return span_of(table_text, format); };

  // Ctrl-C: a chunked run finishes its running chunk (saved); an unchunked one stops at the
  // solve's next check, since nothing of it could be saved anyway.
  if (!a.chunk) base.solver.should_stop = [] { return interrupt_requested(); };
  const rank_place here = this_rank();
  const progress_line progress(!a.quiet && !here.distributed(), total);
  const auto started = std::chrono::steady_clock::now();
  std::vector<run_summary> runs;
  bind_rank_to_device(base.solver.backend);
  solver_context context;
  const chunked_outcome outcome = run_chunked(plan, [&](std::int64_t first, std::int64_t& count) {
    const training_result result = train(chunk_spec(base, grid, first, count), context);
    runs.insert(runs.end(), result.runs.begin(), result.runs.end());
    const std::string rows = rows_of(grid, first, result, format);
    progress.update(
        first + count, 0,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return chunk_output{rows, weights_lines(first, result), result.wall_seconds};
  });
  if (!here.owns_outputs()) return 0;
  progress.finish();
  if (outcome.interrupted) return report_interrupt(plan, outcome);

  const std::string table_text =
      a.out.empty() ? plan.header + outcome.rows : read_table_text(a.out);
  const std::vector<trained_row> trained = trained_rows(table_text, format, grid.axes);
  const nlohmann::json counts = status_counts(trained);
  if (!a.out.empty()) {
    nlohmann::json side = run_sidecar(settings, command_line, a.out, outcome, runs, counts);
    side["weights"] = plan.side;
    side["members"] = total;
    write_atomically(sidecar, side.dump(2) + "\n", "the sidecar");
    finish_chunked(plan);
  }
  if (!a.quiet) {
    std::cout << "trained " << total << " neural ODE" << (total == 1 ? "" : "s") << " ("
              << a.formulation << ", " << a.solver.method << ") in "
              << detail::number_text(outcome.wall_seconds) << " s: " << counts.dump() << "\n"
              << summarize_training(grid.axes, trained);
    if (a.out.empty())
      std::cout << table_text;
    else
      std::cout << "wrote " << a.out << ", " << sidecar << " and " << plan.side << "\n";
  }
  if (!a.plot.empty()) {
    draw_fit(a.out, a.plot_member, a.plot);
    if (!a.quiet) std::cout << "drew " << a.plot << "\n";
  }
  return 0;
}

namespace {

void draw_member_fit(const std::string& table, std::int64_t member, const std::string& out) {
  const std::string sidecar = sidecar_path(table);
  const nlohmann::json settings = read_json_file(sidecar, "sidecar");
  if (!settings.is_object() || settings.value("run", "") != "train")
    throw invalid_argument("'" + table + "' is not a train table (its sidecar '" + sidecar +
                           "' names no train run)");
  const std::int64_t members = settings.value("members", std::int64_t(0));
  if (member < 0 || member >= members)
    throw invalid_argument("invalid member = " + std::to_string(member) + ": the table has " +
                           std::to_string(members));
  std::optional<std::uint64_t> noise_seed;
  member_grid grid;
  for (const nlohmann::json& axis : settings.at("axes"))
    grid.axes.push_back({axis.at("name"), axis.at("values").get<std::vector<double>>()});
  for (std::size_t a = 0; a < grid.axes.size(); ++a)
    if (grid.axes[a].name == "noise_seed") noise_seed = std::uint64_t(grid.values_of(member)[a]);
  const training_series series = series_from_settings(settings.at("data"), noise_seed);
  std::ifstream weights(weights_path(table));
  if (!weights) throw io_error("cannot read the weights '" + weights_path(table) + "'");
  nlohmann::json line;
  for (std::string text; std::getline(weights, text);) {
    const nlohmann::json parsed = nlohmann::json::parse(text);
    if (parsed.at("member") == member) line = parsed;
  }
  if (line.is_null())
    throw invalid_argument("member " + std::to_string(member) + " is not in '" +
                           weights_path(table) + "'");
  std::vector<double> theta;
  for (const nlohmann::json& value : line.at("theta")) {
    if (!value.is_number())
      throw invalid_argument("member " + std::to_string(member) +
                             " has no finite weights to draw (it diverged)");
    theta.push_back(value.get<double>());
  }
  const int d = series.data.dimension;
  const int hidden = settings.at("hidden");
  const auto path_json = [](const time_series& s) {
    return nlohmann::json{{"t", s.times}, {"y", s.values}};
  };
  const auto rolled = [&](const time_series& reference) {
    const std::vector<double> start(reference.values.begin(), reference.values.begin() + d);
    return roll_out(theta, d, hidden, start, reference.times, 1e-8, 1e-10, 100000).path;
  };
  const time_series& truth = series.truth.size() > 0 ? series.truth : series.data;
  // The title names the member's settings and how it fared, from its row of the table.
  const std::vector<trained_row> rows = trained_rows(
      read_table_text(table), table_format_for(settings.value("format", ""), table), grid.axes);
  if (std::int64_t(rows.size()) != members)
    throw invalid_argument("'" + table + "' holds " + std::to_string(rows.size()) +
                           " rows where its sidecar says " + std::to_string(members));
  nlohmann::json picture = {
      {"dimension", d},
      {"title", "member " + std::to_string(member) + ", " + settings.value("formulation", "") +
                    ", " + settings.value("method", "") + "\n" +
                    describe_member(grid.axes, rows[std::size_t(member)])},
      {"data", path_json(series.data)},
      {"truth", path_json(truth)},
      {"fit", path_json(rolled(truth))}};
  if (series.test.size() > 0) {
    picture["test"] = path_json(series.test);
    picture["extrapolation"] = path_json(rolled(series.test));
  }
  if (!line.at("states").empty())
    picture["states"] = {{"t", series.data.times}, {"y", line.at("states")}};
  char json_path[] = "/tmp/gradflow_fit_XXXXXX";
  const int descriptor = ::mkstemp(json_path);
  if (descriptor < 0) throw io_error("cannot create a temporary file for the picture");
  ::close(descriptor);
  std::ofstream(json_path) << picture.dump();
  try {
    run_plot_script({"fit", json_path, out});
  } catch (...) {
    std::remove(json_path);
    throw;
  }
  std::remove(json_path);
}

}  // namespace

void draw_fit(const std::string& table, std::int64_t member, const std::string& out) {
  try {
    draw_member_fit(table, member, out);
  } catch (const nlohmann::json::exception& e) {  // another version's files, or edited ones
    throw invalid_argument("cannot draw from '" + table + "': its sidecar '" + sidecar_path(table) +
                           "' or weights '" + weights_path(table) +
                           "' are not what this gradflow writes (" + e.what() + ")");
  }
}

}  // namespace gradflow::cli
