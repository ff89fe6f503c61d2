#include "plot_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "cli/plot_script.hpp"
#include "gradflow/error.hpp"
#include "json_file.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "solver_arguments.hpp"
#include "split_list.hpp"
#include "sweep_table.hpp"
#include "train_command.hpp"

namespace gradflow::cli {
namespace {

/// What a finished child said and how it ended.
struct program_result {
  int status = -1;     ///< exit status, or −1 if it could not start or was killed
  std::string errors;  ///< its stderr
};

/// Runs `program arguments…` without a shell, its stderr captured (its stdout too when `quiet`).
program_result run_program(const std::vector<std::string>& command, bool quiet) {
  program_result result;
  // The child inherits unwritten output; freopen there would write it a second time.
  std::cout.flush();
  std::fflush(stdout);
  int channel[2];
  if (::pipe(channel) != 0) return result;
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(channel[0]);
    ::close(channel[1]);
    return result;
  }
  if (child == 0) {
    ::dup2(channel[1], STDERR_FILENO);
    if (quiet) std::freopen("/dev/null", "w", stdout);
    ::close(channel[0]);
    ::close(channel[1]);
    std::vector<char*> argv;
    for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  ::close(channel[1]);
  char buffer[4096];
  for (ssize_t got; (got = ::read(channel[0], buffer, sizeof buffer)) != 0;) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) break;
    result.errors.append(buffer, std::size_t(got));
  }
  ::close(channel[0]);
  int status = 0;
  if (::waitpid(child, &status, 0) < 0) return result;
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// The last non-empty line of `text`, without the plotter's own "gradflow plot: " prefix.
std::string last_line(const std::string& text) {
  const std::size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return {};
  const std::size_t newline = text.rfind('\n', end);
  const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
  const std::string line = text.substr(begin, end + 1 - begin);
  const std::string prefix = "gradflow plot: ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line;
}

/// The first python3 that imports numpy and matplotlib: $GRADFLOW_PYTHON, python3 on PATH, then
/// Debian's /usr/bin/python3 (PATH may lead to another Python without them).
std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* chosen = std::getenv("GRADFLOW_PYTHON")) candidates.emplace_back(chosen);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (const auto& python : candidates)
    if (run_program({python, "-c", "import numpy, matplotlib"}, true).status == 0) return python;
  throw io_error(
      "gradflow plot needs python3 with numpy and matplotlib, and found none (Debian: apt-get "
      "install python3-matplotlib; or set GRADFLOW_PYTHON)");
}

/// The sweep table beside the trace `s.trace.csv` (a sweep's default trace of --out s.csv or
/// s.jsonl), as the sweep's sidecar s.json names it, when it reads as a table; empty for any other
/// trace (a solve's, or one written elsewhere by --trace-out), whose curves are labelled by member
/// alone.
std::string sweep_table_of(const std::string& trace) {
  const std::string suffix = ".trace.csv";
  if (trace.size() <= suffix.size() ||
      trace.compare(trace.size() - suffix.size(), suffix.size(), suffix) != 0)
    return {};
  const std::filesystem::path stem = trace.substr(0, trace.size() - suffix.size());
  try {
    const nlohmann::json sidecar = read_json_file(stem.string() + ".json", "sidecar");
    const std::string named = sidecar.at("table").get<std::string>();
    const std::string table = beside(trace, named);
    table_format format = table_format::csv;
    read_table(table, format);
    return table;
  } catch (const std::exception&) {
    return {};  // no sweep beside it: the labels are what is lost, not the picture
  }
}

/// Refuses a --members list that is not member numbers, or that names a member the trace does
/// not hold (the picture would leave it out without a word). `rows` is past the header.
void require_traced(const std::string& path, std::istream& rows, const std::string& members) {
  std::set<std::int64_t> wanted;
  for (const std::string& item : split_list(members, ',')) {
    if (item.empty() || item.size() > 18 ||
        item.find_first_not_of("0123456789") != std::string::npos)
      throw invalid_argument("invalid members = '" + members + "': '" + item +
                             "' is not a member number");
    wanted.insert(std::stoll(item));
  }
  std::string line;  // member,step,t,grad_norm
  while (!wanted.empty() && std::getline(rows, line))
    wanted.erase(std::strtoll(line.c_str(), nullptr, 10));
  if (!wanted.empty())
    throw invalid_argument("invalid members = '" + members + "': the trace '" + path +
                           "' holds no member " + std::to_string(*wanted.begin()));
}

}  // namespace

void require_picture_extension(const std::string& out) {
  const auto dot = out.rfind('.');
  const std::string extension = dot == std::string::npos ? "" : out.substr(dot + 1);
  for (const char* known : {"png", "pdf", "svg"})
    if (extension == known) return;
  throw invalid_argument("invalid picture '" + out + "': it must end in .png, .pdf or .svg");
}

