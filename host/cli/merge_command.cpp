#include "merge_command.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "gradflow/error.hpp"
#include "json_file.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {
namespace {

/// The settings of a shard's sidecar that make its rows part of one sweep: everything but what
/// differs between shards (shard, member range, date, command, timing, device, counts, file names)
/// and how the shard was executed (requested backend and path), which does not change the rows.
nlohmann::json sweep_identity(const nlohmann::json& sidecar) {
  nlohmann::json identity;
  for (const char* key :
       {"gradflow_version", "problem", "solver", "methods", "axes", "format", "members_total"})
    identity[key] = sidecar.contains(key) ? sidecar[key] : nlohmann::json();
  if (identity["solver"].is_object()) {
    identity["solver"].erase("backend_requested");
    identity["solver"].erase("path");
  }
  return identity;
}

}  // namespace

void add_merge_options(CLI::App& command, merge_arguments& arguments) {
  command.add_option("inputs", arguments.inputs, "shard tables (csv or jsonl, one format)")
      ->required();
  command
      .add_option("-o,--out", arguments.out,
                  "the merged table: CSV if named .csv, JSON Lines if .jsonl, else the shards' "
                  "format")
      ->required();
}

int run_merge(const merge_arguments& arguments) {
  run_files files;
  for (const auto& input : arguments.inputs) {
    files.input(input, "shard");
    files.input(sidecar_path(input), "a shard's sidecar");
  }
  files.output(arguments.out, "--out");
  files.check();
  const auto locks = lock_outputs(files.outputs());

  sweep_result merged;
  table_format format = table_format::csv;
  std::vector<std::string> axis_names;
  nlohmann::json first_identity;
  std::int64_t total = -1;
  for (std::size_t f = 0; f < arguments.inputs.size(); ++f) {
    const std::string& input = arguments.inputs[f];
    // The sidecar is written when a shard finishes: it tells the sweep and the shard's members.
    const std::string sidecar_file = sidecar_path(input);
    if (!std::filesystem::exists(sidecar_file))
      throw invalid_argument("cannot merge '" + input + "': it has no sidecar '" + sidecar_file +
                             "' (an unfinished shard, or not a gradflow sweep table)");
    const nlohmann::json sidecar = read_json_file(sidecar_file, "sidecar");
    const auto range =
        sidecar.is_object() ? sidecar.value("member_range", nlohmann::json()) : nlohmann::json();
    if (!range.is_array() || range.size() != 2 || !sidecar.contains("members_total"))
      throw invalid_argument("cannot merge '" + input + "': its sidecar '" + sidecar_file +
                             "' has no member_range or members_total");
    const auto sidecar_integer = [&](const nlohmann::json& value, const std::string& what) {
      return json_integer<std::int64_t>(
          value, "cannot merge '" + input + "': its sidecar '" + sidecar_file + "' has " + what, 0);
    };
    const nlohmann::json identity = sweep_identity(sidecar);
    if (f == 0) {
      first_identity = identity;
      total = sidecar_integer(sidecar["members_total"], "members_total");
    } else if (identity != first_identity) {
      std::string differing;
      for (const auto& [key, value] : identity.items())
        if (first_identity[key] != value) differing += (differing.empty() ? "" : ", ") + key;
      throw invalid_argument("cannot merge '" + input + "': it is a shard of another sweep than '" +
                             arguments.inputs[0] + "' (" + differing + " differ)");
    }

    table_format this_format = table_format::csv;
    sweep_result part = read_table(input, this_format);
    const std::int64_t begin = sidecar_integer(range[0], "member_range[0]"),
                       end = sidecar_integer(range[1], "member_range[1]");
    const bool complete =
        std::int64_t(part.rows.size()) == end - begin &&
        std::all_of(part.rows.begin(), part.rows.end(),
                    [&](const sweep_row& row) { return row.member >= begin && row.member < end; });
    if (!complete)
      throw invalid_argument("cannot merge '" + input + "': it holds " +
                             std::to_string(part.rows.size()) + " rows but its shard is members [" +
                             std::to_string(begin) + ", " + std::to_string(end) +
                             ") (changed after the run?)");
    std::vector<std::string> names;
    for (const auto& axis : part.axes) names.push_back(axis.name);
    if (f == 0) {
      format = this_format;
      axis_names = names;
      merged.axes = part.axes;
    } else if (this_format != format || (names != axis_names && !part.rows.empty())) {
      throw invalid_argument("cannot merge '" + input + "': its format or columns differ from '" +
                             arguments.inputs[0] + "'");
    }
    merged.rows.insert(merged.rows.end(), part.rows.begin(), part.rows.end());
  }
  std::sort(merged.rows.begin(), merged.rows.end(),
            [](const sweep_row& a, const sweep_row& b) { return a.member < b.member; });
  for (std::size_t r = 0; r < merged.rows.size(); ++r) {
    if (merged.rows[r].member == std::int64_t(r)) continue;
    const bool duplicate = r > 0 && merged.rows[r].member == merged.rows[r - 1].member;
    throw invalid_argument(duplicate
                               ? "cannot merge: member " + std::to_string(merged.rows[r].member) +
                                     " appears twice (overlapping shards)"
                               : "cannot merge: member " + std::to_string(r) +
                                     " is missing (a shard is absent or unfinished)");
  }
  if (std::int64_t(merged.rows.size()) != total) {
    throw invalid_argument("cannot merge: the sweep has " + std::to_string(total) +
                           " members but the tables hold " + std::to_string(merged.rows.size()) +
                           " (a shard is absent or unfinished)");
  }
  // The name says the format, as for a sweep's --out; rows are written as a sweep writes them.
  const table_format written = table_format_named_by(arguments.out).value_or(format);
  write_atomically(arguments.out, table_header(merged.axes, written) + table_rows(merged, written),
                   "--out");
  std::cout << "merged " << merged.rows.size() << " members from " << arguments.inputs.size()
            << " tables into " << arguments.out << "\n";
  return 0;
}

}  // namespace gradflow::cli
