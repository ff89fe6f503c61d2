#pragma once
#include <string>

namespace gradflow::cli {

/// Throws io_error naming `option` when no file can be created at `path` (checked before a run).
void require_writable(const std::string& path, const char* option);

/// Writes `content` beside `path` and renames it into place, so a reader never sees half a file.
void write_atomically(const std::string& path, const std::string& content, const char* option);

/// Now, as ISO 8601 UTC (for sidecars).
std::string utc_now();

/// The JSON sidecar beside a table: `out` with its extension replaced by .json.
std::string sidecar_path(const std::string& out);

/// The shortest decimal text that reads back as exactly `value` (15 to 17 significant digits), as
/// CSV cells for NumPy and pandas.
std::string exact_decimal(double value);

}  // namespace gradflow::cli
