#include "sweep_command.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include "chunked_table.hpp"
#include "device_choice.hpp"
#include "gradflow/gradflow.hpp"
#include "host_memory.hpp"
#include "json_file.hpp"
#include "mpi_job.hpp"
#include "objective_source.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "plot_command.hpp"
#include "progress_line.hpp"
#include "split_list.hpp"
#include "sweep_summary.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {
namespace {

/// "gd,nag" → the methods; an empty item ("gd,", ",nag", "gd,,nag") is an error.
std::vector<method> parse_methods(const std::string& list) {
  std::vector<method> methods;
  for (const std::string& name : split_list(list, ',')) {
    if (name.empty())
      throw invalid_argument("invalid method = '" + list + "': an empty name in the list");
    methods.push_back(parse_method(name));
  }
  return methods;
}

/// A decimal integer of digits only (no sign, no spaces, no base prefix), or -1.
long long plain_integer(const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(text);
}

/// The members [first, end) of shard "i/N" of `total`: contiguous slices, the first total mod N one
/// member longer.
std::pair<std::int64_t, std::int64_t> shard_range(const std::string& shard, std::int64_t total) {
  if (shard.empty()) return {0, total};
  const auto slash = shard.find('/');
  const long long index = slash == std::string::npos ? -1 : plain_integer(shard.substr(0, slash));
  const long long count = slash == std::string::npos ? -1 : plain_integer(shard.substr(slash + 1));
  if (index < 0 || count < 1 || index >= count)
    throw invalid_argument("invalid shard = '" + shard + "': expected i/N with 0 <= i < N");
  // total·i may overflow int64 for huge sweeps (up to 2⁶² members): multiply in 128 bits.
  const auto boundary = [&](long long i) {
    return std::int64_t(static_cast<__int128>(total) * i / count);
  };
  return {boundary(index), boundary(index + 1)};
}

/// What determines the rows: a resumed run must match it exactly.
nlohmann::json run_settings(const sweep_arguments& arguments, const sweep_spec& spec,
                            table_format format, std::int64_t total) {
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& axis : spec.axes)
    axes.push_back({{"name", axis.name},
                    {"spec", arguments.axes.at(axis.name)},
                    {"spacing", axis.logarithmic ? "log" : "lin"},
                    {"values", axis.values}});
  nlohmann::json methods = nlohmann::json::array();
  for (method m : spec.methods) methods.push_back(to_string(m));
  return {{"problem", describe_problems(arguments.problem)},
          {"solver", describe_solver(arguments.solver)},
          {"methods", methods},
          {"axes", axes},
          {"format", to_string(format)},
          {"shard", arguments.shard},
          {"members_total", total}};
}

/// About what one member of `problems` holds in memory: its A and B, G and a factor, C, and state
/// with up to a dozen stage vectors (second-order dynamics double them).
template <class Real>
std::int64_t member_bytes(const least_squares_batch<Real>& problems) {
  const std::int64_t m = problems.rows, n = problems.unknowns, k = problems.rhs_count;
  return std::int64_t(sizeof(Real)) * (m * n + m * k + 2 * n * n + n * k + 2 * 12 * n * k);
}

/// The same for an objective: a Hessian and its factor, and the state.
std::int64_t member_bytes(const objective_problems& problems) {
  const std::int64_t n = unknowns_of(problems);
  return std::int64_t(sizeof(double)) * (2 * n * n + 2 * 12 * n);
}

template <class Real>
std::int64_t problem_count(const least_squares_batch<Real>& problems) {
  return problems.batch_size;
}
using cli::problem_count;  // objectives' (objective_source.hpp), which the template above hides

template <class Real>
sweep_result sweep_members(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                           std::int64_t first, std::int64_t count, device_set& devices) {
  return devices.split(first, count, [&](std::int64_t f, std::int64_t c, solver_context& context) {
    return run_sweep(problems, spec, f, c, context);
  });
}

sweep_result sweep_members(const objective_problems& problems, const sweep_spec& spec,
                           std::int64_t first, std::int64_t count, device_set& devices) {
  return devices.split(first, count, [&](std::int64_t f, std::int64_t c, solver_context& context) {
    return std::visit([&](const auto& batch) { return sweep(batch, spec, f, c, context); },
                      problems);
  });
}

