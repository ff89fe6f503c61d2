#pragma once
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "sweep_config.hpp"

namespace gradflow::cli {

void add_sweep_options(CLI::App& command, sweep_arguments& arguments);

/// Runs a parsed `sweep` (`command` tells which options were typed, so that config and preset
/// values do not override them). `command_line` goes into the sidecar.
int run_sweep_command(CLI::App& command, sweep_arguments arguments,
                      const std::string& command_line);

}  // namespace gradflow::cli
