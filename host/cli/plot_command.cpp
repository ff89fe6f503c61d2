#include "plot_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "cli/plot_script.hpp"
#include "gradflow/error.hpp"
#include "output_files.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {
namespace {

/// Runs `program arguments…` without a shell; its exit status, or −1 if it could not start.
int run_program(const std::vector<std::string>& command, bool quiet) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    if (quiet) {
      std::freopen("/dev/null", "w", stdout);
      std::freopen("/dev/null", "w", stderr);
    }
    std::vector<char*> argv;
    for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The first python3 that imports numpy and matplotlib: $GRADFLOW_PYTHON, python3 on PATH, then
/// Debian's /usr/bin/python3 (PATH may lead to another Python without them).
std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* chosen = std::getenv("GRADFLOW_PYTHON")) candidates.emplace_back(chosen);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (const auto& python : candidates)
    if (run_program({python, "-c", "import numpy, matplotlib"}, true) == 0) return python;
  throw io_error(
      "gradflow plot needs python3 with numpy and matplotlib, and found none (Debian: apt-get "
      "install python3-matplotlib; or set GRADFLOW_PYTHON)");
}

}  // namespace

void add_plot_options(CLI::App& command, plot_arguments& arguments) {
  command.add_option("table", arguments.table, "a sweep table (csv or jsonl), or a --trace file")
      ->required();
  command.add_option("--x", arguments.x, "heatmap: the horizontal axis (default: the first axis)");
  command.add_option("--y", arguments.y, "heatmap: the vertical axis (default: the second axis)");
  command.add_option("--value", arguments.value,
                     "heatmap: steps | gradient_evaluations | f | grad_norm | t | rejected_steps");
  command.add_flag("--convergence", arguments.convergence,
                   "the table is a trace: draw ‖∇f‖ against steps");
  command.add_option("--members", arguments.members, "convergence: members to draw, e.g. 0,5,9");
  command.add_option("-o,--out", arguments.out, "the picture (.png, .pdf, .svg)")->required();
}

int run_plot(const plot_arguments& arguments) {
  require_writable(arguments.out, "--out");
  std::vector<std::string> command;
  if (arguments.convergence) {
    if (!std::ifstream(arguments.table))
      throw io_error("cannot read trace '" + arguments.table + "'");
    command = {"convergence", arguments.table, arguments.members, arguments.out};
  } else {
    table_format format = table_format::csv;
    const auto table = read_table(arguments.table, format);  // checks the file before Python does
    std::string x = arguments.x, y = arguments.y;
    if (x.empty() && !table.axes.empty()) x = table.axes[0].name;
    if (y.empty() && table.axes.size() > 1) y = table.axes[1].name;
    if (x.empty() || y.empty() || x == y)
      throw invalid_argument("a heatmap needs two different axes (--x, --y); '" + arguments.table +
                             "' has " + std::to_string(table.axes.size()));
    std::string names;
    for (const auto& axis : table.axes) names += (names.empty() ? "" : ", ") + axis.name;
    for (const std::string& axis : {x, y}) {
      const bool known = std::any_of(table.axes.begin(), table.axes.end(),
                                     [&](const sweep_axis& a) { return a.name == axis; });
      if (!known)
        throw invalid_argument("invalid axis '" + axis + "' for --x/--y: '" + arguments.table +
                               "' has axes " + names);
    }
    const std::vector<std::string> values = {"steps", "rejected_steps", "gradient_evaluations",
                                             "f",     "grad_norm",      "t"};
    if (std::find(values.begin(), values.end(), arguments.value) == values.end())
      throw invalid_argument("invalid value = '" + arguments.value +
                             "': expected steps|rejected_steps|gradient_evaluations|f|grad_norm|t");
    command = {"heatmap",
               arguments.table,
               x,
               y,
               arguments.value,
               arguments.out,
               sidecar_path(arguments.table)};
  }
  const std::string python = find_python();
  char script_path[] = "/tmp/gradflow_plot_XXXXXX";
  const int descriptor = ::mkstemp(script_path);
  if (descriptor < 0) throw io_error("cannot create a temporary file for the plot script");
  ::close(descriptor);
  std::ofstream(script_path) << plot_script;
  command.insert(command.begin(), {python, script_path});
  const int status = run_program(command, false);
  std::remove(script_path);
  if (status != 0) throw io_error("the plotter failed (exit " + std::to_string(status) + ")");
  return 0;
}

}  // namespace gradflow::cli
