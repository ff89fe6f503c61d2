#include "sweep_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gradflow/gradflow.hpp"
#include "output_files.hpp"
#include "plot_command.hpp"
#include "progress_line.hpp"
#include "sweep_summary.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {
namespace {

std::vector<method> parse_methods(const std::string& list) {
  std::vector<method> methods;
  std::stringstream text(list);
  std::string name;
  while (std::getline(text, name, ',')) methods.push_back(parse_method(name));
  if (methods.empty()) throw invalid_argument("invalid method = '': expected at least one method");
  return methods;
}

/// The members [first, end) of shard "i/N" of `total`: contiguous slices, the first total mod N one
/// member longer.
std::pair<std::int64_t, std::int64_t> shard_range(const std::string& shard, std::int64_t total) {
  if (shard.empty()) return {0, total};
  const auto slash = shard.find('/');
  char* end = nullptr;
  const long long index = std::strtoll(shard.c_str(), &end, 10);
  const long long count =
      slash == std::string::npos ? 0 : std::strtoll(shard.c_str() + slash + 1, &end, 10);
  if (slash == std::string::npos || *end != '\0' || count < 1 || index < 0 || index >= count)
    throw invalid_argument("invalid shard = '" + shard + "': expected i/N with 0 <= i < N");
  return {total * index / count, total * (index + 1) / count};
}

/// What determines the rows: a resumed run must match it exactly.
nlohmann::json run_settings(const sweep_arguments& arguments, const sweep_spec& spec,
                            std::int64_t total) {
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
          {"format", arguments.format},
          {"shard", arguments.shard},
          {"members_total", total}};
}

nlohmann::json read_journal(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io_error("cannot --resume: no journal '" + path + "' (nothing was interrupted?)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw io_error("cannot --resume: journal '" + path + "' is damaged: " + e.what());
  }
}

/// Appends `text` and forces it to disk before the journal may say so.
void append_durably(const std::string& path, const std::string& text) {
  const int descriptor = ::open(path.c_str(), O_WRONLY | O_APPEND);
  bool ok = descriptor >= 0;
  std::size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t step = ::write(descriptor, text.data() + written, text.size() - written);
    ok = step > 0;
    if (ok) written += std::size_t(step);
  }
  ok = ok && ::fsync(descriptor) == 0;
  if (descriptor >= 0) ::close(descriptor);
  if (!ok) throw io_error("cannot append to --out '" + path + "': " + std::strerror(errno));
}

volatile std::sig_atomic_t interrupted = 0;
extern "C" void on_interrupt(int) {
  interrupted = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C stops at once; finished chunks are safe anyway
}

/// Runs members [first, first + count), halving the chunk on out-of-memory until one fits.
template <class Real>
sweep_result run_chunk(const least_squares_batch<Real>& problems, const sweep_spec& spec,
                       std::int64_t first, std::int64_t& count) {
  for (;;) {
    try {
      return run_sweep(problems, spec, first, count);
    } catch (const std::exception& e) {
      const bool memory =
          dynamic_cast<const out_of_memory*>(&e) || dynamic_cast<const std::bad_alloc*>(&e);
      if (!memory || count == 1) throw;
      count = (count + 1) / 2;
      std::cerr << "gradflow: out of memory (" << e.what() << "); retrying with chunks of " << count
                << " members\n";
    }
  }
}

