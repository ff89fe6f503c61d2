#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gradflow/neural_ode.hpp"
#include "solver_arguments.hpp"

namespace gradflow::cli {

/// The runs an option of `gradflow train` means something to: the built-in data (vdp), a user's
/// series (--data FILE), or one formulation.
enum class train_scope { vdp, file, collocation, sequential };

/// Everything `gradflow train` reads from the command line, as typed. Members are the Cartesian
/// product of the axes (specs as for sweep: "lo:hi:count[:log|lin]" or "v1,v2,…"), the last axis
/// varying fastest.
struct train_arguments {
  solver_arguments solver;
  /// "vdp" (the seed study's forced Van der Pol, --mu … --test-end) or an .npy of shape N×(1+d):
  /// t in the first column, y after it.
  std::string data = "vdp";
  std::string truth, test;  ///< optional .npy files of the same layout (a user's data)
  van_der_pol_setup vdp;
  std::string formulation = "collocation", constraints = "augmented_lagrangian";
  int hidden = 32;
  int rounds = 8;
  double rho_growth = 10, constraint_tolerance = 1e-4, bandwidth = 0.5, max_step = 0.05;
  std::map<std::string, std::string> axes;  ///< seed, weight_decay, rho, lr, solver axes
  std::string out, format, plot;  // format: csv | jsonl; empty: from out (table_format_for)
  std::int64_t plot_member = 0;
  std::optional<std::int64_t> chunk;
  bool resume = false;
  bool quiet = false;
  /// The options given that only runs of one scope read, as they were parsed.
  std::vector<std::pair<std::string, train_scope>> scoped_given;
};

void add_train_options(CLI::App& command, train_arguments& arguments);
int run_train_command(train_arguments arguments, const std::string& command_line);

/// The series a train run fits, from its sidecar's "data" entry (what `gradflow plot --fit`
/// needs to draw a member); built-in data with `noise_seed` (a member's value on that axis) in
/// place of the entry's own.
training_series series_from_settings(const nlohmann::json& data,
                                     std::optional<std::uint64_t> noise_seed = {});

/// Draws member `member` of a train table: the data, the noise-free path and the trained field's
/// rollout beside it (with the collocation states), and the extrapolation (`gradflow plot --fit`).
void draw_fit(const std::string& table, std::int64_t member, const std::string& out);

/// `<table stem>.weights.jsonl`: one line per member, {"member", "theta", "states"}.
std::string weights_path(const std::string& table);

}  // namespace gradflow::cli