/// Runs members [first, first + count) on `devices` (every chunk on the same engines): in chunks
/// whose estimate fits the host memory (host_memory_bytes: Linux would grant more and then kill
/// the run), halving the chunk on out-of-memory until one fits; one member that does not fit
/// fails with the bytes it needs.
template <class Problems>
sweep_result run_chunk(const Problems& problems, const sweep_spec& spec, std::int64_t first,
                       std::int64_t& count, device_set& devices) {
  const std::int64_t each = member_bytes(problems);
  const auto member_too_big = [each](const std::string& available) {
    return out_of_memory("one member does not fit in host memory: it needs about " +
                         memory_text(double(each)) +
                         " (its problem, curvature and factor, the state)" + available);
  };
  if (const auto memory = host_memory_bytes()) {
    if (each > *memory) throw member_too_big("; " + memory_text(double(*memory)) + " is available");
    if (count > *memory / each) {
      std::cerr << "gradflow: " << count << " members need about "
                << memory_text(double(count) * double(each)) << " of host memory, "
                << memory_text(double(*memory)) << " available: running chunks of "
                << *memory / each << " members\n";
      count = *memory / each;
    }
  }
  for (;;) {
    try {
      return sweep_members(problems, spec, first, count, devices);
    } catch (const std::exception& e) {
      const bool memory =
          dynamic_cast<const out_of_memory*>(&e) || dynamic_cast<const std::bad_alloc*>(&e);
      if (!memory) throw;
      if (count == 1) {
        if (dynamic_cast<const out_of_memory*>(&e)) throw;
        throw member_too_big("");
      }
      count = (count + 1) / 2;
      std::cerr << "gradflow: out of memory (" << e.what() << "); retrying with chunks of " << count
                << " members\n";
    }
  }
}

/// The files of a sweep, derived from --out: the journal, the sidecar and the default trace.
struct sweep_paths {
  std::string table, journal, sidecar, trace, plot;
};

sweep_paths paths_for(const sweep_arguments& arguments, bool tracing) {
  sweep_paths paths;
  paths.table = arguments.out;
  paths.plot = arguments.plot;
  if (!arguments.out.empty()) {
    paths.journal = arguments.out + ".progress";
    paths.sidecar = sidecar_path(arguments.out);
  }
  if (tracing) {
    paths.trace = !arguments.solver.trace_out.empty() ? arguments.solver.trace_out
                  : arguments.out.empty()             ? std::string("trace.csv")
                                                      : derived_path(arguments.out, ".trace.csv");
  }
  return paths;
}

run_files files_of(const sweep_arguments& arguments, const sweep_paths& paths) {
  run_files files;
  add_problem_inputs(arguments.problem, files);
  files.input(arguments.config, "--config");
  files.output(paths.table, "--out");
  files.output(paths.journal, "the journal");
  files.sidecar(paths.sidecar);
  files.output(paths.trace, "--trace-out");
  files.output(paths.plot, "--plot");
  return files;
}