template <class Real>
int sweep_in(const sweep_arguments& arguments, const sweep_spec& spec,
             const std::string& command_line) {
  const auto problems = load_problems<Real>(arguments.problem);
  const table_format format = parse_table_format(arguments.format);
  const std::int64_t total = sweep_size(spec, problems.batch_size);
  const auto [first, end] = shard_range(arguments.shard, total);
  const nlohmann::json settings = run_settings(arguments, spec, total);
  const std::string journal_path = arguments.out + ".progress";
  const bool tracing = spec.base.trace_every > 0;
  const std::string trace_path =
      !arguments.solver.trace_out.empty() ? arguments.solver.trace_out
      : arguments.out.empty()
          ? std::string("trace.csv")
          : sidecar_path(arguments.out).substr(0, sidecar_path(arguments.out).size() - 5) +
                ".trace.csv";

  std::int64_t next = first, chunk = arguments.chunk > 0 ? arguments.chunk
                                                         : std::max<std::int64_t>(end - first, 1);
  double wall_seconds = 0;
  if (arguments.out.empty() && arguments.resume)
    throw invalid_argument("--resume needs the --out of the interrupted run");
  if (arguments.resume) {
    const auto journal = read_journal(journal_path);
    if (journal.at("settings") != settings)
      throw invalid_argument(
          "cannot --resume: the settings differ from the interrupted run's (see '" + journal_path +
          "')");
    next = journal.at("next_member").get<std::int64_t>();
    chunk = journal.at("chunk").get<std::int64_t>();
    wall_seconds = journal.at("wall_seconds").get<double>();
    std::filesystem::resize_file(arguments.out, journal.at("bytes").get<std::uintmax_t>());
    if (tracing)
      std::filesystem::resize_file(trace_path, journal.at("trace_bytes").get<std::uintmax_t>());
  } else if (!arguments.out.empty()) {
    write_atomically(arguments.out, table_header(spec.axes, format), "--out");
  }
  if (tracing && !arguments.resume)
    write_atomically(trace_path, trace_csv({}, true), "--trace-out");
  auto save_journal = [&] {
    const nlohmann::json journal = {
        {"settings", settings},
        {"chunk", chunk},
        {"next_member", next},
        {"bytes", std::filesystem::file_size(arguments.out)},
        {"wall_seconds", wall_seconds},
        {"trace_bytes", tracing ? std::filesystem::file_size(trace_path) : 0}};
    write_atomically(journal_path, journal.dump(2) + "\n", "--out journal");
  };
  if (!arguments.out.empty() && !arguments.resume) save_journal();

  // The progress line counts members across chunks; inside a chunk the solve reports its own.
  const progress_line progress(!arguments.quiet, end - first);
  const auto started = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::int64_t chunk_start = next;
  sweep_spec live_spec = spec;
  if (progress.enabled()) {
    live_spec.base.on_progress = [&](const progress_report& report) {
      progress.update(chunk_start - first + report.finished, report.running, elapsed());
    };
  }
  std::signal(SIGINT, on_interrupt);
  sweep_result in_memory;  // the rows when there is no --out
  in_memory.axes = spec.axes;
  std::vector<run_summary> runs;
  while (next < end) {
    std::int64_t count = std::min(chunk, end - next);
    chunk_start = next;
    sweep_result part = run_chunk(problems, live_spec, next, count);
    chunk = std::min(chunk, count);
    next += count;
    wall_seconds += part.wall_seconds;
    runs.insert(runs.end(), part.runs.begin(), part.runs.end());
    if (tracing) append_durably(trace_path, trace_csv(part.trace, false));
    if (arguments.out.empty()) {
      in_memory.rows.insert(in_memory.rows.end(), part.rows.begin(), part.rows.end());
    } else {
      append_durably(arguments.out, table_rows(part, format));
      save_journal();
    }
    if (interrupted && next < end) {
      progress.finish();
      std::cerr << "gradflow: interrupted; " << next - first << " of " << end - first
                << " members are saved" << (arguments.out.empty() ? "" : " in " + arguments.out)
                << (arguments.out.empty() ? "" : "; run the same command with --resume to finish")
                << "\n";
      return 130;
    }
  }
  progress.update(end - first, 0, elapsed());
  progress.finish();

  table_format written = format;
  sweep_result table = arguments.out.empty() ? in_memory : read_table(arguments.out, written);
  table.axes = spec.axes;
  table.wall_seconds = wall_seconds;
  table.runs = runs;
  if (!arguments.out.empty()) {
    nlohmann::json sidecar = settings;
    sidecar["gradflow_version"] = version;
    sidecar["date"] = utc_now();
    sidecar["command"] = command_line;
    sidecar["preset"] = arguments.preset;
    sidecar["config"] = arguments.config;
    sidecar["member_range"] = {first, end};
    sidecar["wall_seconds"] = wall_seconds;
    sidecar["table"] = arguments.out;
    if (!runs.empty()) {
      sidecar["backend"] = to_string(runs.back().backend);
      sidecar["device"] = runs.back().device;
    }
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& row : table.rows) {
      const std::string name(to_string(row.outcome));
      counts[name] = counts.value(name, 0) + 1;
    }
    sidecar["status_counts"] = counts;
    write_atomically(sidecar_path(arguments.out), sidecar.dump(2) + "\n", "--out sidecar");
    std::filesystem::remove(journal_path);
  }
  if (!arguments.quiet) {
    std::cout << summarize_sweep(table, arguments.solver.dynamics, arguments.solver.precision);
    if (!arguments.out.empty())
      std::cout << "wrote " << arguments.out << " and " << sidecar_path(arguments.out) << "\n";
  }
  if (!arguments.plot.empty()) {
    plot_arguments picture;
    picture.table = arguments.out;
    picture.out = arguments.plot;
    run_plot(picture);
    if (!arguments.quiet) std::cout << "drew " << arguments.plot << "\n";
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
  command.add_option("--out", arguments.out, "table, one row per member (+ a .json sidecar)");
  command.add_option("--format", arguments.format, "csv | jsonl (JSON Lines)");
  command.add_option("--plot", arguments.plot,
                     "also draw steps over the first two axes as a heatmap (.png; needs --out)");
  command.add_option("--chunk", arguments.chunk,
                     "members per chunk: each finished chunk is appended and journalled");
  command.add_option("--shard", arguments.shard,
                     "i/N: run only the i-th of N slices of the members");
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
  if (!arguments.config.empty()) settings.merge_patch(read_config(arguments.config));
  const auto typed = [&](const std::string& key) {
    std::string option = "--" + key;
    std::replace(option.begin(), option.end(), '_', '-');
    const CLI::Option* given = command.get_option_no_throw(option);
    return given != nullptr && given->count() > 0;
  };
  apply_config(settings, arguments.config.empty() ? "preset " + arguments.preset : arguments.config,
               typed, arguments);
  if (arguments.axes.empty())
    throw invalid_argument("sweep needs at least one axis (--lr, --zeta, …, or --config/--preset)");
  const bool single = single_precision(arguments.solver);
  sweep_spec spec;
  spec.base = to_options(arguments.solver);
  spec.methods = parse_methods(arguments.solver.method);
  spec.base.method = spec.methods.front();
  for (const std::string& name : sweep_axis_names()) {  // a fixed, documented column order
    const auto it = arguments.axes.find(name);
    if (it != arguments.axes.end()) spec.axes.push_back(parse_axis(name, it->second));
  }
  require_writable(arguments.out, "--out");
  require_writable(arguments.plot, "--plot");
  if (!arguments.solver.trace.empty() && arguments.solver.trace_out.empty() &&
      arguments.out.empty())
    require_writable("trace.csv", "--trace-out");
  if (!arguments.plot.empty() && (arguments.out.empty() || spec.axes.size() < 2))
    throw invalid_argument("--plot needs --out and at least two axes");
  return single ? sweep_in<float>(arguments, spec, command_line)
                : sweep_in<double>(arguments, spec, command_line);
}

}  // namespace gradflow::cli
