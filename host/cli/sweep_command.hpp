#pragma once
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "problem_source.hpp"
#include "solver_arguments.hpp"

namespace gradflow::cli {

/// Everything `gradflow sweep` reads from the command line, as typed. Each axis is a spec
/// "lo:hi:count[:log|lin]" or "v1,v2,…"; a config file (JSON) or a preset fills in what the
/// command line leaves out.
struct sweep_arguments {
  problem_arguments problem;
  solver_arguments solver;
  std::map<std::string, std::string> axes;  ///< by axis name (lr, dt, zeta, …, lambda, u0_seed)
  std::string config, preset, out;
  std::string format = "csv";  ///< csv | jsonl
  std::int64_t chunk = 0;      ///< members per chunk; 0: all at once
  std::string shard;           ///< "i/N": run the i-th of N contiguous slices
  bool resume = false;
  bool quiet = false;
};

void add_sweep_options(CLI::App& command, sweep_arguments& arguments);

/// Runs a parsed `sweep` (`command` tells which options were typed, so that config and preset
/// values do not override them). `command_line` goes into the sidecar.
int run_sweep_command(CLI::App& command, sweep_arguments arguments,
                      const std::string& command_line);

}  // namespace gradflow::cli