/// The sweep over the problems `load_problems()` returns, once the outputs are checked and locked.
template <class LoadProblems>
int sweep_in(const sweep_arguments& arguments, const sweep_spec& spec,
             const std::string& command_line, LoadProblems&& load_problems) {
  const table_format format = table_format_for(arguments.format, arguments.out);
  const bool tracing = spec.base.trace_every > 0;
  const sweep_paths paths = paths_for(arguments, tracing);
  const run_files files = files_of(arguments, paths);
  files.check();
  const auto locks = lock_outputs(files.outputs());
  const auto problems = load_problems();
  const std::int64_t total = sweep_size(spec, problem_count(problems));
  const auto [first, end] = shard_range(arguments.shard, total);
  const nlohmann::json settings = run_settings(arguments, spec, format, total);
  const bool chunked = arguments.chunk.has_value();
  chunked_plan plan;
  plan.table = paths.table;
  plan.journal = paths.journal;
  plan.side = paths.trace;
  plan.header = table_header(spec.axes, format);
  plan.side_header = tracing ? trace_csv({}, true) : std::string();
  plan.settings = settings;
  plan.first = first;
  plan.end = end;
  plan.chunk = arguments.chunk;
  plan.resume = arguments.resume;
  plan.rows_in = [&](const std::string& text) {
    table_format read_format = table_format::csv;
    const sweep_result rows = parse_table(text, paths.table, read_format);
    member_rows span;
    span.count = std::int64_t(rows.rows.size());
    if (!rows.rows.empty()) {
      span.first = rows.rows.front().member;
      span.last = rows.rows.back().member;
    }
    return span;
  };

  device_set devices = devices_for_run(arguments.devices, spec.base.backend);
  // The progress line counts members across chunks; inside a chunk the solve reports its own.
  // Shared among ranks or devices, the members finish out of order: no line.
  const rank_place here = this_rank();
  const progress_line progress(!arguments.quiet && !here.distributed() && devices.size() == 1,
                               end - first);
  const auto started = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::int64_t chunk_start = first;
  sweep_spec live_spec = spec;
  if (progress.enabled()) {
    live_spec.base.on_progress = [&](const progress_report& report) {
      progress.update(chunk_start - first + report.finished, report.running, elapsed());
    };
  }
  // Ctrl-C: a chunked run finishes its running chunk (saved, so nothing computed is lost); an
  // unchunked one stops at the solve's next check, since nothing of it could be saved anyway.
  if (!chunked) live_spec.base.should_stop = [] { return interrupt_requested(); };
  std::vector<run_summary> runs;
  const chunked_outcome outcome = run_chunked(plan, [&](std::int64_t next, std::int64_t& count) {
    chunk_start = next;
    const sweep_result part = run_chunk(problems, live_spec, next, count, devices);
    runs.insert(runs.end(), part.runs.begin(), part.runs.end());
    return chunk_output{table_rows(part, format),
                        tracing ? trace_csv(part.trace, false) : std::string(), part.wall_seconds};
  });
  if (!here.owns_outputs()) return 0;
  if (!outcome.interrupted) progress.update(end - first, 0, elapsed());
  progress.finish();
  if (outcome.interrupted) return report_interrupt(plan, outcome);

  table_format written = format;
  sweep_result table = paths.table.empty()
                           ? parse_table(plan.header + outcome.rows, "the sweep's rows", written)
                           : read_table(paths.table, written);
  table.axes = spec.axes;
  table.wall_seconds = outcome.wall_seconds;
  table.runs = runs;
  if (!paths.table.empty()) {
    nlohmann::json sidecar =
        run_sidecar(settings, command_line, paths.table, outcome, runs, status_counts(table));
    sidecar["preset"] = arguments.preset;
    sidecar["config"] = arguments.config;
    sidecar["member_range"] = {first, end};
    sidecar["trace_file"] = paths.trace;  // empty: not traced
    write_atomically(paths.sidecar, sidecar.dump(2) + "\n", "the sidecar");
    finish_chunked(plan);
  }
  if (!arguments.quiet) {
    std::cout << summarize_sweep(table, arguments.solver.dynamics, arguments.solver.precision);
    if (!paths.table.empty())
      std::cout << "wrote " << paths.table << " and " << paths.sidecar << "\n";
  }
  if (!paths.plot.empty()) {
    plot_arguments picture;
    picture.table = paths.table;
    picture.out = paths.plot;
    run_plot(picture);
    if (!arguments.quiet) std::cout << "drew " << paths.plot << "\n";
  }
  return 0;
}

}  // namespace

