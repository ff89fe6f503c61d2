#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "problem_source.hpp"
#include "solver_arguments.hpp"

namespace gradflow::cli {

/// Everything `gradflow sweep` reads from the command line, as typed. Each axis is a spec
/// "lo:hi:count[:log|lin]" or "v1,v2,…"; a config file (JSON) or a preset fills in what the
/// command line leaves out.
struct sweep_arguments {
  problem_arguments problem;
  solver_arguments solver;
  std::map<std::string, std::string> axes;  ///< by axis name (sweep_axis_names)
  std::string config, preset, out;
  std::string plot;                   ///< a heatmap of steps over the first two axes, after the run
  std::string format;                 ///< csv | jsonl; empty: from out (table_format_for)
  std::optional<std::int64_t> chunk;  ///< members per chunk (>= 1); unset: all at once
  std::string shard;                  ///< "i/N": run the i-th of N contiguous slices
  std::string devices;                ///< "0,1,…" or "all": each chunk split over these devices
  bool resume = false;
  bool quiet = false;
};

/// The solver's axes, in their column order: lr, then the per-problem hyperparameters of
/// hyperparameter_registry's cli_axis rows (so a new one is an axis too).
std::vector<std::string> solver_axis_names();

/// The axes a sweep may have, in their column order: the solver's, then the problem families'
/// (least squares: lambda, u0_seed; objectives: x0_scale, x0_offset).
std::vector<std::string> sweep_axis_names();

/// Takes each key of a config object for which `typed(key)` (the command line set it) is false.
/// Unknown keys and axes, and values of the wrong type, are invalid_argument naming `source` and
/// the key.
void apply_config(const nlohmann::json& config, const std::string& source,
                  const std::function<bool(const std::string&)>& typed, sweep_arguments& arguments);

/// Where a layer of settings above `lower` (the command line over a config, a config over the
/// preset) names a problem source — `problem`, `A`/`B` or `random` — removes `lower`'s keys of the
/// other sources (`random` takes `seed` and `random_u0` with it): one source, the upper layer's,
/// rather than two that the loader would choose between. `names(key)`: the upper layer gives key.
void keep_one_problem_source(nlohmann::json& lower,
                             const std::function<bool(const std::string&)>& names);

/// Parses a config file; io_error / invalid_argument naming the path.
nlohmann::json read_config(const std::string& path);

/// The settings of `--preset NAME` (only "seed": the seed discussion's showcase).
nlohmann::json preset_config(const std::string& name);

}  // namespace gradflow::cli
