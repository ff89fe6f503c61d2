#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace gradflow::cli {

/// `gradflow merge -o all.csv shard0.csv shard1.csv …`: joins shard tables (from `sweep --shard`)
/// into the table an unsharded run writes.
struct merge_arguments {
  std::vector<std::string> inputs;
  std::string out;
};

void add_merge_options(CLI::App& command, merge_arguments& arguments);

/// Checks that the inputs share one header, that no member appears twice and that, together, they
/// hold members 0 … M−1; writes them in member order, with a sidecar (`all.json`: the sweep, and
/// each shard's run under "shards") and, for a traced sweep whose shards kept their traces, the
/// joined trace (`all.trace.csv`). Throws invalid_argument / io_error otherwise.
int run_merge(const merge_arguments& arguments, const std::string& command_line);

}  // namespace gradflow::cli
