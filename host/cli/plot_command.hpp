#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace gradflow::cli {

/// `gradflow plot TABLE [--x AXIS --y AXIS --value COLUMN] -o heatmap.png`, or with
/// `--convergence [--members 0,5]` a trace (from `--trace`) as ‖∇f‖ against steps, or with
/// `--fit [--member K]` a trained neural ODE of a train table beside its data.
struct plot_arguments {
  std::string table, x, y, value = "steps", out, members;
  bool convergence = false;
  bool fit = false;  ///< the table is a train table: draw member `member`'s fit
  std::int64_t member = 0;
};

void add_plot_options(CLI::App& command, plot_arguments& arguments);

/// Throws invalid_argument unless `out` ends in a format the plotter writes (.png, .pdf, .svg).
void require_picture_extension(const std::string& out);

/// Draws with python3 + matplotlib (the embedded plot_sweep.py). Throws io_error when no python3
/// with numpy and matplotlib is found (naming the Debian package) or when the plotter fails (its
/// last line of errors: never a traceback).
int run_plot(const plot_arguments& arguments);

/// Runs the embedded plot_sweep.py with `arguments` (its mode first). Throws io_error as run_plot.
void run_plot_script(const std::vector<std::string>& arguments);

/// `gradflow plot`: run_plot once the picture is known not to be the table and is locked against
/// another run writing it (a sweep's --plot runs under the sweep's own locks instead).
int run_plot_command(const plot_arguments& arguments);

}  // namespace gradflow::cli
