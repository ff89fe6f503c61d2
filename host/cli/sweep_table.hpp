#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradflow/sweep.hpp"

namespace gradflow::cli {

/// The per-member table of a sweep, as CSV (a header line, then one row per member) or JSON Lines
/// (one object per member, no header). Columns / keys, in order: member, problem, method, one per
/// axis (its name), status, steps (accepted), rejected_steps, gradient_evaluations,
/// surrogate_evaluations, f, grad_norm, t.
enum class table_format { csv, jsonl };

/// The format an output's name says: .csv or .jsonl; none for any other name.
std::optional<table_format> table_format_named_by(const std::string& out);

/// The format of the table `out`: `format` (csv | jsonl) where given, else the one its name says,
/// else CSV. A `format` that contradicts the name is refused: the file would hold the other format
/// under that name.
table_format table_format_for(const std::string& format, const std::string& out);

/// "csv" or "jsonl", as --format spells it.
std::string to_string(table_format format);

/// The CSV header line (with its newline); empty for JSON Lines.
std::string table_header(const std::vector<sweep_axis>& axes, table_format format);

/// The rows, each ending in a newline; numbers in the fewest digits that read back exactly.
std::string table_rows(const sweep_result& result, table_format format);

/// {"converged": 430, "max_steps": 2, …}: the rows per status, for a sidecar.
nlohmann::json status_counts(const sweep_result& table);

/// The bytes of the table at `path`; throws io_error naming it where it cannot be read.
std::string read_table_text(const std::string& path);

/// Reads a table that table_header/table_rows wrote (the format from the first character) back into
/// axes (names only) and rows; throws io_error naming the path and line for anything else.
sweep_result read_table(const std::string& path, table_format& format);

/// read_table on the bytes `text` of the table at `path` (named in errors).
sweep_result parse_table(const std::string& text, const std::string& path, table_format& format);

}  // namespace gradflow::cli