void add_sweep_options(CLI::App& command, sweep_arguments& arguments) {
  add_problem_options(command, arguments.problem, false);
  add_solver_options(command, arguments.solver,
                     "one method, or a comma-separated list (a method axis)");
  for (const auto& row : hyperparameter_registry)
    if (row.cli_axis)
      command.add_option(flag_of(row.name), arguments.axes[std::string(row.name)],
                         "axis: " + std::string(row.help));
  command.add_option("--lr", arguments.axes["lr"],
                     "axis: learning rate (dt = lr; heavy ball / nesterov: dt = sqrt(lr))");
  command.add_option("--lambda", arguments.axes["lambda"], "axis: ridge weight λ");
  command.add_option("--u0-seed", arguments.axes["u0_seed"], "axis: seed of a random U0 in [0,1)");
  command.add_option("--x0-scale", arguments.axes["x0_scale"],
                     "axis, with --problem: start at this multiple of each problem's x0");
  command.add_option("--x0-offset", arguments.axes["x0_offset"],
                     "axis, with --problem: add this to every coordinate of the start");
  command.add_option("--config", arguments.config, "JSON file with any of these settings");
  command.add_option("--preset", arguments.preset, "seed: the seed example's lr × zeta showcase");
  command.add_option("--out", arguments.out, "table, one row per member (+ a .json sidecar)");
  command.add_option("--format", arguments.format,
                     "csv | jsonl (JSON Lines); default: as --out is named (.jsonl), else csv");
  command.add_option(
      "--plot", arguments.plot,
      "also draw steps: a heatmap over the first two axes, or over a single axis a line per "
      "method (.png, .pdf, .svg; needs --out)");
  command.add_option("--chunk", arguments.chunk,
                     "members per chunk (>= 1): each finished chunk is appended and journalled");
  command.add_option("--shard", arguments.shard,
                     "i/N: run only the i-th of N slices of the members");
  command.add_option("--devices", arguments.devices,
                     "0,1,… or all: split each chunk over these CUDA devices, one stream each");
  command.add_flag("--resume", arguments.resume,
                   "finish an interrupted run of the same command (skips finished chunks)");
  command.add_flag("--quiet", arguments.quiet, "print no summary");
}

int run_sweep_command(CLI::App& command, sweep_arguments arguments,
                      const std::string& command_line) {
  for (auto it = arguments.axes.begin(); it != arguments.axes.end();)
    it = it->second.empty() ? arguments.axes.erase(it) : std::next(it);
  // Precedence: the command line, then the config file, then the preset.
  nlohmann::json settings = nlohmann::json::object();
  if (!arguments.preset.empty()) settings = preset_config(arguments.preset);
  if (!arguments.config.empty()) {
    const nlohmann::json config = read_config(arguments.config);
    keep_one_problem_source(settings, [&](const std::string& key) {
      return config.contains(key) && !config.at(key).is_null();  // null removes, names nothing
    });
    settings.merge_patch(config);
  }
  const auto typed = [&](const std::string& key) {
    const CLI::Option* given = command.get_option_no_throw(flag_of(key));
    return given != nullptr && given->count() > 0;
  };
  keep_one_problem_source(settings, typed);
  apply_config(settings, arguments.config.empty() ? "preset " + arguments.preset : arguments.config,
               typed, arguments);
  if (arguments.axes.empty())
    throw invalid_argument("sweep needs at least one axis (--lr, --zeta, …, or --config/--preset)");
  if (arguments.chunk && *arguments.chunk < 1)
    throw invalid_argument("invalid chunk = " + std::to_string(*arguments.chunk) +
                           ": must be >= 1 (leave it out to run all members at once)");
  if (arguments.out.empty() && arguments.resume)
    throw invalid_argument("--resume needs the --out of the interrupted run");
  const bool single = single_precision(arguments.solver);
  const bool objectives = names_objectives(arguments.problem, single);
  const problem_axis_names problem_axes = objectives ? objective_axes : least_squares_axes;
  sweep_spec spec;
  spec.base = to_options(arguments.solver);
  spec.methods = parse_methods(arguments.solver.method);
  spec.base.method = spec.methods.front();
  require_read_limits(arguments.solver, spec.base, spec.methods, !objectives);
  for (const std::string& name : sweep_axis_names()) {  // a fixed, documented column order
    const auto it = arguments.axes.find(name);
    if (it != arguments.axes.end()) spec.axes.push_back(parse_axis(name, it->second, problem_axes));
  }
  check_sweep(spec, problem_axes);
  if (!arguments.plot.empty() && arguments.out.empty())
    throw invalid_argument("--plot needs --out (the picture is drawn from the table)");
  if (!arguments.plot.empty()) require_picture_extension(arguments.plot);
  if (objectives)
    return sweep_in(arguments, spec, command_line,
                    [&] { return load_objectives(arguments.problem.objectives); });
  if (single)
    return sweep_in(arguments, spec, command_line,
                    [&] { return load_problems<float>(arguments.problem); });
  return sweep_in(arguments, spec, command_line,
                  [&] { return load_problems<double>(arguments.problem); });
}

}  // namespace gradflow::cli