void add_plot_options(CLI::App& command, plot_arguments& arguments) {
  command.add_option("table", arguments.table, "a sweep table (csv or jsonl), or a --trace file")
      ->required();
  // Each picture's options need it, so that none is taken and ignored.
  auto* convergence = command.add_flag("--convergence", arguments.convergence,
                                       "the table is a trace: draw ‖∇f‖ against steps");
  auto* fit = command.add_flag("--fit", arguments.fit,
                               "the table is a train table: draw a member's fit beside its data");
  convergence->excludes(fit);
  for (auto* table_option :
       {command.add_option("--x", arguments.x, "the horizontal axis (default: the first axis)"),
        command.add_option("--y", arguments.y,
                           "heatmap: the vertical axis (default: the first other axis; a sweep "
                           "over one axis draws a line per method)"),
        command.add_option("--value", arguments.value,
                           "the metric drawn: steps | gradient_evaluations | surrogate_evaluations "
                           "| rejected_steps (median over converged members) | f | grad_norm | t "
                           "(where each run ended: median over all members, diverged as +inf)")})
    table_option->excludes(convergence)->excludes(fit);
  command
      .add_option("--members", arguments.members,
                  "convergence: members to draw, e.g. 0,5,9 (default: eight spread over the trace)")
      ->needs(convergence);
  command.add_option("--member", arguments.member, "fit: the member to draw (default 0)")
      ->needs(fit);
  command.add_option("-o,--out", arguments.out, "the picture (.png, .pdf, .svg)")->required();
}

int run_plot(const plot_arguments& arguments) {
  require_picture_extension(arguments.out);
  require_writable(arguments.out, "--out");
  if (arguments.fit) {
    draw_fit(arguments.table, arguments.member, arguments.out);
    return 0;
  }
  std::vector<std::string> command;
  if (arguments.convergence) {
    std::ifstream trace(arguments.table);
    std::string header;
    if (!trace || std::filesystem::is_directory(arguments.table))
      throw io_error("cannot read trace '" + arguments.table + "'");
    std::getline(trace, header);
    if (!is_trace_header(header))
      throw invalid_argument("'" + arguments.table +
                             "' is not a trace (written by --trace; a sweep table is drawn "
                             "without --convergence)");
    if (!arguments.members.empty()) require_traced(arguments.table, trace, arguments.members);
    command = {"convergence", arguments.table, arguments.members, arguments.out,
               sweep_table_of(arguments.table)};
  } else {
    // The other pictures' files, named as such rather than as a table that does not read.
    std::ifstream first_line(arguments.table);
    std::string header;
    if (first_line && std::getline(first_line, header)) {
      if (header.find("train_mse") != std::string::npos)
        throw invalid_argument("'" + arguments.table +
                               "' is a train table: draw a member's fit with --fit [--member K]");
      if (is_trace_header(header))
        throw invalid_argument("'" + arguments.table + "' is a trace: draw it with --convergence");
    }
    table_format format = table_format::csv;
    const auto table = read_table(arguments.table, format);  // checks the file before Python does
    // Two axes or more: a heatmap over --x and --y (by default the first two, or --x and the first
    // other); a sweep over one axis: a line per method.
    std::string x = arguments.x, y = arguments.y;
    if (x.empty() && !table.axes.empty()) x = table.axes[0].name;
    for (const auto& axis : table.axes)
      if (y.empty() && axis.name != x) y = axis.name;
    if (x.empty() || x == y)
      throw invalid_argument("a heatmap needs two different axes (--x, --y); '" + arguments.table +
                             "' has " + std::to_string(table.axes.size()));
    std::string names;
    for (const auto& axis : table.axes) names += (names.empty() ? "" : ", ") + axis.name;
    for (const std::string& axis : {x, y}) {
      if (axis.empty()) continue;
      const bool known = std::any_of(table.axes.begin(), table.axes.end(),
                                     [&](const sweep_axis& a) { return a.name == axis; });
      if (!known)
        throw invalid_argument("invalid axis '" + axis + "' for --x/--y: '" + arguments.table +
                               "' has axes " + names);
    }
    const std::vector<std::string> values = {"steps",
                                             "rejected_steps",
                                             "gradient_evaluations",
                                             "surrogate_evaluations",
                                             "f",
                                             "grad_norm",
                                             "t"};
    if (std::find(values.begin(), values.end(), arguments.value) == values.end())
      throw invalid_argument("invalid value = '" + arguments.value +
                             "': expected steps|rejected_steps|gradient_evaluations|"
                             "surrogate_evaluations|f|grad_norm|t");
    command = {y.empty() ? "curves" : "heatmap", arguments.table, x};
    if (!y.empty()) command.push_back(y);
    command.insert(command.end(), {arguments.value, arguments.out, sidecar_path(arguments.table)});
  }
  run_plot_script(command);
  return 0;
}

void run_plot_script(const std::vector<std::string>& arguments) {
  std::vector<std::string> command = arguments;
  const std::string python = find_python();
  char script_path[] = "/tmp/gradflow_plot_XXXXXX";
  const int descriptor = ::mkstemp(script_path);
  if (descriptor < 0) throw io_error("cannot create a temporary file for the plot script");
  ::close(descriptor);
  std::ofstream(script_path) << plot_script;
  command.insert(command.begin(), {python, script_path});
  const program_result plotted = run_program(command, false);
  std::remove(script_path);
  if (plotted.status != 0)
    throw io_error("the plotter failed: " + (plotted.errors.empty()
                                                 ? "exit " + std::to_string(plotted.status)
                                                 : last_line(plotted.errors)));
}

int run_plot_command(const plot_arguments& arguments) {
  run_files files;
  files.input(arguments.table, "table");
  files.output(arguments.out, "--out");
  files.check();
  const auto locks = lock_outputs(files.outputs());
  return run_plot(arguments);
}

}  // namespace gradflow::cli
