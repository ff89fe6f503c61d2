#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradflow/sweep.hpp"
#include "sweep_table.hpp"

namespace gradflow::cli {

/// What the summary reads of one row of a train table.
struct trained_row {
  std::vector<double> axis_values;  ///< in the order of the axes asked for
  std::string status;
  double train_mse = 0, test_mse = 0;  ///< NaN where the table has none
};

/// The rows of a train table's text (CSV with its header, or JSON Lines), with their values on
/// `axes`.
std::vector<trained_row> trained_rows(const std::string& table_text, table_format format,
                                      const std::vector<sweep_axis>& axes);

/// {"converged": 62, "constraint_unmet": 2}: the rows per status, for the sidecar.
nlohmann::json status_counts(const std::vector<trained_row>& rows);

/// "seed = 0, rho = 100: converged, train MSE 0.0211, test MSE 0.867": one member's row, its
/// values on `axes` (none: its status on).
std::string describe_member(const std::vector<sweep_axis>& axes, const trained_row& row);

/// One line per setting — the members at one value of every axis but the replicates' (seed,
/// noise_seed) — with how many converged and their median train and test MSE; past 12 settings
/// the 3 of lowest median train MSE. Without such an axis, one line over all members.
std::string summarize_training(const std::vector<sweep_axis>& axes,
                               const std::vector<trained_row>& rows);

}  // namespace gradflow::cli
