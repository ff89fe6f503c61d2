#include "host_memory.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gradflow/error.hpp"

namespace gradflow::cli {
namespace {

/// The first number in `path`; nullopt where it cannot be read or is not a number ("max").
std::optional<std::int64_t> number_in(const std::filesystem::path& path) {
  std::ifstream file(path);
  long long value = 0;
  if (file >> value && value >= 0) return value;
  return std::nullopt;
}

/// MemAvailable + SwapFree, in bytes.
std::optional<std::int64_t> system_available() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long long kilobytes = 0, total = 0;
  int found = 0;
  while (meminfo >> key >> kilobytes) {
    if (key == "MemAvailable:" || key == "SwapFree:") {
      total += kilobytes;
      ++found;
    }
    meminfo.ignore(64, '\n');  // the unit
  }
  if (found != 2) return std::nullopt;
  return std::int64_t(total) * 1024;
}

/// The lowest memory limit on the way from this process's cgroup to the root.
std::optional<std::int64_t> cgroup_limit() {
  std::ifstream cgroups("/proc/self/cgroup");
  std::optional<std::int64_t> lowest;
  for (std::string line; std::getline(cgroups, line);) {
    // "0::/path" (v2, unified) or "4:memory:/path" (v1's memory controller).
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::filesystem::path group = line.substr(second + 1);
    const bool v2 = controllers.empty(), v1 = controllers == "memory";
    if (!v2 && !v1) continue;
    const std::filesystem::path root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    const char* limit_file = v2 ? "memory.max" : "memory.limit_in_bytes";
    for (;; group = group.parent_path()) {
      if (const auto limit = number_in(root / group.relative_path() / limit_file))
        lowest = lowest ? std::min(*lowest, *limit) : *limit;
      if (group == group.parent_path()) break;
    }
  }
  return lowest;
}

}  // namespace

std::optional<std::int64_t> host_memory_bytes() {
  if (const char* given = std::getenv("GRADFLOW_HOST_MEMORY")) {
    char* end = nullptr;
    const long long bytes = std::strtoll(given, &end, 10);
    if (*given == '\0' || *end != '\0' || bytes < 0)
      throw invalid_argument("invalid GRADFLOW_HOST_MEMORY = '" + std::string(given) +
                             "': expected a number of bytes");
    return bytes;
  }
  const auto available = system_available();
  const auto limit = cgroup_limit();
  if (available && limit) return std::min(*available, *limit);
  return available ? available : limit;
}

void require_host_memory(double bytes, const std::string& what) {
  const auto memory = host_memory_bytes();
  if (!memory || bytes <= double(*memory)) return;
  throw out_of_memory(what + " needs about " + memory_text(bytes) + " of host memory; " +
                      memory_text(double(*memory)) +
                      " is available (a smaller batch, or a sweep with --chunk, needs less)");
}

std::string memory_text(double bytes) {
  char text[32];
  if (bytes >= 1e12)
    std::snprintf(text, sizeof text, "%.3g TB", bytes / 1e12);
  else if (bytes >= 1e9)
    std::snprintf(text, sizeof text, "%.3g GB", bytes / 1e9);
  else if (bytes >= 1e6)
    std::snprintf(text, sizeof text, "%.3g MB", bytes / 1e6);
  else
    std::snprintf(text, sizeof text, "%.0f bytes", bytes);
  return text;
}

}  // namespace gradflow::cli
