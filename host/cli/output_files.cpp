#include "output_files.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "gradflow/error.hpp"
#include "json_file.hpp"

namespace gradflow::cli {
namespace {

/// What makes two paths one file: (device, inode) when it exists, else its canonical spelling.
struct file_identity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string canonical;

  explicit file_identity(const std::string& path) {
    struct stat info {};
    exists = ::stat(path.c_str(), &info) == 0;
    if (exists) {
      device = info.st_dev;
      inode = info.st_ino;
    }
    std::error_code error;
    canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(path), error).string();
    if (error) canonical = path;
  }
  bool operator==(const file_identity& other) const {
    if (exists && other.exists) return device == other.device && inode == other.inode;
    return !exists && !other.exists && canonical == other.canonical;
  }
};

}  // namespace

void require_writable(const std::string& path, const char* option) {
  if (path.empty()) return;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
    throw io_error("cannot write " + std::string(option) + " '" + path + "': " +
                   (S_ISDIR(info.st_mode) ? "it is a directory" : "it is not a regular file"));
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

std::string derived_path(const std::string& out, const std::string& suffix) {
  const auto dot = out.rfind('.');
  const bool has_extension = dot != std::string::npos && dot > 0 && out[dot - 1] != '/' &&
                             out.find('/', dot) == std::string::npos;
  return (has_extension ? out.substr(0, dot) : out) + suffix;
}

std::string beside(const std::string& file, const std::string& named) {
  return (std::filesystem::path(file).parent_path() / std::filesystem::path(named).filename())
      .string();
}

std::string sidecar_path(const std::string& out) {
  const std::string beside = derived_path(out, ".json");
  return beside == out ? derived_path(out, ".sidecar.json") : beside;
}

void write_atomically(const std::string& path, const std::string& content, const char* option) {
  const std::string partial = path + ".partial";
  bool written = false;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << content;
    written = static_cast<bool>(out.flush());
  }
  if (!written) {
    std::remove(partial.c_str());
    throw io_error("cannot write " + std::string(option) + " '" + path + "' (disk full?)");
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    throw io_error("cannot write " + std::string(option) + " '" + path + "': rename failed");
  }
}

void run_files::input(const std::string& path, const std::string& option) {
  if (!path.empty()) inputs_.emplace_back(path, option);
}

void run_files::output(const std::string& path, const std::string& option) {
  if (!path.empty()) outputs_.emplace_back(path, option);
}

void run_files::check() const {
  for (std::size_t o = 0; o < outputs_.size(); ++o) {
    const auto& [path, option] = outputs_[o];
    const file_identity identity(path);
    for (const auto& [input, input_option] : inputs_)
      if (file_identity(input) == identity)
        throw invalid_argument(option + " '" + path + "' is the input " + input_option + " '" +
                               input + "': refusing to overwrite it");
    for (std::size_t p = 0; p < o; ++p)
      if (file_identity(outputs_[p].first) == identity)
        throw invalid_argument(option + " '" + path + "' is the same file as " +
                               outputs_[p].second + " '" + outputs_[p].first +
                               "': each output needs its own file");
  }
  for (const auto& [path, option] : outputs_) require_writable(path, option.c_str());
  for (const auto& path : sidecars_) check_sidecar(path);
}

void run_files::sidecar(const std::string& path) {
  if (path.empty()) return;
  output(path, "the sidecar");
  sidecars_.push_back(path);
}

void run_files::check_sidecar(const std::string& path) const {
  std::error_code unreadable;
  if (!std::filesystem::exists(path, unreadable)) return;
  nlohmann::json present;
  try {
    present = read_json_file(path, "the sidecar");
  } catch (const gradflow::error&) {
    // Unreadable, too large or not JSON: not a sidecar this tool wrote.
  }
  if (!present.is_object() || !present.contains("gradflow_version"))
    throw invalid_argument("the sidecar '" + path +
                           "' would replace a file that is not a gradflow sidecar: move it, or "
                           "name the output otherwise");
  std::string described;  // a file the present sidecar describes that is still there
  for (const char* key : {"table", "solution", "report"}) {
    const auto named = present.find(key);
    if (named == present.end() || !named->is_string() || named->get<std::string>().empty())
      continue;
    const std::string file = beside(path, named->get<std::string>());
    const file_identity identity(file);
    for (const auto& output : outputs_)
      if (file_identity(output.first) == identity) return;  // this run's own sidecar, rewritten
    if (identity.exists && described.empty()) described = file;
  }
  if (!described.empty())
    throw invalid_argument("the sidecar '" + path + "' describes '" + described +
                           "', another run's output: this run's sidecar would replace it — name "
                           "the output otherwise, or delete '" +
                           described + "' first");
}

}  // namespace gradflow::cli
