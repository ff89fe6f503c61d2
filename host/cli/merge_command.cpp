#include "merge_command.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "gradflow/error.hpp"
#include "json_file.hpp"
#include "output_files.hpp"
#include "output_lock.hpp"
#include "solver_arguments.hpp"
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

/// A shard that passed the checks: its table, sidecar and members [begin, end).
struct checked_shard {
  std::string table;
  nlohmann::json sidecar;
  std::int64_t begin = 0, end = 0;
};

/// What one shard's run recorded about itself (where, when, how long), kept in the merged sidecar.
constexpr const char* run_keys[] = {"table",   "shard",         "member_range", "date",
                                    "command", "backend",       "device",       "wall_seconds",
                                    "ranks",   "status_counts", "trace_file"};

/// The trace a shard's sidecar names; empty where it names none (an untraced sweep).
std::string trace_named(const nlohmann::json& sidecar) {
  const auto named = sidecar.find("trace_file");
  return named != sidecar.end() && named->is_string() ? named->get<std::string>() : "";
}

/// The shards' traces joined in member order: the trace an unsharded run writes. Empty with
/// `missing` saying why where a shard's trace is absent (the tables still merge).
std::string merged_trace(const std::vector<checked_shard>& shards, std::string& missing) {
  std::string joined = trace_csv({}, true);
  for (const checked_shard& shard : shards) {
    const std::string named = trace_named(shard.sidecar);
    if (named.empty()) {
      missing = "the sidecar of '" + shard.table + "' names no trace";
      return {};
    }
    const std::string path = beside(shard.table, named);
    std::ifstream stream(path, std::ios::binary);
    if (!std::filesystem::is_regular_file(path) || !stream) {
      missing = "'" + path + "' is absent";
      return {};
    }
    std::string line;
    if (!std::getline(stream, line) || !is_trace_header(line))
      throw invalid_argument("cannot merge the trace '" + path + "': it is not a gradflow trace");
    while (std::getline(stream, line)) {
      const std::int64_t member = std::strtoll(line.c_str(), nullptr, 10);
      if (member < shard.begin || member >= shard.end)
        throw invalid_argument("cannot merge the trace '" + path + "': member " +
                               std::to_string(member) + " is not in its shard's [" +
                               std::to_string(shard.begin) + ", " + std::to_string(shard.end) +
                               ")");
      joined += line + "\n";
    }
  }
  return joined;
}

/// The sidecar of the merged table: the sweep the shards share, described as an unsharded run's
/// sidecar describes it (shard "", members [0, total), the rows' status counts), with each shard's
/// own run facts under "shards".
nlohmann::json merged_sidecar(const std::vector<checked_shard>& shards, const sweep_result& merged,
                              const std::string& out, table_format written,
                              const std::string& trace, const std::string& command_line) {
  nlohmann::json sidecar = shards.front().sidecar;
  nlohmann::json runs = nlohmann::json::array();
  for (const checked_shard& shard : shards) {
    nlohmann::json run = nlohmann::json::object();
    for (const char* key : run_keys)
      if (shard.sidecar.contains(key)) run[key] = shard.sidecar[key];
    runs.push_back(run);
  }
  for (const char* key : run_keys) sidecar.erase(key);
  sidecar["date"] = utc_now();
  sidecar["command"] = command_line;
  sidecar["table"] = out;
  sidecar["format"] = to_string(written);
  sidecar["shard"] = "";
  sidecar["member_range"] = {0, std::int64_t(merged.rows.size())};
  sidecar["status_counts"] = status_counts(merged);
  sidecar["trace_file"] = trace;
  sidecar["shards"] = runs;
  return sidecar;
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

int run_merge(const merge_arguments& arguments, const std::string& command_line) {
  const std::string sidecar_out = sidecar_path(arguments.out),
                    trace_out = derived_path(arguments.out, ".trace.csv");
  run_files files;
  for (const auto& input : arguments.inputs) {
    files.input(input, "shard");
    files.input(sidecar_path(input), "a shard's sidecar");
  }
  files.output(arguments.out, "--out");
  files.sidecar(sidecar_out);
  files.output(trace_out, "the merged trace");
  files.check();
  const auto locks = lock_outputs(files.outputs());

  sweep_result merged;
  table_format format = table_format::csv;
  std::vector<std::string> axis_names;
  nlohmann::json first_identity;
  std::int64_t total = -1;
  std::vector<checked_shard> shards;
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
    shards.push_back({input, sidecar, begin, end});
  }
  std::sort(shards.begin(), shards.end(),
            [](const checked_shard& a, const checked_shard& b) { return a.begin < b.begin; });
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
  // A traced sweep's traces join too, where every shard still has its own.
  const bool traced = !trace_named(shards.front().sidecar).empty();
  std::string missing;
  const std::string joined_trace = traced ? merged_trace(shards, missing) : std::string();
  write_atomically(arguments.out, table_header(merged.axes, written) + table_rows(merged, written),
                   "--out");
  if (!joined_trace.empty()) write_atomically(trace_out, joined_trace, "the merged trace");
  write_atomically(sidecar_out,
                   merged_sidecar(shards, merged, arguments.out, written,
                                  joined_trace.empty() ? "" : trace_out, command_line)
                           .dump(2) +
                       "\n",
                   "the sidecar");
  std::cout << "merged " << merged.rows.size() << " members from " << arguments.inputs.size()
            << " tables into " << arguments.out << " (sidecar " << sidecar_out
            << (joined_trace.empty() ? "" : ", trace " + trace_out) << ")\n";
  if (!missing.empty())
    std::cout << "no merged trace: the shards were traced, but " << missing << "\n";
  return 0;
}

}  // namespace gradflow::cli
