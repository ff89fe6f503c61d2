#include "train_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

namespace gradflow::cli {
namespace {

/// A table cell as a number: "nan", an empty cell and JSON null read as NaN.
double number_in(const std::string& text) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return *end == '\0' ? value : std::numeric_limits<double>::quiet_NaN();
}

/// The median of the finite values; NaN where there is none.
double finite_median(std::vector<double> values) {
  values.erase(
      std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
      values.end());
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const std::size_t half = values.size() / 2;
  return values.size() % 2 ? values[half] : (values[half - 1] + values[half]) / 2;
}

std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

bool replicate(const std::string& axis) { return axis == "seed" || axis == "noise_seed"; }

/// The members at one setting.
struct setting_rows {
  std::vector<double> values;  ///< on the setting axes
  std::int64_t members = 0, converged = 0;
  std::vector<double> train, test;
};

std::string line_of(const std::vector<sweep_axis>& axes, const std::vector<std::size_t>& settings,
                    const setting_rows& group) {
  std::string line;
  for (std::size_t s = 0; s < settings.size(); ++s)
    line += (s ? ", " : "") + axes[settings[s]].name + " = " + short_number(group.values[s]);
  line += settings.empty() ? "all " + std::to_string(group.members) + " members" : std::string();
  line += ": " + std::to_string(group.converged) + " of " + std::to_string(group.members) +
          " converged, median train MSE " + short_number(finite_median(group.train));
  const double test = finite_median(group.test);
  line += std::isfinite(test) ? ", test MSE " + short_number(test) : ", no test series";
  return line + "\n";
}

}  // namespace

std::vector<trained_row> trained_rows(const std::string& table_text, table_format format,
                                      const std::vector<sweep_axis>& axes) {
  std::istringstream lines(table_text);
  std::string line;
  std::vector<std::string> columns;
  if (format == table_format::csv && std::getline(lines, line)) {
    std::istringstream header(line);
    for (std::string name; std::getline(header, name, ',');) columns.push_back(name);
  }
  std::vector<trained_row> rows;
  while (std::getline(lines, line)) {
    std::map<std::string, std::string> cells;
    if (format == table_format::jsonl) {
      const nlohmann::json object = nlohmann::json::parse(line);
      for (const auto& [key, value] : object.items())
        cells[key] = value.is_string() ? value.get<std::string>()
                     : value.is_null() ? std::string()
                                       : value.dump();
    } else {
      std::istringstream fields(line);
      std::string field;
      for (std::size_t c = 0; c < columns.size() && std::getline(fields, field, ','); ++c)
        cells[columns[c]] = field;
    }
    trained_row row;
    for (const sweep_axis& axis : axes) row.axis_values.push_back(number_in(cells[axis.name]));
    row.status = cells["status"];
    row.train_mse = number_in(cells["train_mse"]);
    row.test_mse = number_in(cells["test_mse"]);
    rows.push_back(std::move(row));
  }
  return rows;
}

nlohmann::json status_counts(const std::vector<trained_row>& rows) {
  nlohmann::json counts = nlohmann::json::object();
  for (const trained_row& row : rows) counts[row.status] = counts.value(row.status, 0) + 1;
  return counts;
}

std::string describe_member(const std::vector<sweep_axis>& axes, const trained_row& row) {
  std::string text;
  for (std::size_t a = 0; a < axes.size(); ++a)
    text += (a ? ", " : "") + axes[a].name + " = " + short_number(row.axis_values[a]);
  text += (axes.empty() ? "" : ": ") + row.status + ", train MSE " + short_number(row.train_mse);
  return text + (std::isfinite(row.test_mse) ? ", test MSE " + short_number(row.test_mse) : "");
}

std::string summarize_training(const std::vector<sweep_axis>& axes,
                               const std::vector<trained_row>& rows) {
  std::vector<std::size_t> settings;  // the axes that are not replicates
  for (std::size_t a = 0; a < axes.size(); ++a)
    if (!replicate(axes[a].name)) settings.push_back(a);
  std::map<std::vector<double>, std::size_t> index;
  std::vector<setting_rows> groups;  // in the members' order
  for (const trained_row& row : rows) {
    std::vector<double> values;
    for (std::size_t a : settings) values.push_back(row.axis_values[a]);
    const auto [at, added] = index.emplace(values, groups.size());
    if (added) groups.push_back({values});
    setting_rows& group = groups[at->second];
    ++group.members;
    group.converged += row.status == "converged";
    group.train.push_back(row.train_mse);
    group.test.push_back(row.test_mse);
  }
  std::string text;
  if (groups.size() > 12) {
    std::stable_sort(groups.begin(), groups.end(),
                     [](const setting_rows& a, const setting_rows& b) {
                       const double x = finite_median(a.train), y = finite_median(b.train);
                       return std::isfinite(x) && (!std::isfinite(y) || x < y);
                     });
    groups.resize(3);
    text = "lowest median train MSE of " + std::to_string(index.size()) + " settings:\n";
  }
  for (const setting_rows& group : groups) text += line_of(axes, settings, group);
  return text;
}

}  // namespace gradflow::cli
