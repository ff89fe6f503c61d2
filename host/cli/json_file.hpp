#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace gradflow::cli {

/// The deepest nesting gradflow's JSON files have is a few levels (a sweep config: object, axes,
/// value list; a journal: settings, axes, values); deeper input is refused before it is parsed, so
/// recursive JSON operations (merge, comparison, output) cannot exhaust the stack.
inline constexpr int max_json_depth = 16;
/// Config files and journals are small; reading stops here (a device such as /dev/zero never ends).
inline constexpr std::size_t max_json_bytes = std::size_t(16) << 20;

/// Parses `text` (from `source`, named in errors); invalid_argument for malformed or too deeply
/// nested JSON.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

/// Reads and parses the JSON file at `path`, which `option` names: io_error for a missing,
/// unreadable or oversized file or a directory, invalid_argument for bad JSON.
nlohmann::json read_json_file(const std::string& path, const std::string& option);

}  // namespace gradflow::cli
