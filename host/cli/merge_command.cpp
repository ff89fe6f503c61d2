#include "merge_command.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "gradflow/error.hpp"
#include "output_files.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {

void add_merge_options(CLI::App& command, merge_arguments& arguments) {
  command.add_option("inputs", arguments.inputs, "shard tables (csv or jsonl, one format)")
      ->required();
  command.add_option("-o,--out", arguments.out, "the merged table")->required();
}

int run_merge(const merge_arguments& arguments) {
  require_writable(arguments.out, "--out");
  sweep_result merged;
  table_format format = table_format::csv;
  std::vector<std::string> axis_names;
  std::int64_t expected_total = -1;
  for (std::size_t f = 0; f < arguments.inputs.size(); ++f) {
    table_format this_format = table_format::csv;
    sweep_result part = read_table(arguments.inputs[f], this_format);
    std::vector<std::string> names;
    for (const auto& axis : part.axes) names.push_back(axis.name);
    if (f == 0) {
      format = this_format;
      axis_names = names;
      merged.axes = part.axes;
    } else if (this_format != format || (names != axis_names && !part.rows.empty())) {
      throw invalid_argument("cannot merge '" + arguments.inputs[f] +
                             "': its format or columns differ from '" + arguments.inputs[0] + "'");
    }
    merged.rows.insert(merged.rows.end(), part.rows.begin(), part.rows.end());
    // A shard's sidecar knows the size of the whole sweep, so a missing last shard shows too.
    std::ifstream sidecar(sidecar_path(arguments.inputs[f]));
    if (sidecar) {
      const auto description = nlohmann::json::parse(sidecar, nullptr, false);
      if (description.is_object() && description.contains("members_total"))
        expected_total = description["members_total"].get<std::int64_t>();
    }
  }
  std::sort(merged.rows.begin(), merged.rows.end(),
            [](const sweep_row& a, const sweep_row& b) { return a.member < b.member; });
  for (std::size_t r = 0; r < merged.rows.size(); ++r) {
    if (merged.rows[r].member == std::int64_t(r)) continue;
    const bool duplicate = r > 0 && merged.rows[r].member == merged.rows[r - 1].member;
    throw invalid_argument(duplicate ? "cannot merge: member " +
                                           std::to_string(merged.rows[r].member) + " appears twice"
                                     : "cannot merge: member " + std::to_string(r) +
                                           " is missing (a shard is absent or unfinished)");
  }
  if (expected_total >= 0 && std::int64_t(merged.rows.size()) < expected_total) {
    throw invalid_argument("cannot merge: the sweep has " + std::to_string(expected_total) +
                           " members but the tables hold " + std::to_string(merged.rows.size()) +
                           " (a shard is absent or unfinished)");
  }
  write_atomically(arguments.out, table_header(merged.axes, format) + table_rows(merged, format),
                   "--out");
  std::cout << "merged " << merged.rows.size() << " members from " << arguments.inputs.size()
            << " tables into " << arguments.out << "\n";
  return 0;
}

}  // namespace gradflow::cli
