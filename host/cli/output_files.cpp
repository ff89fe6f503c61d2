#include "output_files.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include "gradflow/error.hpp"

namespace gradflow::cli {

void require_writable(const std::string& path, const char* option) {
  if (path.empty()) return;
  const std::string probe = path + ".partial";
  std::ofstream out(probe);
  if (!out)
    throw io_error("cannot write " + std::string(option) + " '" + path +
                   "': cannot create files there");
  out.close();
  std::remove(probe.c_str());
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

std::string sidecar_path(const std::string& out) {
  const auto dot = out.rfind('.');
  const bool has_extension = dot != std::string::npos && out.find('/', dot) == std::string::npos;
  return (has_extension ? out.substr(0, dot) : out) + ".json";
}

std::string exact_decimal(double value) {
  char text[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

void write_atomically(const std::string& path, const std::string& content, const char* option) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) throw io_error("cannot write " + std::string(option) + " '" + path + "'");
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    throw io_error("cannot write " + std::string(option) + " '" + path + "': rename failed");
  }
}

}  // namespace gradflow::cli
