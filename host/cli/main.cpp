// gradflow: batched gradient-flow optimisation from the command line.
// Exit codes: exit_code.hpp.
#include <iostream>
#include <new>

#include <CLI/CLI.hpp>

#include "../number_text.hpp"
#include "exit_code.hpp"
#include "gradflow/gradflow.hpp"
#include "merge_command.hpp"
#include "mpi_job.hpp"
#include "plot_command.hpp"
#include "solve_command.hpp"
#include "sweep_command.hpp"
#include "train_command.hpp"

namespace {

/// One line per row of a table (gradflow/methods.hpp): its name and what it is.
template <class Table>
void print_rows(const char* title, const Table& table) {
  std::cout << title << ":\n";
  for (const auto& row : table) std::cout << "  " << row.name << ": " << row.help << "\n";
}

int print_info() {
  std::cout << "gradflow " << gradflow::version << "\n"
            << "backends: cpu" << (gradflow::cuda_compiled() ? ", cuda" : "") << "\n";
  if (!gradflow::cuda_compiled()) {
    std::cout << "cuda: not compiled into this build\n";
  } else {
    const auto devices = gradflow::cuda_devices();
    if (devices.empty()) std::cout << "cuda devices: none answers (no driver or no GPU)\n";
    for (std::size_t d = 0; d < devices.size(); ++d)
      std::cout << "cuda device " << d << ": " << devices[d] << "\n";
  }
  std::cout << "mpi: " << gradflow::cli::mpi_description() << "\n";
  print_rows("methods", gradflow::method_table);
  print_rows("dynamics", gradflow::dynamics_table);
  return 0;
}

/// Prints a failure once and returns the exit status: alone, or in an MPI job before its ranks
/// started together, the lowest failing rank prints (a mistake in the command fails every rank
/// alike) and the others end quietly (mpi_job.hpp); once started, the rank that has it.
int report(int code, const std::string& message) {
  using namespace gradflow::cli;
  bool reports = true;
  if (this_rank().distributed() && !started_together()) code = start_together(code, reports);
  if (!reports) return 0;
  std::cerr << "gradflow: ";
  if (this_rank().rank != 0) std::cerr << "rank " << this_rank().rank << ": ";
  std::cerr << message << "\n";
  return code;
}

/// Every floating-point option of `command` and its subcommands refuses a number no double holds:
/// CLI11 would run 1e-400 as 0 and 1e999 as inf (number_text.hpp).
void refuse_numbers_beyond_double(CLI::App& command) {
  for (CLI::Option* option : command.get_options())
    if (option->get_type_name() == "FLOAT")
      option->check([](const std::string& text) {
        const std::string beyond = gradflow::detail::beyond_double(text);
        return beyond.empty() ? beyond : "'" + text + "' " + beyond;
      });
  for (CLI::App* subcommand : command.get_subcommands({}))
    refuse_numbers_beyond_double(*subcommand);
}

}  // namespace

int main(int argc, char** argv) {
  const gradflow::cli::mpi_session mpi(argc, argv);
  CLI::App app{
      "gradflow: many optimisation problems solved at once by integrating their gradient flows"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(gradflow::version));
  auto* info =
      app.add_subcommand("info", "version, compiled backends, devices seen, methods and dynamics");
  gradflow::cli::solve_arguments solve_arguments;
  auto* solve = app.add_subcommand(
      "solve", "integrate a batch of gradient flows: least squares, or --problem objectives");
  gradflow::cli::add_solve_options(*solve, solve_arguments);
  gradflow::cli::sweep_arguments sweep_arguments;
  auto* sweep = app.add_subcommand("sweep", "solve one batch over a grid of hyperparameters");
  gradflow::cli::add_sweep_options(*sweep, sweep_arguments);
  gradflow::cli::train_arguments train_arguments;
  auto* train = app.add_subcommand(
      "train", "train a batch of neural ODEs (collocation or sequential) over a grid of settings");
  gradflow::cli::add_train_options(*train, train_arguments);
  gradflow::cli::merge_arguments merge_arguments;
  auto* merge = app.add_subcommand("merge", "join shard tables into the table of the whole sweep");
  gradflow::cli::add_merge_options(*merge, merge_arguments);
  gradflow::cli::plot_arguments plot_arguments;
  auto* plot = app.add_subcommand("plot", "draw a sweep table as a heatmap, or a trace");
  gradflow::cli::add_plot_options(*plot, plot_arguments);
  refuse_numbers_beyond_double(app);
  std::string command_line;
  for (int a = 0; a < argc; ++a) command_line += (a ? " " : "") + std::string(argv[a]);

  // CLI11 says "A subcommand is required" for `gradflow solv`, and prints the help for
  // `gradflow solv --help` as if it were right: name the word it did not take, and the commands.
  std::string commands;
  bool known = false;
  for (const CLI::App* subcommand : app.get_subcommands({})) {
    known |= argc > 1 && subcommand->get_name() == argv[1];
    commands += (commands.empty() ? "" : ", ") + subcommand->get_name();
  }
  if (argc == 1) return report(2, "a command is required: one of " + commands + " (or --help)");
  if (!known && argv[1][0] != '-')
    return report(2, "unknown command '" + std::string(argv[1]) + "': expected one of " + commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    if (gradflow::cli::this_rank().owns_outputs()) return app.exit(e);
    return 0;
  } catch (const CLI::ParseError& e) {
    return report(2, e.what());
  }

  // In an MPI job solve, sweep and train share their problems or members among the ranks; any
  // other command runs on rank 0 alone, the others ready at once.
  if (!*solve && !*sweep && !*train && gradflow::cli::this_rank().distributed()) {
    bool reports = false;
    gradflow::cli::start_together(0, reports);
    if (!gradflow::cli::this_rank().owns_outputs()) return 0;
  }
  try {
    if (*info) return print_info();
    if (*plot) return gradflow::cli::run_plot_command(plot_arguments);
    if (*merge) return gradflow::cli::run_merge(merge_arguments, command_line);
    if (*sweep) return gradflow::cli::run_sweep_command(*sweep, sweep_arguments, command_line);
    if (*train) return gradflow::cli::run_train_command(train_arguments, command_line);
    return gradflow::cli::run_solve(solve_arguments, command_line);
  } catch (const gradflow::cli::reported_by_another_rank&) {
    return 0;
  } catch (const std::bad_alloc&) {
    return report(1,
                  "out of host memory while reading or building the problems (a smaller batch, or "
                  "a sweep with --chunk, needs less)");
  } catch (const std::exception& e) {
    return report(gradflow::cli::exit_code_of(e), e.what());
  }
}
