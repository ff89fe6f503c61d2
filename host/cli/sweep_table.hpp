#pragma once
#include <string>
#include <vector>

#include "gradflow/sweep.hpp"

namespace gradflow::cli {

/// The per-member table of a sweep, as CSV (a header line, then one row per member) or JSON Lines
/// (one object per member, no header). Columns / keys, in order: member, problem, method, one per
/// axis (its name), status, steps (accepted), rejected_steps, gradient_evaluations,
/// surrogate_evaluations, f, grad_norm, t.
enum class table_format { csv, jsonl };

table_format parse_table_format(const std::string& text);

/// The CSV header line (with its newline); empty for JSON Lines.
std::string table_header(const std::vector<sweep_axis>& axes, table_format format);

/// The rows, each ending in a newline; numbers in the fewest digits that read back exactly.
std::string table_rows(const sweep_result& result, table_format format);

/// Reads a table that table_header/table_rows wrote (the format from the first character) back into
/// axes (names only) and rows; throws io_error naming the path and line for anything else.
sweep_result read_table(const std::string& path, table_format& format);

/// read_table on the bytes `text` of the table at `path` (named in errors).
sweep_result parse_table(const std::string& text, const std::string& path, table_format& format);

}  // namespace gradflow::cli
