#include "sweep_table.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../number_text.hpp"
#include "gradflow/error.hpp"
#include "json_file.hpp"
#include "output_files.hpp"

namespace gradflow::cli {
namespace {

constexpr const char* leading_columns[] = {"member", "problem", "method"};
constexpr const char* trailing_columns[] = {
    "status",    "steps", "rejected_steps", "gradient_evaluations", "surrogate_evaluations", "f",
    "grad_norm", "t"};

status parse_status_name(const std::string& text) {
  for (int s = 0; s < status_count; ++s)
    if (to_string(static_cast<status>(s)) == text) return static_cast<status>(s);
  throw invalid_argument("unknown status '" + text + "'");
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream stream(line);
  std::string cell;
  while (std::getline(stream, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

double number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw invalid_argument("'" + text + "' is not a number");
  return value;
}

std::int64_t integer(const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') throw invalid_argument("'" + text + "' is not an integer");
  return value;
}

}  // namespace

std::optional<table_format> table_format_named_by(const std::string& out) {
  const std::string extension = std::filesystem::path(out).extension().string();
  if (extension == ".csv") return table_format::csv;
  if (extension == ".jsonl") return table_format::jsonl;
  return std::nullopt;
}

table_format table_format_for(const std::string& format, const std::string& out) {
  const std::optional<table_format> named = table_format_named_by(out);
  if (format.empty()) return named.value_or(table_format::csv);
  if (format != "csv" && format != "jsonl")
    throw invalid_argument("invalid format = '" + format + "': expected one of csv|jsonl");
  const table_format given = format == "csv" ? table_format::csv : table_format::jsonl;
  if (named && *named != given)
    throw invalid_argument("invalid format = '" + format + "': --out '" + out + "' names a " +
                           to_string(*named) + " table (rename it, or leave --format out)");
  return given;
}

nlohmann::json status_counts(const sweep_result& table) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& row : table.rows) {
    const std::string name(to_string(row.outcome));
    counts[name] = counts.value(name, 0) + 1;
  }
  return counts;
}

std::string to_string(table_format format) { return format == table_format::csv ? "csv" : "jsonl"; }

std::string table_header(const std::vector<sweep_axis>& axes, table_format format) {
  if (format == table_format::jsonl) return {};
  std::string text;
  for (const char* column : leading_columns) text += std::string(text.empty() ? "" : ",") + column;
  for (const auto& axis : axes) text += "," + axis.name;
  for (const char* column : trailing_columns) text += std::string(",") + column;
  return text + "\n";
}

std::string table_rows(const sweep_result& result, table_format format) {
  std::string text;
  for (const auto& row : result.rows) {
    const std::string method_name(to_string(row.method));
    const std::string status_name(to_string(row.outcome));
    if (format == table_format::csv) {
      text += std::to_string(row.member) + "," + std::to_string(row.problem) + "," + method_name;
      for (double value : row.axis_values) text += "," + detail::number_text(value);
      text += "," + status_name + "," + std::to_string(row.accepted_steps) + "," +
              std::to_string(row.rejected_steps) + "," + std::to_string(row.gradient_evaluations) +
              "," + std::to_string(row.surrogate_evaluations);
      for (double value : {row.objective, row.gradient_norm, row.time})
        text += "," + detail::number_text(value);
    } else {
      // Written by hand so that the key order is the column order and numbers match the CSV.
      auto key = [](const std::string& name) { return nlohmann::json(name).dump() + ":"; };
      text += "{" + key("member") + std::to_string(row.member) + "," + key("problem") +
              std::to_string(row.problem) + "," + key("method") +
              nlohmann::json(method_name).dump();
      for (std::size_t a = 0; a < result.axes.size(); ++a)
        text += "," + key(result.axes[a].name) + detail::number_text(row.axis_values[a]);
      text += "," + key("status") + nlohmann::json(status_name).dump() + "," + key("steps") +
              std::to_string(row.accepted_steps) + "," + key("rejected_steps") +
              std::to_string(row.rejected_steps) + "," + key("gradient_evaluations") +
              std::to_string(row.gradient_evaluations) + "," + key("surrogate_evaluations") +
              std::to_string(row.surrogate_evaluations);
      const char* names[] = {"f", "grad_norm", "t"};
      const double values[] = {row.objective, row.gradient_norm, row.time};
      for (int v = 0; v < 3; ++v) {
        const bool finite = std::isfinite(values[v]);  // JSON has no NaN or Inf
        text +=
            "," + key(names[v]) + (finite ? detail::number_text(values[v]) : std::string("null"));
      }
      text += "}";
    }
    text += "\n";
  }
  return text;
}

std::string read_table_text(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw io_error("cannot read table '" + path + "': it is a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw io_error("cannot read table '" + path + "': no such file or not readable");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) throw io_error("cannot read table '" + path + "': read error");
  return text;
}

sweep_result read_table(const std::string& path, table_format& format) {
  return parse_table(read_table_text(path), path, format);
}

sweep_result parse_table(const std::string& text, const std::string& path, table_format& format) {
  std::istringstream in(text);
  sweep_result result;
  std::string line;
  std::int64_t line_number = 0;
  auto fail = [&](const std::string& why) {
    throw io_error("cannot read table '" + path + "' line " + std::to_string(line_number) + ": " +
                   why);
  };
  const int first = in.peek();
  format = first == '{' ? table_format::jsonl : table_format::csv;
  std::size_t axis_count = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    try {
      sweep_row row;
      if (format == table_format::csv) {
        const auto cells = split_csv_line(line);
        if (line_number == 1) {
          const std::size_t fixed = std::size(leading_columns) + std::size(trailing_columns);
          if (cells.size() < fixed || cells[0] != "member")
            fail("not a gradflow sweep table header");
          axis_count = cells.size() - fixed;
          for (std::size_t a = 0; a < axis_count; ++a)
            result.axes.push_back(sweep_axis{cells[3 + a], {}, false});
          continue;
        }
        if (cells.size() != 3 + axis_count + std::size(trailing_columns))
          fail("has " + std::to_string(cells.size()) + " cells");
        row.member = integer(cells[0]);
        row.problem = integer(cells[1]);
        row.method = parse_method(cells[2]);
        for (std::size_t a = 0; a < axis_count; ++a)
          row.axis_values.push_back(number(cells[3 + a]));
        const std::size_t t = 3 + axis_count;
        row.outcome = parse_status_name(cells[t]);
        row.accepted_steps = integer(cells[t + 1]);
        row.rejected_steps = integer(cells[t + 2]);
        row.gradient_evaluations = integer(cells[t + 3]);
        row.surrogate_evaluations = integer(cells[t + 4]);
        row.objective = number(cells[t + 5]);
        row.gradient_norm = number(cells[t + 6]);
        row.time = number(cells[t + 7]);
      } else {
        const auto object = nlohmann::ordered_json::parse(line, nullptr, false);  // column order
        if (!object.is_object())
          fail("not a JSON object: a JSON-lines table holds one per line (a sidecar is not one)");
        if (result.axes.empty() && result.rows.empty()) {
          bool inside = false;
          for (const auto& [key, value] : object.items()) {
            (void)value;
            if (key == "status") break;
            if (inside) result.axes.push_back(sweep_axis{key, {}, false});
            inside |= key == "method";
          }
        }
        auto real = [](const nlohmann::ordered_json& value) {
          return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
        };
        const auto count = [&](const char* key) {
          return json_integer<std::int64_t>(object.at(key), key, 0);
        };
        row.member = count("member");
        row.problem = count("problem");
        row.method = parse_method(object.at("method").get<std::string>());
        for (const auto& axis : result.axes)
          row.axis_values.push_back(object.at(axis.name).get<double>());
        row.outcome = parse_status_name(object.at("status").get<std::string>());
        row.accepted_steps = count("steps");
        row.rejected_steps = count("rejected_steps");
        row.gradient_evaluations = count("gradient_evaluations");
        row.surrogate_evaluations = count("surrogate_evaluations");
        row.objective = real(object.at("f"));
        row.gradient_norm = real(object.at("grad_norm"));
        row.time = real(object.at("t"));
      }
      result.rows.push_back(std::move(row));
    } catch (const io_error&) {
      throw;
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }
  if (format == table_format::csv && line_number == 0) fail("the file is empty");
  return result;
}

}  // namespace gradflow::cli
